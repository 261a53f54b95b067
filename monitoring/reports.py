"""Registered report: the management review pack (ISO 9001 §9.3 inputs), in English or Chinese."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from qms.core import policy
from qms.core.kpis import get_kpi
from qms.core.models import Site

from . import engine, selectors
from .models import Alarm, AlarmStatus, Objective, ObjectiveReview

TREND_KPIS = ["iqc.ppm", "iqc.lot_acceptance", "ipqc.fpy", "fqc.defect_rate", "ncr.count", "scrap.cost",
              "complaint.ppm", "capa.on_time", "capa.cycle_days", "scar.response_days"]  # fmt: skip


def build_review_pack(params: dict, user) -> dict:
    from capa.models import Capa
    from nonconformance.models import Ncr
    from traceability.models import Recall

    allowed = (
        policy.sites_for(user, "reports.export")
        if user is not None
        else list(Site.objects.values_list("pk", flat=True))
    )
    site = Site.objects.filter(code=params.get("site", "")).first() if params.get("site") else None
    if params.get("site") and (site is None or site.pk not in allowed):
        raise ReportError(_("Unknown site “%(s)s”, or not one of yours.") % {"s": params["site"]}, field="site")
    site_ids = [site.pk] if site else allowed
    try:
        year = int(params.get("year") or timezone.localdate().year)
    except ValueError:
        raise ReportError(_("The year must be a number such as 2026."), field="year") from None
    today = min(timezone.localdate(), datetime.date(year, 12, 31))
    start, end = datetime.date(year, 1, 1), today
    objectives = list(
        Objective.objects.filter(site_id__in=site_ids, year=year, is_active=True).select_related("site", "owner")
    )
    progress = selectors.objectives_progress(objectives, today=today)
    reviews = {}
    for r in (
        ObjectiveReview.objects.filter(objective__in=objectives).select_related("reviewed_by").order_by("-reviewed_at")
    ):
        reviews.setdefault(r.objective_id, r)
    months = [p.period for p in engine.series(get_kpi("ncr.count"), site_ids=site_ids, start=start, end=end)]
    trends = []
    for key in TREND_KPIS:
        kpi = get_kpi(key)
        pts = engine.series(kpi, site_ids=site_ids, start=start, end=end)
        trends.append((kpi, [p.value for p in pts], engine.total(kpi, site_ids=site_ids, start=start, end=end).value))
    ncr_status = list(
        Ncr.objects.filter(site_id__in=site_ids, created_at__year=year)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by("status")
    )
    capa_status = list(
        Capa.objects.filter(site_id__in=site_ids, created_at__year=year)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by("status")
    )
    # statuses as the reader says them (the pack is printed in English or Chinese), not their codes
    for rows, model in ((ncr_status, Ncr), (capa_status, Capa)):
        labels = dict(model._meta.get_field("status").flatchoices)
        for row in rows:
            row["label"] = labels.get(row["status"], row["status"])
    suppliers = engine.breakdown(get_kpi("iqc.ppm"), site_ids=site_ids, start=start, end=end, dim_key="supplier")
    complaints = engine.breakdown(
        get_kpi("complaint.count"), site_ids=site_ids, start=start, end=end, dim_key="customer"
    )
    recalls = list(Recall.objects.filter(site_id__in=site_ids, started_at__year=year).order_by("started_at"))
    alarms = list(
        Alarm.objects.filter(site_id__in=site_ids, raised_at__year=year)
        .values("rule__name").annotate(n=Count("pk")).order_by("-n")[:20]
    )  # fmt: skip
    open_alarms = Alarm.objects.filter(site_id__in=site_ids).exclude(status=AlarmStatus.RESOLVED).count()
    return {
        "title": _("Management review pack %(year)s") % {"year": year},
        "site_label": str(site) if site else _("All sites"),
        "year": year,
        "progress": [(p, reviews.get(p.objective.pk)) for p in progress],
        "months": months,
        "trends": trends,
        "ncr_status": ncr_status,
        "capa_status": capa_status,
        "suppliers": suppliers,
        "complaints": complaints,
        "recalls": recalls,
        "alarms": alarms,
        "open_alarms": open_alarms,
        "effective_params": {"site": site.code if site else "", "year": year},
    }


def register() -> None:
    register_report(
        Report(
            key="monitoring.review_pack",
            title=gettext_lazy("Management review pack (ISO 9001 §9.3)"),
            template="monitoring/pdf/review_pack.html",
            build=build_review_pack,
            params=[
                ReportParam("site", help=gettext_lazy("site code; all your sites when empty")),
                ReportParam("year", help=gettext_lazy("year, the current one when empty"), input_type="number"),
            ],
            perm="reports.export",
            document_prefix="MRP",
        )
    )
