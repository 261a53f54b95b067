"""Thin views over capa.services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.access import access_logged
from compliance.forms import SignatureForm
from compliance.models import Signature
from compliance.signatures import signatures_with_validity
from nonconformance.models import Complaint, Ncr
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.views_auth import require, require_decision, require_decision_site, require_site
from qms.core.views_helpers import form_action, run_and_redirect

from . import services
from .forms import (
    ActionForm,
    CapaContentForm,
    CapaCreateForm,
    EffectivenessForm,
    EvidenceForm,
    ScarCreateForm,
    ScarRejectForm,
    ScarResponseForm,
    ScarSendForm,
    ScheduleCheckForm,
    TeamForm,
)
from .models import CAPA_ACTIVE, ActionStatus, Capa, CapaAction, CapaStatus, CapaTeamMember, EffectivenessCheck, Scar


def _capa(request, code, perm="capa.view") -> Capa:
    capa = (
        Capa.objects.select_related("site", "owner", "ncr", "complaint", "scar", "created_by")
        .prefetch_related(
            Prefetch("team", queryset=CapaTeamMember.objects.select_related("user")),
            Prefetch("actions", queryset=CapaAction.objects.select_related("owner")),
            Prefetch("effectiveness_checks", queryset=EffectivenessCheck.objects.select_related("checked_by")),
        )
        .filter(code=code)
        .first()
    )
    if capa is None:
        raise Http404(code)
    require_site(request, perm, capa.site)
    return capa


def _scar(request, code, perm="capa.view") -> Scar:
    scar = Scar.objects.select_related("site", "supplier", "ncr", "created_by").filter(code=code).first()
    if scar is None:
        raise Http404(code)
    require_site(request, perm, scar.site)
    return scar


def _may_edit(user, capa) -> bool:
    return policy.can(user, "capa.manage", capa.site) or (user.pk == capa.owner_id and not policy.is_read_only(user))


@require("capa.view")
def capa_list(request):
    site_ids = policy.sites_for(request.user, "capa.view")
    qs = Capa.objects.filter(site_id__in=site_ids).select_related("site", "owner")
    status = request.GET.get("status", "")
    if status == "active":
        qs = qs.filter(status__in=CAPA_ACTIVE)
    elif status == "overdue":
        qs = qs.filter(actions__status=ActionStatus.OPEN, actions__due_on__lt=timezone.localdate()).distinct()
    elif status:
        qs = qs.filter(status=status)
    if q := request.GET.get("q", "").strip():
        qs = qs.filter(code__icontains=q) | qs.filter(title__icontains=q)
    page = Paginator(qs.order_by("-created_at", "-pk"), 25).get_page(request.GET.get("page"))
    scars = Scar.objects.filter(site_id__in=site_ids).select_related("supplier").order_by("-created_at")[:20]
    return render(
        request,
        "capa/capa_list.html",
        {
            "page_obj": page,
            "statuses": CapaStatus.choices,
            "scars": scars,
            "today": timezone.localdate(),
            "may_create": policy.can(request.user, "capa.manage"),
            "may_scar": policy.can(request.user, "scar.manage"),
        },
    )


@require("capa.manage")
@create_once
def capa_create(request):
    site_ids = policy.sites_for(request.user, "capa.manage")
    ncr = complaint = None
    if code := request.GET.get("ncr"):
        ncr = get_object_or_404(Ncr.objects.select_related("site"), code=code)
        require_site(request, "capa.manage", ncr.site)
    if code := request.GET.get("complaint"):
        complaint = get_object_or_404(Complaint.objects.select_related("site"), code=code)
        require_site(request, "capa.manage", complaint.site)
    source_record = ncr or complaint
    initial = {"owner": request.user, "effectiveness_days": 30}
    if source_record is not None:
        initial.update(
            site=source_record.site,
            title=source_record.title,
            problem_statement=source_record.description,
            source="ncr" if ncr else "complaint",
            source_reference=source_record.code,
        )
    form = CapaCreateForm(request.POST or None, site_ids=site_ids, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            capa = services.capa_create(
                site=d["site"],
                title=d["title"],
                owner=d["owner"],
                user=request.user,
                kind=d["kind"],
                source=d["source"],
                source_reference=d["source_reference"],
                form=d["form"] or None,
                ncr=ncr,
                complaint=complaint,
                problem_statement=d["problem_statement"],
                due_on=d["due_on"],
                effectiveness_days=d["effectiveness_days"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("CAPA %(code)s raised.") % {"code": capa.code})
            return redirect(services.capa_url(capa))
    return render(request, "capa/form.html", {"form": form, "title": _("Raise a CAPA")})


def _verify_offer(user, capa) -> dict:
    return policy.decision_offer(user, "capa.verify", capa.site, involved={"executed": capa.owner_id}, what=capa.code)


@require("capa.view")
@access_logged("capa.capa")
def capa_detail(request, code):
    capa = _capa(request, code)
    user = request.user
    may_edit = _may_edit(user, capa)
    checks = list(capa.effectiveness_checks.all())
    check_sigs = {
        s.object_id: s
        for s in Signature.objects.filter(
            model=EffectivenessCheck._meta.label_lower, object_id__in=[str(c.pk) for c in checks]
        ).select_related("signer")
    }
    pending = next((c for c in checks if c.result == "pending"), None)
    today = timezone.localdate()
    return render(
        request,
        "capa/capa_detail.html",
        {
            "capa": capa,
            "may_edit": may_edit and capa.is_active,
            # one offer per decision the CAPA's state allows: the form only to someone its door would let
            "close_offer": policy.decision_offer(user, "capa.close", capa.site, what=capa.code)
            if capa.status == CapaStatus.EFFECTIVENESS
            else None,
            "cancel_offer": policy.decision_offer(user, "capa.cancel", capa.site, what=capa.code)
            if capa.status in (CapaStatus.OPEN, CapaStatus.IN_PROGRESS)
            else None,
            "verify_offer": _verify_offer(user, capa) if pending else None,
            "checks": [(c, check_sigs.get(str(c.pk))) for c in checks],
            "pending_check": pending,
            "readiness": services.capa_readiness(capa) if capa.status == CapaStatus.IN_PROGRESS else [],
            "team_form": TeamForm(site=capa.site) if may_edit else None,
            "action_form": ActionForm(site=capa.site, initial={"due_on": today + timedelta(days=14)})
            if may_edit
            else None,
            "schedule_form": ScheduleCheckForm(),
            "signatures": signatures_with_validity(capa),
            "today": today,
            "report_url": reverse("compliance:report_pdf", args=["capa.8d"]) + f"?capa={capa.code}",
        },
    )


@require("capa.view")
def capa_edit(request, code):
    capa = _capa(request, code)
    if not _may_edit(request.user, capa):
        raise PermissionDenied("capa.manage")
    form = CapaContentForm(request.POST or None, is_8d=capa.is_8d, initial=CapaContentForm.initial_for(capa))
    done = form_action(
        request,
        form,
        lambda: services.capa_update(capa=capa, user=request.user, **form.service_kwargs()),
        done=_("Saved."),
        to=services.capa_url(capa),
    )
    if done:
        return done
    title = (_("8D report %(code)s") if capa.is_8d else _("CAPA %(code)s")) % {"code": capa.code}
    return render(request, "capa/form.html", {"form": form, "title": title})


@require("capa.view")
@require_POST
def team_add(request, code):
    capa = _capa(request, code)
    form = TeamForm(request.POST, site=capa.site)
    return run_and_redirect(
        request,
        services.capa_url(capa),
        lambda: services.capa_team_add(capa=capa, user=request.user, **form.cleaned_data),
        _("Team member added."),
        form=form,
        invalid=_("Choose the team member."),
    )


@require("capa.view")
@require_POST
def action_add(request, code):
    capa = _capa(request, code)
    form = ActionForm(request.POST, site=capa.site)
    return run_and_redirect(
        request,
        services.capa_url(capa),
        lambda: services.capa_action_add(capa=capa, user=request.user, **form.cleaned_data),
        _("Action added."),
        form=form,
        invalid=_("Describe the action, its owner and due date."),
    )


@require("capa.view")
@require_POST
def action_complete(request, pk):
    action = get_object_or_404(CapaAction.objects.select_related("capa", "capa__site"), pk=pk)
    require_site(request, "capa.view", action.capa.site)
    form = EvidenceForm(request.POST)
    return run_and_redirect(
        request,
        services.capa_url(action.capa),
        lambda: services.capa_action_complete(action=action, user=request.user, **form.cleaned_data),
        _("Action done."),
        form=form,
        invalid=_("Record the evidence that the action was done."),
    )


@require("capa.view")
@require_POST
def actions_close(request, code):
    capa = _capa(request, code)
    form = ScheduleCheckForm(request.POST)
    form.is_valid()
    return run_and_redirect(
        request,
        services.capa_url(capa),
        lambda: services.capa_actions_close(
            capa=capa,
            user=request.user,
            criteria=form.cleaned_data.get("criteria", ""),
            check_due_on=form.cleaned_data.get("check_due_on"),
        ),
        _("Actions closed; the effectiveness check is scheduled."),
    )


@require_decision("capa.verify")
def effectiveness_record(request, pk):
    check = get_object_or_404(EffectivenessCheck.objects.select_related("capa", "capa__site", "capa__owner"), pk=pk)
    capa = check.capa
    require_site(request, "capa.view", capa.site)
    require_decision_site(request, "capa.verify", capa.site)
    form = EffectivenessForm(request.POST or None, request=request, meaning="verified")
    done = form_action(
        request,
        form,
        lambda: services.effectiveness_check_record(
            check=check,
            result=form.cleaned_data["result"],
            evidence=form.cleaned_data["evidence"],
            user=request.user,
            credential=form.credential,
        ),
        done=_("Effectiveness check recorded."),
        to=services.capa_url(capa),
    )
    if done:
        return done
    return render(
        request,
        "capa/effectiveness.html",
        {"form": form, "check": check, "capa": capa, "offer": _verify_offer(request.user, capa)},
    )


@require("capa.view")
@require_POST
def capa_close(request, code):
    capa = _capa(request, code)
    return run_and_redirect(
        request,
        services.capa_url(capa),
        lambda: services.capa_close(capa=capa, user=request.user),
        _("CAPA closed."),
    )


@require_decision("capa.cancel")
def capa_cancel(request, code):
    capa = _capa(request, code)
    require_decision_site(request, "capa.cancel", capa.site)
    form = SignatureForm(request.POST or None, request=request, meaning="rejected", require_reason=True)
    done = form_action(
        request,
        form,
        lambda: services.capa_cancel(
            capa=capa, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
        ),
        done=_("CAPA cancelled."),
        to=services.capa_url(capa),
    )
    if done:
        return done
    return render(
        request,
        "capa/sign.html",
        {
            "form": form,
            "title": _("Cancel %(code)s") % {"code": capa.code},
            "back": services.capa_url(capa),
            "offer": policy.decision_offer(request.user, "capa.cancel", capa.site, what=capa.code),
        },
    )


# --- SCAR ------------------------------------------------------------------------------------------


@require("scar.manage")
@create_once
def scar_create(request):
    site_ids = policy.sites_for(request.user, "scar.manage")
    ncr = None
    initial = {}
    if code := request.GET.get("ncr"):
        ncr = get_object_or_404(Ncr.objects.select_related("site", "supplier"), code=code)
        require_site(request, "scar.manage", ncr.site)
        initial = {
            "site": ncr.site,
            "supplier": ncr.supplier,
            "title": ncr.title,
            "description": ncr.description,
            "contact_email": getattr(ncr.supplier, "contact_email", ""),
        }
    form = ScarCreateForm(request.POST or None, site_ids=site_ids, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            scar = services.scar_create(user=request.user, ncr=ncr, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(services.scar_url(scar))
    return render(request, "capa/form.html", {"form": form, "title": _("Raise a SCAR")})


@require("capa.view")
@access_logged("capa.scar")
def scar_detail(request, code):
    scar = _scar(request, code)
    today = timezone.localdate()
    return render(
        request,
        "capa/scar_detail.html",
        {
            "scar": scar,
            "may_manage": policy.can(request.user, "scar.manage", scar.site),
            "send_form": ScarSendForm(initial={"due_on": today + timedelta(days=services.SCAR_DEFAULT_DAYS)}),
            "response_form": ScarResponseForm(initial={"responded_on": today}),
            "reject_form": ScarRejectForm(initial={"due_on": today + timedelta(days=7)}),
            "signatures": signatures_with_validity(scar),
            "capas": list(scar.capas.all()),
            "today": today,
        },
    )


@require("scar.manage")
@require_POST
def scar_send(request, code):
    scar = _scar(request, code, "scar.manage")
    form = ScarSendForm(request.POST)
    due_on = form.cleaned_data["due_on"] if form.is_valid() else None
    return run_and_redirect(
        request,
        services.scar_url(scar),
        lambda: services.scar_send(scar=scar, user=request.user, due_on=due_on),
        _("SCAR sent to the supplier."),
    )


@require("scar.manage")
@require_POST
def scar_response(request, code):
    scar = _scar(request, code, "scar.manage")
    form = ScarResponseForm(request.POST)
    return run_and_redirect(
        request,
        services.scar_url(scar),
        lambda: services.scar_record_response(scar=scar, user=request.user, **form.cleaned_data),
        _("Supplier response recorded."),
        form=form,
        invalid=_("The supplier's response needs at least the root cause and the corrective actions."),
    )


@require("scar.manage")
def scar_accept(request, code):
    scar = _scar(request, code, "scar.manage")
    form = SignatureForm(request.POST or None, request=request, meaning="approved")
    done = form_action(
        request,
        form,
        lambda: services.scar_accept(
            scar=scar, user=request.user, credential=form.credential, comment=form.cleaned_data.get("reason", "")
        ),
        done=_("Supplier response accepted; SCAR closed."),
        to=services.scar_url(scar),
    )
    if done:
        return done
    return render(
        request,
        "capa/sign.html",
        {"form": form, "title": _("Accept %(code)s") % {"code": scar.code}, "back": services.scar_url(scar)},
    )


@require("scar.manage")
@require_POST
def scar_reject(request, code):
    scar = _scar(request, code, "scar.manage")
    form = ScarRejectForm(request.POST)
    return run_and_redirect(
        request,
        services.scar_url(scar),
        lambda: services.scar_reject_response(scar=scar, user=request.user, **form.cleaned_data),
        _("Response sent back to the supplier."),
        form=form,
        invalid=_("Tell the supplier what is missing and give a new deadline."),
    )
