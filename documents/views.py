"""Thin views over documents.services and documents.selectors."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
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
from qms.core.models import Site, User
from qms.core.signals import file_downloaded
from qms.core.uploads import file_response
from qms.core.views_auth import require, require_decision, require_decision_site, require_site
from qms.core.views_helpers import form_action, run_and_redirect

from . import hooks, selectors, services
from .forms import (
    ApproveForm,
    DocumentEditForm,
    DocumentForm,
    InForceForm,
    InstructorForm,
    NoteForm,
    ReasonForm,
    RequirementForm,
    ReviewSignForm,
    SettingForm,
    SubmitForm,
    VersionEditForm,
    VersionForm,
)
from .models import (
    Document,
    DocumentStatus,
    DocumentType,
    GateRule,
    TaskStatus,
    TrainingRecord,
    TrainingTask,
    VersionStatus,
)
from .stamping import StampError, stamp_pdf


def _site_from_query(request, perm) -> Site:
    site_ids = policy.sites_for(request.user, perm)
    if not site_ids:
        raise PermissionDenied(perm)
    raw = request.GET.get("site", "")
    try:
        site_id = int(raw) if raw else site_ids[0]
    except ValueError:
        site_id = site_ids[0]
    if site_id not in site_ids:
        raise Http404("site")
    return Site.objects.get(pk=site_id)


# --- documents -------------------------------------------------------------------------------------


@require("documents.view")
def document_list(request):
    qs = selectors.documents_for_user(request.user).select_related("site", "owner")
    status = request.GET.get("status", "active")
    today = timezone.localdate()
    if status == "active":
        qs = qs.filter(status=DocumentStatus.ACTIVE)
    elif status == "obsolete":
        qs = qs.filter(status=DocumentStatus.OBSOLETE)
    elif status == "review_due":
        qs = qs.filter(status=DocumentStatus.ACTIVE, next_review_on__lte=today + datetime.timedelta(days=30))
    if (doc_type := request.GET.get("type", "")) in DocumentType.values:
        qs = qs.filter(doc_type=doc_type)
    if q := request.GET.get("q", "").strip()[:100]:
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q))
    page = Paginator(qs.order_by("site__code", "number"), 25).get_page(request.GET.get("page"))
    effective = {
        v.document_id: v
        for v in services.DocumentVersion.objects.filter(
            document__in=[d.pk for d in page.object_list], status=VersionStatus.EFFECTIVE
        )
    }
    rows = [(d, effective.get(d.pk)) for d in page.object_list]
    return render(
        request,
        "documents/document_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "types": DocumentType.choices,
            "status": status,
            "today": today,
            "may_create": policy.can(request.user, "documents.manage"),
            "may_import": policy.can(request.user, "documents.import")
            and policy.can(request.user, "masterdata.import"),
            "may_settings": policy.can(request.user, "documents.settings"),
            "may_matrix": policy.can(request.user, "training.matrix.view"),
        },
    )


@require("documents.manage")
@create_once
def document_create(request):
    site_ids = policy.sites_for(request.user, "documents.manage")
    form = DocumentForm(request.POST or None, site_ids=site_ids, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            doc = services.document_create(
                site=d["site"],
                doc_type=d["doc_type"],
                title=d["title"],
                owner=d["owner"],
                user=request.user,
                review_period_months=d["review_period_months"],
                distribution_roles=d["distribution_roles"],
                training_roles=d["training_roles"],
                number=d["number"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Document %(n)s registered. Add its first version.") % {"n": doc.number})
            return redirect(services.document_url(doc))
    return render(request, "documents/form.html", {"form": form, "title": _("Register a controlled document")})


@require("documents.view")
@access_logged("documents.document", kwarg="pk")
def document_detail(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    user = request.user
    history = request.GET.get("history") == "1"
    in_force_form = InForceForm(request.GET if "on" in request.GET else None)
    answer = None
    if in_force_form.is_bound and in_force_form.is_valid():
        answer = selectors.in_force_answer(doc, in_force_form.cleaned_data["on"])
    effective = selectors.effective_version(doc)
    manage = policy.can(user, "documents.manage", doc.site)
    obsolete_offer = policy.decision_offer(user, "document.obsolete", doc.site, what=doc.number)
    # why not and who can act: for those who would expect to (the default permission), not every reader
    obsolete_note = not obsolete_offer["may"] and policy.can(user, "documents.approve", doc.site)
    return render(
        request,
        "documents/document_detail.html",
        {
            "doc": doc,
            "effective": effective,
            "effective_signatures": signatures_with_validity(effective) if effective else [],
            "versions": selectors.versions_for_page(user, doc, history=history),
            "history": history,
            "in_force_form": in_force_form,
            "answer": answer,
            "requirements": doc.training_requirements.all(),
            "gate_rules": GateRule.objects.filter(document=doc, is_active=True),
            "may_manage": manage and doc.status == DocumentStatus.ACTIVE,
            "may_author": policy.can(user, "documents.author", doc.site) and doc.status == DocumentStatus.ACTIVE,
            "may_review_period": (manage or user.pk == doc.owner_id) and doc.status == DocumentStatus.ACTIVE,
            "obsolete_offer": obsolete_offer,
            "obsolete_note": obsolete_note and doc.status == DocumentStatus.ACTIVE,
            "requirement_form": RequirementForm() if manage else None,
            "note_form": NoteForm(),
            "signatures": signatures_with_validity(doc),
            "may_records": policy.can(user, "training.matrix.view", doc.site),
            "today": timezone.localdate(),
        },
    )


@require("documents.manage")
def document_edit(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    require_site(request, "documents.manage", doc.site)
    initial = {
        "title": doc.title,
        "owner": doc.owner,
        "review_period_months": doc.review_period_months,
        "distribution_roles": doc.distribution_roles,
    }
    form = DocumentEditForm(request.POST or None, site=doc.site, initial=initial)
    done = form_action(
        request,
        form,
        lambda: services.document_update(document=doc, user=request.user, **form.cleaned_data),
        done=_("Saved."),
        to=services.document_url(doc),
    )
    if done:
        return done
    return render(request, "documents/form.html", {"form": form, "title": _("Edit %(n)s") % {"n": doc.number}})


@require("documents.view")
@require_POST
def document_review_record(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    form = NoteForm(request.POST)
    return run_and_redirect(
        request,
        services.document_url(doc),
        lambda: services.document_review_record(document=doc, user=request.user, note=form.cleaned_data["note"]),
        _("Periodic review recorded."),
        form=form,
        invalid=_("Record what the review found."),
    )


@require_decision("document.obsolete")
def document_obsolete(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    require_decision_site(request, "document.obsolete", doc.site)
    offer = policy.decision_offer(request.user, "document.obsolete", doc.site, what=doc.number)
    form = SignatureForm(request.POST or None, request=request, meaning="approved", require_reason=True)
    done = form_action(
        request,
        form,
        lambda: services.document_obsolete(
            document=doc, user=request.user, credential=form.credential, reason=form.cleaned_data["reason"]
        ),
        done=_("Document %(n)s is obsolete.") % {"n": doc.number},
        to=services.document_url(doc),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "documents/sign.html",
        {
            "form": form if offer["may"] else None,
            "offer": offer,
            "title": _("Make %(n)s obsolete") % {"n": doc.number},
            "back": services.document_url(doc),
            "intro": _("Every version of the document is kept; open training on it is cancelled."),
        },
    )


@require("documents.manage")
@require_POST
def requirement_set(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    require_site(request, "documents.manage", doc.site)
    form = RequirementForm(request.POST)
    return run_and_redirect(
        request,
        services.document_url(doc),
        lambda: services.requirement_set(document=doc, user=request.user, **form.cleaned_data),
        _("Training requirement saved."),
        form=form,
        invalid=_("Choose the role, the method and the days allowed."),
    )


# --- versions --------------------------------------------------------------------------------------


@require("documents.author")
@create_once
def version_create(request, pk):
    doc = selectors.document_for_user(request.user, pk)
    require_site(request, "documents.author", doc.site)
    form = VersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.version_create(
                document=doc,
                user=request.user,
                label=form.cleaned_data["label"],
                change_summary=form.cleaned_data["change_summary"],
                upload=form.cleaned_data["file"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Draft version %(v)s started.") % {"v": version.label})
            return redirect(services.version_url(version))
    return render(
        request,
        "documents/form.html",
        {"form": form, "title": _("New version of %(n)s") % {"n": doc.number}, "multipart": True},
    )


@require("documents.view")
@access_logged("documents.documentversion", kwarg="pk")
def version_detail(request, pk):
    version = selectors.version_for_user(request.user, pk)
    doc = version.document
    user = request.user
    reviews = services.current_reviews(version)
    involved = {"authored": version.author_id}
    review_offer = approve_offer = None
    if version.status == VersionStatus.IN_REVIEW:
        mine = next((r for r in reviews if r.reviewer_id == user.pk and r.status == "pending"), None)
        if mine is not None:
            review_offer = policy.decision_offer(
                user, "document.review", doc.site, involved=involved, what=str(version)
            )
        approve_offer = policy.decision_offer(user, "document.approve", doc.site, involved=involved, what=str(version))
        refusal = services.approval_refusal(user, version)
        if approve_offer["may"] and refusal:
            approve_offer = {"may": False, "why": refusal, "who": []}
        if any(r.status != "reviewed" for r in reviews):
            approve_offer = {**approve_offer, "may": False, "waiting": True}
    may_edit = version.status == VersionStatus.DRAFT and (
        (user.pk == version.author_id and policy.can(user, "documents.author", doc.site))
        or policy.can(user, "documents.manage", doc.site)
    )
    train_offer = None
    if version.status == VersionStatus.EFFECTIVE and (
        policy.can(user, "training.record", doc.site) or policy.can_decide(user, "training.assess", doc.site)
    ):  # why not and who can act: for those who would expect to (the default permission), not every reader
        train_offer = policy.decision_offer(user, "training.assess", doc.site)
    trainer = bool(train_offer and train_offer["may"])
    # The version that took this one's place, and the changes (change control) that produced each.
    successor = (
        doc.versions.filter(sequence__gt=version.sequence, effective_at__isnull=False).order_by("sequence").first()
        if version.ended_at
        else None
    )
    links = hooks.version_links([version.pk, successor.pk if successor else None])
    return render(
        request,
        "documents/version_detail.html",
        {
            "version": version,
            "doc": doc,
            "reviews": reviews,
            "all_reviews": version.reviews.select_related("reviewer").order_by("round", "pk"),
            "signatures": signatures_with_validity(version),
            "may_edit": may_edit,
            "submit_form": SubmitForm(version=version) if may_edit else None,
            "review_offer": review_offer,
            "approve_offer": approve_offer,
            "may_withdraw": (user.pk == version.author_id or policy.can(user, "documents.manage", doc.site))
            and version.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)
            and not policy.is_read_only(user),
            "records": version.training_records.select_related("user", "trainer").order_by("-trained_at")[:200],
            "tasks": version.training_tasks.filter(status=TaskStatus.OPEN).select_related("user")[:200],
            "may_train": trainer,
            "train_offer": train_offer,
            "withdraw_form": ReasonForm(),
            "today": timezone.localdate(),
            "produced_by": links.get(version.pk, []),
            "successor": successor,
            "successor_produced_by": links.get(successor.pk, []) if successor else [],
        },
    )


@require("documents.author")
def version_edit(request, pk):
    version = selectors.version_for_user(request.user, pk)
    form = VersionEditForm(
        request.POST or None, request.FILES or None, initial={"change_summary": version.change_summary}
    )
    done = form_action(
        request,
        form,
        lambda: services.version_update(
            version=version,
            user=request.user,
            change_summary=form.cleaned_data["change_summary"],
            upload=form.cleaned_data["file"],
        ),
        done=_("Saved."),
        to=services.version_url(version),
    )
    if done:
        return done
    return render(
        request,
        "documents/form.html",
        {"form": form, "title": _("Edit draft %(v)s") % {"v": str(version)}, "multipart": True},
    )


@require("documents.author")
@require_POST
def version_submit(request, pk):
    version = selectors.version_for_user(request.user, pk)
    form = SubmitForm(request.POST, version=version)
    return run_and_redirect(
        request,
        services.version_url(version),
        lambda: services.version_submit(version=version, user=request.user, reviewers=form.cleaned_data["reviewers"]),
        _("Sent for review."),
        form=form,
        invalid=_("Name at least one reviewer."),
    )


@require_decision("document.review")
def version_review(request, pk):
    version = selectors.version_for_user(request.user, pk)
    doc = version.document
    require_decision_site(request, "document.review", doc.site)
    offer = policy.decision_offer(
        request.user, "document.review", doc.site, involved={"authored": version.author_id}, what=str(version)
    )
    form = ReviewSignForm(request.POST or None, request=request, meaning="reviewed")
    done = form_action(
        request,
        form,
        lambda: services.version_review(
            version=version,
            user=request.user,
            credential=form.credential,
            accept=form.cleaned_data["outcome"] == "reviewed",
            comment=form.cleaned_data["reason"],
        ),
        done=_("Your review is signed."),
        to=services.version_url(version),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "documents/sign.html",
        {
            "form": form if offer["may"] else None,
            "offer": offer,
            "title": _("Review %(v)s") % {"v": str(version)},
            "back": services.version_url(version),
            "version": version,
        },
    )


@require_decision("document.approve")
def version_approve(request, pk):
    version = selectors.version_for_user(request.user, pk)
    doc = version.document
    require_decision_site(request, "document.approve", doc.site)
    offer = policy.decision_offer(
        request.user, "document.approve", doc.site, involved={"authored": version.author_id}, what=str(version)
    )
    refusal = services.approval_refusal(request.user, version)
    if offer["may"] and refusal:
        offer = {"may": False, "why": refusal, "who": []}
    form = ApproveForm(request.POST or None, request=request, meaning="approved")
    done = form_action(
        request,
        form,
        lambda: services.version_approve(
            version=version,
            user=request.user,
            credential=form.credential,
            effective_from=form.cleaned_data["effective_from"],
            reason=form.cleaned_data["reason"],
        ),
        done=_("Version %(v)s approved.") % {"v": version.label},
        to=services.version_url(version),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "documents/sign.html",
        {
            "form": form if offer["may"] else None,
            "offer": offer,
            "title": _("Approve %(v)s") % {"v": str(version)},
            "back": services.version_url(version),
            "version": version,
        },
    )


@require("documents.author")
@require_POST
def version_withdraw(request, pk):
    version = selectors.version_for_user(request.user, pk)
    form = ReasonForm(request.POST)
    return run_and_redirect(
        request,
        services.version_url(version),
        lambda: services.version_withdraw(version=version, user=request.user, reason=form.cleaned_data["reason"]),
        _("Version withdrawn."),
        form=form,
        invalid=_("Give the reason for withdrawing the version."),
    )


@require("documents.view")
def version_download(request, pk):
    """The version's file. A PDF comes as a controlled copy (header on every page, watermark when not in
    force); other files as stored. Every download is logged."""
    version = selectors.version_for_user(request.user, pk)
    if not version.file:
        raise Http404(_("This version has no file yet."))
    base = f"{version.document.number}_v{version.label}"
    if (
        not version.is_pdf
        or request.GET.get("original") == "1"
        and selectors.sees_everything(request.user, version.document.site_id)
    ):
        ext = version.file.name.rsplit(".", 1)[-1]
        return file_response(request, version.file, name=f"{base}.{ext}", record=version)
    try:
        data = stamp_pdf(version=version, user=request.user)
    except (StampError, FileNotFoundError, OSError) as exc:
        messages.error(request, str(exc) if isinstance(exc, StampError) else _("The stored file is missing."))
        return redirect(services.version_url(version))
    name = f"{base}_{'controlled' if version.status == VersionStatus.EFFECTIVE else 'uncontrolled'}.pdf"
    file_downloaded.send(
        sender=type(version),
        user=request.user,
        record=version,
        file_name=name,
        content_type="application/pdf",
        request=request,
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# --- training --------------------------------------------------------------------------------------


@require("training.view")
def my_training(request):
    user = request.user
    tasks = list(
        TrainingTask.objects.filter(user=user, status=TaskStatus.OPEN)
        .select_related("version__document", "site")
        .order_by("due_on")
    )
    offers: dict[int, dict] = {}  # the read-and-understood is offered per site, as its door decides it
    for task in tasks:
        if task.site_id not in offers:
            offers[task.site_id] = policy.decision_offer(user, "training.acknowledge", task.site)
        task.offer = offers[task.site_id]
    records = TrainingRecord.objects.filter(user=user).select_related("version", "document", "trainer")[:200]
    return render(
        request,
        "documents/my_training.html",
        {"tasks": tasks, "records": records, "today": timezone.localdate()},
    )


@require("training.view")
def training_acknowledge(request, pk):
    task = TrainingTask.objects.select_related("version__document", "site").filter(pk=pk, user=request.user).first()
    if task is None:
        raise Http404("task")
    offer = policy.decision_offer(request.user, "training.acknowledge", task.site)
    form = SignatureForm(request.POST or None, request=request, meaning="reviewed")
    done = form_action(
        request,
        form,
        lambda: services.training_acknowledge(
            task=task, user=request.user, credential=form.credential, comment=form.cleaned_data["reason"]
        ),
        done=_("Read and understood: signed."),
        to=reverse("documents:my_training"),
        allowed=offer["may"],
    )
    if done:
        return done
    return render(
        request,
        "documents/sign.html",
        {
            "form": form if offer["may"] else None,
            "offer": offer,
            "title": _("Read and understood: %(v)s") % {"v": str(task.version)},
            "back": reverse("documents:my_training"),
            "version": task.version,
            "intro": _("By signing you confirm that you have read and understood this version."),
        },
    )


@require_decision("training.assess")
def training_instructor(request, pk):
    version = selectors.version_for_user(request.user, pk)
    site = version.document.site
    require_decision_site(request, "training.assess", site)
    offer = policy.decision_offer(request.user, "training.assess", site)
    form = InstructorForm(request.POST or None, request=request, meaning="verified", site=site, trainer=request.user)
    if request.method == "POST" and offer["may"] and form.is_valid():
        d = form.cleaned_data
        try:
            records = services.training_record_instructor(
                version=version,
                trainees=d["trainees"],
                user=request.user,
                credential=form.credential,
                assessment=d["assessment"],
                score=d["score"],
                notes=d["reason"],
                trained_on=d["trained_on"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(n)s training record(s) signed.") % {"n": len(records)})
            return redirect(services.version_url(version))
    return render(
        request,
        "documents/sign.html",
        {
            "form": form if offer["may"] else None,
            "offer": offer,
            "title": _("Instructor-led training on %(v)s") % {"v": str(version)},
            "back": services.version_url(version),
            "version": version,
        },
    )


@require("training.matrix.view")
def training_matrix(request):
    site = _site_from_query(request, "training.matrix.view")
    matrix = selectors.training_matrix(site)
    return render(
        request,
        "documents/training_matrix.html",
        {
            "site": site,
            "sites": Site.objects.filter(pk__in=policy.sites_for(request.user, "training.matrix.view")),
            "matrix": matrix,
            "today": timezone.localdate(),
        },
    )


@require("training.matrix.view")
def training_records(request):
    """Training records at a site, by person and/or document, optionally up to a moment: "who was trained
    on it before signing that day"."""
    site = _site_from_query(request, "training.matrix.view")
    qs = TrainingRecord.objects.filter(site=site).select_related("user", "document", "version", "trainer")
    person = document = None
    if raw := request.GET.get("user", ""):
        person = User.objects.filter(pk=raw if raw.isdigit() else 0, memberships__site=site).distinct().first()
        qs = qs.filter(user=person) if person else qs.none()
    if raw := request.GET.get("document", ""):
        document = Document.objects.filter(pk=raw if raw.isdigit() else 0, site=site).first()
        qs = qs.filter(document=document) if document else qs.none()
    form = InForceForm(request.GET if request.GET.get("on") else None)
    before = None
    if form.is_bound and form.is_valid():
        before = form.cleaned_data["on"]
        end = timezone.make_aware(datetime.datetime.combine(before + datetime.timedelta(days=1), datetime.time.min))
        qs = qs.filter(trained_at__lt=end)
    page = Paginator(qs.order_by("-trained_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/training_records.html",
        {"site": site, "page_obj": page, "person": person, "document": document, "form": form, "before": before},
    )


@require("documents.settings")
def site_settings(request):
    site = _site_from_query(request, "documents.settings")
    setting = services.site_setting(site)
    rules = {r.decision: r.document for r in GateRule.objects.filter(site=site, is_active=True)}
    initial = {
        "gate_mode": setting.gate_mode if setting else "off",
        "review_reminder_days": setting.review_reminder_days if setting else 30,
        **{f"rule_{k}": v for k, v in rules.items()},
    }
    form = SettingForm(request.POST or None, site=site, initial=initial)
    done = form_action(
        request,
        form,
        lambda: services.site_setting_save(
            site=site,
            user=request.user,
            gate_mode=form.cleaned_data["gate_mode"],
            review_reminder_days=form.cleaned_data["review_reminder_days"],
            rules=form.rules(),
            reason=form.cleaned_data["reason"],
        ),
        done=_("Training settings of %(s)s saved.") % {"s": site.code},
        to=reverse("documents:settings") + f"?site={site.pk}",
    )
    if done:
        return done
    return render(
        request,
        "documents/settings.html",
        {
            "form": form,
            "site": site,
            "sites": Site.objects.filter(pk__in=policy.sites_for(request.user, "documents.settings")),
        },
    )
