"""SPC speed on realistic sizes (issue 12). Targets: a chart of 1,000 subgroups in <= 100 ms of server time,
capability of 100,000 values in <= 50 ms, the chart's queries constant in data size.

Part 1 is pure computation; part 2 reads a characteristic with 1,000 recorded subgroups of 5 from the
database (PostgreSQL `qms_bench_spc`, created and filled once, kept between runs).

    .venv/bin/python bench/inspection_spc.py
"""

import os
import sys
import uuid

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_spc")


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
import numpy as np  # noqa: E402
from _setup import summary, timed  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from inspection import spc  # noqa: E402

SUBGROUPS, SIZE = 1000, 5
rng = np.random.default_rng(1)
subgroups = rng.normal(10.0, 0.1, size=(SUBGROUPS, SIZE)).tolist()
values = rng.normal(10.0, 0.1, size=100_000).tolist()


def chart_math():
    xbar, r = spc.xbar_r_limits(subgroups)
    spc.run_rule_violations(xbar.points, xbar.center, xbar.sigma)
    spc.run_rule_violations(r.points, r.center, r.sigma, rules=[1])


print(summary("x-bar/R limits + 8 Nelson rules, 1,000 subgroups", timed(chart_math, 20)))
print(summary("capability of 100,000 values (with A-D test)", timed(lambda: spc.capability(values, 9.6, 10.4, 5), 20)))


def setup():
    from django.utils import timezone

    from compliance.signatures import SignatureCredential
    from inspection import services
    from inspection.models import Characteristic, Inspection, InspectionPlan, Measurement, Stage
    from qms.core.audit import audit_context
    from qms.core.models import Industry, Membership, Part, PartType, Role, Site, User

    call_command("migrate", verbosity=0)
    with audit_context(reason="benchmark set-up", source="bench"):
        site, _ = Site.objects.get_or_create(
            code="SPCB", defaults={"name": "SPC bench", "industry": Industry.AUTOMOTIVE}
        )
        users = {}
        for name, role in (("s_qe", Role.QUALITY_ENGINEER), ("s_qm", Role.QUALITY_MANAGER)):
            u, created = User.objects.get_or_create(username=name, defaults={"display_name": name})
            if created:
                Membership.objects.create(user=u, site=site, role=role)
            users[name] = u
        part, _ = Part.objects.get_or_create(
            number="SPC-B", revision="A", defaults={"name": "Shaft", "part_type": PartType.COMPONENT}
        )
        plan = InspectionPlan.objects.filter(site=site, part=part, status="approved").first()
        if plan is None:
            plan = services.plan_create(
                site=site, part=part, stage=Stage.IPQC, title="SPC bench", user=users["s_qe"], scheme="fixed",
                fixed_sample_size=SIZE,
            )  # fmt: skip
            services.characteristic_add(
                plan=plan, user=users["s_qe"], name="Diameter", nominal="10", tolerance="0.4", unit="mm", decimals=3
            )
            cred = SignatureCredential(user=users["s_qm"], authenticated_at=timezone.now())
            plan = services.plan_approve(plan=plan, user=users["s_qm"], credential=cred)
        char = Characteristic.objects.get(plan=plan)
        if Inspection.objects.filter(plan=plan).count() < SUBGROUPS:
            now = timezone.now()
            inspections = Inspection.objects.bulk_create(
                [
                    Inspection(
                        code=f"SPCB-{i:05d}",
                        stage=Stage.IPQC,
                        site=site,
                        part=part,
                        plan=plan,
                        sample_size=SIZE,
                        status="accepted",
                        completed_at=now - timezone.timedelta(minutes=SUBGROUPS - i),
                    )  # fmt: skip
                    for i in range(SUBGROUPS)
                ]
            )
            Measurement.objects.bulk_create(
                [
                    Measurement(
                        inspection=insp,
                        characteristic=char,
                        sample_no=n + 1,
                        value=round(v, 3),
                        ok=True,
                        submission=uuid.uuid4(),
                        recorded_by=users["s_qe"],
                    )  # fmt: skip
                    for insp, row in zip(inspections, subgroups, strict=True)
                    for n, v in enumerate(row)
                ]
            )
    return char


char = setup()

from inspection.spc_charts import spc_capability, spc_chart  # noqa: E402
from inspection.spc_svg import chart_svg  # noqa: E402


def chart_from_db():
    chart = spc_chart(char)
    links = [f"/i/{g.code}/" for g in chart.subgroups]
    titles = [g.code for g in chart.subgroups]
    chart_svg(chart.location, links=links, titles=titles)
    chart_svg(chart.spread, links=links, titles=titles)
    spc_capability(chart)


print(summary("chart page data, 1,000 subgroups from PostgreSQL", timed(chart_from_db, 10)))
with CaptureQueriesContext(connection) as queries:
    chart_from_db()
print(f"queries for the chart: {len(queries)} (constant: subgroups, limits, measurements)")
