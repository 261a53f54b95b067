"""Registered report: Certificate of Analysis / release note of a lot (both languages)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from compliance.reports import Report, ReportError, ReportParam, register_report

from .selectors import coa_context


def build_coa(params, user) -> dict:
    from traceability.models import Lot

    from .models import LotRelease

    code = (params.get("lot") or "").strip()
    if code:
        lot = Lot.objects.filter(code=code).select_related("part", "site", "supplier").first()
        if lot is None:
            raise ReportError(_("No lot has the code “%(c)s”. Give an existing lot code.") % {"c": code}, field="lot")
    else:
        release = LotRelease.objects.select_related("lot").order_by("-released_at", "-pk").first()
        lot = release.lot if release else Lot.objects.filter(status="released").order_by("-pk").first()
        if lot is None:
            raise ReportError(_("No lot has been released yet. Give a lot code."), field="lot")
    ctx = coa_context(lot)
    ctx.update(
        {
            "title": _("Certificate of Analysis — lot %(code)s") % {"code": lot.code},
            "effective_params": {"lot": lot.code},
            "param_rows": [(_("Lot"), lot.code)],
            "site_id": lot.site_id,
        }
    )
    return ctx


def register() -> None:
    register_report(
        Report(
            key="inspection.coa",
            title=_lazy("Certificate of Analysis / release note"),
            template="inspection/pdf/coa.html",
            build=build_coa,
            params=[ReportParam("lot", help=_lazy("lot code (default: the latest released lot)"))],
            perm="inspection.view",
            document_prefix="COA",
        )
    )
