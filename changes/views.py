"""Thin views over changes.services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from compliance.forms import SignatureForm
from compliance.signatures import signatures_with_validity
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.models import Role
from qms.core.views_auth import require, require_decision, require_decision_site, require_site
from qms.core.views_helpers import form_action, run_and_redirect

from . import selectors, services
from .forms import (
    AssessmentForm,
    ChangeCreateForm,
    EffectivenessForm,
    EvidenceForm,
    ImpactAddForm,
    ImpactSetForm,
    ImplementedForm,
    OutputForm,
    ReasonForm,
    TaskForm,
    VoteForm,
)
from .models import (
    CHANGE_OPEN,
    BoardVote,
    ChangeEffectivenessCheck,
    ChangeOutput,
    ChangeRequest,
    ChangeStatus,
    ChangeTask,
    ChangeType,
    ImpactItem,
    TaskStatus,
)

S = ChangeStatus


def _change(request, code, perm="changes.view") -> ChangeRequest:
    change = (
        ChangeRequest.objects.select_related("site", "part", "supplier", "equipment", "requested_by", "assessed_by")
        .prefetch_related(
            Prefetch("impacts", queryset=ImpactItem.objects.order_by("kind", "reference")),
            Prefetch("votes", queryset=BoardVote.objects.select_related("member")),
            Prefetch("tasks", queryset=ChangeTask.objects.select_related("owner", "done_by", "ppap")),
            Prefetch("checks", queryset=ChangeEffectivenessCheck.objects.select_related("checked_by")),
            Prefetch("outputs", queryset=ChangeOutput.objects.select_related("plan", "linked_by")),
        )
        .filter(code=code)
        .first()
    )
    if change is None:
        raise Http404(code)
    require_site(request, perm, change.site)
    return change


@require("changes.view")
def change_list(request):
    site_ids = policy.sites_for(request.user, "changes.view")
    qs = ChangeRequest.objects.filter(site_id__in=site_ids).select_related("site", "requested_by")
    status = request.GET.get("status", "")
    today = timezone.localdate()
    if status == "open":
        qs = qs.filter(status__in=CHANGE_OPEN)
    elif status == "overdue":
        qs = qs.filter(tasks__status=TaskStatus.OPEN, tasks__due_on__lt=today).distinct()
    elif status in S.values:
        qs = qs.filter(status=status)
    if kind := request.GET.get("type", ""):
        qs = qs.filter(change_type=kind)
    if q := request.GET.get("q", "").strip()[:100]:
        # also by the reference of an affected or produced record (a document number, a lot code)
        hits = ChangeRequest.objects.filter(
            Q(outputs__reference__icontains=q) | Q(impacts__reference__icontains=q, impacts__included=True)
        ).values("pk")
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(pk__in=hits))
    page = Paginator(qs.order_by("-created_at", "-pk"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "changes/change_list.html",
        {
            "page_obj": page,
            "statuses": S.choices,
            "types": ChangeType.choices,
            "may_create": policy.can(request.user, "changes.request"),
        },
    )


@require("changes.request")
@create_once
def change_create(request):
    site_ids = policy.sites_for(request.user, "changes.request")
    form = ChangeCreateForm(request.POST or None, site_ids=site_ids)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.change_request_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Change %(code)s requested.") % {"code": change.code})
            return redirect(services.change_url(change))
    return render(request, "changes/form.html", {"form": form, "title": _("Request a change")})


@require("changes.view")
@access_logged("changes.changerequest")
def change_detail(request, code):
    change = _change(request, code)
    user = request.user
    site = change.site
    may_assess = policy.can(user, "changes.assess", site)
    is_requester = user.pk == change.requested_by_id and not policy.is_read_only(user)
    board = services.board_state(change)
    board_offer = services.board_offer(user, change) if change.status == S.BOARD else None
    checks = list(change.checks.all())
    pending = next((c for c in checks if c.result == "pending"), None)
    verify_offer = policy.decision_offer(
        user, "change.verify", site, involved={"executed": selectors.implementers(change)}, what=change.code
    )
    today = timezone.localdate()
    return render(
        request,
        "changes/change_detail.html",
        {
            "change": change,
            "impacts": list(change.impacts.all()),
            "board": [(Role(r).label, v) for r, v in board.items()],
            "board_offer": board_offer,
            "tasks": list(change.tasks.all()),
            "checks": checks,
            "pending_check": pending,
            "verify_offer": verify_offer,
            "outputs": list(change.outputs.all()),
            "may_assess": may_assess,
            "may_submit": (is_requester or may_assess) and change.status == S.DRAFT,
            "may_link": (is_requester or may_assess)
            and change.status in (S.IMPLEMENTATION, S.EFFECTIVENESS, S.VERIFIED),
            # one offer per decision the change's state allows: the form only to someone its door would let
            "close_offer": policy.decision_offer(user, "change.close", site, what=change.code)
            if change.status == S.VERIFIED
            else None,
            "cancel_offer": policy.decision_offer(user, "change.cancel", site, what=change.code)
            if change.status in (S.DRAFT, S.ASSESSMENT, S.BOARD, S.IMPLEMENTATION)
            else None,
            "needs_ppap": services.needs_ppap(change),
            "impact_form": ImpactAddForm(),
            "assessment_form": AssessmentForm(initial={"summary": change.assessment_summary, "risk": change.risk}),
            "task_form": TaskForm(site=site, initial={"due_on": today + timedelta(days=14)}) if may_assess else None,
            "implemented_form": ImplementedForm(initial={"check_due_on": today + timedelta(days=30)}),
            "output_form": OutputForm(
                plans=selectors.plan_versions_for(change), document_versions=selectors.document_versions_for(change)
            ),
            "problems": services.implementation_problems(change) if change.status == S.IMPLEMENTATION else [],
            "signatures": signatures_with_validity(change),
            "today": today,
            "report_url": reverse("compliance:report_pdf", args=["changes.change"]) + f"?change={change.code}",
        },
    )


def _post(request, code, perm, action, message, anchor=""):
    change = _change(request, code, perm)
    return run_and_redirect(request, services.change_url(change) + anchor, lambda: action(change), message)


@require("changes.request")
@require_POST
def change_submit(request, code):
    return _post(
        request,
        code,
        "changes.request",
        lambda c: services.change_submit(change=c, user=request.user),
        _("Submitted for the impact assessment."),
    )


@require("changes.assess")
@require_POST
def impact_suggest(request, code):
    return _post(
        request,
        code,
        "changes.assess",
        lambda c: services.impact_suggest(change=c, user=request.user),
        _("Suggestions refreshed."),
        "#impact",
    )


@require("changes.assess")
@require_POST
def impact_add(request, code):
    change = _change(request, code, "changes.assess")
    form = ImpactAddForm(request.POST)
    url = services.change_url(change) + "#impact"
    if not form.is_valid():
        messages.error(request, _("Choose what is affected and name it."))
        return redirect(url)
    return run_and_redirect(
        request, url, lambda: services.impact_add(change=change, user=request.user, **form.cleaned_data), _("Added.")
    )


@require("changes.assess")
@require_POST
def impact_set(request, pk):
    item = get_object_or_404(ImpactItem.objects.select_related("change", "change__site"), pk=pk)
    require_site(request, "changes.assess", item.change.site)
    form = ImpactSetForm(request.POST)
    url = services.change_url(item.change) + "#impact"
    if not form.is_valid():
        messages.error(request, _("Say whether the record is affected."))
        return redirect(url)
    return run_and_redirect(
        request, url, lambda: services.impact_set(item=item, user=request.user, **form.cleaned_data), _("Saved.")
    )


@require("changes.assess")
@require_POST
def assessment(request, code):
    change = _change(request, code, "changes.assess")
    form = AssessmentForm(request.POST)
    return run_and_redirect(
        request,
        services.change_url(change),
        lambda: services.assessment_complete(change=change, user=request.user, **form.cleaned_data),
        _("Sent to the change board."),
        form=form,
        invalid=_("Summarise the impact for the change board."),
    )


@require_decision("change.board_sign")
def board_sign(request, code):
    change = _change(request, code)
    require_decision_site(request, "change.board_sign", change.site)
    roles = services.roles_user_may_sign(request.user, change)
    offer = services.board_offer(request.user, change)
    form = VoteForm(request.POST or None, request=request, meaning="approved", roles=roles)
    done = form_action(
        request,
        form,
        lambda: services.change_board_sign(
            change=change,
            user=request.user,
            credential=form.credential,
            vote=form.cleaned_data["vote"],
            role=form.cleaned_data["role"],
            comment=form.cleaned_data.get("reason", ""),
        ),
        done=_("Your vote is signed."),
        to=services.change_url(change),
    )
    if done:
        return done
    return render(
        request,
        "changes/sign.html",
        {
            "form": form,
            "offer": offer,
            "change": change,
            "title": _("Change board: %(code)s") % {"code": change.code},
            "back": services.change_url(change),
        },
    )


@require("changes.assess")
@require_POST
def task_add(request, code):
    change = _change(request, code, "changes.assess")
    form = TaskForm(request.POST, site=change.site)
    url = services.change_url(change) + "#tasks"
    if not form.is_valid():
        messages.error(request, _("Describe the task, its owner and due date."))
        return redirect(url)
    return run_and_redirect(
        request, url, lambda: services.task_add(change=change, user=request.user, **form.cleaned_data), _("Task added.")
    )


def _task(request, pk, perm) -> ChangeTask:
    task = get_object_or_404(
        ChangeTask.objects.select_related("change", "change__site", "change__part", "change__supplier", "ppap"), pk=pk
    )
    require_site(request, perm, task.change.site)
    return task


@require("changes.view")
@require_POST
def task_complete(request, pk):
    task = _task(request, pk, "changes.view")
    form = EvidenceForm(request.POST)
    url = services.change_url(task.change) + "#tasks"
    return run_and_redirect(
        request,
        url,
        lambda: services.task_complete(task=task, user=request.user, evidence=form.cleaned_data["evidence"]),
        _("Task done."),
        form=form,
        invalid=_("Record the evidence that the task was done."),
    )


@require("changes.view")
@require_POST
def task_ppap(request, pk):
    task = _task(request, pk, "changes.view")
    return run_and_redirect(
        request,
        services.change_url(task.change) + "#tasks",
        lambda: services.task_ppap_request(task=task, user=request.user),
        _("PPAP submission requested from the supplier."),
    )


@require("changes.assess")
@require_POST
def task_cancel(request, pk):
    task = _task(request, pk, "changes.assess")
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return run_and_redirect(
        request,
        services.change_url(task.change) + "#tasks",
        lambda: services.task_cancel(task=task, user=request.user, reason=reason),
        _("Task cancelled."),
    )


@require("changes.assess")
@require_POST
def implemented(request, code):
    change = _change(request, code, "changes.assess")
    form = ImplementedForm(request.POST)
    form.is_valid()
    return run_and_redirect(
        request,
        services.change_url(change),
        lambda: services.implementation_complete(
            change=change,
            user=request.user,
            criteria=form.cleaned_data.get("criteria", ""),
            check_due_on=form.cleaned_data.get("check_due_on"),
        ),
        _("Implemented; the effectiveness check is scheduled."),
    )


@require_decision("change.verify")
def effectiveness(request, pk):
    check = get_object_or_404(
        ChangeEffectivenessCheck.objects.select_related("change", "change__site", "change__requested_by"), pk=pk
    )
    change = check.change
    require_decision_site(request, "change.verify", change.site)
    offer = policy.decision_offer(
        request.user,
        "change.verify",
        change.site,
        involved={"executed": selectors.implementers(change)},
        what=change.code,
    )
    form = EffectivenessForm(request.POST or None, request=request, meaning="verified")
    done = form_action(
        request,
        form,
        lambda: services.change_effectiveness_record(
            check=check,
            result=form.cleaned_data["result"],
            evidence=form.cleaned_data["evidence"],
            user=request.user,
            credential=form.credential,
        ),
        done=_("Effectiveness check recorded."),
        to=services.change_url(change),
    )
    if done:
        return done
    return render(
        request,
        "changes/sign.html",
        {
            "form": form,
            "offer": offer,
            "change": change,
            "check": check,
            "title": _("Effectiveness check of %(code)s") % {"code": change.code},
            "back": services.change_url(change),
        },
    )


@require("changes.view")
@require_POST
def output_link(request, code):
    from inspection.models import InspectionPlan

    change = _change(request, code)
    form = OutputForm(
        request.POST,
        plans=selectors.plan_versions_for(change),
        document_versions=selectors.document_versions_for(change),
    )
    url = services.change_url(change) + "#outputs"
    if not form.is_valid():
        messages.error(request, _("Choose the new version."))
        return redirect(url)
    plan = document_version = None
    if pk := form.cleaned_data.get("plan"):
        plan = InspectionPlan.objects.filter(pk=pk, site=change.site).select_related("part").first()
    if pk := form.cleaned_data.get("document_version"):
        document_version = next((v for v in selectors.document_versions_for(change) if v.pk == pk), None)
    return run_and_redirect(
        request,
        url,
        lambda: services.change_output_link(
            change=change, user=request.user, plan=plan, document_version=document_version
        ),
        _("New version linked."),
    )


@require_decision("change.close")
@require_POST
def change_close(request, code):
    change = _change(request, code)
    require_decision_site(request, "change.close", change.site)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return run_and_redirect(
        request,
        services.change_url(change),
        lambda: services.change_close(change=change, user=request.user, reason=reason),
        _("Change closed."),
    )


@require_decision("change.cancel")
def change_cancel(request, code):
    change = _change(request, code)
    require_decision_site(request, "change.cancel", change.site)
    offer = policy.decision_offer(request.user, "change.cancel", change.site, what=change.code)
    form = SignatureForm(request.POST or None, request=request, meaning="rejected", require_reason=True)
    done = form_action(
        request,
        form,
        lambda: services.change_cancel(
            change=change, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
        ),
        done=_("Change cancelled."),
        to=services.change_url(change),
    )
    if done:
        return done
    return render(
        request,
        "changes/sign.html",
        {
            "form": form,
            "offer": offer,
            "change": change,
            "title": _("Cancel %(code)s") % {"code": change.code},
            "back": services.change_url(change),
        },
    )
