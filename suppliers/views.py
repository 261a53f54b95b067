"""Thin views: permission declared, object-level site check, call the service, show the domain error."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.models import Site
from qms.core.uploads import file_response
from qms.core.views_auth import require, require_decision

from . import selectors, services
from .forms import (
    AslCreateForm,
    AslDecisionForm,
    AttachmentForm,
    AuditForm,
    CertificateForm,
    CertificateReviewForm,
    DecisionForm,
    ElementReviewForm,
    PpapCreateForm,
    ReasonForm,
    SupplierForm,
)
from .models import (
    AslEntry,
    CertificateStatus,
    Grade,
    PpapAttachment,
    PpapElement,
    PpapSubmission,
    RiskLevel,
    SupplierCategory,
    SupplierStatus,
)
from .models import Certificate as CertificateModel
from .models import Supplier as SupplierModel
from .ppap_evidence import ppap_evidence_for

SIGN_FIELDS = "compliance/partials/_sign_fields.html"
SIGNATURES = "compliance/partials/_signatures.html"


def _template_or(name: str, fallback: str) -> str:
    """The compliance partials are shared; fall back to our own until they exist."""
    try:
        get_template(name)
        return name
    except TemplateDoesNotExist:
        return fallback


def _sign_ctx() -> dict:
    return {
        "sign_template": _template_or(SIGN_FIELDS, "includes/form.html"),
        "signatures_template": _template_or(SIGNATURES, "suppliers/partials/_signatures_fallback.html"),
    }


def report_url(key: str = "suppliers.scorecard") -> str | None:
    """The compliance PDF download for a report, or None while that view is not there."""
    from django.urls import NoReverseMatch, reverse

    for args in ([key], []):
        try:
            return reverse("compliance:report_pdf", args=args)
        except NoReverseMatch:
            continue
    return None


def _may(user, perm, supplier) -> bool:
    return any(policy.can(user, perm, s) for s in supplier.sites.all())


def _require_supplier(request, perm, supplier) -> None:
    if not _may(request.user, perm, supplier):
        raise PermissionDenied(perm)


def _require_decision(request, decision, supplier) -> None:
    """Object-level: the authority for `decision` at the supplier's decision site (as its door asks)."""
    if not policy.can_decide(request.user, decision, services.decision_site(request.user, decision, supplier)):
        raise PermissionDenied(decision)


def _supplier(request, pk, perm="suppliers.view"):
    supplier = get_object_or_404(SupplierModel.objects.prefetch_related("sites"), pk=pk)
    _require_supplier(request, perm, supplier)
    return supplier


def _error(form, exc: DomainError) -> None:
    field = exc.field if exc.field and exc.field in form.fields else None
    form.add_error(field, exc.message)


# ---------------------------------------------------------------------------------------------------
# Suppliers


@require("suppliers.view")
def supplier_list(request):
    params = {k: request.GET.get(k, "").strip() for k in ("q", "status", "category", "risk", "grade", "site")}
    sort = request.GET.get("sort", "code")
    page = Paginator(selectors.supplier_list(request.user, sort=sort, **params), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "suppliers/supplier_list.html",
        {
            "page_obj": page,
            "params": params,
            "sort": sort,
            "statuses": SupplierStatus.choices,
            "categories": SupplierCategory.choices,
            "risks": RiskLevel.choices,
            "grades": Grade.choices,
            "sites": Site.objects.filter(pk__in=policy.sites_for(request.user, "suppliers.view")),
            "may_create": policy.can(request.user, "suppliers.change"),
        },
    )


@require("suppliers.change")
@create_once
def supplier_create(request):
    form = SupplierForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            supplier = services.supplier_create(
                user=request.user,
                code=data.pop("code"),
                name=data.pop("name"),
                category=data.pop("category"),
                sites=data.pop("sites"),
                **data,
            )
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Supplier %(c)s created as prospective.") % {"c": supplier.code})
            return redirect("suppliers:detail", supplier.pk)
    return render(request, "suppliers/supplier_form.html", {"form": form, "title": _("New supplier")})


@require("suppliers.change")
def supplier_edit(request, pk):
    supplier = _supplier(request, pk, "suppliers.change")
    form = SupplierForm(request.POST or None, instance=supplier, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("code", None)
        reason = data.pop("reason")
        sites = data.pop("sites")
        try:
            services.supplier_update(supplier=supplier, user=request.user, reason=reason, sites=sites, **data)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Supplier saved."))
            return redirect("suppliers:detail", supplier.pk)
    return render(
        request,
        "suppliers/supplier_form.html",
        {"form": form, "supplier": supplier, "title": _("Edit %(c)s") % {"c": supplier.code}},
    )


@require("suppliers.view")
@access_logged("suppliers.supplier", kwarg="pk")
def supplier_detail(request, pk):
    try:
        supplier = selectors.supplier_for_detail(pk)
    except SupplierModel.DoesNotExist:
        raise Http404 from None
    _require_supplier(request, "suppliers.view", supplier)
    today = timezone.localdate()
    entries = selectors.asl_entries(supplier)
    policies = services._type_policies()
    asl_rows = [
        (e, services.supply_verdict(supplier=supplier, part=e.part, entry=e, policies=policies, on=today))
        for e in entries
    ]
    trend = selectors.scorecard_trend(supplier, today=today)
    user = request.user
    decisions, decide_offer = _supplier_decisions(user, supplier)
    asl_offer = services.decision_offer(user, "asl.decide", supplier) if asl_rows else None
    return render(
        request,
        "suppliers/supplier_detail.html",
        {
            "supplier": supplier,
            "checklist": services.supplier_checklist(supplier, today),
            "history": selectors.status_history(supplier),
            "decisions": decisions,
            "decide_offer": decide_offer,
            "asl_offer": asl_offer,
            "certificates": list(supplier.certificates.all()),
            "audits": list(supplier.audits.all()),
            "asl_rows": asl_rows,
            "ppaps": selectors.ppaps_for(supplier),
            "trend": trend,
            "chart_json": json.dumps({"labels": trend["labels"], "series": trend["series"]}),
            "today": today,
            "may_change": _may(user, "suppliers.change", supplier),
            "may_certificates": _may(user, "suppliers.certificates", supplier),
            "may_scorecard": _may(user, "suppliers.scorecard", supplier),
            "report_url": report_url(),
            **_sign_ctx(),
        },
    )


def _supplier_decisions(user, supplier) -> tuple[list, dict | None]:
    """The decision buttons `user` may press on the supplier (those the door would refuse are left out)
    and, when some are left out, the offer saying why and who can act instead."""
    available = services.supplier_available_decisions(supplier)
    if not available:
        return [], None
    authority = services.decision_offer(user, "supplier.decide", supplier)
    if not authority["may"]:
        return [], authority
    what = _("supplier %(c)s") % {"c": supplier.code}
    barred = None
    if any(a in services.SUPPLIER_SEGREGATED_ACTIONS for a in available):
        barred = services.decision_offer(
            user, "supplier.decide", supplier, involved={"authored": supplier.created_by_id}, what=what
        )
    buttons = [
        (a, services.SUPPLIER_DECISION_BUTTONS[a])
        for a in available
        if barred is None or barred["may"] or a not in services.SUPPLIER_SEGREGATED_ACTIONS
    ]
    return buttons, barred if barred is not None and not barred["may"] else None


@require_decision("supplier.decide")
def supplier_decide(request, pk, action):
    supplier = _supplier(request, pk)
    _require_decision(request, "supplier.decide", supplier)
    if action not in services.SUPPLIER_DECISIONS:
        raise Http404
    meaning, verb = services.SUPPLIER_DECISIONS[action]
    form = DecisionForm(
        request.POST or None, request=request, meaning=meaning, needs_until=action == "approve_conditionally"
    )
    form.sign_purpose = f"supplier {supplier.code} {action}"
    checklist = services.supplier_checklist(
        SupplierModel.objects.prefetch_related("sites", "certificates", "audits").get(pk=pk)
    )
    if request.method == "POST" and form.is_valid():
        kwargs = {
            "supplier": supplier,
            "user": request.user,
            "credential": form.credential,
            "reason": form.cleaned_data["reason"],
        }
        if action == "approve_conditionally":
            kwargs["until"] = form.cleaned_data["until"]
        try:
            services.SUPPLIER_DECISION_SERVICES[action](**kwargs)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(
                request, _("%(c)s is now %(s)s.") % {"c": supplier.code, "s": supplier.get_status_display()}
            )
            return redirect("suppliers:detail", supplier.pk)
    return render(
        request,
        "suppliers/decision.html",
        {
            "form": form,
            "offer": services.decision_offer(
                request.user,
                "supplier.decide",
                supplier,
                involved=services.supplier_involvement(supplier, action),
                what=_("supplier %(c)s") % {"c": supplier.code},
            ),
            "supplier": supplier,
            "object": supplier,
            "title": _("Supplier decision: %(verb)s") % {"verb": verb},
            "checklist": checklist if action in ("approve", "approve_conditionally", "reinstate") else None,
            **_sign_ctx(),
        },
    )


@require("suppliers.change")
def audit_record(request, pk):
    supplier = _supplier(request, pk, "suppliers.change")
    form = AuditForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_audit_record(supplier=supplier, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Audit result recorded."))
            return redirect("suppliers:detail", supplier.pk)
    return render(
        request,
        "suppliers/form_page.html",
        {"form": form, "supplier": supplier, "title": _("Record an on-site audit")},
    )


# ---------------------------------------------------------------------------------------------------
# Certificates


@require("suppliers.view")
def certificate_list(request):
    days_raw = request.GET.get("days", "90")
    days = int(days_raw) if days_raw.isdigit() else None
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.certificates_expiring(request.user, days=days, status=status, q=q), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "suppliers/certificate_list.html",
        {
            "page_obj": page,
            "days": days_raw,
            "status": status,
            "q": q,
            "statuses": CertificateStatus.choices,
            "today": timezone.localdate(),
        },
    )


@require("suppliers.certificates")
def certificate_upload(request, pk):
    supplier = _supplier(request, pk, "suppliers.certificates")
    form = CertificateForm(
        request.POST or None, request.FILES or None, initial={"cert_type": request.GET.get("type", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cert = services.certificate_upload(
                supplier=supplier,
                user=request.user,
                cert_type=data["cert_type"],
                number=data["number"],
                issuer=data["issuer"],
                scope=data["scope"],
                issued_on=data["issued_on"],
                valid_until=data["valid_until"],
                upload=data["file"],
                parts=data["parts"],
            )
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Certificate %(n)s uploaded; it counts once reviewed.") % {"n": cert.number})
            return redirect("suppliers:certificate_review", cert.pk)
    return render(
        request,
        "suppliers/form_page.html",
        {"form": form, "supplier": supplier, "title": _("Upload a certificate"), "multipart": True},
    )


def _certificate(request, pk, perm):
    cert = get_object_or_404(
        CertificateModel.objects.select_related("supplier", "uploaded_by", "reviewed_by").prefetch_related(
            "supplier__sites", "parts"
        ),
        pk=pk,
    )
    _require_supplier(request, perm, cert.supplier)
    return cert


@require("suppliers.view")
def certificate_review(request, pk):
    """The certificate's page, for every supplier reader (an auditor checks certificates too); the review form
    for those the site gives the review (certificate.accept, a deputy included), voiding for certificate
    handlers (suppliers.certificates); anyone else reads why not and who can act."""
    cert = _certificate(request, pk, "suppliers.view")
    may_void = _may(request.user, "suppliers.certificates", cert.supplier)
    form = CertificateReviewForm(request.POST or None)
    if request.method == "POST":
        _require_decision(request, "certificate.accept", cert.supplier)
    if request.method == "POST" and cert.status == CertificateStatus.PENDING_REVIEW and form.is_valid():
        try:
            if form.cleaned_data["decision"] == "accept":
                services.certificate_accept(certificate=cert, user=request.user, comment=form.cleaned_data["comment"])
                messages.success(request, _("Certificate accepted."))
            else:
                services.certificate_reject(certificate=cert, user=request.user, comment=form.cleaned_data["comment"])
                messages.warning(request, _("Certificate rejected."))
        except DomainError as exc:
            _error(form, exc)
        else:
            return redirect(f"{_detail_url(cert.supplier_id)}#certificates")
    return render(
        request,
        "suppliers/certificate_review.html",
        {
            "cert": cert,
            "form": form,
            "offer": services.decision_offer(
                request.user,
                "certificate.accept",
                cert.supplier,
                involved={"uploaded": cert.uploaded_by_id},
                what=_("certificate %(n)s") % {"n": cert.number},
            )
            if cert.status == CertificateStatus.PENDING_REVIEW
            else None,
            "supplier": cert.supplier,
            "void_form": ReasonForm() if may_void else None,
        },
    )


def _detail_url(pk):
    from django.urls import reverse

    return reverse("suppliers:detail", args=[pk])


@require_POST
@require("suppliers.certificates")
def certificate_void(request, pk):
    cert = _certificate(request, pk, "suppliers.certificates")
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.certificate_void(certificate=cert, user=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Certificate voided."))
    else:
        messages.error(request, _("Give the reason for voiding the certificate."))
    return redirect("suppliers:certificate_review", cert.pk)


@require("suppliers.view")
def certificate_download(request, pk):
    cert = _certificate(request, pk, "suppliers.view")
    return file_response(
        request, cert.file, name=cert.file_name or "certificate", content_type=cert.file_type, record=cert
    )


# ---------------------------------------------------------------------------------------------------
# Approved supplier list


@require("suppliers.change")
@create_once
def asl_create(request, pk):
    supplier = _supplier(request, pk, "suppliers.change")
    form = AslCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.asl_entry_create(supplier=supplier, part=form.cleaned_data["part"], user=request.user)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Part listed; approve it with its qualification evidence."))
            return redirect(f"{_detail_url(supplier.pk)}#asl")
    return render(
        request,
        "suppliers/form_page.html",
        {"form": form, "supplier": supplier, "title": _("Add a part to the approved supplier list")},
    )


ASL_MEANINGS = {"approve": "approved", "approve_conditionally": "approved", "block": "rejected"}


@require_decision("asl.decide")
def asl_decide(request, pk, action):
    entry = get_object_or_404(
        AslEntry.objects.select_related("supplier", "part", "ppap").prefetch_related("supplier__sites"), pk=pk
    )
    _require_supplier(request, "suppliers.view", entry.supplier)
    _require_decision(request, "asl.decide", entry.supplier)
    if action not in ASL_MEANINGS:
        raise Http404
    form = AslDecisionForm(
        request.POST or None,
        request=request,
        meaning=ASL_MEANINGS[action],
        needs_until=action == "approve_conditionally",
        needs_evidence=action != "block",
        initial={"evidence": entry.evidence},
    )
    form.sign_purpose = f"ASL {entry} {action}"
    if request.method == "POST" and form.is_valid():
        kwargs = {
            "entry": entry,
            "user": request.user,
            "credential": form.credential,
            "reason": form.cleaned_data["reason"],
        }
        if action != "block":
            kwargs["evidence"] = form.cleaned_data["evidence"]
        if action == "approve_conditionally":
            kwargs["until"] = form.cleaned_data["until"]
        try:
            services.ASL_DECISION_SERVICES[action](**kwargs)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("Approved supplier list updated."))
            return redirect(f"{_detail_url(entry.supplier_id)}#asl")
    titles = {
        "approve": _("Approve part for this supplier"),
        "approve_conditionally": _("Approve part conditionally"),
        "block": _("Block part from this supplier"),
    }
    return render(
        request,
        "suppliers/decision.html",
        {
            "form": form,
            "offer": services.decision_offer(request.user, "asl.decide", entry.supplier),
            "supplier": entry.supplier,
            "object": entry,
            "title": titles[action],
            "signatures": selectors.signatures_for_many([entry]).get(entry.pk, []),
            **_sign_ctx(),
        },
    )


# ---------------------------------------------------------------------------------------------------
# PPAP


@require("suppliers.change")
@create_once
def ppap_create(request, pk):
    supplier = _supplier(request, pk, "suppliers.change")
    form = PpapCreateForm(request.POST or None, initial={"part": request.GET.get("part")})
    if request.method == "POST" and form.is_valid():
        try:
            sub = services.ppap_create(supplier=supplier, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("PPAP %(c)s opened.") % {"c": sub.code})
            return redirect("suppliers:ppap_detail", sub.pk)
    return render(
        request, "suppliers/form_page.html", {"form": form, "supplier": supplier, "title": _("Open a PPAP submission")}
    )


def _ppap(request, pk, perm="suppliers.view"):
    try:
        sub = selectors.ppap_for_detail(pk)
    except PpapSubmission.DoesNotExist:
        raise Http404 from None
    _require_supplier(request, perm, sub.supplier)
    return sub


def _ppap_offer(user, sub) -> dict:
    return services.decision_offer(
        user,
        "ppap.decide",
        sub.supplier,
        involved={"submitted": sub.submitted_by_id},
        what=_("the PPAP submission %(c)s") % {"c": sub.code},
    )


def _ppap_ctx(request, sub):
    user = request.user
    return {
        "sub": sub,
        "supplier": sub.supplier,
        "elements": list(sub.elements.all()),
        "evidence": ppap_evidence_for(part=sub.part, site_ids=policy.sites_for(user, "suppliers.view")),
        "may_change": _may(user, "suppliers.change", sub.supplier),
        "may_review": _may(user, "suppliers.ppap_review", sub.supplier),
        "decide_offer": _ppap_offer(user, sub) if sub.status in ("in_review", "interim") else None,
        "signatures": selectors.signatures_for_many([sub]).get(sub.pk, []),
        "review_form": ElementReviewForm(),
        "attach_form": AttachmentForm(),
        "return_form": ReasonForm(),
        **_sign_ctx(),
    }


@require("suppliers.view")
@access_logged("suppliers.ppapsubmission", kwarg="pk")
def ppap_detail(request, pk):
    sub = _ppap(request, pk)
    return render(request, "suppliers/ppap_detail.html", _ppap_ctx(request, sub))


@require_POST
@require("suppliers.change")
def ppap_submit(request, pk):
    sub = _ppap(request, pk, "suppliers.change")
    try:
        services.ppap_submit(submission=sub, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("PPAP submitted for review."))
    return redirect("suppliers:ppap_detail", sub.pk)


@require_POST
@require("suppliers.ppap_review")
def ppap_return(request, pk):
    sub = _ppap(request, pk, "suppliers.ppap_review")
    form = ReasonForm(request.POST)
    try:
        services.ppap_return(submission=sub, user=request.user, reason=form.data.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(request, _("PPAP returned to the supplier for corrections."))
    return redirect("suppliers:ppap_detail", sub.pk)


def _element(request, pk, perm):
    element = get_object_or_404(
        PpapElement.objects.select_related("submission__supplier", "submission", "reviewed_by").prefetch_related(
            "submission__supplier__sites", "attachments__uploaded_by"
        ),
        pk=pk,
    )
    _require_supplier(request, perm, element.submission.supplier)
    return element


@require_POST
@require("suppliers.ppap_review")
def ppap_element_review(request, pk):
    element = _element(request, pk, "suppliers.ppap_review")
    form = ElementReviewForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            element = services.ppap_element_review(
                element=element,
                user=request.user,
                status=form.cleaned_data["status"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = _("Choose a review result.")
    if request.headers.get("HX-Request"):
        element = _element(request, pk, "suppliers.ppap_review")
        sub = element.submission
        return render(
            request,
            "suppliers/partials/_ppap_element_row.html",
            {
                "e": element,
                "sub": sub,
                "error": error,
                "may_review": True,
                "may_change": _may(request.user, "suppliers.change", sub.supplier),
                "review_form": ElementReviewForm(),
                "attach_form": AttachmentForm(),
            },
        )
    if error:
        messages.error(request, error)
    return redirect(f"{_ppap_url(element.submission_id)}#el-{element.number}")


def _ppap_url(pk):
    from django.urls import reverse

    return reverse("suppliers:ppap_detail", args=[pk])


@require_POST
@require("suppliers.change")
def ppap_attach(request, pk):
    element = _element(request, pk, "suppliers.change")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ppap_attachment_add(element=element, upload=form.cleaned_data["file"], user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Document attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect(f"{_ppap_url(element.submission_id)}#el-{element.number}")


@require("suppliers.view")
def ppap_attachment_download(request, pk):
    att = get_object_or_404(
        PpapAttachment.objects.select_related("element__submission__supplier").prefetch_related(
            "element__submission__supplier__sites"
        ),
        pk=pk,
    )
    _require_supplier(request, "suppliers.view", att.element.submission.supplier)
    return file_response(request, att.file, name=att.file_name, content_type=att.file_type, record=att)


PPAP_MEANINGS = {"approve": "approved", "approve_interim": "approved", "reject": "rejected"}


@require_decision("ppap.decide")
def ppap_decide(request, pk, action):
    sub = _ppap(request, pk)
    _require_decision(request, "ppap.decide", sub.supplier)
    if action not in PPAP_MEANINGS:
        raise Http404
    form = DecisionForm(
        request.POST or None,
        request=request,
        meaning=PPAP_MEANINGS[action],
        needs_until=action == "approve_interim",
        require_reason=action != "approve",
    )
    if "until" in form.fields:
        form.fields["until"].label = _("Interim approval ends")
    form.sign_purpose = f"PPAP {sub.code} {action}"
    if request.method == "POST" and form.is_valid():
        kwargs = {
            "submission": sub,
            "user": request.user,
            "credential": form.credential,
            "reason": form.cleaned_data["reason"],
        }
        if action == "approve_interim":
            kwargs["until"] = form.cleaned_data["until"]
        try:
            services.PPAP_DECISION_SERVICES[action](**kwargs)
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("PSW decision recorded and signed."))
            return redirect("suppliers:ppap_detail", sub.pk)
    titles = {
        "approve": _("Approve the part submission warrant"),
        "approve_interim": _("Interim approval"),
        "reject": _("Reject the PPAP submission"),
    }
    return render(
        request,
        "suppliers/decision.html",
        {
            "form": form,
            "offer": _ppap_offer(request.user, sub),
            "supplier": sub.supplier,
            "object": sub,
            "title": titles[action],
            **_sign_ctx(),
        },
    )


# ---------------------------------------------------------------------------------------------------
# Scorecards


@require("suppliers.scorecard")
def scorecard_list(request):
    import datetime

    month_raw = request.GET.get("month", "")
    try:
        month = datetime.date.fromisoformat(month_raw + "-01") if month_raw else None
    except ValueError:
        month = None
    month = month or selectors.latest_scorecard_month(request.user) or timezone.localdate().replace(day=1)
    sort = request.GET.get("sort", "grade")
    site = request.GET.get("site", "")
    grade = request.GET.get("grade", "")
    page = Paginator(
        selectors.scorecards_for_month(request.user, month=month, site=site, grade=grade, sort=sort), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "suppliers/scorecard_list.html",
        {
            "page_obj": page,
            "month": month,
            "months": list(reversed(selectors.month_list(timezone.localdate(), 13))),
            "sort": sort,
            "site": site,
            "grade": grade,
            "grades": Grade.choices,
            "sites": Site.objects.filter(pk__in=policy.sites_for(request.user, "suppliers.scorecard")),
            "report_url": report_url(),
        },
    )
