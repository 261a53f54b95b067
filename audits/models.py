"""Internal audits: a programme per year and site, audit plans with their team and checklist, results per
checklist item, findings (a major or minor finding opens an NCR or a CAPA and links to it). Every write
goes through `audits.services`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.models import Site
from qms.core.scoping import site_scoped_manager


class Standard(models.TextChoices):
    ISO_9001 = "iso9001", _("ISO 9001")
    IATF_16949 = "iatf16949", _("IATF 16949")
    GMP = "gmp", _("GMP")
    SC = "sc", _("SC licence (food)")


class AuditProgramme(RegulatedModel):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="audit_programmes", verbose_name=_("site"))
    year = models.PositiveIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("audit programme")
        verbose_name_plural = _("audit programmes")
        ordering = ["-year", "site__code"]
        constraints = [models.UniqueConstraint(fields=["site", "year"], name="audit_programme_site_year")]

    def __str__(self):
        return f"{self.site.code} {self.year} {self.title}"


class AuditStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    REPORTING = "reporting", _("Performed, findings in follow-up")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


AUDIT_ACTIVE = [AuditStatus.PLANNED, AuditStatus.IN_PROGRESS, AuditStatus.REPORTING]


class Audit(RegulatedModel):
    signed_fields = (
        "code", "site", "programme", "title", "standard", "area", "area_owner", "scope", "planned_start",
        "planned_end", "lead_auditor", "summary",
    )  # fmt: skip
    signed_children = {
        "items": ("clause", "result", "evidence"),
        "findings": ("code", "classification", "description", "owner", "ncr", "capa"),
        "team": ("user",),
    }
    code = models.CharField(_("audit number"), max_length=30, unique=True)
    programme = models.ForeignKey(
        AuditProgramme, on_delete=models.PROTECT, related_name="audits", verbose_name=_("programme")
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="audits", verbose_name=_("site"))
    title = models.CharField(_("title"), max_length=200)
    standard = models.CharField(_("standard"), max_length=20, choices=Standard.choices)
    area = models.CharField(_("audited area / process"), max_length=200)
    area_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("area owner (auditee)")
    )
    scope = models.TextField(_("scope"), blank=True)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead auditor")
    )
    status = FSMField(_("status"), default=AuditStatus.PLANNED, choices=AuditStatus.choices, protected=False)
    summary = models.TextField(_("summary"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("planned by")
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("internal audit")
        verbose_name_plural = _("internal audits")
        ordering = ["planned_start", "pk"]
        indexes = [models.Index(fields=["site", "status", "planned_end"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in AUDIT_ACTIVE

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status in (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS) and self.planned_end < today

    @transition(field=status, source=AuditStatus.PLANNED, target=AuditStatus.IN_PROGRESS)
    def start(self):
        self.started_at = timezone.now()

    @transition(field=status, source=AuditStatus.IN_PROGRESS, target=AuditStatus.REPORTING)
    def perform_done(self):
        self.performed_at = timezone.now()

    @transition(field=status, source=AuditStatus.REPORTING, target=AuditStatus.CLOSED)
    def close(self):
        self.closed_at = timezone.now()

    @transition(field=status, source=[AuditStatus.PLANNED, AuditStatus.IN_PROGRESS], target=AuditStatus.CANCELLED)
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()


class AuditTeamMember(RegulatedModel):
    audit_site_path = "audit__site"
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="team", verbose_name=_("audit"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = site_scoped_manager("audit__site")

    class Meta:
        verbose_name = _("auditor")
        verbose_name_plural = _("auditors")
        constraints = [models.UniqueConstraint(fields=["audit", "user"], name="audit_team_member_uniq")]

    def __str__(self):
        return f"{self.audit.code} · {self.user}"


class ItemResult(models.TextChoices):
    PENDING = "pending", _("Not audited yet")
    CONFORMING = "conforming", _("Conforming")
    FINDING = "finding", _("Finding")
    OBSERVATION = "observation", _("Observation")
    NOT_APPLICABLE = "na", _("Not applicable")


class ChecklistItem(RegulatedModel):
    audit_site_path = "audit__site"
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="items", verbose_name=_("audit"))
    sequence = models.PositiveIntegerField(_("sequence"))
    clause = models.CharField(_("clause"), max_length=30)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    question = models.TextField(_("what to check"), blank=True)
    result = models.CharField(_("result"), max_length=20, choices=ItemResult.choices, default=ItemResult.PENDING)
    evidence = models.TextField(_("evidence notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    objects = site_scoped_manager("audit__site")

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["audit", "sequence"]
        constraints = [models.UniqueConstraint(fields=["audit", "sequence"], name="audit_item_sequence_uniq")]

    def __str__(self):
        return f"{self.audit.code} §{self.clause}"

    def title(self, language: str = "en") -> str:
        if (language or "").lower().startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title_en


class Classification(models.TextChoices):
    MAJOR = "major", _("Major nonconformity")
    MINOR = "minor", _("Minor nonconformity")
    OBSERVATION = "observation", _("Observation")
    OPPORTUNITY = "opportunity", _("Opportunity for improvement")


NEEDS_ACTION = (Classification.MAJOR, Classification.MINOR)


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Finding(RegulatedModel):
    audit_site_path = "audit__site"
    code = models.CharField(_("finding number"), max_length=30, unique=True)
    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="findings", verbose_name=_("audit"))
    item = models.ForeignKey(
        ChecklistItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("checklist item"),
    )
    clause = models.CharField(_("clause"), max_length=30, blank=True)
    classification = models.CharField(_("classification"), max_length=20, choices=Classification.choices)
    description = models.TextField(_("finding"))
    evidence = models.TextField(_("objective evidence"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    due_on = models.DateField(_("response due on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    # what the finding opened (through the nonconformance / capa services)
    ncr = models.ForeignKey(
        "nonconformance.Ncr", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("NCR")
    )
    capa = models.ForeignKey(
        "capa.Capa", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("CAPA")
    )
    closure_note = models.TextField(_("closure note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("audit__site")

    class Meta:
        verbose_name = _("audit finding")
        verbose_name_plural = _("audit findings")
        ordering = ["audit", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.code} {self.get_classification_display()}"

    @property
    def needs_action(self) -> bool:
        return self.classification in NEEDS_ACTION

    @property
    def linked(self):
        return self.ncr or self.capa

    def is_overdue(self, today=None) -> bool:
        return (
            self.status == FindingStatus.OPEN
            and self.due_on is not None
            and self.due_on < (today or timezone.localdate())
        )
