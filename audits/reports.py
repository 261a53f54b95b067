"""Registered report: the internal audit report (English and Chinese)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from compliance.signatures import signatures_with_validity
from qms.core import policy


def build_audit_report(params: dict, user) -> dict:
    from .models import Audit, AuditTeamMember, ChecklistItem, Finding

    code = params.get("audit")
    site_ids = policy.sites_for(user, "audits.view") if user is not None else None
    if not code:
        qs = Audit.objects.all() if site_ids is None else Audit.objects.filter(site_id__in=site_ids)
        code = qs.order_by("-planned_start", "-pk").values_list("code", flat=True).first()
        if code is None:
            raise ReportError(_("There is no internal audit yet."))
    audit = (
        Audit.objects.select_related("site", "programme", "lead_auditor", "area_owner")
        .prefetch_related(
            Prefetch("team", queryset=AuditTeamMember.objects.select_related("user")),
            Prefetch("items", queryset=ChecklistItem.objects.order_by("sequence")),
            Prefetch("findings", queryset=Finding.objects.select_related("owner", "ncr", "capa")),
        )
        .filter(code=code)
        .first()
    )
    if audit is None:
        raise ReportError(_("No internal audit has the number %(code)s.") % {"code": code})
    if user is not None and not policy.can(user, "audits.view", audit.site):
        raise ReportError(_("You cannot see audits of site %(site)s.") % {"site": audit.site.code})
    items = list(audit.items.all())
    counts = {value: 0 for value in ("conforming", "finding", "observation", "na", "pending")}
    for item in items:
        counts[item.result] = counts.get(item.result, 0) + 1
    lang = translation.get_language() or "en"
    return {
        "title": _("Internal audit report %(code)s") % {"code": audit.code},
        "site_id": audit.site_id,
        "audit": audit,
        "items": [(item, item.title(lang)) for item in items],
        "findings": list(audit.findings.all()),
        "counts": counts,
        "signatures": signatures_with_validity(audit),
    }


def register() -> None:
    register_report(
        Report(
            key="audits.report",
            title=gettext_lazy("Internal audit report"),
            template="audits/pdf/report.html",
            build=build_audit_report,
            params=[ReportParam("audit", help=gettext_lazy("audit number; the latest when empty"))],
            perm="audits.view",
            document_prefix="AUDR",
        )
    )
