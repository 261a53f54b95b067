"""Inspection benchmarks: (1) recording a 125-sample lot with 10 characteristics (1,250 values) with the
audit trail, through the service the tablet page uses; (2) the inspector worklist with 100,000
inspections in the database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_inspection .venv/bin/python bench/inspection_bench.py

Bench data (100,000 inspections) is generated with bulk_create once and kept between runs.
"""

import os
import sys
import time
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_inspection")


def _ensure_database():
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


_ensure_database()
sys.path.insert(0, os.path.dirname(__file__))

import _setup  # noqa: E402,F401
from _setup import summary, timed  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

N_INSPECTIONS = 100_000


def setup():
    from compliance.signatures import SignatureCredential
    from inspection import services
    from inspection.models import InspectionPlan, Station
    from qms.core.audit import audit_context
    from qms.core.models import Industry, Membership, Part, PartType, Role, Site, User

    call_command("migrate", verbosity=0)
    with audit_context(reason="benchmark set-up", source="bench"):
        site, _ = Site.objects.get_or_create(
            code="IBENCH", defaults={"name": "Inspection bench", "industry": Industry.AUTOMOTIVE}
        )
        users = {}
        for name, role in (("b_qe", Role.QUALITY_ENGINEER), ("b_qm", Role.QUALITY_MANAGER), ("b_insp", Role.INSPECTOR)):
            u, created = User.objects.get_or_create(username=name, defaults={"display_name": name})
            if created:
                Membership.objects.create(user=u, site=site, role=role)
            users[name] = u
        part, _ = Part.objects.get_or_create(
            number="IB-1", revision="A", defaults={"name": "bench", "part_type": PartType.COMPONENT}
        )
        station, _ = Station.objects.get_or_create(
            code="IB-ST", defaults={"site": site, "name": "bench", "stages": "IQC,FQC"}
        )
        station.inspectors.add(users["b_insp"])
    plan = InspectionPlan.objects.filter(site=site, part=part, stage="FQC", status="approved").first()
    if plan is None:
        plan = services.plan_create(
            site=site,
            part=part,
            stage="FQC",
            title="bench",
            user=users["b_qe"],
            scheme="fixed",
            fixed_sample_size=125,
            aql="",
        )
        for i in range(10):
            services.characteristic_add(
                plan=plan, user=users["b_qe"], name=f"C{i}", nominal="10", tolerance="0.02", decimals=3
            )
        plan = services.plan_approve(
            plan=plan,
            user=users["b_qm"],
            credential=SignatureCredential(user=users["b_qm"], authenticated_at=timezone.now()),
        )
    return site, users, plan, station


def generate(site, plan, station):
    from inspection.models import Inspection

    have = Inspection.objects.filter(site=site).count()
    if have >= N_INSPECTIONS:
        return
    t0 = time.perf_counter()
    now = timezone.now()
    statuses = ["accepted"] * 8 + ["pending", "rejected"]
    rows = []
    for i in range(have, N_INSPECTIONS):
        rows.append(
            Inspection(
                code=f"B-{i:07d}",
                stage="FQC",
                site=site,
                part=plan.part,
                plan=plan,
                station=station if i % 3 else None,
                status=statuses[i % 10],
                lot_size=1000,
                sample_size=5,
                accept_number=0,
                reject_number=1,
                due_at=now - timezone.timedelta(minutes=i % 5000),
            )
        )
        if len(rows) == 10_000:
            Inspection.objects.bulk_create(rows)
            rows = []
    if rows:
        Inspection.objects.bulk_create(rows)
    print(f"generated {N_INSPECTIONS - have} inspections in {time.perf_counter() - t0:.1f} s")


def bench_record(site, users, plan):
    from compliance.models import AuditEntry
    from inspection import services
    from inspection.models import Measurement

    chars = list(plan.characteristics.all())
    samples = []
    for _ in range(5):
        insp = services.inspection_create(stage="FQC", plan=plan, lot_size=1000, user=users["b_insp"])
        values = [
            {"characteristic": c.pk, "sample_no": n, "raw": "10.0%02d" % (n % 20)} for n in range(1, 126) for c in chars
        ]
        audit_before = AuditEntry.objects.count()
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as q:
            count = services.measurements_record(
                inspection=insp, values=values, submission_key=uuid.uuid4(), user=users["b_insp"]
            ).recorded
        samples.append((time.perf_counter() - t0) * 1000)
        audited = AuditEntry.objects.count() - audit_before
        assert count == 1250 and Measurement.objects.filter(inspection=insp).count() == 1250
    print(f"values recorded per lot: {count}; audit entries written: {audited}; queries: {len(q)}")
    print(summary("record 1,250 values (125 x 10) + audit trail", samples))
    t0 = time.perf_counter()
    from compliance.signatures import SignatureCredential

    services.inspection_complete(
        inspection=insp,
        user=users["b_insp"],
        credential=SignatureCredential(user=users["b_insp"], authenticated_at=timezone.now()),
    )
    print(f"{'complete + judge 1,250 values + e-sign':<48} {(time.perf_counter() - t0) * 1000:9.2f} ms")


def bench_worklist(users):
    from inspection import selectors

    user = users["b_insp"]

    def first_page():
        return list(selectors.worklist(user)[:25])

    def count():
        return selectors.worklist(user).count()

    with CaptureQueriesContext(connection) as q:
        first_page()
    print(f"worklist: {count()} open inspections of {N_INSPECTIONS:,}+ in the database; first page queries: {len(q)}")
    print(summary("worklist first page (25 rows)", timed(first_page, 30)))
    print(summary("worklist count (paginator)", timed(count, 30)))


if __name__ == "__main__":
    site, users, plan, station = setup()
    generate(site, plan, station)
    with connection.cursor() as c:
        c.execute("ANALYZE inspection_inspection")
    bench_record(site, users, plan)
    bench_worklist(users)
