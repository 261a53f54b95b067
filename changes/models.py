"""Change control: a change request with its impact assessment, the change board's signed votes,
implementation tasks (a PPAP re-submission on automotive parts), the effectiveness check, and the new
versions the change produced. Every write goes through `changes.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from compliance.effectiveness import CheckResult  # noqa: F401 - the shared result, used here and by importers
from qms.core.audit import RegulatedModel
from qms.core.models import Role, Site
from qms.core.scoping import site_scoped_manager


class ChangeType(models.TextChoices):
    DOCUMENT = "document", _("Document")
    PROCESS = "process", _("Process")
    PRODUCT = "product", _("Product")
    SUPPLIER = "supplier", _("Supplier")
    EQUIPMENT = "equipment", _("Equipment")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class ChangeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ASSESSMENT = "assessment", _("Impact assessment")
    BOARD = "board", _("Change board review")
    IMPLEMENTATION = "implementation", _("Implementation")
    EFFECTIVENESS = "effectiveness", _("Effectiveness check")
    VERIFIED = "verified", _("Verified effective")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected by the board")
    CANCELLED = "cancelled", _("Cancelled")


CHANGE_OPEN = [
    ChangeStatus.DRAFT,
    ChangeStatus.ASSESSMENT,
    ChangeStatus.BOARD,
    ChangeStatus.IMPLEMENTATION,
    ChangeStatus.EFFECTIVENESS,
    ChangeStatus.VERIFIED,
]
S = ChangeStatus


class ChangeRequest(RegulatedModel):
    # what the board members sign: the request and its assessed impact
    signed_fields = (
        "code", "site", "title", "description", "reason", "change_type", "urgency", "part", "supplier",
        "equipment", "assessment_summary", "risk",
    )  # fmt: skip
    signed_children = {"impacts": ("kind", "reference", "included", "note")}
    code = models.CharField(_("change number"), max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="change_requests", verbose_name=_("site"))
    title = models.CharField(_("what changes"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    reason = models.TextField(_("why"))
    change_type = models.CharField(_("type"), max_length=20, choices=ChangeType.choices)
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices, default=Urgency.ROUTINE)
    part = models.ForeignKey(
        "core.Part", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("part")
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    equipment = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("equipment")
    )
    status = FSMField(_("status"), default=S.DRAFT, choices=S.choices, protected=False)
    assessment_summary = models.TextField(_("impact assessment"), blank=True)
    risk = models.TextField(_("risks and mitigations"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in CHANGE_OPEN

    @transition(field=status, source=S.DRAFT, target=S.ASSESSMENT)
    def submit(self):
        self.submitted_at = timezone.now()

    @transition(field=status, source=S.ASSESSMENT, target=S.BOARD)
    def to_board(self):
        pass

    @transition(field=status, source=S.BOARD, target=S.ASSESSMENT)
    def back_to_assessment(self):
        pass

    @transition(field=status, source=S.BOARD, target=S.IMPLEMENTATION)
    def approve(self):
        self.approved_at = timezone.now()

    @transition(field=status, source=S.BOARD, target=S.REJECTED)
    def reject(self):
        self.closed_at = timezone.now()

    @transition(field=status, source=S.IMPLEMENTATION, target=S.EFFECTIVENESS)
    def implemented(self):
        pass

    @transition(field=status, source=S.EFFECTIVENESS, target=S.IMPLEMENTATION)
    def reopen(self):
        pass

    @transition(field=status, source=S.EFFECTIVENESS, target=S.VERIFIED)
    def verified(self):
        pass

    @transition(field=status, source=S.VERIFIED, target=S.CLOSED)
    def close(self):
        self.closed_at = timezone.now()

    @transition(field=status, source=[S.DRAFT, S.ASSESSMENT, S.BOARD, S.IMPLEMENTATION], target=S.CANCELLED)
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()


class ImpactKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    PLAN = "plan", _("Inspection plan")
    PART = "part", _("Part")
    OPERATION = "operation", _("Process (work-order operation)")
    SUPPLIER = "supplier", _("Supplier")
    LOT = "lot", _("Open lot")


class ImpactSource(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    MANUAL = "manual", _("Added by hand")


class ImpactItem(RegulatedModel):
    audit_site_path = "change__site"
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="impacts")
    kind = models.CharField(_("affected"), max_length=20, choices=ImpactKind.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=200)
    label = models.CharField(_("description"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=ImpactSource.choices, default=ImpactSource.MANUAL)
    included = models.BooleanField(_("affected"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("change__site")

    class Meta:
        verbose_name = _("impact item")
        verbose_name_plural = _("impact items")
        ordering = ["change", "kind", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["change", "kind", "reference"], name="change_impact_uniq"),
        ]

    def __str__(self):
        return f"{self.change.code} · {self.get_kind_display()} {self.reference}"


class BoardRole(RegulatedModel):
    """The roles whose approval a change needs at one site (the change board). Without rows the default
    board applies (quality manager and quality engineer). Edited by an administrator, audited."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("change board role")
        verbose_name_plural = _("change board roles")
        constraints = [models.UniqueConstraint(fields=["site", "role"], name="change_board_role_uniq")]

    def __str__(self):
        return f"{self.site.code} · {self.get_role_display()}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.role == Role.AUDITOR:
            raise ValidationError({"role": _("An auditor is read-only and sits on no change board.")})


class Vote(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class BoardVote(RegulatedModel):
    audit_site_path = "change__site"
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="votes")
    role = models.CharField(_("board role"), max_length=30, choices=Role.choices)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    vote = models.CharField(_("vote"), max_length=10, choices=Vote.choices)
    comment = models.TextField(_("comment"), blank=True)
    round = models.PositiveIntegerField(default=1)
    signed_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("change__site")

    class Meta:
        verbose_name = _("board vote")
        verbose_name_plural = _("board votes")
        ordering = ["change", "signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "round", "role"], name="change_vote_role_uniq"),
            models.UniqueConstraint(fields=["change", "round", "member"], name="change_vote_member_uniq"),
        ]

    def __str__(self):
        return f"{self.change.code} · {self.get_role_display()} · {self.get_vote_display()}"


class TaskKind(models.TextChoices):
    GENERAL = "general", _("Implementation")
    PPAP = "ppap", _("PPAP re-submission")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ChangeTask(RegulatedModel):
    audit_site_path = "change__site"
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(_("type"), max_length=10, choices=TaskKind.choices, default=TaskKind.GENERAL)
    description = models.TextField(_("task"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    ppap = models.ForeignKey(
        "suppliers.PpapSubmission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PPAP submission"),
    )
    evidence = models.TextField(_("evidence"), blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("change__site")

    class Meta:
        verbose_name = _("change task")
        verbose_name_plural = _("change tasks")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.change.code} · {self.description[:60]}"

    def is_overdue(self, today=None) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < (today or timezone.localdate())


class ChangeEffectivenessCheck(RegulatedModel):
    signed_fields = ("change", "due_on", "criteria", "result", "evidence", "checked_by", "checked_at")
    audit_site_path = "change__site"
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="checks")
    due_on = models.DateField(_("check due on"))
    criteria = models.TextField(_("what proves it effective"), blank=True)
    result = models.CharField(_("result"), max_length=20, choices=CheckResult.choices, default=CheckResult.PENDING)
    evidence = models.TextField(_("evidence"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("change__site")

    class Meta:
        verbose_name = _("change effectiveness check")
        verbose_name_plural = _("change effectiveness checks")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.change.code} · {self.due_on}"


class OutputKind(models.TextChoices):
    DOCUMENT_VERSION = "document_version", _("Document version")
    PLAN_VERSION = "plan_version", _("Inspection plan version")


class ChangeOutput(RegulatedModel):
    """A new version the change produced: an inspection plan version (foreign key) or a controlled
    document version (`documents.DocumentVersion`, by model label and id)."""

    audit_site_path = "change__site"
    change = models.ForeignKey(ChangeRequest, on_delete=models.PROTECT, related_name="outputs")
    kind = models.CharField(_("type"), max_length=20, choices=OutputKind.choices)
    plan = models.ForeignKey(
        "inspection.InspectionPlan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    model = models.CharField(max_length=100, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    reference = models.CharField(_("version"), max_length=200)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("change__site")

    class Meta:
        verbose_name = _("change output")
        verbose_name_plural = _("change outputs")
        ordering = ["change", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["change", "kind", "model", "object_id"], name="change_output_uniq"),
        ]

    def __str__(self):
        return f"{self.change.code} → {self.reference}"
