"""Thin views: quality monitor dashboard, trends with drill-down, objectives, alarm rules, alarms, CSV."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.kpis import get_kpi, kpis_sorted
from qms.core.models import Site, User
from qms.core.views_auth import require, require_site

from . import csvio, dashboard, engine, selectors, services
from .forms import AckForm, CsvImportForm, ObjectiveForm, ResolveForm, ReviewForm, RuleForm

LIGHT = {"green": "pill-ok", "amber": "pill-warn", "red": "pill-bad", "grey": ""}


def _sites(user, perm="portal.view"):
    return list(Site.objects.filter(pk__in=policy.sites_for(user, perm)))


def _site_ids(request) -> list[int]:
    """The user's sites, or the one chosen in ?site= (only if it is one of them)."""
    ids = policy.sites_for(request.user, "portal.view")
    chosen = request.GET.get("site", "")
    if chosen.isdigit() and int(chosen) in ids:
        return [int(chosen)]
    return ids


def _with_rows(chart: dict) -> dict:
    """The chart's figures as table rows (label, value, drill-down link) for the accessible data table."""
    return {**chart, "rows": list(zip(chart["labels"], chart["values"], chart["urls"], strict=True))}


def _chart(kpi, points, site_ids, dim_key="", dim_value=None) -> dict:
    """Chart data with one drill-down link per point."""

    def link(p):
        end = engine.add_months(p.period, 1) - datetime.timedelta(days=1)
        q = f"kpi={kpi.key}&start={p.period}&end={end}&dim_key={dim_key}&dim_value={dim_value or ''}"
        return (
            reverse("monitoring:records") + "?" + q + "".join(f"&site={s}" for s in site_ids[:1] if len(site_ids) == 1)
        )

    return _with_rows(
        {
            "label": f"{kpi.label} ({kpi.unit_label})",
            "labels": [p.period.strftime("%Y-%m") for p in points],
            "values": [None if p.value is None else round(p.value, 4) for p in points],
            "urls": [link(p) for p in points],
        }
    )


def _bar(kpi, items, site_ids, dim_key, start, end) -> dict:
    def link(dim):
        return reverse("monitoring:records") + (
            f"?kpi={kpi.key}&start={start}&end={end}&dim_key={dim_key}&dim_value={dim}"
        )

    return _with_rows(
        {
            "type": "bar",
            "label": f"{kpi.label} ({kpi.unit_label})",
            "labels": [d or "—" for d, _p in items],
            "values": [None if p.value is None else round(p.value, 4) for _d, p in items],
            "urls": [link(d) for d, _p in items],
        }
    )


def _unpriced_note(key, sums, site_ids, start, today):
    """Beside a cost chart: the quantity left out of it for want of a standard cost, with its records."""
    other = dashboard.UNPRICED.get(key)
    if not other:
        return None
    qty = sum(n for (k, dk, _dv, _m), (n, _d) in sums.items() if k == other and dk == "")
    if not qty:
        return None
    url = (
        reverse("monitoring:records")
        + f"?kpi={other}&start={start}&end={today}"
        + "".join(f"&site={s}" for s in site_ids[:1] if len(site_ids) == 1)
    )
    return {"quantity": qty, "url": url}


@require("portal.view")
def dashboard_view(request):
    """The management view: objectives with traffic lights, open alarms, the main trends (phone-ready).
    A constant number of queries: the figures come from one roll-up query, cached per site (dashboard.py)."""
    today = timezone.localdate()
    site_ids = _site_ids(request)
    objectives = list(selectors.objectives_for(request.user, year=today.year).filter(site_id__in=site_ids))
    panel = dashboard.panel_sums(site_ids, objectives, today=today)
    sums, start = panel["all"], panel["start"]
    progress = selectors.objectives_progress(objectives, today=today, sums=dashboard.objective_sums(panel))
    sites = _sites(request.user)
    # The charts are the same for everyone looking at the same figures in the same language: rendered once.
    charts_key = f"monitoring:charts:{panel['token']}:{get_language()}:{','.join(map(str, site_ids))}"
    charts_html = cache.get(charts_key)
    if charts_html is None:
        charts = []
        for key in dashboard.SERIES:
            kpi = get_kpi(key)
            chart = _chart(kpi, dashboard.series_points(key, sums, start, today), site_ids)
            chart["unpriced"] = _unpriced_note(key, sums, site_ids, start, today)
            charts.append(chart)
        for key, dim in dashboard.BARS:
            kpi = get_kpi(key)
            charts.append(_bar(kpi, dashboard.bar_items(key, dim, sums, start), site_ids, dim, start, today))
        charts_html = render_to_string("monitoring/_charts.html", {"charts": charts})
        cache.set(charts_key, charts_html, dashboard.CACHE_SECONDS)
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "progress": [(p, LIGHT[p.status]) for p in progress],
            "alarms": list(selectors.alarms_for(request.user, open_only=True).filter(site_id__in=site_ids)[:20]),
            "charts_html": mark_safe(charts_html),  # noqa: S308 - rendered by our own template just above
            "sites": sites,
            "may_manage": policy.can(request.user, "objectives.manage"),
            "may_rules": policy.can(request.user, "alarms.manage"),
            "may_pack": policy.can(request.user, "reports.export"),
            "pack_site": next((s.code for s in sites if len(site_ids) == 1 and s.pk == site_ids[0]), ""),
        },
    )


@require("portal.view")
def trends(request):
    kpi = get_kpi(request.GET.get("kpi", "iqc.ppm")) or get_kpi("iqc.ppm")
    dim_key = request.GET.get("dim_key", "")
    if dim_key not in kpi.dimensions:
        dim_key = ""
    today = timezone.localdate()
    try:
        months = max(1, min(36, int(request.GET.get("months", "12"))))
    except ValueError:
        months = 12
    start = engine.add_months(today.replace(day=1), -(months - 1))
    site_ids = _site_ids(request)
    line = _chart(kpi, engine.series(kpi, site_ids=site_ids, start=start, end=today), site_ids)
    bar = None
    if dim_key:
        bar = _bar(kpi, engine.breakdown(kpi, site_ids=site_ids, start=start, end=today, dim_key=dim_key), site_ids,
                   dim_key, start, today)  # fmt: skip
    return render(
        request,
        "monitoring/trends.html",
        {"kpi": kpi, "kpis": kpis_sorted(), "dim_key": dim_key, "charts": [c for c in (line, bar) if c],
         "months": months, "sites": _sites(request.user)},
    )  # fmt: skip


@require("portal.view")
def records(request):
    """Drill-down: the records behind one point of a chart, in the user's sites only."""
    kpi = get_kpi(request.GET.get("kpi", ""))
    if kpi is None:
        raise Http404
    try:
        start = datetime.date.fromisoformat(request.GET.get("start", ""))
        end = datetime.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        messages.error(request, _("The period of the drill-down is not a valid date."))
        return redirect("monitoring:dashboard")
    dim_key = request.GET.get("dim_key", "")
    dim_value = request.GET.get("dim_value") if dim_key else None
    site_ids = _site_ids(request)
    tz = timezone.get_current_timezone()
    rows = engine.records(
        kpi, site_ids=site_ids, start=datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        end=datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
        dim_key=dim_key if dim_key in kpi.dimensions or kpi.ratio_of else "", dim_value=dim_value,
    )  # fmt: skip
    return render(
        request, "monitoring/records.html",
        {"kpi": kpi, "rows": rows, "start": start, "end": end, "dim_key": dim_key, "dim_value": dim_value},
    )  # fmt: skip


@require("objectives.manage")
def objective_create(request):
    sites = _sites(request.user, "objectives.manage")
    form = ObjectiveForm(request.POST or None, sites=sites, initial={"year": timezone.localdate().year})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        site = next(s for s in sites if str(s.pk) == d["site"])
        try:
            obj = services.objective_create(
                site=site, title=d["title"], kpi=d["kpi"], comparator=d["comparator"], target=d["target"],
                year=d["year"], period=d["period"], dim_key=d["dim_key"], dim_value=d["dim_value"],
                owner=User.objects.filter(username=d["owner"]).first(), user=request.user,
                review_every_months=d["review_every_months"], escalate_after_periods=d["escalate_after_periods"],
            )  # fmt: skip
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Objective set."))
            return redirect("monitoring:objective", obj.pk)
    return render(request, "monitoring/form.html", {"form": form, "title": _("Set a quality objective")})


@require("portal.view")
def objective_detail(request, pk):
    obj = selectors.objective_for_user(request.user, pk)
    kpi = get_kpi(obj.kpi)
    progress = selectors.objective_progress(obj)
    form = ReviewForm(request.POST or None, request=request, meaning="reviewed")
    if request.method == "POST":
        require_site(request, "objectives.manage", obj.site)
        if form.is_valid():
            try:
                services.objective_review_sign(
                    objective=obj,
                    user=request.user,
                    credential=form.credential,
                    conclusion=form.cleaned_data["conclusion"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Review signed."))
                return redirect("monitoring:objective", obj.pk)
    points = engine.series(
        kpi, site_ids=[obj.site_id], start=datetime.date(obj.year, 1, 1), end=datetime.date(obj.year, 12, 31),
        dim_key=obj.dim_key, dim_value=obj.dim_value if obj.dim_key else None,
    )  # fmt: skip
    reviews = list(obj.reviews.select_related("reviewed_by"))
    return render(
        request, "monitoring/objective.html",
        {"obj": obj, "kpi": kpi, "progress": progress, "light": LIGHT[progress.status], "form": form,
         "charts": [_chart(kpi, points, [obj.site_id], obj.dim_key, obj.dim_value or None)],
         "reviews": [(r, signatures_with_validity(r)) for r in reviews],
         "may_review": policy.can(request.user, "objectives.manage", obj.site)},
    )  # fmt: skip


@require("portal.view")
def alarm_list(request):
    alarms = selectors.alarms_for(request.user).select_related("acknowledged_by")[:200]
    return render(request, "monitoring/alarms.html", {"alarms": alarms})


@require("portal.view")
def alarm_detail(request, code):
    alarm = selectors.alarm_for_user(request.user, code)
    kpi = get_kpi(alarm.rule.kpi)
    rows = engine.records(
        kpi, site_ids=[alarm.site_id], start=alarm.window_start, end=alarm.window_end,
        dim_key=alarm.rule.dim_key, dim_value=alarm.dim_value if alarm.rule.dim_key else None, limit=100,
    )  # fmt: skip
    return render(
        request, "monitoring/alarm.html",
        {"alarm": alarm, "kpi": kpi, "rows": rows, "ack_form": AckForm(), "resolve_form": ResolveForm(),
         "may_act": policy.can(request.user, "alarms.acknowledge", alarm.site) and alarm.is_open},
    )  # fmt: skip


@require("alarms.acknowledge")
def alarm_acknowledge(request, code):
    alarm = selectors.alarm_for_user(request.user, code)
    if request.method != "POST":
        return redirect("monitoring:alarm", code)
    form = AckForm(request.POST)
    form.is_valid()
    try:
        services.alarm_acknowledge(alarm=alarm, user=request.user, comment=form.cleaned_data.get("comment", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Alarm acknowledged."))
    return redirect("monitoring:alarm", code)


@require("alarms.acknowledge")
def alarm_resolve(request, code):
    alarm = selectors.alarm_for_user(request.user, code)
    if request.method != "POST":
        return redirect("monitoring:alarm", code)
    form = ResolveForm(request.POST)
    form.is_valid()
    try:
        services.alarm_resolve(alarm=alarm, user=request.user, reason=form.cleaned_data.get("reason", ""))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Alarm resolved."))
    return redirect("monitoring:alarm", code)


@require("portal.view")
def rule_list(request):
    return render(
        request, "monitoring/rules.html",
        {"rules": selectors.rules_for(request.user), "may_rules": policy.can(request.user, "alarms.manage"),
         "objectives": selectors.objectives_for(request.user),
         "may_manage": policy.can(request.user, "objectives.manage"), "import_form": CsvImportForm()},
    )  # fmt: skip


@require("alarms.manage")
def rule_create(request):
    sites = _sites(request.user, "alarms.manage")
    form = RuleForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        site = next(s for s in sites if str(s.pk) == d.pop("site"))
        try:
            services.alarm_rule_create(site=site, user=request.user, **d)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Alarm rule created."))
            return redirect("monitoring:rules")
    return render(request, "monitoring/form.html", {"form": form, "title": _("New alarm rule")})


@require("portal.view")
def export_csv(request, kind):
    if kind not in csvio.KINDS:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    csvio.export(kind, request.user, response)
    return response


@require("portal.view")
def import_csv(request, kind):
    if kind not in csvio.KINDS or request.method != "POST":
        raise Http404
    if not policy.can(request.user, csvio.KINDS[kind]):
        raise PermissionDenied(csvio.KINDS[kind])
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file to import."))
        return redirect("monitoring:rules")
    try:
        count = csvio.import_rows(kind, request.user, form.cleaned_data["file"])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(n)s rows imported.") % {"n": count})
    return redirect("monitoring:rules")
