"""Thin views: the packs page per site, the lot bundle request, control plans, pack manifests and
retention policies."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from compliance.access import log_access
from compliance.exports import export_job_create
from compliance.models import AccessKind
from compliance.reports import ReportError
from qms.core import policy
from qms.core.errors import DomainError
from qms.core.idempotency import create_once
from qms.core.models import Site
from qms.core.views_auth import require, require_site

from . import iatf, selectors, services
from .assemble import verify_pack
from .bundle import lot_for_bundle
from .forms import ControlPlanForm, RetentionForm
from .models import RecordType


def _chosen_site(request, perm="packs.view") -> Site | None:
    sites = selectors.sites_for_packs(request.user)
    chosen = request.GET.get("site") or request.POST.get("site") or ""
    for s in sites:
        if s.code == chosen:
            return s
    if chosen:
        return None
    return sites[0] if sites else None


@require("packs.view")
def index(request):
    sites = selectors.sites_for_packs(request.user)
    site = _chosen_site(request)
    if site is None:
        raise Http404(_("No such site among yours."))
    offered = selectors.packs_offered(site)
    context = {
        "sites": sites,
        "site": site,
        "offered": offered,
        "can_export": policy.can(request.user, "packs.export", site),
        "can_generate": policy.can(request.user, "packs.control_plan", site),
        "can_retention": policy.can(request.user, "packs.retention", site),
        "manifests": selectors.manifests_for_site(site) if policy.can(request.user, "packs.export", site) else [],
    }
    if "control_plan" in offered:
        latest = selectors.control_plans_for_site(site)
        context["parts"] = [(p, latest.get(p.pk)) for p in iatf.parts_with_plans(site)]
        context["cp_form"] = ControlPlanForm(site=site)
    return render(request, "packs/index.html", context)


@require("packs.export")
def lot_bundle(request):
    """GET: what the bundle of a lot will hold; POST: queue it (export job with progress) and go to the job."""
    code = (request.POST.get("lot") if request.method == "POST" else request.GET.get("lot")) or ""
    lot, error = None, ""
    if code:
        try:
            lot = lot_for_bundle(code, request.user)
        except ReportError as exc:
            error = str(exc)
    if request.method == "POST" and lot is not None:
        try:
            job = export_job_create(
                user=request.user,
                key="packs.lot_bundle",
                params={"lot": lot.code},
                fmt="pdf",
                language=request.POST.get("lang") or request.LANGUAGE_CODE,
            )
        except DomainError as exc:
            error = str(exc)
        else:
            log_access(
                request=request,
                kind=AccessKind.EXPORT,
                report_key=job.key,
                params=job.params,
                format="pdf",
                model="compliance.exportjob",
                object_pk=job.pk,
                site_id=lot.site_id,
            )
            return redirect("compliance:export_detail", pk=job.pk)
    status = 400 if error else 200
    return render(
        request,
        "packs/lot_bundle.html",
        {"lot": lot, "code": code, "error": error, "lang": request.LANGUAGE_CODE},
        status=status,
    )


@require("packs.control_plan")
@create_once
def control_plan_generate(request):
    if request.method != "POST":
        return redirect("packs:index")
    site = _chosen_site(request, "packs.control_plan")
    if site is None:
        raise Http404(_("No such site among yours."))
    require_site(request, "packs.control_plan", site)
    form = ControlPlanForm(request.POST, site=site)
    if form.is_valid():
        part = form.cleaned_data["part"]
        try:
            plan, created = iatf.control_plan_generate(site=site, part=part, user=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            if created:
                messages.success(request, _("Control plan version %(v)s generated.") % {"v": plan.version})
            else:
                messages.info(
                    request,
                    _("Nothing changed since version %(v)s: the inspection plans and parameters are the same.")
                    % {"v": plan.version},
                )
            return redirect("packs:control_plan", pk=plan.pk)
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect(reverse("packs:index") + f"?site={site.code}")


@require("packs.view")
def control_plan(request, pk: int):
    plan = selectors.control_plan_by_pk(pk)
    if plan is None:
        raise Http404(_("No such control plan at your sites."))
    require_site(request, "packs.view", plan.site)
    versions = list(
        plan.__class__.objects.filter(site=plan.site, part=plan.part).order_by("-version").values("pk", "version")
    )
    return render(
        request,
        "packs/control_plan.html",
        {"plan": plan, "rows": iatf.plan_rows(plan), "versions": versions, "part": plan.part},
    )


@require("packs.export")
def manifest(request, pk: int):
    row = selectors.manifest_for_user(request.user, pk)
    if row is None:
        raise Http404(_("No such pack at your sites."))
    log_access(request=request, kind=AccessKind.VIEW, obj=row, site_id=row.site_id)
    check = verify_pack(row) if request.GET.get("verify") else None
    return render(request, "packs/manifest.html", {"row": row, "m": row.manifest, "check": check})


@require("packs.view")
def retention(request):
    site = _chosen_site(request)
    if site is None:
        raise Http404(_("No such site among yours."))
    may_change = policy.can(request.user, "packs.retention", site)
    form = None
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("packs.retention")
        form = RetentionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.retention_policy_set(site=site, user=request.user, **data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("Retention policy saved."))
                return redirect(reverse("packs:retention") + f"?site={site.code}")
    return render(
        request,
        "packs/retention.html",
        {
            "site": site,
            "sites": selectors.sites_for_packs(request.user),
            "policies": selectors.policies_for_site(site),
            "form": form or (RetentionForm() if may_change else None),
            "may_change": may_change,
            "record_types": RecordType.choices,
        },
        status=400 if form is not None and form.errors else 200,
    )
