"""Integration API benchmarks, through the whole Django stack (middleware, token authentication, site
scope, DRF) with the test client in-process:

1. 100,000 measurements pushed through POST /api/v1/measurements/ (100 calls of 1,000 values, each with its
   Idempotency-Key; 100 open inspections of 10 characteristics x 100 samples), with the audit trail;
2. lot status (GET /api/v1/lots/{code}/) and ship check p95;
3. trace (backward through a 3-level genealogy of ~100 lots) p95;
4. queries per request for small and large data (a lot with 1 and 30 holds; a trace of 3 and 100 lots).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_api .venv/bin/python bench/api_bench.py

The database is created when missing; bench rows are added once and kept between runs (new inspections for
the ingestion are made each run).
"""

import os
import sys
import time
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_api")
os.environ.setdefault("API_THROTTLE_RATE", "100000/min")


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
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

CALLS = 100
PER_CALL = 1000
CHARS = 10
SAMPLES = 100


def setup():
    from compliance.signatures import SignatureCredential
    from inspection import services
    from inspection.models import InspectionPlan, PlanStatus, Stage
    from qms.core.audit import audit_context
    from qms.core.models import Industry, Membership, Part, PartType, Role, Site, User

    call_command("migrate", verbosity=0)
    with audit_context(reason="benchmark set-up", source="bench"):
        site, _ = Site.objects.get_or_create(
            code="ABENCH", defaults={"name": "API bench", "industry": Industry.AUTOMOTIVE}
        )
        users = {}
        for name, role in (
            ("a_qe", Role.QUALITY_ENGINEER),
            ("a_qm", Role.QUALITY_MANAGER),
            ("a_admin", Role.ADMINISTRATOR),
        ):
            u, created = User.objects.get_or_create(username=name, defaults={"display_name": name})
            if created:
                Membership.objects.create(user=u, site=site, role=role)
            users[name] = u
        part, _ = Part.objects.get_or_create(
            number="API-BENCH-1", revision="A", defaults={"name": "Bench ring", "part_type": PartType.FINISHED}
        )
        plan = InspectionPlan.objects.filter(site=site, part=part, stage=Stage.FQC, status=PlanStatus.APPROVED).first()
        if plan is None:
            plan = services.plan_create(
                site=site, part=part, stage=Stage.FQC, title="bench", user=users["a_qe"], aql="1.0"
            )
            for i in range(CHARS):
                services.characteristic_add(
                    plan=plan,
                    user=users["a_qe"],
                    name=f"Dim {i}",
                    nominal="10",
                    tolerance="0.05",
                    unit="mm",
                    decimals=3,
                )
            cred = SignatureCredential(user=users["a_qm"], authenticated_at=timezone.now())
            plan = services.plan_approve(plan=plan, user=users["a_qm"], credential=cred)
    return site, part, plan, users


def token_for(site, admin):
    from api.models import ServiceAccount
    from api.services import service_account_create, token_create
    from qms.core.models import Role

    account = ServiceAccount.objects.filter(user__username="bench-mes").first()
    if account is None:
        account = service_account_create(
            username="bench-mes",
            system="mes",
            roles={site: [Role.INSPECTOR, Role.QUALITY_ENGINEER, Role.PRODUCTION_SUPERVISOR]},
            user=admin,
        )
    _tok, raw = token_create(account=account, user=admin, name="bench", expires_in_days=1)
    return raw


def inspections(site, part, plan, user, n):
    from inspection import services
    from inspection.models import Stage
    from traceability.models import Lot

    out = []
    from qms.core.audit import audit_context

    with audit_context(reason="bench", source="bench"):
        for _ in range(n):
            lot = Lot.objects.create(
                code=f"AB-{uuid.uuid4().hex[:10]}", part=part, site=site, quantity=1000, unit="pcs"
            )
            out.append(
                services.inspection_create(
                    stage=Stage.FQC, plan=plan, lot=lot, user=user, lot_size=1000, sample_size=SAMPLES
                )
            )
    return out


def genealogy(site, part):
    """A finished lot made of 10 lots, each made of 10 raw lots (111 lots); and a small one (3 lots)."""
    from qms.core.audit import audit_context
    from traceability.models import Lot, LotHold, LotLink

    def lot(prefix, status="released"):
        return Lot.objects.create(
            code=f"{prefix}-{uuid.uuid4().hex[:10]}", part=part, site=site, quantity=1000, unit="pcs", status=status
        )

    with audit_context(reason="bench", source="bench"):
        top = lot("TOP")
        for _ in range(10):
            mid = lot("MID")
            LotLink.objects.create(parent=mid, child=top, quantity=1)
            for _ in range(10):
                LotLink.objects.create(parent=lot("RAW"), child=mid, quantity=1)
        small_top, small_mid, small_raw = lot("STOP"), lot("SMID"), lot("SRAW")
        LotLink.objects.create(parent=small_mid, child=small_top, quantity=1)
        LotLink.objects.create(parent=small_raw, child=small_mid, quantity=1)
        one_hold, many_holds = lot("H1"), lot("H30")
        LotHold.objects.create(lot=one_hold, source="manual", reason="bench", reference="1")
        for i in range(30):
            LotHold.objects.create(lot=many_holds, source="manual", reason="bench", reference=str(i))
    return top, small_top, one_hold, many_holds


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return len(ctx.captured_queries)


def main():
    site, part, plan, users = setup()
    raw = token_for(site, users["a_admin"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    print(f"setting up {CALLS} open inspections ({CHARS} characteristics x {SAMPLES} samples) ...")
    t0 = time.perf_counter()
    insps = inspections(site, part, plan, users["a_qe"], CALLS)
    print(f"  set-up {time.perf_counter() - t0:.1f} s")
    seqs = list(plan.characteristics.order_by("sequence").values_list("sequence", flat=True))

    # 1. ingestion: one call per inspection, 1,000 values each (one value in 500 out of limits)
    bodies = []
    for insp in insps:
        values = [
            {
                "inspection": insp.code,
                "characteristic": s,
                "sample_no": n,
                "value": "10.300" if (n * len(seqs) + i) % 500 == 0 else f"10.0{(n + i) % 4}",
            }
            for n in range(1, SAMPLES + 1)
            for i, s in enumerate(seqs)
        ]
        bodies.append({"values": values})
    per_call = []
    out_of_limits = recorded = 0
    t0 = time.perf_counter()
    for body in bodies:
        t1 = time.perf_counter()
        response = client.post(
            "/api/v1/measurements/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
        per_call.append((time.perf_counter() - t1) * 1000)
        assert response.status_code == 201, response.content[:500]
        data = response.json()
        recorded += data["recorded"]
        out_of_limits += len(data["out_of_limits"])
    total = time.perf_counter() - t0
    print(
        f"ingestion: {recorded:,} measurements in {CALLS} calls: {total:.1f} s "
        f"({recorded / total:,.0f} values/s; target 100,000 in <= 60 s); {out_of_limits} out of limits"
    )
    print(summary("  per call of 1,000 values", per_call))
    # a retried call records nothing twice
    key = str(uuid.uuid4())
    extra = inspections(site, part, plan, users["a_qe"], 1)[0]
    body = {"values": [{"inspection": extra.code, "characteristic": seqs[0], "sample_no": 1, "value": "10.0"}]}
    first = client.post("/api/v1/measurements/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post("/api/v1/measurements/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    print(f"  retry with the same key: first {first.status_code}, again {again.status_code} (replayed), recorded once")

    # 2./3. reads
    top, small_top, one_hold, many_holds = genealogy(site, part)
    lot_code = insps[0].lot.code
    print(summary("lot status GET /lots/{code}/", timed(lambda: client.get(f"/api/v1/lots/{lot_code}/"), 300)))
    print(
        summary(
            "ship check GET /lots/{code}/ship-check/",
            timed(lambda: client.get(f"/api/v1/lots/{lot_code}/ship-check/"), 300),
        )
    )
    print(
        summary(
            "trace backward, 110 ancestors",
            timed(lambda: client.get(f"/api/v1/lots/{top.code}/trace/?direction=backward"), 200),
        )
    )

    # 4. queries per request, small vs large data
    print("queries per request (small data / large data):")
    print(
        f"  lot status, 1 vs 30 holds:        {queries(client, f'/api/v1/lots/{one_hold.code}/')} / "
        f"{queries(client, f'/api/v1/lots/{many_holds.code}/')}"
    )
    print(
        f"  ship check, 1 vs 30 holds:        {queries(client, f'/api/v1/lots/{one_hold.code}/ship-check/')} / "
        f"{queries(client, f'/api/v1/lots/{many_holds.code}/ship-check/')}"
    )
    print(
        f"  trace, 2 vs 110 ancestors:        {queries(client, f'/api/v1/lots/{small_top.code}/trace/')} / "
        f"{queries(client, f'/api/v1/lots/{top.code}/trace/')}"
    )
    print(
        f"  lot list page (100 lots):         {queries(client, '/api/v1/lots/?page_size=10')} / "
        f"{queries(client, '/api/v1/lots/?page_size=100')}"
    )


if __name__ == "__main__":
    main()
