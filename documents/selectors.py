"""Reads of the documents app: who sees which document and version, the version in force on a date,
the qualification matrix, whether a person was trained at a moment."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from qms.core import policy
from qms.core.models import Membership, Role, User

from .models import (
    Document,
    DocumentStatus,
    DocumentVersion,
    GateRule,
    TaskStatus,
    TrainingRecord,
    TrainingRequirement,
    TrainingTask,
    VersionReview,
    VersionStatus,
)

WORK_STATES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)
HISTORY_STATES = (VersionStatus.SUPERSEDED, VersionStatus.OBSOLETE)


def sees_everything(user, site) -> bool:
    """Document controllers, authors and auditors see every document of the site, drafts included; so do
    those the site gives the approval or obsoleting of its documents (its decision authority, a deputy too)."""
    return (
        policy.can(user, "documents.register.view", site)
        or policy.can(user, "documents.author", site)
        or policy.can_decide(user, "document.approve", site)
        or policy.can_decide(user, "document.obsolete", site)
    )


def may_see_document(user, document: Document) -> bool:
    """Distribution by role: a person sees a document distributed to one of their roles at its site
    (or to everyone there when no role is named), one they own, review or must train on."""
    site = document.site_id
    if not policy.can(user, "documents.view", site):
        return False
    if sees_everything(user, site) or document.owner_id == user.pk:
        return True
    if not document.distribution_roles or policy.roles(user, site) & set(document.distribution_roles):
        return True
    if VersionReview.objects.filter(version__document=document, reviewer=user).exists():
        return True
    return TrainingTask.objects.filter(version__document=document, user=user).exists()


def documents_for_user(user):
    """The documents a user may see (list pages), across their sites. Distribution is matched in Python
    (no JSON lookups, so the SQLite quick start works the same)."""
    site_ids = policy.sites_for(user, "documents.view")
    full = [s for s in site_ids if sees_everything(user, s)]
    partial = [s for s in site_ids if s not in full]
    visible: set[int] = set()
    if partial:
        rows = Document.objects.filter(site_id__in=partial).values_list(
            "pk", "site_id", "distribution_roles", "owner_id"
        )
        for pk, sid, dist, owner_id in rows:
            if not dist or owner_id == user.pk or policy.roles(user, sid) & set(dist):
                visible.add(pk)
        visible.update(
            VersionReview.objects.filter(reviewer=user, version__document__site_id__in=partial).values_list(
                "version__document_id", flat=True
            )
        )
        visible.update(
            TrainingTask.objects.filter(user=user, site_id__in=partial).values_list("version__document_id", flat=True)
        )
    return Document.objects.filter(Q(site_id__in=full) | Q(pk__in=visible))


def document_for_user(user, pk) -> Document:
    """The one site-scoped loader of a document page: 404 when absent, at another site or not
    distributed to the user."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("document") from None
    doc = Document.objects.select_related("site", "owner", "created_by").filter(pk=pk).first()
    if doc is None or not may_see_document(user, doc):
        raise Http404("document")
    return doc


def may_see_version(user, version: DocumentVersion) -> bool:
    """Effective and past versions to everyone who sees the document; versions in work to those who
    see everything, their author and their reviewers."""
    if version.status not in WORK_STATES:
        return True
    site = version.document.site_id
    return sees_everything(user, site) or version.author_id == user.pk or version.reviews.filter(reviewer=user).exists()


def version_for_user(user, pk) -> DocumentVersion:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("version") from None
    version = (
        DocumentVersion.objects.select_related("document", "document__site", "author", "approved_by")
        .filter(pk=pk)
        .first()
    )
    if version is None or not may_see_document(user, version.document) or not may_see_version(user, version):
        raise Http404("version")
    return version


def effective_version(document) -> DocumentVersion | None:
    return DocumentVersion.objects.filter(document=document, status=VersionStatus.EFFECTIVE).first()


def _day_end(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def version_in_force(document, on: datetime.date) -> DocumentVersion | None:
    """The version that was in force at the end of day `on` (what governed work that day; a version
    made effective during the day governs it)."""
    end = _day_end(on)
    return (
        DocumentVersion.objects.filter(document=document, effective_at__isnull=False, effective_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=end))
        .order_by("-effective_at", "-pk")
        .first()
    )


def versions_for_page(user, document, *, history: bool) -> list[DocumentVersion]:
    """By default the effective version (and for those working on it, the version in work); with
    `history` every version the user may see, newest first."""
    qs = DocumentVersion.objects.filter(document=document).select_related("author", "approved_by")
    states = [VersionStatus.EFFECTIVE, *WORK_STATES] + (list(HISTORY_STATES) if history else [])
    return [v for v in qs.filter(status__in=states).order_by("-sequence") if may_see_version(user, v)]


def qualifying_record(user_id, version_id, *, at=None) -> TrainingRecord | None:
    """The person's training on this version that counted at `at` (default now): e-signed read and
    understood, a passed assessment, or imported history; not expired then."""
    at = at or timezone.now()
    day = timezone.localtime(at).date()
    qs = (
        TrainingRecord.objects.filter(user_id=user_id, version_id=version_id, trained_at__lte=at)
        .exclude(method="instructor", assessment__in=["", "failed"])
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .order_by("-trained_at")
    )
    return qs.first()


@dataclass
class SignerCheck:
    """A signature of a gated decision on a day, and whether its signer was trained at that moment."""

    at: datetime.datetime
    signer: object
    record_repr: str
    meaning: str
    trained: TrainingRecord | None


@dataclass
class InForce:
    day: datetime.date
    version: DocumentVersion | None
    signatures: list = field(default_factory=list)
    trained_by_day: list = field(default_factory=list)  # TrainingRecord rows before the end of the day
    gated: list = field(default_factory=list)  # (decision label, [SignerCheck])


def in_force_answer(document, day: datetime.date) -> InForce:
    """ "Show me the SOP in force on D, who approved it, who was trained on it before signing that day":
    the version in force, its signatures, the training records on it by the end of D, and the gated
    signatures taken at the document's site that day with the signer's training at that moment."""
    from compliance.models import AuditEntry
    from compliance.signatures import signatures_with_validity

    from .models import GATED_RECORDS, GatedDecision

    version = version_in_force(document, day)
    answer = InForce(day=day, version=version)
    if version is None:
        return answer
    answer.signatures = signatures_with_validity(version)
    end = _day_end(day)
    answer.trained_by_day = list(
        TrainingRecord.objects.filter(version=version, trained_at__lt=end).select_related("user", "trainer")
    )
    rules = GateRule.objects.filter(site=document.site, document=document)
    models_by_decision = {d: m for m, d in GATED_RECORDS.items()}
    start = end - datetime.timedelta(days=1)
    for rule in rules:
        label = models_by_decision.get(rule.decision)
        entries = AuditEntry.objects.filter(
            action="sign", model=label, site_id=document.site_id, at__gte=start, at__lt=end
        ).order_by("at")[:200]
        checks = []
        signers = {e.user_id: e.user for e in entries.select_related("user") if e.user_id}
        for e in entries:
            if e.user_id is None:
                continue
            checks.append(
                SignerCheck(
                    at=e.at,
                    signer=signers.get(e.user_id),
                    record_repr=e.object_repr,
                    meaning=(e.changes or {}).get("meaning", [None, ""])[1],
                    trained=qualifying_record(e.user_id, version.pk, at=e.at),
                )
            )
        answer.gated.append((GatedDecision(rule.decision).label, checks))
    return answer


# --- the qualification matrix ----------------------------------------------------------------------


CELL_TRAINED = "trained"
CELL_EXPIRED = "expired"
CELL_OLD = "old_version"
CELL_OVERDUE = "overdue"
CELL_OPEN = "open"
CELL_MISSING = "missing"


@dataclass
class MatrixCell:
    state: str
    record: TrainingRecord | None = None
    task: TrainingTask | None = None


@dataclass
class Matrix:
    documents: list
    rows: list  # (user, [MatrixCell | None per document])


def training_matrix(site, *, today=None, user_filter=None) -> Matrix:
    """Per person at `site` and per document with a training requirement: trained on the version in
    force (with expiry), trained only on an older version, expired, task open or overdue, missing."""
    today = today or timezone.localdate()
    reqs = list(
        TrainingRequirement.objects.filter(
            document__site=site, is_active=True, document__status=DocumentStatus.ACTIVE
        ).select_related("document")
    )
    docs = sorted({r.document_id: r.document for r in reqs}.values(), key=lambda d: d.number)
    roles_by_doc: dict[int, set] = {}
    for r in reqs:
        roles_by_doc.setdefault(r.document_id, set()).add(r.role)
    effective = {v.document_id: v for v in DocumentVersion.objects.filter(document__in=docs, status="effective")}
    members = Membership.objects.filter(site=site, is_active=True, user__is_active=True).exclude(role=Role.AUDITOR)
    if user_filter is not None:
        members = members.filter(user=user_filter)
    roles_of: dict[int, set] = {}
    for uid, role in members.values_list("user_id", "role"):
        roles_of.setdefault(uid, set()).add(role)
    users = list(User.objects.filter(pk__in=list(roles_of)).order_by("username"))
    records: dict[tuple, TrainingRecord] = {}
    for rec in (
        TrainingRecord.objects.filter(site=site, document__in=docs, user__in=users)
        .select_related("version")
        .order_by("trained_at")
    ):
        if rec.qualifies:
            records[
                (rec.user_id, rec.document_id, rec.version_id == getattr(effective.get(rec.document_id), "pk", None))
            ] = rec
    tasks = {
        (t.user_id, t.version.document_id): t
        for t in TrainingTask.objects.filter(
            site=site, status=TaskStatus.OPEN, version__document__in=docs
        ).select_related("version")
    }
    rows = []
    for u in users:
        cells = []
        for d in docs:
            if not roles_of.get(u.pk, set()) & roles_by_doc.get(d.pk, set()):
                cells.append(None)
                continue
            current = records.get((u.pk, d.pk, True))
            task = tasks.get((u.pk, d.pk))
            if current is not None:
                expired = current.expires_on is not None and current.expires_on < today
                cells.append(MatrixCell(CELL_EXPIRED if expired else CELL_TRAINED, record=current, task=task))
            elif task is not None:
                cells.append(
                    MatrixCell(
                        CELL_OVERDUE if task.due_on < today else CELL_OPEN,
                        task=task,
                        record=records.get((u.pk, d.pk, False)),
                    )
                )
            elif (u.pk, d.pk, False) in records:
                cells.append(MatrixCell(CELL_OLD, record=records[(u.pk, d.pk, False)]))
            else:
                cells.append(MatrixCell(CELL_MISSING))
        rows.append((u, cells))
    return Matrix(documents=docs, rows=rows)


def documents_due_for_review(site_ids, *, today=None, days: int = 30):
    today = today or timezone.localdate()
    return Document.objects.filter(
        site_id__in=site_ids,
        status=DocumentStatus.ACTIVE,
        next_review_on__isnull=False,
        next_review_on__lte=today + datetime.timedelta(days=days),
    )


def overdue_training(site_ids, *, today=None):
    today = today or timezone.localdate()
    return TrainingTask.objects.filter(site_id__in=site_ids, status=TaskStatus.OPEN, due_on__lt=today)
