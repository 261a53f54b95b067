"""Demo objectives and the four demo alarm rules of issue 11 (BRG and FOOD plants)."""

from __future__ import annotations

from django.utils import timezone

from qms.core.models import Site, User

from .engine import rollup_recent
from .models import AlarmRule, Objective
from .services import alarm_rule_create, objective_create

DEMO_RULES = [
    dict(name="Process defect rate > 10 % over the last 8 hours", kpi="ipqc.defect_rate", dim_key="line",
         window="hours", window_size=8, comparator=">", threshold=10, min_denominator=5, severity="critical",
         recipient_roles="production_supervisor,quality_engineer", action="ncr", evaluate_on_event=True,
         cooldown_minutes=240),
    dict(name="IPQC pass rate < 95 % on a line today", kpi="ipqc.fpy", dim_key="line", window="today",
         window_size=1, comparator="<", threshold=95, min_denominator=2, severity="critical",
         recipient_roles="production_supervisor,quality_manager", action="line_stop", evaluate_on_event=True, cooldown_minutes=120),
    dict(name="Supplier incoming ppm > 500 this month", kpi="iqc.ppm", dim_key="supplier", window="month",
         window_size=1, comparator=">", threshold=500, severity="warning", recipient_roles="sqe", action="notify",
         cooldown_minutes=1440),
    dict(name="3 complaints on the same part within 30 days", kpi="complaint.count", dim_key="part",
         window="days", window_size=30, comparator=">=", threshold=3, severity="critical",
         recipient_roles="quality_manager", action="capa", cooldown_minutes=10080),
]  # fmt: skip

DEMO_OBJECTIVES = [
    ("Finished-goods defect rate ≤ 0.5 % 成品不良率", "fqc.defect_rate", "<=", 0.5, "month"),
    ("Complaints ≤ 2 per 100 shipments 客诉率", "complaint.per100", "<=", 2, "quarter"),
    ("Incoming ppm ≤ 500 来料不良", "iqc.ppm", "<=", 500, "month"),
    ("IPQC pass rate ≥ 95 % 巡检合格率", "ipqc.fpy", ">=", 95, "month"),
    ("CAPA closed on time ≥ 90 % 纠正措施按期关闭率", "capa.on_time", ">=", 90, "year"),
]


def seed_demo() -> None:
    qm = User.objects.filter(username="qm").first()
    owners = {"iqc.ppm": "sqe", "ipqc.fpy": "supervisor", "fqc.defect_rate": "qe", "complaint.per100": "qe"}
    if qm is None:
        return
    year = timezone.localdate().year
    for site in Site.objects.filter(code__in=["BRG", "FOOD"]):
        if not AlarmRule.objects.filter(site=site).exists():
            for rule in DEMO_RULES:
                alarm_rule_create(site=site, user=qm, **rule)
        if not Objective.objects.filter(site=site, year=year).exists():
            for title, kpi, cmp, target, period in DEMO_OBJECTIVES:
                owner = User.objects.filter(username=owners.get(kpi, "qe")).first() or qm
                objective_create(site=site, title=title, kpi=kpi, comparator=cmp, target=target, year=year,
                                 period=period, owner=owner, user=qm)  # fmt: skip
        rollup_recent(days=400, sites=[site])
