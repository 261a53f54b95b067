"""Thin views: permission declared, call the service, turn a DomainError into a message or form error."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from compliance.forms import SignatureForm
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.uploads import file_response
from qms.core.views_auth import require, require_decision, require_decision_site, require_site
from qms.core.views_helpers import form_action, run_and_redirect

from . import selectors, services
from .forms import (
    AttachmentForm,
    ComplaintForm,
    ContainmentDoneForm,
    ContainmentForm,
    DispositionLineForm,
    ExecuteForm,
    MrbDecisionForm,
    NcrEditForm,
    NcrForm,
    ReasonForm,
    RespondForm,
)
from .models import (
    Attachment,
    ComplaintStatus,
    ContainmentAction,
    DispositionLine,
    DispositionStatus,
    MrbDecision,
    MrbRole,
    NcrStatus,
)
from .registries import actions_for, related_records


def _ncr(request, code, perm="ncr.view"):
    ncr = selectors.ncr_by_code(code)
    if ncr is None:
        raise Http404(code)
    require_site(request, perm, ncr.site)
    return ncr


def _complaint(request, code, perm="ncr.view"):
    complaint = selectors.complaint_by_code(code)
    if complaint is None:
        raise Http404(code)
    require_site(request, perm, complaint.site)
    return complaint


def _role_labels(roles) -> list[str]:
    return [str(MrbRole(r).label) if r in MrbRole.values else r for r in roles]


# --- NCR -------------------------------------------------------------------------------------------


@require("ncr.view")
def ncr_list(request):
    site_ids = policy.sites_for(request.user, "ncr.view")
    qs = selectors.ncrs_for_list(site_ids=site_ids, q=request.GET.get("q", ""), status=request.GET.get("status", ""))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "nonconformance/ncr_list.html",
        {
            "page_obj": page,
            "statuses": NcrStatus.choices,
            "pareto": selectors.defect_pareto(site_ids=site_ids),
            "may_create": policy.can(request.user, "ncr.create"),
        },
    )


class ParetoFilterForm(forms.Form):
    """Date range of the defect Pareto (both days included). Kept here while forms.py is being changed by
    the concession work; it belongs in forms.py."""

    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError(gettext_lazy("The start date is after the end date: swap them."))
        return data


def _pareto_between(*, site_ids, start, end) -> list[dict]:
    """Pareto of NCRs opened from `start` to `end` inclusive, built from the selector's open-ended counts:
    a category's NCRs in [start, end] are those since `start` less those since the day after `end`."""
    counts = {row["category"]: row["count"] for row in selectors.defect_pareto(site_ids=site_ids, since=start)}
    if end < timezone.localdate():
        later = selectors.defect_pareto(site_ids=site_ids, since=end + datetime.timedelta(days=1))
        for row in later:
            counts[row["category"]] -= row["count"]
    rows = sorted(((c, n) for c, n in counts.items() if n > 0), key=lambda cn: (-cn[1], str(cn[0])))
    total = sum(n for _c, n in rows) or 1
    out, cumulative = [], 0
    for category, n in rows:
        cumulative += n
        out.append({"category": str(category), "count": n, "cumulative_pct": round(100 * cumulative / total, 1)})
    return out


@require("ncr.view")
def defect_pareto(request):
    """The defect Pareto as a chart (bars by category, cumulative % line) above its table, for a date range."""
    today = timezone.localdate()
    default_start = today - datetime.timedelta(days=365)
    form = ParetoFilterForm(request.GET or None, initial={"start": default_start, "end": today})
    start, end = default_start, today
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    rows = _pareto_between(site_ids=policy.sites_for(request.user, "ncr.view"), start=start, end=end)
    chart = {
        "labels": [r["category"] for r in rows],
        "counts": [r["count"] for r in rows],
        "cumulative": [r["cumulative_pct"] for r in rows],
    }
    return render(
        request,
        "nonconformance/pareto.html",
        {"form": form, "rows": rows, "chart": chart, "start": start, "end": end},
    )


@require("ncr.create")
@create_once
def ncr_create(request):
    site_ids = policy.sites_for(request.user, "ncr.create")
    form = NcrForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ncr = services.ncr_open(
                site=d["site"],
                source=d["source"],
                source_reference=d["source_reference"],
                part=d["part"],
                title=d["title"],
                description=d["description"],
                lots=d["lot_objects"],
                serials=d["serials"],
                quantity_suspect=d["quantity_suspect"],
                severity=d["severity"],
                defect_codes=d["defect_codes"],
                unit_value=d["unit_value"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("NCR %(code)s opened; its lots are on hold.") % {"code": ncr.code})
            return redirect(services.ncr_url(ncr))
    return render(request, "nonconformance/form.html", {"form": form, "title": _("Open an NCR"), "multipart": False})


@require("ncr.view")
@access_logged("nonconformance.ncr")
def ncr_detail(request, code):
    ncr = _ncr(request, code)
    disposition = selectors.disposition_for(ncr)
    user = request.user
    may_manage = policy.can(user, "ncr.manage", ncr.site)
    # one offer per decision the NCR's state allows: the form only to someone its door would let take it
    involved = services.ncr_involvement(ncr)
    relevant = {
        "ncr.cancel": ncr.status in ("open", "containment", "mrb_review"),
        "ncr.verify": ncr.status == "dispositioned",
        "ncr.close": ncr.status == "verified",
        "mrb.sign": disposition is not None and disposition.status == DispositionStatus.IN_REVIEW,
        "disposition.execute": disposition is not None
        and disposition.status == DispositionStatus.APPROVED
        and ncr.status == "dispositioned",
    }
    offers = {
        key.replace(".", "_"): services.ncr_decision_offer(user, key, ncr, involved=involved)
        for key, shown in relevant.items()
        if shown
    }
    ctx = {
        "ncr": ncr,
        "disposition": disposition,
        "lines": [line for line in disposition.lines.all() if not line.voided] if disposition else [],
        "decisions": selectors.decisions_with_signatures(disposition) if disposition else [],
        "problems": services.disposition_validate(disposition)
        if disposition and disposition.status == DispositionStatus.DRAFT
        else [],
        "may_manage": may_manage,
        "offers": offers,
        "may_sign_roles": services.mrb_roles_user_may_sign(user, disposition) if disposition else [],
        "required_roles": _role_labels(disposition.required_roles) if disposition else [],
        "signatures": signatures_with_validity(ncr),
        "related": related_records(ncr),
        "actions": actions_for(user, ncr),
        "containment_form": ContainmentForm(site=ncr.site) if may_manage else None,
        "line_form": DispositionLineForm(ncr=ncr) if may_manage else None,
        "attachment_form": AttachmentForm() if policy.can(user, "ncr.create", ncr.site) else None,
        "report_url": reverse("compliance:report_pdf", args=["nonconformance.ncr"]) + f"?ncr={ncr.code}",
    }
    return render(request, "nonconformance/ncr_detail.html", ctx)


@require("ncr.manage")
def ncr_edit(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    initial = {
        "title": ncr.title,
        "description": ncr.description,
        "severity": ncr.severity,
        "quantity_suspect": ncr.quantity_suspect,
        "quantity_confirmed": ncr.quantity_confirmed,
        "unit_value": ncr.unit_value,
        "defect_codes": list(ncr.defect_codes.all()),
    }
    form = NcrEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        reason, codes = d.pop("reason"), d.pop("defect_codes")
        try:
            services.ncr_update(ncr=ncr, user=request.user, reason=reason, defect_codes=codes, **d)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("NCR updated."))
            return redirect(services.ncr_url(ncr))
    return render(request, "nonconformance/form.html", {"form": form, "title": _("Edit %(code)s") % {"code": ncr.code}})


@require("ncr.manage")
@require_POST
def ncr_containment(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.ncr_start_containment(ncr=ncr, user=request.user),
        _("Containment started."),
    )


@require("ncr.manage")
@require_POST
def containment_add(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    form = ContainmentForm(request.POST, site=ncr.site)
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.containment_action_add(ncr=ncr, user=request.user, **form.cleaned_data),
        _("Containment action added."),
        form=form,
        invalid=_("Choose the action and its owner."),
    )


@require("ncr.create")
@require_POST
def containment_done(request, pk):
    action = get_object_or_404(ContainmentAction.objects.select_related("ncr", "ncr__site"), pk=pk)
    require_site(request, "ncr.view", action.ncr.site)
    form = ContainmentDoneForm(request.POST)
    return run_and_redirect(
        request,
        services.ncr_url(action.ncr),
        lambda: services.containment_action_complete(action=action, user=request.user, **form.cleaned_data),
        _("Containment action done."),
        form=form,
        invalid=_("Record what was done and found."),
    )


@require("ncr.manage")
def suspect_stock(request, code):
    ncr = _ncr(request, code)
    if request.method == "POST":
        from traceability.models import Lot

        lot = get_object_or_404(Lot, code=request.POST.get("lot", ""))
        return run_and_redirect(
            request,
            services.ncr_url(ncr),
            lambda: services.ncr_add_lot(ncr=ncr, lot=lot, user=request.user),
            _("Lot %(lot)s added to the NCR and held.") % {"lot": lot.code},
        )
    rows = selectors.suspect_stock(ncr)
    template = (
        "nonconformance/partials/_suspect_stock.html"
        if request.headers.get("HX-Request")
        else "nonconformance/suspect_stock.html"
    )
    return render(request, template, {"ncr": ncr, "rows": rows})


@require("ncr.create")
@require_POST
def attachment_add(request, code):
    ncr = _ncr(request, code, "ncr.create")
    form = AttachmentForm(request.POST, request.FILES)
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.attachment_add(user=request.user, ncr=ncr, **form.cleaned_data),
        _("Attachment added."),
        form=form,
        invalid=_("Choose a file to upload."),
    )


@require("ncr.manage")
@require_POST
def ncr_submit_mrb(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.ncr_submit_to_mrb(ncr=ncr, user=request.user),
        _("The NCR is in MRB review: propose the disposition."),
    )


@require("ncr.manage")
@require_POST
def disposition_line_add(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    form = DispositionLineForm(request.POST, ncr=ncr)
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.disposition_line_add(ncr=ncr, user=request.user, **form.cleaned_data),
        _("Disposition line added."),
        form=form,
        invalid=_("Check the disposition line: %(e)s") % {"e": form.errors.as_text()},
    )


@require("ncr.manage")
@require_POST
def disposition_line_void(request, pk):
    line = get_object_or_404(DispositionLine.objects.select_related("disposition__ncr__site"), pk=pk)
    ncr = line.disposition.ncr
    require_site(request, "ncr.manage", ncr.site)
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.disposition_line_void(line=line, user=request.user),
        _("Disposition line removed."),
    )


@require("ncr.manage")
@require_POST
def disposition_submit(request, code):
    ncr = _ncr(request, code, "ncr.manage")
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.disposition_submit(ncr=ncr, user=request.user),
        _("The disposition awaits the MRB signatures."),
    )


@require_decision("mrb.sign")
def mrb_decide(request, code):
    ncr = _ncr(request, code)
    require_decision_site(request, "mrb.sign", ncr.site)
    disposition = selectors.disposition_for(ncr)
    if disposition is None:
        raise Http404(code)
    roles = services.mrb_roles_user_may_sign(request.user, disposition)
    form = MrbDecisionForm(
        request.POST or None,
        request=request,
        meaning="approved",
        roles=roles,
        gate_record=MrbDecision(disposition=disposition),
    )
    done = form_action(
        request,
        form,
        lambda: services.mrb_decide(
            disposition=disposition,
            mrb_role=form.cleaned_data["mrb_role"],
            vote=form.cleaned_data["vote"],
            comment=form.cleaned_data.get("reason", ""),
            user=request.user,
            credential=form.credential,
        ),
        done=_("Your MRB decision is signed."),
        to=services.ncr_url(ncr),
    )
    if done:
        return done
    lines = [line for line in disposition.lines.all() if not line.voided]
    return render(
        request,
        "nonconformance/mrb_decide.html",
        {
            "ncr": ncr,
            "disposition": disposition,
            "lines": lines,
            "form": form,
            "roles": roles,
            "offer": services.ncr_decision_offer(request.user, "mrb.sign", ncr),
            "required_roles": _role_labels(disposition.required_roles),
        },
    )


@require_decision("disposition.execute")
@require_POST
def disposition_line_execute(request, pk):
    line = get_object_or_404(DispositionLine.objects.select_related("disposition__ncr__site"), pk=pk)
    ncr = line.disposition.ncr
    require_site(request, "ncr.view", ncr.site)
    require_decision_site(request, "disposition.execute", ncr.site)
    form = ExecuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect(services.ncr_url(ncr))
    d = form.cleaned_data
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.disposition_line_execute(
            line=line,
            user=request.user,
            quantity=d["quantity"],
            note=d["note"],
            return_reference=d["return_reference"],
            returned_on=d["returned_on"],
        ),
        _("Disposition carried out."),
    )


def _signed_step(request, ncr, *, decision, meaning, title, call, success, require_reason=False):
    form = SignatureForm(request.POST or None, request=request, meaning=meaning, require_reason=require_reason)
    done = form_action(request, form, lambda: call(form), done=success, to=services.ncr_url(ncr))
    if done:
        return done
    offer = services.ncr_decision_offer(request.user, decision, ncr)
    return render(request, "nonconformance/sign.html", {"form": form, "title": title, "record": ncr, "offer": offer})


@require_decision("ncr.verify")
def ncr_verify(request, code):
    ncr = _ncr(request, code)
    require_decision_site(request, "ncr.verify", ncr.site)
    return _signed_step(
        request,
        ncr,
        decision="ncr.verify",
        meaning="verified",
        title=_("Verify the disposition of %(code)s") % {"code": ncr.code},
        call=lambda f: services.ncr_verify(
            ncr=ncr, user=request.user, credential=f.credential, reason=f.cleaned_data.get("reason", "")
        ),
        success=_("Verified. Close the NCR to lift its holds."),
    )


@require_decision("ncr.cancel")
def ncr_cancel(request, code):
    ncr = _ncr(request, code)
    require_decision_site(request, "ncr.cancel", ncr.site)
    return _signed_step(
        request,
        ncr,
        decision="ncr.cancel",
        meaning="rejected",
        title=_("Cancel %(code)s") % {"code": ncr.code},
        call=lambda f: services.ncr_cancel(
            ncr=ncr, user=request.user, credential=f.credential, reason=f.cleaned_data.get("reason", "")
        ),
        success=_("NCR cancelled; its holds are lifted."),
        require_reason=True,
    )


@require_decision("ncr.close")
@require_POST
def ncr_close(request, code):
    ncr = _ncr(request, code)
    require_decision_site(request, "ncr.close", ncr.site)
    return run_and_redirect(
        request,
        services.ncr_url(ncr),
        lambda: services.ncr_close(ncr=ncr, user=request.user),
        _("NCR closed; its holds are lifted."),
    )


# --- complaints ------------------------------------------------------------------------------------


@require("ncr.view")
def complaint_list(request):
    site_ids = policy.sites_for(request.user, "ncr.view")
    qs = selectors.complaints_for_list(
        site_ids=site_ids, q=request.GET.get("q", ""), status=request.GET.get("status", "")
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "nonconformance/complaint_list.html",
        {
            "page_obj": page,
            "statuses": ComplaintStatus.choices,
            "today": timezone.localdate(),
            "rate": selectors.complaint_rate(site_ids=site_ids, months=6),
            "may_create": policy.can(request.user, "complaints.manage"),
        },
    )


@require("complaints.manage")
@create_once
def complaint_create(request):
    site_ids = policy.sites_for(request.user, "complaints.manage")
    form = ComplaintForm(request.POST or None, site_ids=site_ids, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            complaint = services.complaint_create(
                site=d["site"],
                customer=d["customer"],
                customer_reference=d["customer_reference"],
                part=d["part"],
                lot=d["lot_object"],
                serial=d["serial"],
                received_on=d["received_on"],
                title=d["title"],
                description=d["description"],
                severity=d["severity"],
                quantity_affected=d["quantity_affected"],
                response_due_on=d["response_due_on"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(services.complaint_url(complaint))
    return render(request, "nonconformance/form.html", {"form": form, "title": _("Record a customer complaint")})


@require("ncr.view")
@access_logged("nonconformance.complaint")
def complaint_detail(request, code):
    complaint = _complaint(request, code)
    user = request.user
    return render(
        request,
        "nonconformance/complaint_detail.html",
        {
            "complaint": complaint,
            "view": selectors.root_cause_view(complaint, site_ids=set(policy.sites_for(user, "ncr.view"))),
            "ncrs": list(complaint.ncrs.select_related("part").order_by("pk")),
            "related": related_records(complaint),
            "actions": actions_for(user, complaint),
            "may_manage": policy.can(user, "complaints.manage", complaint.site),
            "cancel_offer": policy.decision_offer(user, "complaint.cancel", complaint.site)
            if complaint.is_open
            else None,
            "may_ncr": policy.can(user, "ncr.create", complaint.site),
            "may_recall": policy.can(user, "recall.manage", complaint.site),
            "signatures": signatures_with_validity(complaint),
            "respond_form": RespondForm(),
            "reason_form": ReasonForm(),
            "attachment_form": AttachmentForm(),
            "today": timezone.localdate(),
        },
    )


@require("ncr.create")
@require_POST
@create_once
def complaint_open_ncr(request, code):
    complaint = _complaint(request, code, "ncr.create")
    try:
        ncr = services.complaint_open_ncr(complaint=complaint, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(services.complaint_url(complaint))
    messages.success(request, _("NCR %(code)s opened.") % {"code": ncr.code})
    return redirect(services.ncr_url(ncr))


@require("complaints.manage")
@require_POST
def complaint_respond(request, code):
    complaint = _complaint(request, code, "complaints.manage")
    form = RespondForm(request.POST)
    return run_and_redirect(
        request,
        services.complaint_url(complaint),
        lambda: services.complaint_respond(complaint=complaint, user=request.user, **form.cleaned_data),
        _("Response recorded."),
        form=form,
        invalid=_("Write the response sent to the customer."),
    )


@require("complaints.manage")
@require_POST
def complaint_close(request, code):
    complaint = _complaint(request, code, "complaints.manage")
    return run_and_redirect(
        request,
        services.complaint_url(complaint),
        lambda: services.complaint_close(complaint=complaint, user=request.user),
        _("Complaint closed."),
    )


@require_decision("complaint.cancel")
def complaint_cancel(request, code):
    """Cancel an open complaint (recorded in error, withdrawn by the customer): a reason and an e-signature."""
    complaint = _complaint(request, code)
    require_decision_site(request, "complaint.cancel", complaint.site)
    if not complaint.is_open:
        messages.error(request, _("Only an open complaint can be cancelled."))
        return redirect(services.complaint_url(complaint))
    form = SignatureForm(request.POST or None, request=request, meaning="rejected", require_reason=True)
    form.fields["reason"].label = _("Why is the complaint cancelled?")
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            services.complaint_cancel(complaint=complaint, user=request.user, reason=reason, credential=form.credential)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Complaint %(code)s cancelled.") % {"code": complaint.code})
            return redirect(services.complaint_url(complaint))
    offer = policy.decision_offer(request.user, "complaint.cancel", complaint.site)
    return render(
        request, "nonconformance/complaint_cancel.html", {"form": form, "complaint": complaint, "offer": offer}
    )


@require("complaints.manage")
@require_POST
def complaint_attach(request, code):
    complaint = _complaint(request, code, "complaints.manage")
    form = AttachmentForm(request.POST, request.FILES)
    return run_and_redirect(
        request,
        services.complaint_url(complaint),
        lambda: services.attachment_add(user=request.user, complaint=complaint, **form.cleaned_data),
        _("Attachment added."),
        form=form,
        invalid=_("Choose a file to upload."),
    )


@require("recall.manage")
@require_POST
def complaint_recall(request, code):
    complaint = _complaint(request, code, "recall.manage")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the recall."))
        return redirect(services.complaint_url(complaint))
    try:
        recall = services.complaint_recall_start(
            complaint=complaint, user=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(services.complaint_url(complaint))
    messages.success(request, _("Recall %(code)s started.") % {"code": recall.code})
    return redirect(reverse("traceability:recall", args=[recall.code]))


@require("ncr.view")
def attachment_download(request, pk):
    """An NCR or complaint attachment, to users who may see NCRs at its site (the download is logged)."""
    att = get_object_or_404(Attachment.objects.select_related("ncr__site", "complaint__site"), pk=pk)
    require_site(request, "ncr.view", att.site)
    return file_response(request, att.file, name=att.file_name or att.file.name.rsplit("/", 1)[-1], record=att)
