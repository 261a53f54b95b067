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


def build_capability(params, user) -> dict:
    """Capability report of one characteristic (IATF 16949 §9.1.1.1): histogram with specification limits
    and fitted curve, control charts, indices with a confidence bound, data period and counts."""
    from .models import Characteristic
    from .spc_charts import spc_histogram
    from .spc_svg import histogram_svg
    from .spc_views import chart_context

    raw = (params.get("characteristic") or "").strip()
    characteristic = None
    if raw.isdigit():
        characteristic = Characteristic.objects.select_related("plan__site", "plan__part").filter(pk=int(raw)).first()
    if characteristic is None:
        raise ReportError(
            _("No characteristic has the number “%(c)s”. Open the characteristic's control chart and use its link.")
            % {"c": raw},
            field="characteristic",
        )
    ctx = chart_context(characteristic)
    chart, cap = ctx["chart"], ctx["capability"]
    if cap is None:
        raise ReportError(
            _("%(c)s has no variable data with specification limits to study yet.") % {"c": characteristic.name},
            field="characteristic",
        )
    values = [v for g in chart.subgroups for v in g.values]
    ctx.update(
        {
            "title": _("Process capability — %(c)s") % {"c": characteristic.name},
            "effective_params": {"characteristic": str(characteristic.pk)},
            "param_rows": [(_("Characteristic"), f"{characteristic.name} · {characteristic.plan}")],
            "histogram": histogram_svg(
                spc_histogram(values, characteristic.lower_limit, characteristic.upper_limit),
                characteristic.lower_limit,
                characteristic.upper_limit,
            ),
            "period_from": chart.subgroups[0].at,
            "period_to": chart.subgroups[-1].at,
        }
    )
    return ctx


def register_capability() -> None:
    register_report(
        Report(
            key="inspection.capability",
            title=_lazy("Process capability report (Cp/Cpk)"),
            template="inspection/pdf/spc_capability.html",
            build=build_capability,
            params=[ReportParam("characteristic", required=True, help=_lazy("characteristic number"))],
            perm="inspection.view",
            document_prefix="CPK",
        )
    )
