"""CAPA and 8D, actions, effectiveness checks, SCARs to suppliers.

One model serves the 8D (automotive) and the simpler CAPA form: the simple form uses the problem,
root cause, actions and effectiveness check only. Every write goes through `capa.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from compliance.effectiveness import CheckResult  # noqa: F401 - the shared result, used here and by importers
from qms.core.audit import RegulatedModel
from qms.core.models import Site
from qms.core.scoping import site_scoped_manager

DEFAULT_EFFECTIVENESS_DAYS = 30


class CapaKind(models.TextChoices):
    CORRECTIVE = "corrective", _("Corrective")
    PREVENTIVE = "preventive", _("Preventive")


class CapaSource(models.TextChoices):
    NCR = "ncr", _("NCR")
    COMPLAINT = "complaint", _("Customer complaint")
    AUDIT = "audit", _("Audit finding")
    SCAR = "scar", _("SCAR")
    ALARM = "alarm", _("Alarm")
    OTHER = "other", _("Raised on its own")


class CapaFormat(models.TextChoices):
    EIGHT_D = "8d", _("8D report")
    SIMPLE = "simple", _("Simple CAPA")


class CapaStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("Actions in progress")
    EFFECTIVENESS = "effectiveness", _("Effectiveness check")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


CAPA_ACTIVE = [CapaStatus.OPEN, CapaStatus.IN_PROGRESS, CapaStatus.EFFECTIVENESS]

FISHBONE_KEYS = ["man", "machine", "material", "method", "environment", "measurement"]
FISHBONE_LABELS = {
    "man": _("Man"),
    "machine": _("Machine"),
    "material": _("Material"),
    "method": _("Method"),
    "environment": _("Environment"),
    "measurement": _("Measurement"),
}


class Capa(RegulatedModel):
    signed_fields = (
        "code", "site", "kind", "source", "source_reference", "form", "ncr", "complaint", "scar", "title",
        "owner", "due_on", "effectiveness_days", "d0_emergency_response", "problem_statement", "what",
        "where", "when", "who", "why", "how", "how_many", "d3_containment", "five_whys", "fishbone",
        "root_cause", "escape_point", "d5_chosen_actions", "d6_validation", "d7_prevention",
        "d7_documents_updated", "d7_fmea_updated", "d7_control_plan_updated", "d8_recognition", "cancel_reason",
    )  # fmt: skip
    code = models.CharField(_("CAPA number"), max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="capas", verbose_name=_("site"))
    kind = models.CharField(_("type"), max_length=20, choices=CapaKind.choices, default=CapaKind.CORRECTIVE)
    source = models.CharField(_("source"), max_length=20, choices=CapaSource.choices, default=CapaSource.OTHER)
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)
    form = models.CharField(_("form"), max_length=10, choices=CapaFormat.choices, default=CapaFormat.EIGHT_D)
    ncr = models.ForeignKey(
        "nonconformance.Ncr",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capas",
        verbose_name=_("NCR"),
    )
    complaint = models.ForeignKey(
        "nonconformance.Complaint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capas",
        verbose_name=_("complaint"),
    )
    scar = models.ForeignKey(
        "Scar", on_delete=models.PROTECT, null=True, blank=True, related_name="capas", verbose_name=_("SCAR")
    )
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("target date"), null=True, blank=True)
    effectiveness_days = models.PositiveIntegerField(
        _("effectiveness check after (days)"), default=DEFAULT_EFFECTIVENESS_DAYS
    )
    status = FSMField(_("status"), default=CapaStatus.OPEN, choices=CapaStatus.choices, protected=False)
    # D0 / D2: the problem
    d0_emergency_response = models.TextField(_("D0 emergency response"), blank=True)
    problem_statement = models.TextField(_("problem description"), blank=True)
    what = models.TextField(_("what"), blank=True)
    where = models.TextField(_("where"), blank=True)
    when = models.TextField(_("when"), blank=True)
    who = models.TextField(_("who"), blank=True)
    why = models.TextField(_("why (why is it a problem)"), blank=True)
    how = models.TextField(_("how (detected)"), blank=True)
    how_many = models.TextField(_("how many"), blank=True)
    # D3 containment
    d3_containment = models.TextField(_("D3 containment"), blank=True)
    # D4 root cause
    five_whys = models.JSONField(_("5 whys"), default=list, blank=True)
    fishbone = models.JSONField(_("fishbone (5M1E)"), default=dict, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    escape_point = models.TextField(_("why it escaped detection"), blank=True)
    # D5-D7
    d5_chosen_actions = models.TextField(_("D5 chosen corrective actions"), blank=True)
    d6_validation = models.TextField(_("D6 implementation and validation"), blank=True)
    d7_prevention = models.TextField(_("D7 prevent recurrence"), blank=True)
    d7_documents_updated = models.BooleanField(_("procedures / work instructions updated"), default=False)
    d7_fmea_updated = models.BooleanField(_("FMEA updated"), default=False)
    d7_control_plan_updated = models.BooleanField(_("control plan updated"), default=False)
    # D8
    d8_recognition = models.TextField(_("D8 team recognition"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("CAPA")
        verbose_name_plural = _("CAPAs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_8d(self) -> bool:
        return self.form == CapaFormat.EIGHT_D

    @property
    def is_active(self) -> bool:
        return self.status in CAPA_ACTIVE

    def fishbone_rows(self):
        return [(key, FISHBONE_LABELS[key], (self.fishbone or {}).get(key, "")) for key in FISHBONE_KEYS]

    @transition(field=status, source=CapaStatus.OPEN, target=CapaStatus.IN_PROGRESS)
    def start(self):
        pass

    @transition(field=status, source=CapaStatus.IN_PROGRESS, target=CapaStatus.EFFECTIVENESS)
    def await_effectiveness(self):
        pass

    @transition(field=status, source=CapaStatus.EFFECTIVENESS, target=CapaStatus.IN_PROGRESS)
    def reopen(self):
        pass

    @transition(field=status, source=CapaStatus.EFFECTIVENESS, target=CapaStatus.CLOSED)
    def close(self):
        self.closed_at = timezone.now()

    @transition(field=status, source=[CapaStatus.OPEN, CapaStatus.IN_PROGRESS], target=CapaStatus.CANCELLED)
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()


class TeamRole(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    LEADER = "leader", _("Team leader")
    MEMBER = "member", _("Member")


class CapaTeamMember(RegulatedModel):
    audit_site_path = "capa__site"  # audit entries are filed under this site
    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="team", verbose_name=_("CAPA"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=TeamRole.choices, default=TeamRole.MEMBER)
    department = models.CharField(_("department"), max_length=100, blank=True)

    objects = site_scoped_manager("capa__site")

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["capa", "user"], name="uniq_capa_team_member")]

    def __str__(self):
        return f"{self.capa.code} · {self.user}"


class ActionKind(models.TextChoices):
    CONTAINMENT = "containment", _("Containment")
    CORRECTIVE = "corrective", _("Corrective")
    PREVENTIVE = "preventive", _("Preventive")
    SYSTEMIC = "systemic", _("Prevent recurrence (systemic)")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CapaAction(RegulatedModel):
    audit_site_path = "capa__site"  # audit entries are filed under this site
    capa = models.ForeignKey(Capa, on_delete=models.PROTECT, related_name="actions", verbose_name=_("CAPA"))
    kind = models.CharField(_("type"), max_length=20, choices=ActionKind.choices, default=ActionKind.CORRECTIVE)
    description = models.TextField(_("action"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("capa__site")

    class Meta:
        verbose_name = _("CAPA action")
        verbose_name_plural = _("CAPA actions")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.capa.code} · {self.description[:60]}"

    def is_overdue(self, today=None) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on < (today or timezone.localdate())


class EffectivenessCheck(RegulatedModel):
    signed_fields = ("capa", "due_on", "criteria", "result", "evidence", "checked_by", "checked_at")
    audit_site_path = "capa__site"  # audit entries are filed under this site
    capa = models.ForeignKey(
        Capa, on_delete=models.PROTECT, related_name="effectiveness_checks", verbose_name=_("CAPA")
    )
    due_on = models.DateField(_("check due on"))
    criteria = models.TextField(_("what proves it effective"), blank=True)
    result = models.CharField(_("result"), max_length=20, choices=CheckResult.choices, default=CheckResult.PENDING)
    evidence = models.TextField(_("evidence"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    scheduled_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("capa__site")

    class Meta:
        verbose_name = _("effectiveness check")
        verbose_name_plural = _("effectiveness checks")
        ordering = ["scheduled_at", "pk"]

    def __str__(self):
        return f"{self.capa.code} · {self.due_on}"


class ScarStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent to supplier")
    RESPONDED = "responded", _("Response received")
    ACCEPTED = "accepted", _("Accepted")
    CANCELLED = "cancelled", _("Cancelled")


class Scar(RegulatedModel):
    """Supplier corrective action request: the supplier answers with an 8D."""

    signed_fields = (
        "code", "site", "supplier", "ncr", "title", "description", "contact_email", "issued_on", "due_on",
        "responded_on", "response_containment", "response_root_cause", "response_corrective_action",
        "response_preventive_action", "review_comment", "cancel_reason",
    )  # fmt: skip

    code = models.CharField(_("SCAR number"), max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="scars", verbose_name=_("site"))
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        related_name="corrective_action_requests",
        verbose_name=_("supplier"),
    )
    ncr = models.ForeignKey(
        "nonconformance.Ncr",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scars",
        verbose_name=_("NCR"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("problem description"), blank=True)
    contact_email = models.EmailField(_("supplier contact"), blank=True)
    status = FSMField(_("status"), default=ScarStatus.DRAFT, choices=ScarStatus.choices, protected=False)
    issued_on = models.DateField(_("sent on"), null=True, blank=True)
    due_on = models.DateField(_("response due on"), null=True, blank=True)
    responded_on = models.DateField(_("responded on"), null=True, blank=True)
    response_containment = models.TextField(_("supplier containment (D3)"), blank=True)
    response_root_cause = models.TextField(_("supplier root cause (D4)"), blank=True)
    response_corrective_action = models.TextField(_("supplier corrective actions (D5/D6)"), blank=True)
    response_preventive_action = models.TextField(_("supplier prevention (D7)"), blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("SCAR")
        verbose_name_plural = _("SCARs")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.code} {self.title}"

    def is_overdue(self, today=None) -> bool:
        return (
            self.status == ScarStatus.SENT and self.due_on is not None and self.due_on < (today or timezone.localdate())
        )

    @transition(field=status, source=ScarStatus.DRAFT, target=ScarStatus.SENT)
    def send(self, *, issued_on, due_on):
        self.issued_on = issued_on
        self.due_on = due_on

    @transition(field=status, source=ScarStatus.SENT, target=ScarStatus.RESPONDED)
    def record_response(self, *, responded_on):
        self.responded_on = responded_on

    @transition(field=status, source=ScarStatus.RESPONDED, target=ScarStatus.ACCEPTED)
    def accept(self, *, comment: str):
        self.review_comment = comment
        self.closed_at = timezone.now()

    @transition(field=status, source=ScarStatus.RESPONDED, target=ScarStatus.SENT)
    def reject_response(self, *, comment: str, due_on):
        self.review_comment = comment
        self.due_on = due_on
        self.responded_on = None

    @transition(field=status, source=[ScarStatus.DRAFT, ScarStatus.SENT], target=ScarStatus.CANCELLED)
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()
