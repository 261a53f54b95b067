"""Import of 100,000 lots and 100,000 genealogy links through `import_data` (set-based validation,
bulk_create with the audit trail recorded in bulk), and the same files with one bad row (nothing written).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_import .venv/bin/python bench/traceability_import.py
"""

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_import")

N = 100_000


def _fresh_database():
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


_fresh_database()

import _setup  # noqa: E402,F401  (django.setup)
from django.core.management import call_command  # noqa: E402

from compliance.models import AuditEntry  # noqa: E402
from qms.core.audit import audit_context  # noqa: E402
from qms.core.importing import import_file  # noqa: E402
from qms.core.models import Industry, Part, PartType, Site  # noqa: E402
from traceability.models import Lot, LotLink  # noqa: E402


def main():
    from django.conf import settings

    # The benchmark measures a bulk history load: lift the per-file limits an operator would lift too.
    settings.QMS_IMPORT_MAX_ROWS = N + 10
    settings.QMS_IMPORT_MAX_BYTES = 50 * 1024 * 1024
    call_command("migrate", verbosity=0)
    with audit_context(reason="benchmark set-up", source="bench"):
        Site.objects.get_or_create(code="IMP", defaults={"name": "Import plant", "industry": Industry.FOOD})
        Part.objects.get_or_create(
            number="IMP-P", revision="A", defaults={"name": "x", "part_type": PartType.COMPONENT}
        )
    tmp = Path(tempfile.mkdtemp())
    lots_csv = tmp / "lots.csv"
    lots_csv.write_text(
        "code,part_number,quantity,supplier_lot\n" + "".join(f"IMP{i:07d},IMP-P,10,\n" for i in range(N)),
        encoding="utf-8",
    )
    # a forest of chains: i -> i+1 inside blocks of 10 lots, plus a cross link per block
    rows = []
    for i in range(N):
        if i % 10 != 9:
            rows.append(f"IMP{i:07d},IMP{i + 1:07d},1\n")
        elif i + 11 < N:
            rows.append(f"IMP{i:07d},IMP{i + 11:07d},1\n")
    links_csv = tmp / "genealogy.csv"
    links_csv.write_text("parent_lot,child_lot,quantity\n" + "".join(rows), encoding="utf-8")
    bad_csv = tmp / "genealogy_bad.csv"
    bad_csv.write_text(
        "parent_lot,child_lot,quantity\n"
        + "".join(rows[:-1])
        + f"IMP{N - 1:07d},IMP{0:07d},1\nIMP0000005,IMP0000000,1\n",
        encoding="utf-8",
    )

    audit_before = AuditEntry.objects.count()
    t0 = time.perf_counter()
    report = import_file(kind="lots", filename=lots_csv.name, content=lots_csv.read_bytes())
    t_lots = time.perf_counter() - t0
    assert report.ok, report.errors[:3]
    print(
        f"import lots: {report.written:,} rows in {t_lots:.1f} s "
        f"({AuditEntry.objects.count() - audit_before:,} audit entries written)"
    )

    t0 = time.perf_counter()
    report = import_file(kind="genealogy", filename=bad_csv.name, content=bad_csv.read_bytes())
    t_bad = time.perf_counter() - t0
    print(
        f"import genealogy with a cycle: {report.row_count:,} rows validated in {t_bad:.1f} s, "
        f"{len(report.errors)} bad row(s) reported (e.g. line {report.errors[0][0]}), "
        f"{LotLink.objects.count()} links written"
    )

    audit_before = AuditEntry.objects.count()
    t0 = time.perf_counter()
    report = import_file(kind="genealogy", filename=links_csv.name, content=links_csv.read_bytes())
    t_links = time.perf_counter() - t0
    assert report.ok, report.errors[:3]
    print(
        f"import genealogy: {report.written:,} links in {t_links:.1f} s "
        f"({AuditEntry.objects.count() - audit_before:,} audit entries written)"
    )
    print(f"lots in database: {Lot.objects.count():,}")


if __name__ == "__main__":
    main()
