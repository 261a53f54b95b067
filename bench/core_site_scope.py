"""What the site scope costs: the same queries in a user's site scope and in the system scope (no filter).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_scope .venv/bin/python bench/core_site_scope.py

Two plants with 200,000 lots each and a hold on every lot (set-based SQL, bypassing the audit layer:
bench data only), 400 suppliers serving one or both plants. Measured: a page of lots (direct site
column), a lot's holds (child record: IN (subquery) on the parent), locking a hold (select_for_update,
no join), a page of suppliers (EXISTS on the sites they serve). The data is kept between runs.
"""

import os
import sys

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_scope")


def _ensure_database():
    import psycopg

    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


_ensure_database()

import _setup  # noqa: E402,F401  (django.setup)
from _setup import summary, timed  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from qms.core.scoping import site_scope, system_scope  # noqa: E402
from suppliers.models import Supplier  # noqa: E402
from traceability.models import Lot, LotHold  # noqa: E402

LOTS_PER_SITE = 200_000


def generate():
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM traceability_lot")
        if c.fetchone()[0] >= 2 * LOTS_PER_SITE:
            return
        print("generating bench data ...", file=sys.stderr)
        c.execute(
            "INSERT INTO core_site (code, name, industry, address, timezone, requires_qa_release, is_active) "
            "VALUES ('BA', 'Bench A', 'automotive', '', 'UTC', false, true), "
            "('BB', 'Bench B', 'food', '', 'UTC', false, true) ON CONFLICT DO NOTHING"
        )
        c.execute(
            "INSERT INTO core_part (number, revision, name, part_type, unit, is_safety_critical, is_regulated, "
            "is_active) VALUES ('BENCH-1', 'A', 'Bench part', 'component', 'pcs', false, false, true) "
            "ON CONFLICT DO NOTHING"
        )
        c.execute(
            """
            INSERT INTO traceability_lot (code, supplier_lot_code, quantity, unit, status, created_at, part_id, site_id)
            SELECT 'BL-' || s.code || '-' || g, '', 100, 'pcs', 'released', now(),
                   (SELECT id FROM core_part WHERE number = 'BENCH-1'), s.id
            FROM generate_series(1, %s) g CROSS JOIN core_site s WHERE s.code IN ('BA', 'BB')
            """,
            [LOTS_PER_SITE],
        )
        c.execute(
            "INSERT INTO traceability_lothold (source, reference, reason, placed_at, lift_reason, lot_id) "
            "SELECT 'manual', '', 'bench', now(), '', id FROM traceability_lot WHERE code LIKE 'BL-%'"
        )
        for i in range(400):
            c.execute(
                "INSERT INTO suppliers_supplier (code, name, status, category, risk_level, contact_name, "
                "contact_email, contact_phone, country, address, quality_agreement_on_file, notes, created_at) "
                "VALUES (%s, %s, 'approved', 'raw_material', 'medium', '', '', '', '', '', false, '', now()) "
                "ON CONFLICT DO NOTHING",
                [f"BS-{i}", f"Bench supplier {i}"],
            )
        c.execute(
            "INSERT INTO suppliers_supplier_sites (supplier_id, site_id) "
            "SELECT sup.id, s.id FROM suppliers_supplier sup JOIN core_site s ON s.code IN ('BA', 'BB') "
            "WHERE sup.code LIKE 'BS-%%' AND (s.code = 'BA' OR right(sup.code, 1) IN ('0', '5')) "
            "ON CONFLICT DO NOTHING"
        )
        c.execute("ANALYZE")


def main():
    generate()
    from qms.core.models import Site

    with system_scope():
        site = Site.objects.get(code="BA")
        lot_id = Lot.objects.filter(site=site).order_by("pk").values_list("pk", flat=True)[LOTS_PER_SITE // 2]

    def lots_page():
        list(Lot.objects.filter(status="released").order_by("-pk")[:50])

    def holds_of_lot():
        list(LotHold.objects.filter(lot_id=lot_id))

    def lock_hold():
        with transaction.atomic():
            list(LotHold.objects.select_for_update().filter(lot_id=lot_id))

    def suppliers_page():
        list(Supplier.objects.order_by("code")[:50])

    for label, fn in (
        ("page of 50 lots", lots_page),
        ("holds of a lot (IN subquery)", holds_of_lot),
        ("lock a lot's holds", lock_hold),
        ("page of 50 suppliers (EXISTS)", suppliers_page),
    ):
        with system_scope():
            unscoped = timed(fn, 200)
        with site_scope([site.pk]):
            scoped = timed(fn, 200)
        print(summary(f"{label}, system", unscoped))
        print(summary(f"{label}, one site", scoped))


if __name__ == "__main__":
    main()
