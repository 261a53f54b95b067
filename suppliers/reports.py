"""The supplier scorecard PDF, registered in the compliance report registry as `suppliers.scorecard`."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from qms.core import policy

from . import scoring
from .models import Scorecard, ScorecardPolicy, Supplier
from .selectors import month_list


def build_scorecard(params: dict, user) -> dict:
    month = None
    if params.get("month"):
        try:
            month = datetime.date.fromisoformat(params["month"][:7] + "-01")
        except ValueError:
            raise ReportError(_("Give the month as YYYY-MM, not “%(m)s”.") % {"m": params["month"]}) from None
    cards = Scorecard.objects.select_related("supplier", "site")
    if user is not None and getattr(user, "pk", None):
        cards = cards.filter(site_id__in=policy.sites_for(user, "suppliers.scorecard"))
    supplier = None
    code = (params.get("supplier") or "").strip()
    if code:
        supplier = Supplier.objects.filter(code__iexact=code).first()
        if supplier is None:
            raise ReportError(_("No supplier has the code “%(c)s”.") % {"c": code})
        cards = cards.filter(supplier=supplier)
    if month is None:
        graded = cards.exclude(grade="").order_by("-month").values_list("month", flat=True)
        current = timezone.localdate().replace(day=1)
        month = graded.filter(month__lt=current).first() or graded.first()
    if month is None:
        raise ReportError(_("There is no scorecard yet: record receipts first."))
    rows = list(cards.filter(month=month).order_by("grade", "-score", "supplier__code"))
    trend = []
    if supplier is not None:
        span = month_list(month, 12)
        trend = list(cards.filter(month__gte=span[0], month__lte=month).order_by("-month", "site__code"))
    site = rows[0].site if rows else None
    rules = scoring.Rules.from_policy(ScorecardPolicy.objects.filter(site=site).first() if site else None)
    if supplier is not None:
        title = _("Supplier scorecard %(code)s %(name)s, %(month)s") % {
            "code": supplier.code,
            "name": supplier.name,
            "month": month.strftime("%Y-%m"),
        }
    else:
        title = _("Supplier scorecards, %(month)s") % {"month": month.strftime("%Y-%m")}
    return {"title": title, "month": month, "rows": rows, "trend": trend, "supplier": supplier, "rules": rules}


def register() -> None:
    register_report(
        Report(
            key="suppliers.scorecard",
            title=gettext_lazy("Supplier scorecard"),
            template="suppliers/pdf/scorecard.html",
            build=build_scorecard,
            params=[
                ReportParam("supplier", required=False, help=gettext_lazy("supplier code; empty: all suppliers")),
                ReportParam("month", required=False, help=gettext_lazy("YYYY-MM; empty: the latest month")),
            ],
            perm="suppliers.scorecard",
            document_prefix="SSC",
        )
    )
