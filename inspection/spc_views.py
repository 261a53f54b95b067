"""Control chart and capability of one characteristic; freezing its limits (e-signed)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.signatures import signatures_with_validity_many
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.views_auth import require, require_decision, require_decision_site, require_site

from . import spc
from .forms import RULE_LABELS, ControlLimitsFreezeForm
from .models import Characteristic
from .spc_charts import parameter_chart, parameter_streams, spc_capability, spc_chart
from .spc_services import control_limits_freeze
from .spc_svg import chart_svg


def _characteristic_or_404(request, pk, perm="inspection.view") -> Characteristic:
    characteristic = get_object_or_404(Characteristic.objects.select_related("plan__site", "plan__part"), pk=pk)
    require_site(request, perm, characteristic.plan.site)
    return characteristic


def chart_context(characteristic, *, excluded=()) -> dict:
    chart = spc_chart(characteristic, excluded=excluded)
    links = [reverse("inspection:detail", args=[g.code]) for g in chart.subgroups]
    titles = [f"{g.code} {g.at:%Y-%m-%d %H:%M}" for g in chart.subgroups]
    svgs = []
    for series, label in ((chart.location, chart.kind), (chart.spread, "spread")):
        if series is not None:
            svgs.append({"label": label, "svg": chart_svg(series, links=links, titles=titles)})
    violations = []
    for series in (chart.location, chart.spread):
        if series is None:
            continue
        for index, rules in sorted(series.violations.items()):
            g = chart.subgroups[index]
            violations.append({"code": g.code, "at": g.at, "rules": [(r, RULE_LABELS[r]) for r in sorted(rules)]})
    return {
        "characteristic": characteristic,
        "chart": chart,
        "svgs": svgs,
        "violations": violations[-50:],
        "capability": spc_capability(chart),
        "min_subgroups": spc.MIN_SUBGROUPS,
        "min_values": spc.MIN_VALUES,
    }


@require("inspection.view")
def chart(request, pk):
    return _chart_page(request, _characteristic_or_404(request, pk))


def _chart_page(request, characteristic, form=None):
    ctx = chart_context(characteristic)
    if request.headers.get("HX-Request"):
        return render(request, "inspection/partials/_spc_chart.html", ctx)
    site = characteristic.plan.site
    # the form only for someone the door would let freeze; anyone else reads why not and who can
    freeze_offer = policy.decision_offer(request.user, "spc.freeze", site, what=_("these control limits"))
    can_freeze = freeze_offer["may"] and not ctx["chart"].problem
    ctx.update(
        {
            "form": form or (ControlLimitsFreezeForm(request=request, meaning="approved") if can_freeze else None),
            "can_freeze": can_freeze,
            "freeze_offer": freeze_offer,
            "limit_signatures": _limit_signatures(ctx["chart"].limits),
            "report_url": reverse("compliance:report_pdf", args=["inspection.capability"])
            + f"?characteristic={characteristic.pk}",
        }
    )
    return render(request, "inspection/spc_chart.html", ctx)


def _limit_signatures(limits) -> list:
    """Every frozen set with its signatures, newest first, in one query however many sets there are."""
    signed = signatures_with_validity_many(limits)
    return [(s, signed.get(s.pk, [])) for s in reversed(limits)]


@require_decision("spc.freeze")
@require_POST
@create_once
def freeze(request, pk):
    characteristic = _characteristic_or_404(request, pk)
    require_decision_site(request, "spc.freeze", characteristic.plan.site)
    form = ControlLimitsFreezeForm(request.POST, request=request, meaning="approved")
    if not form.is_valid():
        return _chart_page(request, characteristic, form=form)
    try:
        control_limits_freeze(
            characteristic=characteristic,
            user=request.user,
            credential=form.credential,
            reason=form.cleaned_data["reason"],
            excluded=form.cleaned_data["excluded"],
            rules=form.cleaned_data["rules"],
        )
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _chart_page(request, characteristic, form=form)
    messages.success(request, _("Control limits frozen and signed."))
    return redirect("inspection:spc_chart", characteristic.pk)


@require("inspection.view")
def parameters(request):
    """Process parameters recorded in production (5M1E), each with its control chart."""
    site_ids = policy.sites_for(request.user, "inspection.view")
    return render(request, "inspection/spc_parameters.html", {"streams": parameter_streams(site_ids)})


@require("inspection.view")
def parameter(request):
    try:
        part_id = int(request.GET.get("part", ""))
    except ValueError:
        raise Http404 from None
    name = (request.GET.get("name") or "").strip()[:80]
    site_ids = policy.sites_for(request.user, "inspection.view")
    chart = parameter_chart(site_ids=site_ids, part_id=part_id, name=name)
    if chart.problem and not chart.codes:
        raise Http404
    links = [reverse("traceability:work_order", args=[code]) for code in chart.codes]
    titles = [f"{code} {at:%Y-%m-%d %H:%M}" for code, at in zip(chart.codes, chart.times, strict=True)]
    svgs = [
        {"label": label, "svg": chart_svg(series, links=links, titles=titles)}
        for series, label in ((chart.location, "imr"), (chart.spread, "spread"))
        if series is not None
    ]
    return render(
        request,
        "inspection/spc_parameter.html",
        {
            "chart": chart,
            "svgs": svgs,
            "capability": chart.capability,
            "min_subgroups": spc.MIN_SUBGROUPS,
            "min_values": spc.MIN_VALUES,
        },
    )
