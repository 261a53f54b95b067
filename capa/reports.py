"""Registered report: the 8D / CAPA report (both languages)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from compliance.signatures import signatures_with_validity, signatures_with_validity_many
from qms.core import policy


def build_8d(params: dict, user) -> dict:
    from .models import Capa, CapaAction, CapaTeamMember, EffectivenessCheck

    code = params.get("capa")
    if not code:
        site_ids = policy.sites_for(user, "capa.view") if user is not None else None
        qs = Capa.objects.all() if site_ids is None else Capa.objects.filter(site_id__in=site_ids)
        code = qs.order_by("-created_at", "-pk").values_list("code", flat=True).first()
        if code is None:
            raise ReportError(_("There is no CAPA yet."))
    capa = (
        Capa.objects.select_related("site", "owner", "ncr", "complaint", "scar", "created_by")
        .prefetch_related(
            Prefetch("team", queryset=CapaTeamMember.objects.select_related("user")),
            Prefetch("actions", queryset=CapaAction.objects.select_related("owner")),
            Prefetch("effectiveness_checks", queryset=EffectivenessCheck.objects.select_related("checked_by")),
        )
        .filter(code=code)
        .first()
    )
    if capa is None:
        raise ReportError(_("No CAPA has the number %(code)s.") % {"code": code})
    if user is not None and not policy.can(user, "capa.view", capa.site):
        raise ReportError(_("You cannot see CAPAs of site %(site)s.") % {"site": capa.site.code})
    checks = list(capa.effectiveness_checks.all())
    per_check = signatures_with_validity_many(checks)
    signatures = sorted(
        (pair for pairs in per_check.values() for pair in pairs), key=lambda p: (p[0].signed_at, p[0].pk)
    )
    signatures += signatures_with_validity(capa)
    return {
        "title": (_("8D report %(code)s") if capa.is_8d else _("CAPA report %(code)s")) % {"code": capa.code},
        "site_id": capa.site_id,
        "capa": capa,
        "checks": checks,
        "signatures": signatures,
    }


def register() -> None:
    register_report(
        Report(
            key="capa.8d",
            title=gettext_lazy("8D / CAPA report"),
            template="capa/pdf/8d.html",
            build=build_8d,
            params=[ReportParam("capa", help=gettext_lazy("CAPA number; the latest when empty"))],
            perm="capa.view",
            document_prefix="8D",
        )
    )
