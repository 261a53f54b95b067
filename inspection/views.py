"""Thin views: permission declared, call the service, turn a DomainError into a message or form error."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.numbers import parse_int_key
from qms.core.uploads import file_response
from qms.core.views_auth import require, require_decision, require_decision_site, require_site

from . import selectors, services
from .forms import (
    CharacteristicForm,
    CompleteForm,
    CorrectionForm,
    PlanApproveForm,
    PlanDocumentForm,
    PlanForm,
    ReasonForm,
    ReleaseForm,
    ScheduleForm,
    StartForm,
    StationForm,
)
from .models import (
    Characteristic,
    Inspection,
    InspectionPlan,
    IpqcSchedule,
    Kind,
    LineStop,
    Measurement,
    Stage,
    Station,
    SupplierSwitching,
)


def _inspection_or_404(request, code, perm="inspection.view") -> Inspection:
    insp = (
        Inspection.objects.select_related(
            "plan", "part", "site", "lot", "supplier", "station", "work_order", "operation", "inspector"
        )
        .filter(code=code)
        .first()
    )
    if insp is None:
        raise Http404
    require_site(request, perm, insp.site)
    return insp


@require("inspection.perform")
def worklist(request):
    now = timezone.now()
    page = Paginator(selectors.worklist(request.user, now=now), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "inspection/worklist.html",
        {"page_obj": page, "now": now, "stations": selectors.stations_for(request.user), "start_form": StartForm()},
    )


@require("inspection.view")
def open_list(request):
    """Read-only list of open inspections at the viewer's sites (auditors, supervisors); ?overdue=1."""
    now = timezone.now()
    qs = selectors.open_inspections(request.user)
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        qs = qs.filter(due_at__lt=now)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "inspection/open_list.html", {"page_obj": page, "now": now, "overdue": overdue})


@require("inspection.release")
def release_queue(request):
    site_ids = policy.sites_for(request.user, "inspection.release")
    page = Paginator(selectors.lots_awaiting_release(site_ids), 25).get_page(request.GET.get("page"))
    return render(request, "inspection/release_queue.html", {"page_obj": page})


@require("inspection.perform")
def start(request):
    """Open the inspection due for a scanned code, or start FAI (work order) / FQC (lot)."""
    from traceability.models import Lot, WorkOrder

    form = StartForm(request.POST or request.GET or None)
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"].strip()
        try:
            if form.cleaned_data["stage"] == Stage.FAI:
                wo = WorkOrder.objects.select_related("site", "part", "line").filter(code=code).first()
                if wo is None:
                    raise DomainError(_("No work order has the code “%(c)s”.") % {"c": code})
                insp = services.inspection_create_fai(work_order=wo, user=request.user)
            else:
                lot = Lot.objects.select_related("site", "part", "work_order").filter(code=code).first()
                if lot is None:
                    raise DomainError(_("No lot has the code “%(c)s”.") % {"c": code})
                insp = selectors.open_inspection_for_lot(code) or services.inspection_create_fqc(
                    lot=lot, user=request.user
                )
            return redirect("inspection:detail", insp.code)
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("inspection:worklist")


@require("inspection.view")
def plans(request):
    site_ids = policy.sites_for(request.user, "inspection.view")
    qs = InspectionPlan.objects.filter(site_id__in=site_ids).select_related("part", "site", "approved_by")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    edit_sites = list(policy.sites_for(request.user, "inspection.plan_edit"))
    form = PlanForm(request.POST or None, site_ids=edit_sites) if edit_sites else None
    if request.method == "POST" and form is not None and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                site=d["site"],
                part=d["part"],
                stage=d["stage"],
                title=d["title"],
                scheme=d["scheme"],
                aql=d["aql"] or "1.0",
                level=d["level"],
                fixed_sample_size=d["fixed_sample_size"],
                user=request.user,
            )
            return redirect("inspection:plan", plan.pk)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(request, "inspection/plans.html", {"page_obj": page, "form": form})


def _plan_or_404(request, pk, perm="inspection.view"):
    plan = get_object_or_404(
        InspectionPlan.objects.select_related("part", "site", "created_by", "approved_by", "document"), pk=pk
    )
    require_site(request, perm, plan.site)
    return plan


@require("inspection.view")
@access_logged("inspection.inspectionplan", kwarg="pk")
def plan_detail(request, pk):
    return _plan_page(request, _plan_or_404(request, pk))


def _plan_page(request, plan, approve_form=None, char_form=None):
    """The plan's page; a form posted back with errors is shown in it (the plan already loaded)."""
    return render(
        request,
        "inspection/plan_detail.html",
        {
            "plan": plan,
            "characteristics": plan.characteristics.select_related("gauge"),
            "signatures": signatures_with_validity(plan),
            "approve_form": approve_form or PlanApproveForm(request=request, meaning="approved"),
            "char_form": char_form or CharacteristicForm(),
            "can_edit": policy.can(request.user, "inspection.plan_edit", plan.site) and plan.status == "draft",
            # the form only for someone the door would let approve; anyone else reads why not and who can
            "approve_offer": policy.decision_offer(
                request.user,
                "plan.approve",
                plan.site,
                involved={"authored": plan.created_by_id},
                what=_("this inspection plan"),
            )
            if plan.status == "draft"
            else None,
            "can_version": policy.can(request.user, "inspection.plan_edit", plan.site) and plan.status != "draft",
            "can_link_document": policy.can(request.user, "inspection.plan_edit", plan.site),
            "document_form": PlanDocumentForm(site=plan.site, initial={"document": plan.document_id}),
            "document_version": _document_in_force(plan),
        },
    )


def _document_in_force(plan):
    if plan.document_id is None:
        return None
    from documents.selectors import effective_version

    return effective_version(plan.document)


@require("inspection.view")
@require_POST
def plan_action(request, pk, action):
    plan = _plan_or_404(request, pk)
    try:
        if action == "approve":
            form = PlanApproveForm(request.POST, request=request, meaning="approved")
            if not form.is_valid():
                return _plan_page(request, plan, approve_form=form)
            services.plan_approve(
                plan=plan, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Plan approved."))
        elif action == "characteristic":
            form = CharacteristicForm(request.POST)
            if not form.is_valid():
                return _plan_page(request, plan, char_form=form)
            services.characteristic_add(plan=plan, user=request.user, **form.cleaned_data)
        elif action == "version":
            new = services.plan_new_version(plan=plan, user=request.user)
            return redirect("inspection:plan", new.pk)
        elif action == "document":
            form = PlanDocumentForm(request.POST, site=plan.site)
            if not form.is_valid():
                raise DomainError(_("Choose a controlled document of this site."))
            services.plan_document_link(plan=plan, document=form.cleaned_data["document"], user=request.user)
            messages.success(request, _("Controlled document saved."))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("inspection:plan", plan.pk)


def _detail_context(request, insp, *, complete_form=None, errors=None):
    chars = list(insp.plan.characteristics.select_related("gauge"))
    grid = selectors.measurement_grid(insp)
    problems = services.gauge_problems(chars)
    samples = []
    for n in range(1, insp.sample_size + 1):
        cells = [
            {
                "c": c,
                "m": grid.get((c.pk, n)),
                "name": f"v-{c.pk}-{n}",
                "photo": f"p-{c.pk}-{n}",
                # the gauge is past calibration: the field says so (in full once, on sample 1) and takes no value
                "gauge_problem": problems.get(c.pk, ""),
                "first": n == 1,
            }
            for c in chars
        ]
        samples.append(
            {"n": n, "cells": cells, "done": all(x["m"] is not None or x["c"].kind == Kind.TEXT for x in cells)}
        )
    summary = services.inspection_summary(insp)
    switching = None
    if insp.stage == Stage.IQC and insp.supplier_id:
        switching = SupplierSwitching.objects.filter(site=insp.site, supplier=insp.supplier, part=insp.part).first()
    return {
        "insp": insp,
        "chars": chars,
        "samples": samples,
        "summary": summary,
        "can_calibrate": bool(problems) and policy.can(request.user, "equipment.calibrate", insp.site),
        "submission": uuid.uuid4(),
        "complete_form": complete_form or CompleteForm(request=request, meaning="approved", gate_record=insp),
        "can_perform": insp.is_open and policy.can(request.user, "inspection.perform", insp.site),
        "can_release": insp.lot_id is not None and policy.can_decide(request.user, "lot.release", insp.site),
        "signatures": signatures_with_validity(insp),
        "switching": switching,
        "switch_events": list(switching.events.select_related("inspection", "by")[:10]) if switching else [],
        "errors": errors or [],
        "overdue": insp.is_overdue(),
    }


@require("inspection.view")
@access_logged("inspection.inspection")
def detail(request, code):
    insp = _inspection_or_404(request, code)
    return render(request, "inspection/detail.html", _detail_context(request, insp))


@require("inspection.perform")
@require_POST
def record_values(request, code):
    insp = _inspection_or_404(request, code, "inspection.perform")
    values = []
    for key, raw in request.POST.items():
        if key.startswith("v-") and raw.strip():
            parsed = parse_int_key(key, parts=2, prefix="v")
            if parsed is None:
                # A tampered or stale form: say so instead of failing on the field name.
                ctx = _detail_context(request, insp, errors=[_("The form is out of date; reload the page.")])
                return render(request, "inspection/detail.html", ctx, status=400)
            cid, n = parsed
            values.append(
                {
                    "characteristic": cid,
                    "sample_no": n,
                    "raw": raw,
                    "photo": request.FILES.get(f"p-{cid}-{n}"),
                }
            )
    try:
        result = services.measurements_record(
            inspection=insp, values=values, submission_key=request.POST.get("submission"), user=request.user
        )
    except DomainError as exc:
        ctx = _detail_context(request, insp, errors=[exc.message])
        ctx["posted"] = {k: v for k, v in request.POST.items() if k.startswith("v-")}
        return render(request, "inspection/detail.html", ctx, status=400)
    if result.refused:
        # the reason is shown at the refused field itself; this only says that they were not recorded
        names = ", ".join(c.name for c in insp.plan.characteristics.filter(pk__in=result.refused))
        messages.warning(
            request,
            _("%(n)s values recorded; the values of %(chars)s were not recorded (see the field).")
            % {"n": result.recorded, "chars": names},
        )
    elif result.recorded:
        messages.success(request, _("%(n)s values recorded.") % {"n": result.recorded})
    else:
        messages.info(request, _("These values were already recorded; nothing was recorded twice."))
    return redirect("inspection:detail", insp.code)


@require("inspection.perform")
@require_POST
def judge_value(request, code):
    """htmx: one value in, a red/green partial out (nothing is recorded)."""
    insp = _inspection_or_404(request, code, "inspection.perform")
    c = get_object_or_404(Characteristic, pk=request.POST.get("characteristic"), plan_id=insp.plan_id)
    raw = request.POST.get("value")
    if raw is None:  # htmx posts the whole form; the triggering input is named v-<characteristic>-<sample>
        raw = request.POST.get(request.headers.get("HX-Trigger-Name", ""), "")
    ok, error = None, ""
    problem = services.gauge_problems([c]).get(c.pk) if c.gauge_id else None
    if problem:  # never green for a value that will not be recorded
        error = problem
    elif raw.strip():
        try:
            ok = services.judge(c, services.parse_value(c, raw))
        except DomainError as exc:
            error = exc.message
    return render(request, "inspection/partials/_judgement.html", {"c": c, "ok": ok, "error": error, "raw": raw})


@require("inspection.perform")
@require_POST
def complete(request, code):
    insp = _inspection_or_404(request, code, "inspection.perform")
    form = CompleteForm(request.POST, request=request, meaning="approved", gate_record=insp)
    if form.is_valid():
        try:
            insp = services.inspection_complete(
                inspection=insp, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
            )
            if insp.passed:
                messages.success(request, _("Inspection %(c)s accepted.") % {"c": insp.code})
            else:
                messages.warning(
                    request, _("Inspection %(c)s rejected: %(why)s") % {"c": insp.code, "why": insp.result_note}
                )
            return redirect("inspection:detail", insp.code)
        except DomainError as exc:
            form.add_error(None, exc.message)
    return render(request, "inspection/detail.html", _detail_context(request, insp, complete_form=form), status=400)


@require_decision("lot.release")
def release(request, lot_code):
    from traceability.models import Lot
    from traceability.services import lot_release_reasons

    lot = Lot.objects.select_related("part", "site", "supplier").filter(code=lot_code).first()
    if lot is None:
        raise Http404
    require_decision_site(request, "lot.release", lot.site)
    from .models import LotRelease

    form = ReleaseForm(request.POST or None, request=request, meaning="released", gate_record=LotRelease(lot=lot))
    if request.method == "POST" and form.is_valid():
        try:
            services.lot_release_sign(
                lot=lot, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Lot %(lot)s released.") % {"lot": lot.code})
            return redirect("inspection:release", lot.code)
        except DomainError as exc:
            form.add_error(None, exc.message)
    from .checks import previewing_signed_release

    with previewing_signed_release():
        reasons = [] if lot.status == "released" else lot_release_reasons(lot)
    rel = LotRelease.objects.filter(lot=lot).select_related("released_by", "evidence").first()
    offer = policy.decision_offer(
        request.user,
        "lot.release",
        lot.site,
        involved=services.release_involvement(lot),
        what=_("lot %(lot)s") % {"lot": lot.code},
    )
    return render(
        request,
        "inspection/release.html",
        {
            "lot": lot,
            "form": form,
            "offer": offer,
            "reasons": reasons,
            "results": selectors.results_for_lots([lot.pk]).get(lot.pk, []),
            "release": rel,
            "release_signatures": signatures_with_validity(rel) if rel else [],
            "coa_url": reverse("compliance:report_pdf", args=["inspection.coa"]) + f"?lot={lot.code}",
        },
    )


@require("inspection.view")
def switching_list(request):
    site_ids = policy.sites_for(request.user, "inspection.view")
    qs = (
        SupplierSwitching.objects.filter(site_id__in=site_ids)
        .select_related("supplier", "part", "site")
        .order_by("supplier__code")
    )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "inspection/switching.html",
        {
            "page_obj": page,
            "reason_form": ReasonForm(),
            "can_decide": policy.can(request.user, "inspection.switching_authority"),
        },
    )


@require("inspection.switching_authority")
@require_POST
def switching_action(request, pk, action):
    sw = get_object_or_404(SupplierSwitching, pk=pk)
    require_site(request, "inspection.switching_authority", sw.site)
    reason = request.POST.get("reason", "")
    try:
        if action == "approve-reduced":
            services.switching_reduced_approve(switching=sw, user=request.user, reason=reason)
        elif action == "restore":
            services.switching_restore(switching=sw, user=request.user, reason=reason)
        elif action == "normal":
            services.switching_request_normal(switching=sw, user=request.user, reason=reason)
        else:
            raise Http404
        messages.success(request, _("Decision recorded."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("inspection:switching")


@require("inspection.view")
def line_stops(request):
    site_ids = policy.sites_for(request.user, "inspection.view")
    qs = LineStop.objects.filter(site_id__in=site_ids).select_related(
        "line", "inspection", "recheck", "corrected_by", "operation", "work_order"
    )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "inspection/line_stops.html",
        {
            "page_obj": page,
            "form": CorrectionForm(),
            "can_correct": policy.can(request.user, "inspection.line_correction"),
        },
    )


@require("inspection.line_correction")
@require_POST
def line_stop_correct(request, pk):
    stop = get_object_or_404(LineStop, pk=pk)
    require_site(request, "inspection.line_correction", stop.site)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            stop = services.line_stop_correct(stop=stop, correction=form.cleaned_data["correction"], user=request.user)
            messages.success(request, _("Correction recorded; re-check %(c)s is due now.") % {"c": stop.recheck.code})
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("inspection:line_stops")


@require("inspection.view")
def handover(request, operation_id):
    """For integrations and the UI: may this operation start as far as inspection is concerned?"""
    from traceability.models import Operation

    op = get_object_or_404(Operation.objects.select_related("work_order", "work_order__site"), pk=operation_id)
    require_site(request, "inspection.view", op.work_order.site)
    verdict = selectors.handover_verdict(op)
    return JsonResponse({"operation": op.pk, "ok": verdict.ok, "reasons": verdict.reasons})


# ------------------------------------------------------------------------------------ IPQC set-up


@require("inspection.plan_edit")
def ipqc_setup(request):
    """Inspection stations and IPQC patrol schedules of the sites where the user edits plans."""
    site_ids = policy.sites_for(request.user, "inspection.plan_edit")
    stations = (
        Station.objects.filter(site_id__in=site_ids).select_related("site", "line").prefetch_related("inspectors")
    )
    schedules = IpqcSchedule.objects.filter(site_id__in=site_ids).select_related(
        "site", "plan__part", "line", "station"
    )
    return render(
        request,
        "inspection/setup.html",
        {"stations": list(stations), "schedules": list(schedules.order_by("site__code", "line__code", "pk"))},
    )


def _setup_form_page(request, form, title, obj=None):
    return render(request, "inspection/setup_form.html", {"form": form, "title": title, "obj": obj})


def _add_domain_error(form, exc):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require("inspection.plan_edit")
def station_edit(request, pk=None):
    site_ids = policy.sites_for(request.user, "inspection.plan_edit")
    station = None
    initial = {}
    if pk is not None:
        station = get_object_or_404(Station.objects.select_related("site"), pk=pk, site_id__in=site_ids)
        initial = {
            "site": station.site_id,
            "code": station.code,
            "name": station.name,
            "stages": [s for s in station.stages.split(",") if s],
            "line": station.line_id,
            "inspectors": list(station.inspectors.all()),
        }
    form = StationForm(request.POST or None, initial=initial, site_ids=site_ids, editing=station is not None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if station is None:
                station = services.station_create(
                    site=d["site"], code=d["code"], name=d["name"], stages=d["stages"], line=d["line"],
                    inspectors=list(d["inspectors"]), user=request.user,
                )  # fmt: skip
                messages.success(request, _("Station %(c)s created.") % {"c": station.code})
            else:
                services.station_update(
                    station=station, user=request.user, reason=d["reason"], code=d["code"], name=d["name"],
                    stages=d["stages"], line=d["line"], inspectors=list(d["inspectors"]),
                )  # fmt: skip
                messages.success(request, _("Station %(c)s changed.") % {"c": d["code"]})
            return redirect("inspection:setup")
        except DomainError as exc:
            _add_domain_error(form, exc)
    title = _("Station %(c)s") % {"c": station.code} if station else _("New inspection station")
    return _setup_form_page(request, form, title, station)


@require("inspection.plan_edit")
def schedule_edit(request, pk=None):
    site_ids = policy.sites_for(request.user, "inspection.plan_edit")
    schedule = None
    initial = {}
    if pk is not None:
        schedule = get_object_or_404(IpqcSchedule.objects.select_related("site", "line"), pk=pk, site_id__in=site_ids)
        initial = {
            "site": schedule.site_id,
            "plan": schedule.plan_id,
            "line": schedule.line_id,
            "operation_name": schedule.operation_name,
            "station": schedule.station_id,
            "every_minutes": schedule.every_minutes,
            "pieces": schedule.pieces,
            "grace_minutes": schedule.grace_minutes,
            "is_active": schedule.is_active,
        }
    form = ScheduleForm(request.POST or None, initial=initial, site_ids=site_ids, editing=schedule is not None)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            if schedule is None:
                site = d.pop("site")
                schedule = services.ipqc_schedule_create(site=site, user=request.user, **d)
                messages.success(request, _("IPQC schedule created."))
            else:
                d.pop("site")
                reason = d.pop("reason")
                services.ipqc_schedule_update(schedule=schedule, user=request.user, reason=reason, **d)
                messages.success(request, _("IPQC schedule changed."))
            return redirect("inspection:setup")
        except DomainError as exc:
            _add_domain_error(form, exc)
    title = _("IPQC schedule %(s)s") % {"s": schedule} if schedule else _("New IPQC schedule")
    return _setup_form_page(request, form, title, schedule)


@require("inspection.view")
def photo_download(request, code, pk):
    """A defect photo, to users who may see the inspection at its site (the download is logged)."""
    insp = _inspection_or_404(request, code, "inspection.view")
    m = get_object_or_404(Measurement.objects.exclude(photo=""), pk=pk, inspection=insp)
    return file_response(
        request, m.photo, name=f"{insp.code}-{m.sample_no}-{m.photo.name.rsplit('/', 1)[-1]}", record=m
    )
