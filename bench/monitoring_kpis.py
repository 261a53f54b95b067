"""Monitoring benchmarks on two years of a busy plant (1,000,000 inspections, 50,000 NCRs, 200,000
shipments): (1) KPI series for several scopes from the daily roll-up, beside the naive computation over the
raw tables; (2) one tick evaluating 200 alarm rules; (3) the quality monitor dashboard (time, queries), cold
(its per-site cache empty) and warm, beside its figures computed naively over the raw records.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_monitor .venv/bin/python bench/monitoring_kpis.py
    BENCH_SCALE=0.1 ... (a tenth of the data, for a quick look)
    BENCH_PARTS=dashboard ... (only the dashboard; also: series, alarms)

The data is written once with COPY (it bypasses the services and the audit trail: benchmark data only)
and kept between runs; the roll-up is rebuilt from it once (`kpi_rollup --days 731` does the same).
"""

import datetime
import os
import random
import sys
import time

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_monitor")


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

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# BENCH_PARTS=dashboard runs only the dashboard part (the data and roll-up are kept between runs)
ONLY = set(os.environ.get("BENCH_PARTS", "series,alarms,dashboard").split(","))
N_INSPECTIONS = int(1_000_000 * SCALE)
N_NCRS = int(50_000 * SCALE)
N_SHIPMENTS = int(200_000 * SCALE)
DAYS = 730
LINES, SUPPLIERS, PARTS, CUSTOMERS, CODES = 8, 20, 40, 30, 10


def _copy(table, columns, rows):
    with connection.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def setup():
    from inspection.models import Inspection, InspectionPlan, IpqcSchedule
    from nonconformance.models import DefectCode
    from qms.core.audit import audit_context
    from qms.core.models import (
        Customer,
        Equipment,
        EquipmentKind,
        Industry,
        Membership,
        Part,
        PartType,
        Role,
        Site,
        User,
    )
    from suppliers.models import Supplier

    call_command("migrate", verbosity=0)
    with audit_context(reason="benchmark set-up", source="bench"):
        site, _ = Site.objects.get_or_create(
            code="MBENCH", defaults={"name": "Monitor bench", "industry": Industry.AUTOMOTIVE}
        )
        qm, created = User.objects.get_or_create(username="m_qm", defaults={"display_name": "m_qm"})
        if created:
            Membership.objects.create(user=qm, site=site, role=Role.QUALITY_MANAGER)
            Membership.objects.create(user=qm, site=site, role=Role.PRODUCTION_SUPERVISOR)
        if Inspection.objects.filter(site=site).count() >= N_INSPECTIONS:
            return site, qm
        parts = [Part.objects.get_or_create(number=f"MB-{i:03d}", revision="A", defaults={"name": f"part {i}", "part_type": PartType.COMPONENT})[0] for i in range(PARTS)]  # fmt: skip
        sups = [Supplier.objects.get_or_create(code=f"MSUP-{i:02d}", defaults={"name": f"sup {i}", "category": "component"})[0] for i in range(SUPPLIERS)]  # fmt: skip
        custs = [Customer.objects.get_or_create(code=f"MCUST-{i:02d}", defaults={"name": f"cust {i}"})[0] for i in range(CUSTOMERS)]  # fmt: skip
        lines = [Equipment.objects.get_or_create(code=f"MLINE-{i}", defaults={"name": f"line {i}", "kind": EquipmentKind.LINE, "site": site})[0] for i in range(LINES)]  # fmt: skip
        codes = [DefectCode.objects.get_or_create(code=f"MD-{i}", defaults={"name": f"defect {i}", "category": "dimensional"})[0] for i in range(CODES)]  # fmt: skip
        plans = {}
        for stage in ("IQC", "IPQC", "FQC"):
            plans[stage] = InspectionPlan.objects.get_or_create(
                site=site, part=parts[0], stage=stage, version=1, defaults={"title": stage, "status": "approved", "created_by": qm}
            )[0]  # fmt: skip
        scheds = [IpqcSchedule.objects.create(site=site, plan=plans["IPQC"], line=ln) for ln in lines]
    rnd = random.Random(7)
    now = timezone.now()
    start = now - datetime.timedelta(days=DAYS)
    t0 = time.perf_counter()
    cols = ["code", "stage", "status", "lot_size", "severity", "code_letter", "sample_size", "accept_number",
            "reject_number", "nonconforming", "class_plans", "is_reinspection", "reason", "result_note", "due_at",
            "created_at", "completed_at", "part_id", "site_id", "supplier_id", "plan_id", "schedule_id"]  # fmt: skip

    def inspections():
        for i in range(N_INSPECTIONS):
            when = start + datetime.timedelta(seconds=rnd.randrange(DAYS * 86400))
            stage = rnd.choices(("IQC", "IPQC", "FQC"), (3, 5, 2))[0]
            sample = 5 if stage == "IPQC" else rnd.choice((32, 50, 80, 125))
            bad = 1 if rnd.random() < 0.06 else 0
            yield (f"MB-{i:08d}", stage, "rejected" if bad else "accepted", sample, "normal", "", sample, 0, 1, bad,
                   "{}", False, "", "", when, when, when, parts[rnd.randrange(PARTS)].pk, site.pk,
                   sups[rnd.randrange(SUPPLIERS)].pk if stage == "IQC" else None, plans[stage].pk,
                   scheds[rnd.randrange(LINES)].pk if stage == "IPQC" else None)  # fmt: skip

    _copy("inspection_inspection", cols, inspections())
    ncr_cols = ["code", "source", "source_reference", "title", "description", "serials", "quantity_suspect",
                "quantity_confirmed", "unit_value", "severity", "failing_values", "status", "created_at", "closed_at",
                "cancel_reason", "part_id", "site_id", "supplier_id"]  # fmt: skip

    def ncrs():
        for i in range(N_NCRS):
            when = start + datetime.timedelta(seconds=rnd.randrange(DAYS * 86400))
            closed = when + datetime.timedelta(days=rnd.randrange(1, 40)) if rnd.random() < 0.8 else None
            yield (f"MNCR-{i:07d}", "ipqc", "", "bench", "", "", rnd.randrange(1, 50), rnd.randrange(0, 20), 3.5,
                   "major", "[]", "closed" if closed else "open", when, closed, "", parts[rnd.randrange(PARTS)].pk,
                   site.pk, sups[rnd.randrange(SUPPLIERS)].pk)  # fmt: skip

    _copy("nonconformance_ncr", ncr_cols, ncrs())
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO nonconformance_ncr_defect_codes (ncr_id, defectcode_id) "
            "SELECT id, %s + (id %% %s) FROM nonconformance_ncr WHERE site_id = %s",
            [codes[0].pk, CODES, site.pk],
        )
    n_lots = max(1, N_SHIPMENTS // 10)
    lot_cols = [
        "code",
        "supplier_lot_code",
        "quantity",
        "unit",
        "status",
        "created_at",
        "part_id",
        "site_id",
        "produced_on",
    ]
    _copy("traceability_lot", lot_cols, ((f"MLOT-{i:07d}", "", 10000, "pcs", "released", now, parts[i % PARTS].pk, site.pk, now.date()) for i in range(n_lots)))  # fmt: skip
    first_lot = connection.cursor()
    first_lot.execute("SELECT min(id) FROM traceability_lot WHERE code LIKE 'MLOT-%%'")
    lot0 = first_lot.fetchone()[0]
    ship_cols = ["quantity", "shipped_on", "delivery_note", "created_at", "customer_id", "lot_id"]
    _copy("traceability_shipment", ship_cols, ((rnd.randrange(100, 2000), (start + datetime.timedelta(days=rnd.randrange(DAYS))).date(), "", now, custs[rnd.randrange(CUSTOMERS)].pk, lot0 + (i % n_lots)) for i in range(N_SHIPMENTS)))  # fmt: skip
    cmp_cols = ["code", "customer_reference", "serial", "received_on", "title", "description", "severity",
                "quantity_affected", "response_due_on", "status", "response", "created_at", "cancel_reason",
                "created_by_id", "customer_id", "part_id", "site_id"]  # fmt: skip
    _copy("nonconformance_complaint", cmp_cols, ((f"MCMP-{i:06d}", "", "", d, "bench", "", "major", 1, d, "open", "", now, "", qm.pk, custs[rnd.randrange(CUSTOMERS)].pk, parts[rnd.randrange(PARTS)].pk, site.pk) for i in range(max(1, N_SHIPMENTS // 100)) for d in [(start + datetime.timedelta(days=rnd.randrange(DAYS))).date()]))  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"data generated in {time.perf_counter() - t0:.1f} s")
    return site, qm


def main():
    from monitoring import engine, services
    from monitoring.models import AlarmRule, KpiDaily
    from qms.core.kpis import KPIS

    site, qm = setup()
    print(f"scale {SCALE}: {N_INSPECTIONS:,} inspections, {N_NCRS:,} NCRs, {N_SHIPMENTS:,} shipments over {DAYS} days")
    today = timezone.localdate()
    if not KpiDaily.objects.filter(site=site).exists():
        t0 = time.perf_counter()
        rows = engine.rollup_recent(days=DAYS + 1, sites=[site])
        print(f"roll-up backfill (once; then incremental): {rows:,} daily rows in {time.perf_counter() - t0:.1f} s")
        with connection.cursor() as cur:
            cur.execute("ANALYZE monitoring_kpidaily")  # as autovacuum would after such a load
    if "series" in ONLY:
        t0 = time.perf_counter()
        engine.rollup_recent(days=3, sites=[site])
        print(f"periodic roll-up of the last 3 days, every KPI: {(time.perf_counter() - t0) * 1000:.0f} ms")

    start = today - datetime.timedelta(days=DAYS)
    tz = engine.site_tz(site)
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    end = timezone.now() + datetime.timedelta(days=1)
    cases = [
        ("iqc.ppm, site, 24 months", "iqc.ppm", "", None),
        ("iqc.ppm, one supplier, 24 months", "iqc.ppm", "supplier", "MSUP-03"),
        ("ipqc.fpy, one line, 24 months", "ipqc.fpy", "line", "MLINE-2"),
        ("ncr.count, one defect code, 24 months", "ncr.count", "defect_code", "MD-4"),
        ("complaint.ppm (ratio), site, 24 months", "complaint.ppm", "", None),
    ]
    if "series" in ONLY:
        print("\nKPI series (monthly, 24 months)           roll-up                      naive over the raw records")
        for label, key, dim, value in cases:
            kpi = KPIS[key]
            fast = timed(lambda k=kpi, d=dim, v=value: engine.series(k, site_ids=[site.pk], start=start, end=today, dim_key=d, dim_value=v), 10)  # fmt: skip

            def naive(k=kpi, d=dim, v=value):
                for part in [KPIS[x] for x in k.ratio_of] if k.ratio_of else [k]:
                    engine.raw_rows(part, site_ids=[site.pk], start=begin, end=end, dim_key=d if d in part.dimensions else "", dim_value=v, by_day=True, tz=tz)  # fmt: skip

            slow = timed(naive, 3)
            print(summary(label, fast), "|", f"naive median {sorted(slow)[1]:9.1f} ms")
        bd = timed(
            lambda: engine.breakdown(KPIS["ipqc.fpy"], site_ids=[site.pk], start=start, end=today, dim_key="line"), 10
        )
        print(summary("ipqc.fpy by line (breakdown), 24 months", bd))

    if "alarms" in ONLY:
        AlarmRule.objects.filter(site=site).count() >= 200 or _make_rules(site, qm, services)
        for tick in (1, 2):
            t0 = time.perf_counter()
            result = services.alarm_rules_evaluate(site_ids=[site.pk])
            print(f"alarm tick {tick}: {result['rules']} rules in {(time.perf_counter() - t0):.2f} s "
                  f"(raised {result['raised']}, resolved {result['resolved']}, failed {result['failed']})")  # fmt: skip

    from django.core.cache import cache
    from django.test import Client

    from monitoring import dashboard
    from monitoring.models import Objective

    if not Objective.objects.filter(site=site).exists():
        for i, key in enumerate(["iqc.ppm", "ipqc.fpy", "fqc.defect_rate", "ncr.count", "complaint.ppm"] * 2):
            services.objective_create(site=site, title=f"objective {i}", kpi=key, comparator="<=", target=100,
                                      year=today.year, owner=qm, user=qm)  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("ANALYZE monitoring_alarm")  # as autovacuum would after the ticks raised alarms
    client = Client()
    client.force_login(qm)
    first = client.get("/monitor/")
    print(f"\ndashboard (/monitor/, HTTP {first.status_code}): 10 objectives, 5 charts, open alarms")

    def counted(prepare):
        prepare()
        connection.queries_log.clear()  # with DEBUG on the log is capped: a full one would count nothing
        with CaptureQueriesContext(connection) as q:
            r = client.get("/monitor/")
        assert r.status_code == 200, r.status_code
        return len(q.captured_queries), sum(1 for x in q.captured_queries if "monitoring_kpidaily" in x["sql"])

    def cold():  # nothing cached (after a restart, a new month, a backfill)
        cache.clear()

    def new_minute():  # the common case on a busy plant: this month's figures moved, the past months did not
        engine.rollup_changed(site.pk, today)

    def warm():
        pass

    for label, prepare in (("cold: cache empty", cold), ("this month changed", new_minute), ("warm", warm)):
        n, rollup_reads = counted(prepare)
        samples = []
        for _ in range(10):
            prepare()
            t0 = time.perf_counter()
            client.get("/monitor/")
            samples.append((time.perf_counter() - t0) * 1000)
        print(summary(f"dashboard, {label} ({n} queries, {rollup_reads} on the roll-up)", samples))
    inbox = timed(lambda: client.get("/inbox/"), 10)
    print(summary("for scale: the inbox page (layout, short list)", inbox))
    objectives = list(Objective.objects.filter(site=site, year=today.year))
    figures = timed(lambda: dashboard.panel_sums([site.pk], objectives, today=today, use_cache=False), 10)
    print(summary("its figures alone: one roll-up query", figures))

    def naive():
        """The same figures over the raw records: each chart's KPI and each objective, 12 months."""
        start = dashboard.window_start(today)
        begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
        for key in dashboard.SERIES:
            k = KPIS[key]
            for part in [KPIS[x] for x in k.ratio_of] if k.ratio_of else [k]:
                engine.raw_rows(part, site_ids=[site.pk], start=begin, end=end, by_day=True, tz=tz)
        for key, dim in dashboard.BARS:
            engine.raw_rows(KPIS[key], site_ids=[site.pk], start=begin, end=end, dim_key=dim)
        for obj in objectives:
            k = KPIS[obj.kpi]
            for part in [KPIS[x] for x in k.ratio_of] if k.ratio_of else [k]:
                engine.raw_rows(part, site_ids=[site.pk], start=begin, end=end, by_day=True, tz=tz)

    slow = timed(naive, 3)
    print(summary("the same figures naive, over the raw records", slow))


def _make_rules(site, qm, services):
    from monitoring.demo import DEMO_RULES

    for i in range(200):
        base = dict(DEMO_RULES[i % 4])
        base["name"] = f"{base['name']} #{i}"
        base["threshold"] = base["threshold"] * (1 + (i % 7) / 10)
        # 200 rules over about 50 distinct windows (rules sharing KPI, scope and window share one computation)
        if base["window"] in ("hours", "days"):
            base["window_size"] = base["window_size"] + (i // 4) % 12
        base["action"] = "notify"
        services.alarm_rule_create(site=site, user=qm, **base)


if __name__ == "__main__":
    main()
