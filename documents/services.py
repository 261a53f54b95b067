"""Every write of the documents app: controlled documents and their versions (review, approval,
effectiveness, obsolescence), periodic review, training requirements, tasks and records, reminders.

Doors (qms.core.policy.DECISIONS): document.review, document.approve, document.obsolete,
training.acknowledge, training.assess. Each locks its row and re-checks the state inside.
"""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.signatures import credential_check_owner, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import clean_code
from qms.core.errors import DomainError, PermissionRefused
from qms.core.i18n import LazyFormat
from qms.core.models import Membership, Role, User
from qms.core.selectors import users_with_role
from qms.core.services import notification_send
from qms.core.uploads import check_upload

from .models import (
    TYPE_PREFIX,
    AssessmentResult,
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    GateMode,
    GateRule,
    ReportingLine,
    ReviewStatus,
    SiteTrainingSetting,
    TaskStatus,
    TrainingMethod,
    TrainingRecord,
    TrainingRequirement,
    TrainingTask,
    VersionReview,
    VersionStatus,
)

REMIND_DAYS_BEFORE = 3
MAX_REVIEW_MONTHS = 120


def document_url(document) -> str:
    return reverse("documents:detail", args=[document.pk])


def version_url(version) -> str:
    return reverse("documents:version", args=[version.pk])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus `months` calendar months (the 31st becomes the month's last day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def _clean_roles(roles) -> list[str]:
    out = []
    for r in roles or []:
        r = str(r).strip()
        if r not in Role.values:
            raise DomainError(
                _("“%(r)s” is not a role. Use one of: %(all)s.") % {"r": r, "all": ", ".join(Role.values)}
            )
        if r not in out:
            out.append(r)
    return out


def _check_period(months) -> int:
    try:
        months = int(months)
    except (TypeError, ValueError):
        raise DomainError(_("The review period is a whole number of months.")) from None
    if not 1 <= months <= MAX_REVIEW_MONTHS:
        raise DomainError(_("The review period is between 1 and %(n)s months.") % {"n": MAX_REVIEW_MONTHS})
    return months


# --- documents -------------------------------------------------------------------------------------


def next_document_number(site, doc_type: str) -> str:
    """SITE-TYPE-NNNN, sequential per type and site (BRG-SOP-0004)."""
    stem = f"{site.code}-{TYPE_PREFIX[doc_type]}-"
    numbers = Document._base_manager.filter(site=site, number__startswith=stem).values_list("number", flat=True)
    highest = 0
    for n in numbers:
        tail = n[len(stem) :]
        if tail.isdigit():
            highest = max(highest, int(tail))
    return f"{stem}{highest + 1:04d}"


def document_create(
    *,
    site,
    doc_type: str,
    title: str,
    owner,
    user,
    review_period_months: int = 24,
    distribution_roles=(),
    training_roles=(),
    number: str = "",
    next_review_on=None,
) -> Document:
    """Register a controlled document (numbered per type and site unless a number is given, e.g. an
    import of existing documents). Its content comes with its first version."""
    policy.check(user, "documents.manage", site)
    if doc_type not in DocumentType.values:
        raise DomainError(_("Choose the type of document."))
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Give the document a title."))
    if len(title) > 200:
        raise DomainError(_("The title is longer than 200 characters."))
    if owner is None or not policy.can(owner, "documents.view", site) or policy.is_read_only(owner):
        raise DomainError(_("%(user)s cannot own a document at this site.") % {"user": owner})
    months = _check_period(review_period_months)
    roles = _clean_roles(distribution_roles)
    training = _clean_roles(training_roles)
    with transaction.atomic(), audit_context(user=user, reason=_("document registered")):
        for _attempt in range(5):
            candidate = clean_code(number, label=_("document number"), max_length=40) if number else None
            candidate = candidate or next_document_number(site, doc_type)
            if Document._base_manager.filter(site=site, number=candidate).exists():
                if number:
                    raise DomainError(_("Document number %(n)s is already used at this site.") % {"n": candidate})
                continue
            try:
                with transaction.atomic():
                    doc = Document.objects.create(
                        site=site,
                        doc_type=doc_type,
                        number=candidate,
                        title=title,
                        owner=owner,
                        review_period_months=months,
                        distribution_roles=roles,
                        next_review_on=next_review_on,
                        created_by=user,
                    )
                break
            except IntegrityError:
                if number:
                    raise DomainError(
                        _("Document number %(n)s is already used at this site.") % {"n": candidate}
                    ) from None
                continue
        else:
            raise DomainError(_("Could not allocate a document number; try again."))
        for role in training:
            TrainingRequirement.objects.create(document=doc, role=role)
    return doc


DOCUMENT_FIELDS = {"title", "owner", "review_period_months", "distribution_roles"}


def document_update(*, document: Document, user, reason: str, **fields) -> Document:
    """Change a document's metadata (title, owner, review period, distribution), with a reason."""
    policy.check(user, "documents.manage", document.site)
    unknown = set(fields) - DOCUMENT_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status != DocumentStatus.ACTIVE:
            raise DomainError(_("An obsolete document cannot be changed."))
        if "title" in fields:
            title = (fields["title"] or "").strip()
            if not title or len(title) > 200:
                raise DomainError(_("Give the document a title (at most 200 characters)."))
            locked.title = title
        if "owner" in fields:
            owner = fields["owner"]
            if owner is None or not policy.can(owner, "documents.view", locked.site) or policy.is_read_only(owner):
                raise DomainError(_("%(user)s cannot own a document at this site.") % {"user": owner})
            locked.owner = owner
        if "review_period_months" in fields:
            locked.review_period_months = _check_period(fields["review_period_months"])
            if locked.last_reviewed_on:
                locked.next_review_on = add_months(locked.last_reviewed_on, locked.review_period_months)
        if "distribution_roles" in fields:
            locked.distribution_roles = _clean_roles(fields["distribution_roles"])
        locked.save(reason=reason)
    return locked


@policy.door("document.obsolete")
def document_obsolete(*, document: Document, user, credential, reason: str) -> Document:
    """Withdraw a document: e-signed with the reason; its effective version and any version in work
    become obsolete (kept, never deleted) and open training on it is cancelled."""
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(user, "document.obsolete", document.site, what=document.number)
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for making the document obsolete."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status != DocumentStatus.ACTIVE:
            raise DomainError(_("Document %(n)s is already obsolete.") % {"n": locked.number})
        for version in DocumentVersion.objects.select_for_update().filter(
            document=locked, status__in=[*VersionStatus.values]
        ):
            if version.status in (VersionStatus.SUPERSEDED, VersionStatus.OBSOLETE):
                continue
            version.make_obsolete(reason=reason)
            version.save(reason=reason)
        _cancel_open_tasks(locked, reason=_("document made obsolete"))
        locked.make_obsolete(reason=reason)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="approved", reason=reason, role="obsolete")
    return locked


def document_review_record(*, document: Document, user, note: str, today=None) -> Document:
    """The periodic review: the owner (or a document manager) confirms the document is still right;
    the next review is due a review period later. A needed change starts a new version instead."""
    today = today or timezone.localdate()
    if user.pk != document.owner_id:
        policy.check(user, "documents.manage", document.site)
    if not (note or "").strip():
        raise DomainError(_("Record what the review found."))
    with transaction.atomic(), audit_context(user=user, reason=note):
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status != DocumentStatus.ACTIVE:
            raise DomainError(_("An obsolete document is not reviewed."))
        locked.last_reviewed_on = today
        locked.next_review_on = add_months(today, locked.review_period_months)
        locked.save(reason=note)
    return locked


# --- versions --------------------------------------------------------------------------------------


def _attach(version: DocumentVersion, upload) -> None:
    checked = check_upload(upload, use="document")
    version.file = checked.content_file()
    version.file_name = checked.name
    version.file_type = checked.content_type
    version.file_size = checked.size
    version.file_sha256 = checked.sha256


def version_create(*, document: Document, user, change_summary: str = "", label: str = "", upload=None):
    """Start a new version (a draft) of a document. One version is in work at a time."""
    policy.check(user, "documents.author", document.site)
    if upload is not None:
        check_upload(upload, use="document")  # refuse a bad file before anything is written
    label = (label or "").strip()
    if label:
        label = clean_code(label, label=_("version"), max_length=20)
    with transaction.atomic(), audit_context(user=user, reason=_("new version started")):
        doc = Document.objects.select_for_update().get(pk=document.pk)
        if doc.status != DocumentStatus.ACTIVE:
            raise DomainError(_("Document %(n)s is obsolete: it gets no new version.") % {"n": doc.number})
        in_work = doc.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.IN_REVIEW]).first()
        if in_work is not None:
            raise DomainError(
                _("Version %(v)s of %(n)s is still in work (%(s)s): finish or withdraw it first.")
                % {"v": in_work.label, "n": doc.number, "s": in_work.get_status_display()}
            )
        sequence = (doc.versions.order_by("-sequence").values_list("sequence", flat=True).first() or 0) + 1
        label = label or str(sequence)
        if doc.versions.filter(label=label).exists():
            raise DomainError(_("Version %(v)s of %(n)s exists already.") % {"v": label, "n": doc.number})
        version = DocumentVersion(
            document=doc, sequence=sequence, label=label, change_summary=(change_summary or "").strip(), author=user
        )
        if upload is not None:
            _attach(version, upload)
        version.save()
    return version


def _may_edit_draft(user, version: DocumentVersion) -> None:
    if user.pk != version.author_id:
        policy.check(user, "documents.manage", version.document.site)
    else:
        policy.check(user, "documents.author", version.document.site)


def version_update(*, version: DocumentVersion, user, change_summary=None, upload=None) -> DocumentVersion:
    """Change a draft: its file (checked by content, size-limited) and its change summary."""
    _may_edit_draft(user, version)
    if upload is not None:
        check_upload(upload, use="document")
    with transaction.atomic(), audit_context(user=user, reason=_("draft changed")):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.DRAFT:
            raise DomainError(
                _("Only a draft can be changed; this version is %(s)s.") % {"s": locked.get_status_display()}
            )
        if change_summary is not None:
            locked.change_summary = change_summary.strip()
        if upload is not None:
            _attach(locked, upload)
        locked.save(reason=_("draft changed"))
    return locked


def version_submit(*, version: DocumentVersion, user, reviewers) -> DocumentVersion:
    """Send a draft for review to named reviewers (each must e-sign "reviewed"; none is the author)."""
    _may_edit_draft(user, version)
    site = version.document.site
    reviewers = list({r.pk: r for r in reviewers if r is not None}.values())
    if not reviewers:
        raise DomainError(_("Name at least one reviewer."))
    for r in reviewers:
        if r.pk == version.author_id:
            raise DomainError(_("The author cannot review their own version: name someone else."))
        if not policy.can_decide(r, "document.review", site):
            raise DomainError(_("%(user)s may not review documents at this site.") % {"user": r})
    with transaction.atomic(), audit_context(user=user, reason=_("sent for review")):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.DRAFT:
            raise DomainError(_("Only a draft can be sent for review."))
        if not locked.file:
            raise DomainError(_("Attach the document's file before sending it for review."))
        if not locked.change_summary:
            raise DomainError(_("Say what changed in this version before sending it for review."))
        rounds = locked.reviews.order_by("-round").values_list("round", flat=True).first() or 0
        locked.submit()
        locked.save(reason=_("sent for review"))
        for r in reviewers:
            VersionReview.objects.create(version=locked, reviewer=r, round=rounds + 1)
        doc = locked.document
        transaction.on_commit(
            lambda: notification_send(
                recipients=reviewers,
                subject=LazyFormat(
                    gettext_lazy("Please review %(n)s version %(v)s: %(t)s"), n=doc.number, v=locked.label, t=doc.title
                ),
                link=version_url(locked),
                dedup_key=f"doc-review:{locked.pk}:{rounds + 1}",
                site=doc.site,
            )
        )
    return locked


def current_reviews(version: DocumentVersion) -> list[VersionReview]:
    last = version.reviews.order_by("-round").values_list("round", flat=True).first()
    if last is None:
        return []
    return list(version.reviews.filter(round=last).select_related("reviewer"))


@policy.door("document.review")
def version_review(*, version: DocumentVersion, user, credential, accept: bool = True, comment: str = ""):
    """A named reviewer e-signs "reviewed", or sends the version back to the author with the reason
    (signed "rejected"). Not the author. Each reviewer once per round."""
    credential_check_owner(user=user, credential=credential)
    doc = version.document
    policy.check_decide(user, "document.review", doc.site, involved={"authored": version.author_id}, what=str(version))
    if not accept and not (comment or "").strip():
        raise DomainError(_("Tell the author why the version goes back."))
    reason = comment or (_("reviewed") if accept else "")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.IN_REVIEW:
            raise DomainError(_("Version %(v)s is not in review.") % {"v": str(locked)})
        review = next((r for r in current_reviews(locked) if r.reviewer_id == user.pk), None)
        if review is None:
            raise PermissionRefused(_("You are not a named reviewer of this version."))
        review = VersionReview.objects.select_for_update().get(pk=review.pk)
        if review.status != ReviewStatus.PENDING:
            raise DomainError(_("You have already reviewed this version."))
        review.status = ReviewStatus.REVIEWED if accept else ReviewStatus.SENT_BACK
        review.comment = comment or ""
        review.decided_at = timezone.now()
        review.save(reason=reason)
        signature_record(
            credential=credential,
            instance=locked,
            meaning="reviewed" if accept else "rejected",
            reason=reason,
            role="reviewer",
        )
        if not accept:
            locked.send_back()
            locked.save(reason=comment)
            transaction.on_commit(
                lambda: notification_send(
                    recipients=[locked.author],
                    subject=LazyFormat(
                        gettext_lazy("%(n)s version %(v)s was sent back: %(why)s"),
                        n=doc.number,
                        v=locked.label,
                        why=comment,
                    ),
                    link=version_url(locked),
                    dedup_key=f"doc-sent-back:{review.pk}",
                    site=doc.site,
                    level="warning",
                )
            )
        elif all(r.status == ReviewStatus.REVIEWED for r in current_reviews(locked)):
            approvers = [
                u
                for u in policy.eligible_users("document.approve", doc.site, involved={"authored": locked.author_id})
                if u.pk not in reviewer_ids(locked)
            ]
            transaction.on_commit(
                lambda: notification_send(
                    recipients=approvers,
                    subject=LazyFormat(
                        gettext_lazy("%(n)s version %(v)s is reviewed and waits for approval"),
                        n=doc.number,
                        v=locked.label,
                    ),
                    link=version_url(locked),
                    dedup_key=f"doc-approve:{locked.pk}:{review.round}",
                    site=doc.site,
                )
            )
    return locked


def reviewer_ids(version: DocumentVersion) -> set[int]:
    """Everyone who reviewed this version (any round): they do not approve it."""
    return set(version.reviews.filter(status=ReviewStatus.REVIEWED).values_list("reviewer_id", flat=True))


def approval_refusal(user, version: DocumentVersion) -> str:
    """Why `user` may not approve `version` beyond the policy's authority and authorship ("" if none)."""
    if user.pk in reviewer_ids(version):
        return _("You reviewed this version, so you cannot also approve it: another authorised person must.")
    return ""


@policy.door("document.approve")
def version_approve(
    *, version: DocumentVersion, user, credential, effective_from=None, reason: str = "", today=None
) -> DocumentVersion:
    """E-signed approval after every named reviewer signed; not by the author nor a reviewer. Effective
    on `effective_from` (today: at once; later: the periodic job makes it effective that day)."""
    credential_check_owner(user=user, credential=credential)
    doc = version.document
    policy.check_decide(user, "document.approve", doc.site, involved={"authored": version.author_id}, what=str(version))
    refusal = approval_refusal(user, version)
    if refusal:
        raise PermissionRefused(refusal)
    today = today or timezone.localdate()
    effective_from = effective_from or today
    if effective_from < today:
        raise DomainError(_("The effective date cannot be in the past."))
    reason = reason or _("approved")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.IN_REVIEW:
            raise DomainError(
                _("Version %(v)s is %(s)s: only a version in review can be approved.")
                % {"v": str(locked), "s": locked.get_status_display()}
            )
        reviews = current_reviews(locked)
        waiting = [r.reviewer.printed_name for r in reviews if r.status != ReviewStatus.REVIEWED]
        if not reviews or waiting:
            raise DomainError(
                _("Every named reviewer signs before approval; still waiting for: %(who)s.")
                % {"who": ", ".join(waiting) or "-"}
            )
        locked.approve(by=user, effective_from=effective_from)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="approved", reason=reason, role="approver")
        if effective_from <= today:
            _make_effective(locked, user=user)
    return locked


def version_withdraw(*, version: DocumentVersion, user, reason: str) -> DocumentVersion:
    """Abandon a version that never became effective (draft, in review, approved): obsolete, kept."""
    _may_edit_draft(user, version)
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for withdrawing the version."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status not in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED):
            raise DomainError(_("Only a version that is not yet effective can be withdrawn."))
        locked.make_obsolete(reason=reason)
        locked.save(reason=reason)
    return locked


def _make_effective(version: DocumentVersion, *, user, at=None) -> DocumentVersion:
    """Inside a transaction, with the version locked and approved: supersede the version in force, make
    this one effective, restart the review period, create the training tasks."""
    doc = Document.objects.select_for_update().get(pk=version.document_id)
    at = at or timezone.now()
    why = _("superseded by version %(v)s") % {"v": version.label}
    for prev in DocumentVersion.objects.select_for_update().filter(document=doc, status=VersionStatus.EFFECTIVE):
        prev.supersede(reason=why)
        prev.ended_at = at
        prev.save(reason=why)
    version.make_effective()
    version.effective_at = at
    version.save(reason=_("effective"))
    day = timezone.localtime(at).date()
    doc.last_reviewed_on = day
    doc.next_review_on = add_months(day, doc.review_period_months)
    doc.save(reason=_("version %(v)s effective") % {"v": version.label})
    _cancel_open_tasks(doc, reason=why, keep_version=version)
    tasks = training_tasks_create(version=version, today=day)
    transaction.on_commit(lambda: _notify_effective(version, tasks))
    return version


def _notify_effective(version, tasks) -> None:
    doc = version.document
    for task in tasks:
        notification_send(
            recipients=[task.user],
            subject=LazyFormat(
                gettext_lazy("Training: read %(n)s version %(v)s by %(due)s"),
                n=doc.number,
                v=version.label,
                due=task.due_on.isoformat(),
            ),
            body=version.change_summary,
            link=reverse("documents:my_training"),
            dedup_key=f"training-new:{task.pk}",
            site=doc.site,
        )


def version_effective_apply(*, version: DocumentVersion, at=None) -> DocumentVersion | None:
    """Make an approved version effective now (the periodic job, on its effective date). Idempotent:
    a version already effective, or not approved, is left alone."""
    from qms.core.services import system_actor

    actor = system_actor()
    with transaction.atomic(), audit_context(user=actor, reason=_("effective date reached"), source="system"):
        locked = DocumentVersion.objects.select_for_update().filter(pk=version.pk).first()
        if locked is None or locked.status != VersionStatus.APPROVED:
            return None
        return _make_effective(locked, user=actor, at=at)


def versions_effective_due(*, today=None) -> int:
    """The periodic job: every approved version whose effective date has come becomes effective."""
    today = today or timezone.localdate()
    done = 0
    due = DocumentVersion.objects.filter(status=VersionStatus.APPROVED, effective_from__lte=today).order_by(
        "effective_from", "pk"
    )
    for version in due:
        if version_effective_apply(version=version) is not None:
            done += 1
    return done


# --- training --------------------------------------------------------------------------------------


def requirement_set(
    *, document: Document, role: str, user, method: str = "read", due_days: int = 14, valid_months=None, active=True
) -> TrainingRequirement:
    """Require people holding `role` at the document's site to be trained on each effective version."""
    policy.check(user, "documents.manage", document.site)
    if role not in Role.values or role == Role.AUDITOR:
        raise DomainError(_("Choose a role that does work at the site."))
    if method not in (TrainingMethod.READ, TrainingMethod.INSTRUCTOR):
        raise DomainError(_("Choose read and understood or instructor-led."))
    if not 1 <= int(due_days) <= 365:
        raise DomainError(_("Training is due within 1 to 365 days."))
    if valid_months is not None and not 1 <= int(valid_months) <= 120:
        raise DomainError(_("A qualification is valid for 1 to 120 months."))
    with transaction.atomic(), audit_context(user=user, reason=_("training requirement set")):
        req = TrainingRequirement.objects.select_for_update().filter(document=document, role=role).first()
        if req is None:
            return TrainingRequirement.objects.create(
                document=document,
                role=role,
                method=method,
                due_days=due_days,
                valid_months=valid_months,
                is_active=active,
            )
        req.method, req.due_days, req.valid_months, req.is_active = method, due_days, valid_months, active
        req.save(reason=_("training requirement changed"))
        return req


def _trainees(document: Document) -> dict[int, tuple]:
    """user id -> (user, requirement) for everyone the document's active requirements cover."""
    reqs = list(TrainingRequirement.objects.filter(document=document, is_active=True))
    out: dict[int, tuple] = {}
    by_role = {r.role: r for r in reqs}
    if not by_role:
        return out
    rows = (
        Membership.objects.filter(site=document.site, role__in=list(by_role), is_active=True, user__is_active=True)
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user_id", "role")
    )
    for m in rows:
        req = by_role[m.role]
        current = out.get(m.user_id)
        # instructor-led wins over read-and-understood when a person holds both roles
        if current is None or (
            req.method == TrainingMethod.INSTRUCTOR and current[1].method != TrainingMethod.INSTRUCTOR
        ):
            out[m.user_id] = (m.user, req)
    return out


def training_tasks_create(*, version: DocumentVersion, today=None) -> list[TrainingTask]:
    """Read-and-understood (or instructor-led) tasks for everyone the requirements cover; once per person
    and version."""
    today = today or timezone.localdate()
    doc = version.document
    existing = set(TrainingTask.objects.filter(version=version).values_list("user_id", flat=True))
    trained = set(TrainingRecord.objects.filter(version=version).values_list("user_id", flat=True))
    tasks = []
    for user_id, (user, req) in _trainees(doc).items():
        if user_id in existing or user_id in trained:
            continue
        tasks.append(
            TrainingTask.objects.create(
                site=doc.site,
                user=user,
                version=version,
                method=req.method,
                due_on=today + timedelta(days=req.due_days),
            )
        )
    return tasks


def _cancel_open_tasks(document: Document, *, reason: str, keep_version=None) -> int:
    n = 0
    qs = TrainingTask.objects.select_for_update().filter(version__document=document, status=TaskStatus.OPEN)
    if keep_version is not None:
        qs = qs.exclude(version=keep_version)
    for task in qs:
        task.status = TaskStatus.CANCELLED
        task.cancel_reason = reason
        task.save(reason=reason)
        n += 1
    return n


def _expiry(document: Document, user, site, trained_on: datetime.date):
    months = [
        r.valid_months
        for r in TrainingRequirement.objects.filter(
            document=document,
            is_active=True,
            role__in=list(policy.roles(user, site)),
            valid_months__isnull=False,
        )
    ]
    return add_months(trained_on, min(months)) if months else None


@policy.door("training.acknowledge")
def training_acknowledge(*, task: TrainingTask, user, credential, comment: str = "") -> TrainingRecord:
    """The trainee e-signs "read and understood" (meaning reviewed, signed as trainee) on their own task."""
    credential_check_owner(user=user, credential=credential)
    if task.user_id != user.pk:
        raise PermissionRefused(_("Only the trainee signs their own read-and-understood."))
    policy.check_decide(user, "training.acknowledge", task.site)
    if task.method == TrainingMethod.INSTRUCTOR:
        raise DomainError(_("This training is instructor-led: the trainer records it with the assessment."))
    reason = comment or _("read and understood")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = TrainingTask.objects.select_for_update().select_related("version__document").get(pk=task.pk)
        if locked.status != TaskStatus.OPEN:
            raise DomainError(_("This training task is %(s)s.") % {"s": locked.get_status_display()})
        version = locked.version
        if version.status != VersionStatus.EFFECTIVE:
            raise DomainError(_("Version %(v)s is no longer in force.") % {"v": str(version)})
        now = timezone.now()
        record = TrainingRecord.objects.create(
            site=locked.site,
            user=user,
            document=version.document,
            version=version,
            task=locked,
            method=TrainingMethod.READ,
            trained_at=now,
            expires_on=_expiry(version.document, user, locked.site, timezone.localdate()),
            notes=comment,
            recorded_by=user,
        )
        locked.status = TaskStatus.DONE
        locked.done_at = now
        locked.save(reason=reason)
        signature_record(
            credential=credential, instance=record, meaning="reviewed", reason=reason, role="read and understood"
        )
    return record


@policy.door("training.assess")
def training_record_instructor(
    *,
    version: DocumentVersion,
    trainees,
    user,
    credential,
    assessment: str,
    score: str = "",
    notes: str = "",
    trained_on=None,
) -> list[TrainingRecord]:
    """Instructor-led training with an assessment, recorded and e-signed by the trainer ("verified"),
    never by a trainee. A passed assessment completes the trainee's open task on this version."""
    credential_check_owner(user=user, credential=credential)
    doc = version.document
    policy.check_decide(user, "training.assess", doc.site)
    trainees = list({t.pk: t for t in trainees if t is not None}.values())
    if not trainees:
        raise DomainError(_("Choose who was trained."))
    if any(t.pk == user.pk for t in trainees):
        raise PermissionRefused(_("A trainer does not assess their own training: another trainer records it."))
    for t in trainees:
        if not policy.roles(t, doc.site) - {Role.AUDITOR}:
            raise DomainError(_("%(user)s does not work at this site.") % {"user": t})
    if assessment not in (AssessmentResult.PASSED, AssessmentResult.FAILED):
        raise DomainError(_("Record the assessment result: passed or failed."))
    if len(score or "") > 20:
        raise DomainError(_("The score is at most 20 characters."))
    today = timezone.localdate()
    trained_on = trained_on or today
    if trained_on > today:
        raise DomainError(_("The training date cannot be in the future."))
    trained_at = timezone.make_aware(datetime.datetime.combine(trained_on, datetime.time(12)))
    if trained_on == today:
        trained_at = timezone.now()
    reason = notes or _("instructor-led training recorded")
    records = []
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != VersionStatus.EFFECTIVE:
            raise DomainError(
                _("Training is recorded on the version in force; %(v)s is %(s)s.")
                % {
                    "v": str(locked),
                    "s": locked.get_status_display(),
                }
            )
        for trainee in trainees:
            task = (
                TrainingTask.objects.select_for_update()
                .filter(user=trainee, version=locked, status=TaskStatus.OPEN)
                .first()
            )
            passed = assessment == AssessmentResult.PASSED
            record = TrainingRecord.objects.create(
                site=doc.site,
                user=trainee,
                document=doc,
                version=locked,
                task=task if passed else None,
                method=TrainingMethod.INSTRUCTOR,
                trained_at=trained_at,
                trainer=user,
                assessment=assessment,
                score=(score or "").strip(),
                expires_on=_expiry(doc, trainee, doc.site, trained_on) if passed else None,
                notes=notes,
                recorded_by=user,
            )
            if task is not None and passed:
                task.status = TaskStatus.DONE
                task.done_at = timezone.now()
                task.save(reason=reason)
            signature_record(credential=credential, instance=record, meaning="verified", reason=reason, role="trainer")
            records.append(record)
    return records


# --- settings --------------------------------------------------------------------------------------


def site_setting(site) -> SiteTrainingSetting | None:
    return SiteTrainingSetting.objects.filter(site=site).first()


def site_setting_save(*, site, user, gate_mode: str, review_reminder_days: int, rules: dict, reason: str):
    """The QM sets the site's training gate (off / warn / block) and, per gated decision, the procedure
    a signer must be trained on. `rules`: decision key -> Document or None."""
    policy.check(user, "documents.settings", site)
    if gate_mode not in GateMode.values:
        raise DomainError(_("Choose off, warn or block."))
    if not 0 <= int(review_reminder_days) <= 365:
        raise DomainError(_("Remind between 0 and 365 days before a review is due."))
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        setting = SiteTrainingSetting.objects.select_for_update().filter(site=site).first()
        if setting is None:
            setting = SiteTrainingSetting.objects.create(
                site=site, gate_mode=gate_mode, review_reminder_days=review_reminder_days
            )
        else:
            setting.gate_mode, setting.review_reminder_days = gate_mode, review_reminder_days
            setting.save(reason=reason)
        for decision, document in rules.items():
            if document is not None and document.site_id != site.pk:
                raise DomainError(_("%(n)s belongs to another site.") % {"n": document.number})
            rule = GateRule.objects.select_for_update().filter(site=site, decision=decision).first()
            if rule is None and document is not None:
                GateRule.objects.create(site=site, decision=decision, document=document)
            elif rule is not None:
                if document is None:
                    if rule.is_active:
                        rule.is_active = False
                        rule.save(reason=reason)
                elif rule.document_id != document.pk or not rule.is_active:
                    rule.document, rule.is_active = document, True
                    rule.save(reason=reason)
    return setting


# --- reminders -------------------------------------------------------------------------------------


def _quality_managers(site):
    return users_with_role(site=site, roles=[Role.QUALITY_MANAGER])


def review_reminders_send(*, today=None) -> int:
    """Periodic review: tell the owner when a document's review is near (per site setting, default 30
    days) and, when overdue, the owner and the site's quality managers. Once per document and due date."""
    today = today or timezone.localdate()
    settings_by_site = {s.site_id: s.review_reminder_days for s in SiteTrainingSetting.objects.all()}
    horizon = today + timedelta(days=max([30, *settings_by_site.values()]))
    sent = 0
    docs = Document.objects.filter(
        status=DocumentStatus.ACTIVE, next_review_on__isnull=False, next_review_on__lte=horizon
    ).select_related("site", "owner")
    for doc in docs:
        days = settings_by_site.get(doc.site_id, 30)
        if doc.next_review_on > today + timedelta(days=days):
            continue
        overdue = doc.next_review_on < today
        recipients = [doc.owner] + (_quality_managers(doc.site) if overdue else [])
        subject = (
            gettext_lazy("Periodic review of %(n)s %(t)s is overdue since %(d)s")
            if overdue
            else gettext_lazy("Periodic review of %(n)s %(t)s is due on %(d)s")
        )
        sent += len(
            notification_send(
                recipients=recipients,
                subject=LazyFormat(subject, n=doc.number, t=doc.title, d=doc.next_review_on.isoformat()),
                link=document_url(doc),
                dedup_key=f"doc-review-{'overdue' if overdue else 'due'}:{doc.pk}:{doc.next_review_on}",
                site=doc.site,
                level="warning" if overdue else "info",
            )
        )
    return sent


def manager_of(user, site) -> list[User]:
    line = ReportingLine.objects.filter(site=site, user=user).select_related("manager").first()
    if line is not None:
        return [line.manager]
    return [u for u in _quality_managers(site) if u.pk != user.pk]


def training_reminders_send(*, today=None) -> int:
    """Training due soon reminds the trainee; overdue training reminds the trainee and their manager
    (the reporting line, else the site's quality managers). Once per task and due date."""
    today = today or timezone.localdate()
    sent = 0
    tasks = TrainingTask.objects.filter(
        status=TaskStatus.OPEN, due_on__lte=today + timedelta(days=REMIND_DAYS_BEFORE)
    ).select_related("user", "site", "version__document")
    for task in tasks:
        doc, version = task.version.document, task.version
        link = reverse("documents:my_training")
        if task.due_on < today:
            sent += len(
                notification_send(
                    recipients=[task.user],
                    subject=LazyFormat(
                        gettext_lazy("Training on %(n)s version %(v)s is overdue since %(d)s"),
                        n=doc.number,
                        v=version.label,
                        d=task.due_on.isoformat(),
                    ),
                    link=link,
                    dedup_key=f"training-overdue:{task.pk}:{task.due_on}",
                    site=task.site,
                    level="warning",
                )
            )
            sent += len(
                notification_send(
                    recipients=manager_of(task.user, task.site),
                    subject=LazyFormat(
                        gettext_lazy("Escalation: %(who)s is overdue on training %(n)s version %(v)s (due %(d)s)"),
                        who=task.user.printed_name,
                        n=doc.number,
                        v=version.label,
                        d=task.due_on.isoformat(),
                    ),
                    link=reverse("documents:training_matrix") + f"?site={task.site_id}",
                    dedup_key=f"training-escalated:{task.pk}:{task.due_on}",
                    site=task.site,
                    level="error",
                )
            )
        else:
            sent += len(
                notification_send(
                    recipients=[task.user],
                    subject=LazyFormat(
                        gettext_lazy("Training on %(n)s version %(v)s is due on %(d)s"),
                        n=doc.number,
                        v=version.label,
                        d=task.due_on.isoformat(),
                    ),
                    link=link,
                    dedup_key=f"training-due:{task.pk}:{task.due_on}",
                    site=task.site,
                )
            )
    return sent
