"""Thin views over batchrecords.services: master batch records, the tablet batch record with htmx step
entry, the review by exception, deviations."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.forms import SignatureForm
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.views_auth import require, require_decision, require_decision_site, require_site
from qms.core.views_helpers import form_action

from . import selectors, services
from .forms import (
    DeviationAssessForm,
    DeviationCapaForm,
    DeviationCreateForm,
    DeviationLotForm,
    DispenseForm,
    EbrCreateForm,
    MaterialForm,
    MbrCreateForm,
    ParameterForm,
    StepForm,
    StepPerformForm,
    YieldForm,
)
from .models import (
    DEVIATION_OPEN,
    Deviation,
    DeviationClass,
    DeviationLot,
    DeviationStatus,
    EbrStatus,
    MasterBatchRecord,
    MbrMaterial,
    MbrParameter,
    MbrStatus,
    MbrStep,
)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------------------------------- loaders


def _mbr(request, code, perm="batch.view") -> MasterBatchRecord:
    mbr = (
        MasterBatchRecord.objects.select_related("site", "part", "created_by", "approved_by", "previous", "document")
        .prefetch_related(
            Prefetch("steps", queryset=MbrStep.objects.order_by("sequence")),
            Prefetch("parameters", queryset=MbrParameter.objects.select_related("characteristic", "step")),
            Prefetch("materials", queryset=MbrMaterial.objects.select_related("part", "step")),
        )
        .filter(code=code)
        .first()
    )
    if mbr is None:
        raise Http404(code)
    require_site(request, perm, mbr.site)
    return mbr


def _ebr(request, code, perm="batch.view"):
    ebr = selectors.ebr_queryset().filter(code=code).first()
    if ebr is None:
        raise Http404(code)
    require_site(request, perm, ebr.site)
    return ebr


def _deviation(request, code, perm="deviation.view") -> Deviation:
    dev = (
        Deviation.objects.select_related(
            "site", "ebr", "capa", "raised_by", "assessed_by", "approved_by", "ebr__work_order"
        )
        .prefetch_related(Prefetch("affected_lots", queryset=DeviationLot.objects.select_related("lot__part")))
        .filter(code=code)
        .first()
    )
    if dev is None:
        raise Http404(code)
    require_site(request, perm, dev.site)
    return dev


def _error(request, exc):
    messages.error(request, str(exc))


# ------------------------------------------------------------------------------------ batch records list


@require("batch.view")
def index(request):
    site_ids = policy.sites_for(request.user, "batch.view")
    status = request.GET.get("status", "")
    if status not in EbrStatus.values:
        status = ""
    q = request.GET.get("q", "").strip()[:60]
    page = Paginator(selectors.ebrs_for_list(site_ids=site_ids, status=status, q=q), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "batchrecords/index.html",
        {
            "page_obj": page,
            "statuses": EbrStatus.choices,
            "status": status,
            "q": q,
            "may_start": policy.can(request.user, "batch.execute"),
        },
    )


# ------------------------------------------------------------------------------------ master batch records


@require("batch.view")
def mbr_list(request):
    site_ids = policy.sites_for(request.user, "batch.view")
    qs = (
        MasterBatchRecord.objects.filter(site_id__in=site_ids)
        .select_related("site", "part", "created_by")
        .order_by("part__number", "-version")
    )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "batchrecords/mbr_list.html",
        {"page_obj": page, "may_create": policy.can(request.user, "batch.mbr_edit")},
    )


@require("batch.mbr_edit")
@create_once
def mbr_create(request):
    site_ids = policy.sites_for(request.user, "batch.mbr_edit")
    form = MbrCreateForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            mbr = services.mbr_create(
                site=d["site"],
                part=d["part"],
                title=d["title"],
                theoretical_yield=d["theoretical_yield"],
                batch_size=d["batch_size"],
                unit=d["unit"],
                yield_min_percent=d["yield_min_percent"],
                yield_max_percent=d["yield_max_percent"],
                notes=d["notes"],
                document=d["document"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Master batch record %(code)s created.") % {"code": mbr.code})
            return redirect(services.mbr_url(mbr))
    return render(
        request, "batchrecords/form.html", {"form": form, "title": _("New master batch record"), "create": True}
    )


@require("batch.view")
def mbr_detail(request, code):
    mbr = _mbr(request, code)
    may_edit = mbr.status == MbrStatus.DRAFT and policy.can(request.user, "batch.mbr_edit", mbr.site)
    offer = policy.decision_offer(
        request.user,
        "mbr.approve",
        mbr.site,
        involved={"authored": mbr.created_by_id},
        what=_("master batch record %(code)s") % {"code": mbr.code},
    )
    params_by_step: dict[int, list] = {}
    for p in mbr.parameters.all():
        params_by_step.setdefault(p.step_id, []).append(p)
    steps = [(s, params_by_step.get(s.pk, [])) for s in mbr.steps.all()]
    return render(
        request,
        "batchrecords/mbr_detail.html",
        {
            "mbr": mbr,
            "steps": steps,
            "may_edit": may_edit,
            "may_version": mbr.status != MbrStatus.DRAFT and policy.can(request.user, "batch.mbr_edit", mbr.site),
            "offer": offer,
            "step_form": StepForm() if may_edit else None,
            "parameter_form": ParameterForm(mbr=mbr) if may_edit and steps else None,
            "material_form": MaterialForm(mbr=mbr) if may_edit else None,
            "signatures": signatures_with_validity(mbr),
        },
    )


def _mbr_post(request, code, form_class, call, success):
    mbr = _mbr(request, code, "batch.mbr_edit")
    kwargs = {} if form_class is StepForm else {"mbr": mbr}
    form = form_class(request.POST, **kwargs)
    if form.is_valid():
        try:
            call(mbr, form.cleaned_data)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, success)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(services.mbr_url(mbr))


@require("batch.mbr_edit")
@require_POST
def mbr_step_add(request, code):
    return _mbr_post(
        request,
        code,
        StepForm,
        lambda mbr, d: services.mbr_step_add(
            mbr=mbr, title=d["title"], instructions=d["instructions"], is_critical=d["is_critical"], user=request.user
        ),
        _("Step added."),
    )


@require("batch.mbr_edit")
@require_POST
def mbr_parameter_add(request, code):
    return _mbr_post(
        request,
        code,
        ParameterForm,
        lambda mbr, d: services.mbr_parameter_add(
            step=d["step"],
            name=d["name"],
            kind=d["kind"],
            unit=d["unit"],
            lower_limit=d["lower_limit"],
            upper_limit=d["upper_limit"],
            characteristic=d["characteristic"],
            user=request.user,
        ),
        _("Parameter added."),
    )


@require("batch.mbr_edit")
@require_POST
def mbr_material_add(request, code):
    return _mbr_post(
        request,
        code,
        MaterialForm,
        lambda mbr, d: services.mbr_material_add(
            mbr=mbr,
            part=d["part"],
            quantity=d["quantity"],
            unit=d["unit"],
            tolerance_percent=d["tolerance_percent"],
            step=d["step"],
            user=request.user,
        ),
        _("Material added."),
    )


@require("batch.mbr_edit")
@require_POST
def mbr_new_version(request, code):
    mbr = _mbr(request, code, "batch.mbr_edit")
    try:
        new = services.mbr_new_version(mbr=mbr, user=request.user)
    except DomainError as exc:
        _error(request, exc)
        return redirect(services.mbr_url(mbr))
    messages.success(request, _("Version %(v)s started as a draft.") % {"v": new.version})
    return redirect(services.mbr_url(new))


@require_decision("mbr.approve")
def mbr_approve(request, code):
    mbr = _mbr(request, code)
    require_decision_site(request, "mbr.approve", mbr.site)
    offer = policy.decision_offer(
        request.user,
        "mbr.approve",
        mbr.site,
        involved={"authored": mbr.created_by_id},
        what=_("master batch record %(code)s") % {"code": mbr.code},
    )
    form = SignatureForm(request.POST or None, request=request, meaning="approved")
    done = form_action(
        request,
        form,
        lambda: services.mbr_approve(
            mbr=mbr, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
        ),
        done=_("Master batch record %(code)s approved and effective.") % {"code": mbr.code},
        to=services.mbr_url(mbr),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "batchrecords/sign.html",
        {
            "form": form,
            "offer": offer,
            "title": _("Approve master batch record %(code)s") % {"code": mbr.code},
            "back": services.mbr_url(mbr),
        },
    )


# ------------------------------------------------------------------------------------ executed batch records


@require("batch.execute")
@create_once
def ebr_create(request):
    site_ids = policy.sites_for(request.user, "batch.execute")
    form = EbrCreateForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ebr = services.ebr_create(
                work_order=d["work_order"], lot_code=d["lot_code"], lot_quantity=d["lot_quantity"], user=request.user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Batch record %(code)s started.") % {"code": ebr.code})
            return redirect(services.ebr_url(ebr))
    return render(request, "batchrecords/form.html", {"form": form, "title": _("Start a batch record"), "create": True})


def _step_context(request, ebr, step, *, form=None, verify_form=None):
    params = [p for p in ebr.mbr_parameters if p.step_id == step.mbr_step_id]
    may_execute = ebr.status == EbrStatus.IN_PROGRESS and policy.can(request.user, "batch.execute", ebr.site)
    verify_offer = None
    if step.needs_verification and ebr.status == EbrStatus.IN_PROGRESS:
        verify_offer = policy.decision_offer(
            request.user,
            "ebr.step_verify",
            ebr.site,
            involved=services.step_involvement(step),
            what=_("step %(n)s of %(code)s") % {"n": step.sequence, "code": ebr.code},
        )
    values = [v for v in ebr.values.all() if v.step_id == step.pk]
    if may_execute and step.status == "pending" and form is None:
        form = StepPerformForm(request=request, step=step, parameters=params)
    if verify_offer and verify_offer["may"] and verify_form is None:
        verify_form = SignatureForm(request=request, meaning="verified")
    return {
        "ebr": ebr,
        "step": step,
        "values": values,
        "form": form if may_execute and step.status == "pending" else None,
        "verify_offer": verify_offer,
        "verify_form": verify_form if verify_offer and verify_offer["may"] else None,
    }


def _attach_mbr_parameters(ebr):
    ebr.mbr_parameters = list(MbrParameter.objects.filter(mbr_id=ebr.mbr_id).order_by("pk"))
    return ebr


@require("batch.view")
def ebr_detail(request, code):
    ebr = _attach_mbr_parameters(_ebr(request, code))
    may_execute = ebr.status == EbrStatus.IN_PROGRESS and policy.can(request.user, "batch.execute", ebr.site)
    steps = [_step_context(request, ebr, s) for s in ebr.steps.all()]
    materials = list(ebr.mbr.materials.select_related("part"))
    dispensed: dict[int, list] = {}
    for d in ebr.dispenses.all():
        dispensed.setdefault(d.material_id, []).append(d)
    material_rows = [
        {"m": m, "rows": dispensed.get(m.pk, []), "total": sum((d.quantity for d in dispensed.get(m.pk, [])), 0)}
        for m in materials
    ]
    return render(
        request,
        "batchrecords/ebr_detail.html",
        {
            "ebr": ebr,
            "steps": steps,
            "material_rows": material_rows,
            "may_execute": may_execute,
            "dispense_form": DispenseForm(ebr=ebr) if may_execute and materials else None,
            "yield_form": YieldForm() if may_execute and ebr.actual_yield is None else None,
            "problems": services.ebr_completion_problems(ebr) if may_execute else [],
            "exceptions": selectors.ebr_exceptions(ebr),
            # the review page follows the site's authority for the decision (it names whoever took part)
            "may_review": ebr.status == EbrStatus.COMPLETED and policy.can_decide(request.user, "ebr.review", ebr.site),
            "may_raise": policy.can(request.user, "deviation.raise", ebr.site),
            "report_url": reverse("compliance:report_pdf", args=["batchrecords.disposition"]) + f"?record={ebr.code}",
            "signatures": signatures_with_validity(ebr),
        },
    )


def _step(request, code, pk, perm):
    ebr = _attach_mbr_parameters(_ebr(request, code, perm))
    step = next((s for s in ebr.steps.all() if s.pk == pk), None)
    if step is None:
        raise Http404(pk)
    return ebr, step


def _step_response(request, ebr, step, **forms):
    if _is_htmx(request):
        return render(request, "batchrecords/partials/_step.html", _step_context(request, ebr, step, **forms))
    if forms:
        for form in forms.values():
            for e in form.non_field_errors():
                messages.error(request, e)
            for name, errors in form.errors.items():
                if name != "__all__":
                    messages.error(request, f"{form.fields[name].label}: {' '.join(errors)}")
    return redirect(services.ebr_url(ebr) + f"#step-{step.pk}")


@require("batch.execute")
@require_POST
def ebr_step_perform(request, code, pk):
    ebr, step = _step(request, code, pk, "batch.execute")
    params = [p for p in ebr.mbr_parameters if p.step_id == step.mbr_step_id]
    form = StepPerformForm(request.POST, request=request, step=step, parameters=params)
    if form.is_valid():
        try:
            services.ebr_step_perform(
                step=step,
                user=request.user,
                credential=form.credential,
                values=form.values(),
                performed_at=form.cleaned_data["performed_at"],
                late_reason=form.cleaned_data["late_reason"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Step %(n)s recorded and signed.") % {"n": step.sequence})
            ebr = _attach_mbr_parameters(_ebr(request, code))
            step = next(s for s in ebr.steps.all() if s.pk == pk)
            return _step_response(request, ebr, step)
    return _step_response(request, ebr, step, form=form)


@require_decision("ebr.step_verify")
@require_POST
def ebr_step_verify(request, code, pk):
    ebr, step = _step(request, code, pk, "batch.view")
    require_decision_site(request, "ebr.step_verify", ebr.site)
    form = SignatureForm(request.POST, request=request, meaning="verified")
    if form.is_valid():
        try:
            services.ebr_step_verify(
                step=step, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Step %(n)s verified.") % {"n": step.sequence})
            ebr = _attach_mbr_parameters(_ebr(request, code))
            step = next(s for s in ebr.steps.all() if s.pk == pk)
            return _step_response(request, ebr, step)
    return _step_response(request, ebr, step, verify_form=form)


@require("batch.execute")
@require_POST
def ebr_dispense(request, code):
    ebr = _ebr(request, code, "batch.execute")
    form = DispenseForm(request.POST, ebr=ebr)
    if form.is_valid():
        d = form.cleaned_data
        try:
            row = services.ebr_dispense(
                ebr=ebr, material=d["material"], lot_code=d["lot_code"], quantity=d["quantity"], user=request.user
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            if row.in_tolerance:
                messages.success(
                    request, _("%(q)s dispensed from lot %(lot)s.") % {"q": row.quantity, "lot": row.lot.code}
                )
            else:
                messages.warning(
                    request,
                    _("Dispensed above the tolerance: deviation %(dev)s raised.") % {"dev": row.deviation.code},
                )
    else:
        for name, errors in form.errors.items():
            messages.error(request, f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}")
    return redirect(services.ebr_url(ebr) + "#materials")


@require("batch.execute")
@require_POST
def ebr_yield(request, code):
    ebr = _ebr(request, code, "batch.execute")
    form = YieldForm(request.POST)
    if form.is_valid():
        try:
            ebr = services.ebr_yield_record(
                ebr=ebr,
                actual_yield=form.cleaned_data["actual_yield"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except DomainError as exc:
            _error(request, exc)
        else:
            if ebr.yield_in_limits:
                messages.success(request, _("Yield %(p)s %% reconciled.") % {"p": ebr.yield_percent})
            else:
                messages.warning(
                    request, _("Yield %(p)s %% is out of limits: a deviation was raised.") % {"p": ebr.yield_percent}
                )
    else:
        messages.error(request, _("Enter the actual yield."))
    return redirect(services.ebr_url(ebr) + "#yield")


@require("batch.execute")
@require_POST
def ebr_complete(request, code):
    ebr = _ebr(request, code, "batch.execute")
    try:
        services.ebr_complete(ebr=ebr, user=request.user)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Batch record %(code)s completed: QA can review it.") % {"code": ebr.code})
    return redirect(services.ebr_url(ebr))


@require_decision("ebr.review")
def ebr_review(request, code):
    ebr = _ebr(request, code)
    require_decision_site(request, "ebr.review", ebr.site)
    offer = policy.decision_offer(
        request.user,
        "ebr.review",
        ebr.site,
        involved=services.review_involvement(ebr),
        what=_("batch record %(code)s") % {"code": ebr.code},
    )
    form = SignatureForm(request.POST or None, request=request, meaning="reviewed")
    if request.method == "POST":
        if not offer["may"]:
            raise PermissionDenied("ebr.review")
        if form.is_valid():
            try:
                services.ebr_review_sign(
                    ebr=ebr, user=request.user, credential=form.credential, comment=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Batch record %(code)s reviewed.") % {"code": ebr.code})
                return redirect(services.ebr_url(ebr))
    return render(
        request,
        "batchrecords/review.html",
        {
            "ebr": ebr,
            "exceptions": selectors.ebr_exceptions(ebr),
            "open_deviations": [d for d in ebr.deviations.all() if d.is_open],
            "offer": offer,
            "form": form if ebr.status == EbrStatus.COMPLETED else None,
            "report_url": reverse("compliance:report_pdf", args=["batchrecords.disposition"]) + f"?record={ebr.code}",
        },
    )


# --------------------------------------------------------------------------------------------- deviations


@require("deviation.view")
def deviation_list(request):
    site_ids = policy.sites_for(request.user, "deviation.view")
    qs = Deviation.objects.filter(site_id__in=site_ids).select_related("site", "ebr", "capa", "raised_by")
    status = request.GET.get("status", "")
    if status == "open":
        qs = qs.filter(status__in=DEVIATION_OPEN)
    elif status in DeviationStatus.values:
        qs = qs.filter(status=status)
    cls = request.GET.get("classification", "")
    if cls in DeviationClass.values:
        qs = qs.filter(classification=cls)
    q = request.GET.get("q", "").strip()[:60]
    if q:
        qs = qs.filter(code__icontains=q) | qs.filter(title__icontains=q)
    page = Paginator(qs.order_by("-raised_at", "-pk"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "batchrecords/deviation_list.html",
        {
            "page_obj": page,
            "status": status,
            "classification": cls,
            "q": q,
            "statuses": DeviationStatus.choices,
            "classes": DeviationClass.choices,
            "may_raise": policy.can(request.user, "deviation.raise"),
        },
    )


@require("deviation.raise")
@create_once
def deviation_create(request):
    from traceability.models import Lot

    site_ids = policy.sites_for(request.user, "deviation.raise")
    ebr = None
    initial = {}
    if code := request.GET.get("ebr", "").strip()[:30]:
        ebr = selectors.ebr_queryset().filter(code=code).first()
        if ebr is None:
            raise Http404(code)
        require_site(request, "deviation.raise", ebr.site)
        initial = {"site": ebr.site, "lot_codes": ebr.lot.code if ebr.lot_id else "", "title": ""}
    form = DeviationCreateForm(request.POST or None, site_ids=site_ids, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        site = d["site"]
        lots, unknown = [], []
        for c in d["lot_codes"]:
            lot = Lot.objects.filter(code=c, site=site).first()
            (lots.append(lot) if lot else unknown.append(c[:64]))
        if unknown:
            form.add_error(
                "lot_codes", _("No lot at this site has the code: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        else:
            try:
                dev = services.deviation_raise(
                    site=site,
                    title=d["title"],
                    description=d["description"],
                    classification=d["classification"],
                    immediate_action=d["immediate_action"],
                    ebr=ebr if ebr and ebr.site_id == site.pk else None,
                    source_reference=ebr.code if ebr else "",
                    lots=lots,
                    user=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Deviation %(code)s raised.") % {"code": dev.code})
                return redirect(services.deviation_url(dev))
    return render(
        request,
        "batchrecords/form.html",
        {"form": form, "title": _("Raise a deviation"), "create": True, "ebr": ebr},
    )


@require("deviation.view")
def deviation_detail(request, code):
    dev = _deviation(request, code)
    may_manage = dev.is_open and policy.can(request.user, "deviation.manage", dev.site)
    offer = policy.decision_offer(
        request.user,
        "deviation.approve",
        dev.site,
        involved={"authored": dev.raised_by_id},
        what=_("deviation %(code)s") % {"code": dev.code},
    )
    suggestions = []
    if may_manage:
        from traceability.selectors import trace_forward

        listed = {row.lot_id for row in dev.affected_lots.all()}
        for row in dev.affected_lots.all():
            for t in trace_forward(row.lot, max_depth=5)[:50]:
                if t["lot_id"] not in listed and t.get("site_id") == dev.site_id:
                    listed.add(t["lot_id"])
                    suggestions.append({"code": t["code"], "from": row.lot.code})
    return render(
        request,
        "batchrecords/deviation_detail.html",
        {
            "dev": dev,
            "may_manage": may_manage,
            "offer": offer,
            "problems": services.deviation_approval_problems(dev) if dev.is_open else [],
            "lot_form": DeviationLotForm() if may_manage else None,
            "capa_form": DeviationCapaForm(site=dev.site, initial={"owner": request.user})
            if may_manage and not dev.capa_id and policy.can(request.user, "capa.manage", dev.site)
            else None,
            "suggestions": suggestions,
            "signatures": signatures_with_validity(dev),
        },
    )


@require("deviation.manage")
def deviation_assess(request, code):
    dev = _deviation(request, code, "deviation.manage")
    rows = list(dev.affected_lots.all())
    initial = {
        "classification": dev.classification,
        "impact_assessment": dev.impact_assessment,
        "root_cause": dev.root_cause,
        "capa_not_needed_reason": dev.capa_not_needed_reason,
    }
    form = DeviationAssessForm(request.POST or None, rows=rows, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.deviation_assess(
                deviation=dev,
                user=request.user,
                classification=d["classification"],
                impact_assessment=d["impact_assessment"],
                root_cause=d["root_cause"],
                capa_not_needed_reason=d["capa_not_needed_reason"],
                lot_impacts=form.lot_impacts(),
                reason=d["reason"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Impact assessment recorded."))
            return redirect(services.deviation_url(dev))
    return render(
        request,
        "batchrecords/assess.html",
        {"dev": dev, "form": form, "title": _("Assess deviation %(code)s") % {"code": dev.code}},
    )


@require("deviation.manage")
@require_POST
def deviation_lot_add(request, code):
    from traceability.models import Lot

    dev = _deviation(request, code, "deviation.manage")
    form = DeviationLotForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        lot = Lot.objects.filter(code=d["lot_code"].strip(), site=dev.site).first()
        if lot is None:
            messages.error(request, _("No lot at this site has the code %(code)s.") % {"code": d["lot_code"][:64]})
        else:
            try:
                services.deviation_lot_add(
                    deviation=dev, lot=lot, impact=d["impact"], note=d["note"], user=request.user
                )
            except DomainError as exc:
                _error(request, exc)
            else:
                messages.success(request, _("Lot %(lot)s added.") % {"lot": lot.code})
    else:
        messages.error(request, _("Give a lot code and its impact."))
    return redirect(services.deviation_url(dev))


@require("deviation.manage")
@require_POST
def deviation_capa(request, code):
    from capa.models import Capa

    dev = _deviation(request, code, "deviation.manage")
    form = DeviationCapaForm(request.POST, site=dev.site)
    if form.is_valid():
        d = form.cleaned_data
        try:
            if d["capa_code"].strip():
                capa = Capa.objects.filter(code=d["capa_code"].strip(), site=dev.site).first()
                if capa is None:
                    raise DomainError(
                        _("No CAPA at this site has the number %(code)s.") % {"code": d["capa_code"][:30]}
                    )
                services.deviation_capa_link(deviation=dev, capa=capa, user=request.user)
            else:
                services.deviation_capa_open(deviation=dev, owner=d["owner"], user=request.user)
        except DomainError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("CAPA linked to the deviation."))
    else:
        messages.error(request, _("Choose the CAPA owner."))
    return redirect(services.deviation_url(dev))


@require_decision("deviation.approve")
def deviation_approve(request, code):
    dev = _deviation(request, code)
    require_decision_site(request, "deviation.approve", dev.site)
    offer = policy.decision_offer(
        request.user,
        "deviation.approve",
        dev.site,
        involved={"authored": dev.raised_by_id},
        what=_("deviation %(code)s") % {"code": dev.code},
    )
    form = SignatureForm(request.POST or None, request=request, meaning="approved")
    done = form_action(
        request,
        form,
        lambda: services.deviation_approve(
            deviation=dev, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
        ),
        done=_("Deviation %(code)s approved.") % {"code": dev.code},
        to=services.deviation_url(dev),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "batchrecords/sign.html",
        {
            "form": form,
            "offer": offer,
            "problems": services.deviation_approval_problems(dev) if dev.is_open else [],
            "title": _("Approve deviation %(code)s") % {"code": dev.code},
            "back": services.deviation_url(dev),
        },
    )
