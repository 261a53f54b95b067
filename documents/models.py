"""Controlled documents, their versions and reviews; training requirements, tasks and records; the
per-site training gate.

A document (quality manual, SOP, work instruction, specification, form) is numbered per type and site
(BRG-SOP-0003) and never deleted: it is made obsolete with a reason. Its versions go
draft -> in review (each named reviewer e-signs "reviewed") -> approved (e-signed, not by the author)
-> effective on a date (a periodic job, or at once when the date is today) -> superseded / obsolete.
Every write goes through `documents.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.models import Role, Site
from qms.core.scoping import site_scoped_manager


class DocumentType(models.TextChoices):
    QUALITY_MANUAL = "manual", _("Quality manual")
    SOP = "sop", _("Procedure (SOP)")
    WORK_INSTRUCTION = "wi", _("Work instruction")
    SPECIFICATION = "spec", _("Specification")
    FORM = "form", _("Form")


# The number's middle part per type: BRG-SOP-0003.
TYPE_PREFIX = {
    DocumentType.QUALITY_MANUAL: "QM",
    DocumentType.SOP: "SOP",
    DocumentType.WORK_INSTRUCTION: "WI",
    DocumentType.SPECIFICATION: "SPEC",
    DocumentType.FORM: "FRM",
}


class DocumentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    OBSOLETE = "obsolete", _("Obsolete")


class Document(RegulatedModel):
    """A controlled document at one site. Its content lives in its versions."""

    signed_fields = ("site", "doc_type", "number", "title", "owner", "review_period_months", "distribution_roles")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="documents", verbose_name=_("site"))
    doc_type = models.CharField(_("type"), max_length=10, choices=DocumentType.choices)
    number = models.CharField(_("document number"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    review_period_months = models.PositiveIntegerField(_("review every (months)"), default=24)
    # Roles (qms.core.models.Role values) at the site who receive the document and are trained on it.
    distribution_roles = models.JSONField(_("distribution (roles)"), default=list, blank=True)
    status = FSMField(_("status"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.ACTIVE)
    next_review_on = models.DateField(_("next review due"), null=True, blank=True)
    last_reviewed_on = models.DateField(_("last periodic review"), null=True, blank=True)
    obsolete_reason = models.TextField(_("reason made obsolete"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("controlled document")
        verbose_name_plural = _("controlled documents")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="documents_number_per_site")]
        indexes = [models.Index(fields=["site", "doc_type"]), models.Index(fields=["next_review_on"])]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def distribution_role_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels.get(r, r)) for r in self.distribution_roles or []]

    @transition(field=status, source=DocumentStatus.ACTIVE, target=DocumentStatus.OBSOLETE)
    def make_obsolete(self, *, reason: str):
        self.obsolete_reason = reason


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved (not yet effective)")
    EFFECTIVE = "effective", _("Effective")
    SUPERSEDED = "superseded", _("Superseded")
    OBSOLETE = "obsolete", _("Obsolete")


LIVE_STATES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)


class DocumentVersion(RegulatedModel):
    """One version of a document: its file and what changed. Signatures (reviewed, approved) bind its
    content: the file's SHA-256, label and change summary."""

    signed_fields = ("document", "label", "file_name", "file_sha256", "change_summary", "author")
    signature_closed_states = {"superseded": "superseded", "obsolete": "obsolete"}

    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="versions", verbose_name=_("document")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    label = models.CharField(_("version"), max_length=20)
    status = FSMField(_("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    change_summary = models.TextField(_("what changed"), blank=True)
    file = models.FileField(_("file"), upload_to="documents/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_type = models.CharField(_("file type"), max_length=120, blank=True)
    file_size = models.PositiveIntegerField(_("file size (bytes)"), default=0)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_at = models.DateTimeField(_("made effective at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("superseded / obsolete at"), null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted for review at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    objects = site_scoped_manager("document__site")

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["document", "sequence"], name="documents_version_sequence"),
            models.UniqueConstraint(fields=["document", "label"], name="documents_version_label"),
            models.UniqueConstraint(
                fields=["document"], condition=models.Q(status="effective"), name="documents_one_effective"
            ),
        ]
        indexes = [models.Index(fields=["status", "effective_from"])]

    def __str__(self):
        return f"{self.document.number} v{self.label}"

    @property
    def is_pdf(self) -> bool:
        return self.file_type == "application/pdf"

    @transition(field=status, source=VersionStatus.DRAFT, target=VersionStatus.IN_REVIEW)
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=VersionStatus.IN_REVIEW, target=VersionStatus.DRAFT)
    def send_back(self):
        self.submitted_at = None

    @transition(field=status, source=VersionStatus.IN_REVIEW, target=VersionStatus.APPROVED)
    def approve(self, *, by, effective_from):
        self.approved_by = by
        self.approved_at = timezone.now()
        self.effective_from = effective_from

    @transition(field=status, source=VersionStatus.APPROVED, target=VersionStatus.EFFECTIVE)
    def make_effective(self):
        self.effective_at = timezone.now()

    @transition(field=status, source=VersionStatus.EFFECTIVE, target=VersionStatus.SUPERSEDED)
    def supersede(self, *, reason: str):
        self.ended_at = timezone.now()
        self.end_reason = reason

    @transition(field=status, source=list(VersionStatus.values), target=VersionStatus.OBSOLETE)
    def make_obsolete(self, *, reason: str):
        self.ended_at = timezone.now()
        self.end_reason = reason


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REVIEWED = "reviewed", _("Reviewed")
    SENT_BACK = "sent_back", _("Sent back")


class VersionReview(RegulatedModel):
    """A named reviewer of a version in review. The reviewer e-signs "reviewed" on the version."""

    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("version")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    round = models.PositiveIntegerField(_("review round"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    comment = models.TextField(_("comment"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = site_scoped_manager("version__document__site")

    class Meta:
        verbose_name = _("version review")
        verbose_name_plural = _("version reviews")
        ordering = ["version", "round", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "round", "reviewer"], name="documents_one_review_per_round")
        ]

    def __str__(self):
        return f"{self.version} · {self.reviewer}"


# ------------------------------------------------------------------------------------------- training


class TrainingRequirement(RegulatedModel):
    """People holding `role` at the document's site must be trained on each new effective version."""

    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="training_requirements", verbose_name=_("document")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    method = models.CharField(
        _("training method"),
        max_length=20,
        choices=[("read", _("Read and understood")), ("instructor", _("Instructor-led with assessment"))],
        default="read",
    )
    due_days = models.PositiveIntegerField(_("due within (days)"), default=14)
    valid_months = models.PositiveIntegerField(
        _("qualification valid for (months)"), null=True, blank=True, help_text=_("empty = until the next version")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("document__site")

    class Meta:
        verbose_name = _("training requirement")
        verbose_name_plural = _("training requirements")
        ordering = ["document", "role"]
        constraints = [models.UniqueConstraint(fields=["document", "role"], name="documents_requirement_per_role")]

    def __str__(self):
        return f"{self.document.number} · {self.get_role_display()}"


class TrainingMethod(models.TextChoices):
    READ = "read", _("Read and understood")
    INSTRUCTOR = "instructor", _("Instructor-led with assessment")
    IMPORTED = "imported", _("Imported history")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TrainingTask(RegulatedModel):
    """A person must be trained on a version by a date (created when the version becomes effective)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_tasks", verbose_name=_("trainee")
    )
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="training_tasks", verbose_name=_("version")
    )
    method = models.CharField(_("method"), max_length=20, choices=TrainingMethod.choices, default=TrainingMethod.READ)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    cancel_reason = models.TextField(_("why cancelled"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("training task")
        verbose_name_plural = _("training tasks")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"], condition=models.Q(status="open"), name="documents_one_open_task"
            )
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.version} · {self.user}"

    def is_overdue(self, today=None) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < (today or timezone.localdate())


class AssessmentResult(models.TextChoices):
    NONE = "", _("No assessment")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class TrainingRecord(RegulatedModel):
    """Evidence that a person was trained on a version: e-signed by the trainee (read and understood) or
    recorded and e-signed by the trainer (instructor-led, with the assessment result), or imported."""

    signed_fields = (
        "site", "user", "document", "version", "method", "trained_at", "trainer", "assessment", "score",
        "expires_on", "notes",
    )  # fmt: skip

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("trainee")
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("document")
    )
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="training_records", verbose_name=_("version")
    )
    task = models.ForeignKey(
        TrainingTask, on_delete=models.PROTECT, null=True, blank=True, related_name="records", verbose_name=_("task")
    )
    method = models.CharField(_("method"), max_length=20, choices=TrainingMethod.choices)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trainer"),
    )
    assessment = models.CharField(
        _("assessment"), max_length=10, choices=AssessmentResult.choices, default="", blank=True
    )
    score = models.CharField(_("score"), max_length=20, blank=True)
    expires_on = models.DateField(_("qualification expires on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-trained_at", "-pk"]
        indexes = [models.Index(fields=["user", "document", "trained_at"])]

    def __str__(self):
        return f"{self.version} · {self.user} · {self.trained_at:%Y-%m-%d}"

    @property
    def qualifies(self) -> bool:
        """Counts as trained (an instructor-led training needs a passed assessment)."""
        return self.method != TrainingMethod.INSTRUCTOR or self.assessment == AssessmentResult.PASSED


class ReportingLine(RegulatedModel):
    """Who a person reports to at a site (overdue training reminds them). Without one, the site's quality
    managers are told."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("manager")
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("reporting line")
        verbose_name_plural = _("reporting lines")
        constraints = [models.UniqueConstraint(fields=["site", "user"], name="documents_one_manager_per_site")]

    def __str__(self):
        return f"{self.user} → {self.manager}"


# ------------------------------------------------------------------------------------------ the gate


class GateMode(models.TextChoices):
    OFF = "off", _("Off")
    WARN = "warn", _("Warn (the signature is recorded with a warning)")
    BLOCK = "block", _("Block (the signature is refused)")


class GatedDecision(models.TextChoices):
    """Decisions whose signature the training gate can check, with the record signed."""

    LOT_RELEASE = "lot.release", _("Lot release")
    MRB_SIGN = "mrb.sign", _("MRB decision")
    INSPECTION_COMPLETE = "inspection.complete", _("Inspection completion")


# record signed (model label) -> gated decision
GATED_RECORDS = {
    "inspection.lotrelease": GatedDecision.LOT_RELEASE,
    "nonconformance.mrbdecision": GatedDecision.MRB_SIGN,
    "inspection.inspection": GatedDecision.INSPECTION_COMPLETE,
}


class SiteTrainingSetting(RegulatedModel):
    """A site's training rules: whether untrained signers are warned or blocked, reminders."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="training_setting", verbose_name=_("site"))
    gate_mode = models.CharField(_("training gate"), max_length=10, choices=GateMode.choices, default=GateMode.OFF)
    review_reminder_days = models.PositiveIntegerField(_("remind of a periodic review (days before)"), default=30)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("site training setting")
        verbose_name_plural = _("site training settings")

    def __str__(self):
        return f"{self.site.code} · {self.get_gate_mode_display()}"


class GateRule(RegulatedModel):
    """At a site, signing `decision` needs training on the effective version of `document`."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    decision = models.CharField(_("decision"), max_length=30, choices=GatedDecision.choices)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="gate_rules", verbose_name=_("procedure")
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("training gate rule")
        verbose_name_plural = _("training gate rules")
        constraints = [models.UniqueConstraint(fields=["site", "decision"], name="documents_one_rule_per_decision")]

    def __str__(self):
        return f"{self.site.code} · {self.get_decision_display()} · {self.document.number}"
