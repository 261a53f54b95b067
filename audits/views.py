"""Thin views over audits.services."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.views_auth import require, require_site
from qms.core.views_helpers import form_action, run_and_redirect

from . import services
from .forms import (
    AssignForm,
    AuditPlanForm,
    CloseForm,
    CompleteForm,
    FindingForm,
    ItemRecordForm,
    NoteForm,
    ProgrammeForm,
)
from .models import (
    AUDIT_ACTIVE,
    Audit,
    AuditProgramme,
    AuditStatus,
    AuditTeamMember,
    ChecklistItem,
    Finding,
    FindingStatus,
)


def _audit(request, code, perm="audits.view") -> Audit:
    audit = (
        Audit.objects.select_related("site", "programme", "lead_auditor", "area_owner", "created_by")
        .prefetch_related(
            Prefetch("team", queryset=AuditTeamMember.objects.select_related("user")),
            Prefetch("items", queryset=ChecklistItem.objects.select_related("recorded_by").order_by("sequence")),
            Prefetch("findings", queryset=Finding.objects.select_related("owner", "ncr", "capa", "item")),
        )
        .filter(code=code)
        .first()
    )
    if audit is None:
        raise Http404(code)
    require_site(request, perm, audit.site)
    return audit


@require("audits.view")
def audit_list(request):
    site_ids = policy.sites_for(request.user, "audits.view")
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    programmes = AuditProgramme.objects.filter(site_id__in=site_ids, year=year).select_related("site")
    audits = (
        Audit.objects.filter(site_id__in=site_ids, programme__year=year)
        .select_related("site", "lead_auditor")
        .annotate(open_findings=Count("findings", filter=Q(findings__status=FindingStatus.OPEN)))
        .order_by("planned_start", "pk")
    )
    status = request.GET.get("status", "")
    if status == "overdue":
        audits = audits.filter(status__in=[AuditStatus.PLANNED, AuditStatus.IN_PROGRESS], planned_end__lt=today)
    elif status == "active":
        audits = audits.filter(status__in=AUDIT_ACTIVE)
    elif status in AuditStatus.values:
        audits = audits.filter(status=status)
    findings = (
        Finding.objects.filter(audit__site_id__in=site_ids, status=FindingStatus.OPEN)
        .select_related("audit", "owner", "ncr", "capa")
        .order_by("due_on", "pk")[:50]
    )
    plan_sites = policy.sites_for(request.user, "audits.plan")
    return render(
        request,
        "audits/audit_list.html",
        {
            "year": year,
            "years": [year - 1, year, year + 1],
            "programmes": programmes,
            "audits": audits,
            "findings": findings,
            "statuses": AuditStatus.choices,
            "today": today,
            "may_plan": bool(plan_sites),
            "plan_programmes": [p for p in programmes if p.site_id in plan_sites],
        },
    )


@require("audits.plan")
@create_once
def programme_create(request):
    site_ids = policy.sites_for(request.user, "audits.plan")
    form = ProgrammeForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Programme created."))
            return redirect(reverse("audits:audit_list") + f"?year={programme.year}")
    return render(request, "audits/form.html", {"form": form, "title": _("New audit programme")})


@require("audits.plan")
@create_once
def audit_create(request, pk):
    programme = get_object_or_404(AuditProgramme.objects.select_related("site"), pk=pk)
    require_site(request, "audits.plan", programme.site)
    form = AuditPlanForm(request.POST or None, site=programme.site)
    if request.method == "POST" and form.is_valid():
        try:
            audit = services.audit_plan(programme=programme, user=request.user, **form.service_kwargs())
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Audit %(code)s planned.") % {"code": audit.code})
            return redirect(services.audit_url(audit))
    title = _("Plan an audit in %(programme)s") % {"programme": programme}
    return render(request, "audits/form.html", {"form": form, "title": title})


@require("audits.view")
@access_logged("audits.audit")
def audit_detail(request, code):
    audit = _audit(request, code)
    user = request.user
    team = services.team_ids(audit)
    on_team = user.pk in team and policy.can(user, "audits.perform", audit.site)
    is_lead = user.pk == audit.lead_auditor_id and on_team
    may_plan = policy.can(user, "audits.plan", audit.site)
    offer = services.audit_close_offer(user, audit)
    findings = list(audit.findings.all())
    lang = request.LANGUAGE_CODE or "en"
    items = [(item, item.title(lang)) for item in audit.items.all()]
    return render(
        request,
        "audits/audit_detail.html",
        {
            "audit": audit,
            "items": items,
            "findings": findings,
            "on_team": on_team,
            "is_lead": is_lead,
            "may_plan": may_plan,
            "may_record": on_team and audit.status in (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS),
            "may_raise": on_team and audit.status in (AuditStatus.IN_PROGRESS, AuditStatus.REPORTING),
            "may_assign": (is_lead or may_plan) and audit.status != AuditStatus.CANCELLED,
            "record_form": ItemRecordForm(),
            "finding_form": FindingForm(audit=audit) if on_team else None,
            "assign_form": AssignForm(site=audit.site),
            "complete_form": CompleteForm(),
            "close_offer": offer,
            "close_problems": services.audit_close_problems(audit) if audit.status == AuditStatus.REPORTING else [],
            "signatures": signatures_with_validity(audit),
            "today": timezone.localdate(),
            "report_url": reverse("compliance:report_pdf", args=["audits.report"]) + f"?audit={audit.code}",
        },
    )


@require("audits.perform")
@require_POST
def audit_start(request, code):
    audit = _audit(request, code, "audits.perform")
    return run_and_redirect(
        request,
        services.audit_url(audit),
        lambda: services.audit_start(audit=audit, user=request.user),
        _("Audit started."),
    )


@require("audits.perform")
@require_POST
def item_record(request, pk):
    item = get_object_or_404(ChecklistItem.objects.select_related("audit", "audit__site"), pk=pk)
    require_site(request, "audits.perform", item.audit.site)
    form = ItemRecordForm(request.POST)
    url = services.audit_url(item.audit) + f"#item-{item.pk}"
    return run_and_redirect(
        request,
        url,
        lambda: services.item_record(item=item, user=request.user, **form.cleaned_data),
        _("Result recorded."),
        form=form,
        invalid=_("Choose the result and record the evidence."),
    )


@require("audits.perform")
@create_once
@require_POST
def finding_create(request, code):
    audit = _audit(request, code, "audits.perform")
    form = FindingForm(request.POST, audit=audit)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}" for f, e in form.errors.items()
        )
        messages.error(request, _("The finding was not raised: %(errors)s") % {"errors": errors})
        return redirect(services.audit_url(audit))
    d = dict(form.cleaned_data)
    item_id = d.pop("item")
    item = next((i for i in audit.items.all() if i.pk == item_id), None) if item_id else None
    try:
        finding = services.finding_raise(audit=audit, user=request.user, item=item, **d)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(services.audit_url(audit))
    messages.success(request, _("Finding %(code)s raised.") % {"code": finding.code})
    return redirect(services.audit_url(audit) + f"#finding-{finding.pk}")


def _finding(request, pk, perm) -> Finding:
    finding = get_object_or_404(Finding.objects.select_related("audit", "audit__site", "owner", "ncr", "capa"), pk=pk)
    require_site(request, perm, finding.audit.site)
    return finding


@require("audits.view")
@require_POST
def finding_assign(request, pk):
    finding = _finding(request, pk, "audits.view")
    form = AssignForm(request.POST, site=finding.audit.site)
    url = services.audit_url(finding.audit) + f"#finding-{finding.pk}"
    return run_and_redirect(
        request,
        url,
        lambda: services.finding_assign(finding=finding, user=request.user, **form.cleaned_data),
        _("Owner assigned."),
        form=form,
        invalid=_("Choose the owner of the finding."),
    )


@require("audits.view")
@require_POST
def finding_close(request, pk):
    finding = _finding(request, pk, "audits.view")
    form = NoteForm(request.POST)
    url = services.audit_url(finding.audit) + f"#finding-{finding.pk}"
    return run_and_redirect(
        request,
        url,
        lambda: services.finding_close(finding=finding, user=request.user, note=form.cleaned_data["note"]),
        _("Finding closed."),
        form=form,
        invalid=_("Record how the finding was addressed."),
    )


@require("audits.perform")
@require_POST
def audit_complete(request, code):
    audit = _audit(request, code, "audits.perform")
    form = CompleteForm(request.POST)
    form.is_valid()
    return run_and_redirect(
        request,
        services.audit_url(audit),
        lambda: services.audit_perform_complete(
            audit=audit, user=request.user, summary=form.cleaned_data.get("summary", "")
        ),
        _("Fieldwork completed; follow up the findings."),
    )


@require("audits.perform")
def audit_close(request, code):
    audit = _audit(request, code, "audits.perform")
    form = CloseForm(request.POST or None, request=request, meaning="approved")
    done = form_action(
        request,
        form,
        lambda: services.audit_close(
            audit=audit, user=request.user, credential=form.credential, reason=form.cleaned_data.get("reason", "")
        ),
        done=_("Audit closed."),
        to=services.audit_url(audit),
    )
    if done:
        return done
    offer = services.audit_close_offer(request.user, audit)
    return render(
        request,
        "audits/sign.html",
        {
            "form": form,
            "offer": offer,
            "problems": services.audit_close_problems(audit),
            "title": _("Close %(code)s") % {"code": audit.code},
            "back": services.audit_url(audit),
        },
    )


@require("audits.plan")
@require_POST
def audit_cancel(request, code):
    audit = _audit(request, code, "audits.plan")
    form = NoteForm(request.POST)
    reason = form.cleaned_data["note"] if form.is_valid() else ""
    return run_and_redirect(
        request,
        services.audit_url(audit),
        lambda: services.audit_cancel(audit=audit, user=request.user, reason=reason),
        _("Audit cancelled."),
    )
