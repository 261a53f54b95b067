"""`make bench` / `python -m bench [NAME ...]`: runs every bench/*.py script (or the named ones) and
prints their figures. Benchmarks use DATABASE_URL (PostgreSQL for meaningful numbers)."""

import runpy
import sys
from pathlib import Path

here = Path(__file__).parent
names = sys.argv[1:] or sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_"))
for name in names:
    print(f"\n=== bench/{name}.py")
    runpy.run_path(str(here / f"{name}.py"), run_name="__main__")
