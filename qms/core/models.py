"""Kernel records: users, sites and roles, master data (parts, customers, equipment), notifications."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import RegulatedModel, RegulatedQuerySet
from .codes import validate_code
from .scoping import site_scoped_manager


class Industry(models.TextChoices):
    AUTOMOTIVE = "automotive", _("Automotive (IATF 16949)")
    PHARMA = "pharma", _("Pharma (GMP)")
    FOOD = "food", _("Food (SC licence)")
    GENERAL = "general", _("General manufacturing")


class Role(models.TextChoices):
    INSPECTOR = "inspector", _("Inspector")
    QUALITY_ENGINEER = "quality_engineer", _("Quality engineer")
    QUALITY_MANAGER = "quality_manager", _("Quality manager")
    MRB_MEMBER = "mrb_member", _("MRB member")
    SUPPLIER_QUALITY_ENGINEER = "sqe", _("Supplier quality engineer")
    PRODUCTION_SUPERVISOR = "production_supervisor", _("Production supervisor")
    AUDITOR = "auditor", _("Auditor (read-only)")
    ADMINISTRATOR = "administrator", _("Administrator")


class RegulatedUserManager(UserManager.from_queryset(RegulatedQuerySet)):
    pass


class User(RegulatedModel, AbstractUser):
    display_name = models.CharField(_("printed name"), max_length=150, blank=True)
    preferred_language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    failed_logins = models.PositiveIntegerField(_("failed attempts"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    objects = RegulatedUserManager()
    audit_exempt_reason_fields = ("last_login", "failed_logins", "locked_until", "password")

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.printed_name

    @property
    def printed_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_locked(self) -> bool:
        return bool(self.locked_until and self.locked_until > timezone.now())


class Site(RegulatedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry profile"), max_length=20, choices=Industry.choices)
    address = models.TextField(_("address"), blank=True)
    # who customers and authorities reach at this plant (recall letters, CoAs)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact telephone"), max_length=50, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Pharma GMP: an accepted inspection does not release the lot; a separate e-signed QA release does.
    requires_qa_release = models.BooleanField(_("requires separate QA release"), default=False)
    # Off by default: a lot is released by a person's e-signature. Where on, an accepted IQC releases the lot
    # under the system actor with the inspection's signature as evidence. Never on GMP sites.
    auto_release_after_iqc = models.BooleanField(_("release automatically after an accepted IQC"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def allows_auto_release(self) -> bool:
        return self.auto_release_after_iqc and self.industry != Industry.PHARMA and not self.requires_qa_release

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.auto_release_after_iqc and (self.industry == Industry.PHARMA or self.requires_qa_release):
            raise ValidationError(
                {
                    "auto_release_after_iqc": _(
                        "A GMP site (or one that requires a separate QA release) releases every lot by a "
                        "signed QA release; automatic release is not allowed."
                    )
                }
            )


class Membership(RegulatedModel):
    """A role a user holds at one site. A user may hold several roles at several sites."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("user"))
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("site"))
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["user", "site", "role"], name="uniq_membership")]

    def __str__(self):
        return f"{self.user} · {self.site.code} · {self.get_role_display()}"


class DecisionAuthority(RegulatedModel):
    """Who may take a decision at one site: the roles listed here replace the default roles of the
    decision's permission (qms.core.policy.DECISIONS) for that site only, e.g. a QA head's deputy who may
    approve recalls at a plant with one quality manager. Edited by an administrator, audited."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="decision_authorities")
    decision = models.CharField(_("decision"), max_length=40)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("decision authority")
        verbose_name_plural = _("decision authorities")
        constraints = [models.UniqueConstraint(fields=["site", "decision", "role"], name="uniq_decision_authority")]

    def __str__(self):
        return f"{self.site.code} · {self.decision} · {self.get_role_display()}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .policy import DECISIONS

        if self.decision not in DECISIONS:
            raise ValidationError({"decision": _("Unknown decision “%(d)s”.") % {"d": self.decision}})
        if self.role == Role.AUDITOR:
            raise ValidationError({"role": _("An auditor is read-only and takes no decision.")})


class SubmittedForm(models.Model):
    """A create form's single-use token, recorded with what it created: a repeated POST of the same form
    (double click, back button, retry) leads to the first result instead of creating again."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=300)
    result_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.path} {self.created_at:%Y-%m-%d %H:%M}"


class PartType(models.TextChoices):
    RAW = "raw", _("Raw material")
    COMPONENT = "component", _("Component")
    SEMI_FINISHED = "semi_finished", _("Semi-finished")
    FINISHED = "finished", _("Finished good")


class Part(RegulatedModel):
    number = models.CharField(_("part number"), max_length=60, validators=[validate_code])
    revision = models.CharField(_("revision"), max_length=10, default="A")
    name = models.CharField(_("name"), max_length=200)
    part_type = models.CharField(_("type"), max_length=20, choices=PartType.choices)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    is_safety_critical = models.BooleanField(_("safety critical"), default=False)
    is_regulated = models.BooleanField(_("regulatory relevant"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # The cost in force now (settings.QMS_CURRENCY per unit); its history, which prices scrap and rework at
    # the time they happened, is PartCost. Empty: not known (scrap and rework of the part are not priced).
    standard_cost = models.DecimalField(
        _("standard cost per unit"), max_digits=14, decimal_places=4, null=True, blank=True
    )

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["number", "revision"]
        constraints = [models.UniqueConstraint(fields=["number", "revision"], name="uniq_part_number_rev")]

    def __str__(self):
        return f"{self.number} rev {self.revision} {self.name}"


class PartCost(RegulatedModel):
    """The standard cost of a part from a moment on (append-only history, written by
    `services.part_standard_cost_set`): scrap and rework are priced with the cost in force when they were
    carried out, so a later change of the standard cost does not re-price the past."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="costs", verbose_name=_("part"))
    standard_cost = models.DecimalField(
        _("standard cost per unit"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("standard cost")
        verbose_name_plural = _("standard costs")
        ordering = ["part", "-valid_from", "-pk"]
        indexes = [models.Index(fields=["part", "valid_from"], name="partcost_part_from_idx")]

    def __str__(self):
        return f"{self.part.number} {self.standard_cost} ({self.valid_from:%Y-%m-%d})"


class Customer(RegulatedModel):
    code = models.CharField(_("code"), max_length=30, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    is_automotive = models.BooleanField(_("automotive customer"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class EquipmentKind(models.TextChoices):
    MACHINE = "machine", _("Machine")
    GAUGE = "gauge", _("Gauge / measuring instrument")
    LINE = "line", _("Production line")


class Equipment(RegulatedModel):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=EquipmentKind.choices)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="equipment", verbose_name=_("site"))
    calibration_due = models.DateField(_("calibration due"), null=True, blank=True)
    calibrated_on = models.DateField(_("last calibrated on"), null=True, blank=True)
    calibration_certificate = models.CharField(_("calibration certificate"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def calibration_overdue(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.kind == EquipmentKind.GAUGE and self.calibration_due is not None and self.calibration_due < on


class Notification(models.Model):
    """An inbox entry. `dedup_key` makes a reminder idempotent: one per recipient and key, ever."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True)
    level = models.CharField(max_length=10, default="info")
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    dedup_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = site_scoped_manager("site", manager_class=models.Manager, null_visible=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], condition=~models.Q(dedup_key=""), name="uniq_notification_dedup"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject


class JobRun(models.Model):
    """One execution of a background job: failures stay visible to administrators, never dropped."""

    name = models.CharField(max_length=200)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"])]

    def __str__(self):
        return f"{self.name} · {self.started_at:%Y-%m-%d %H:%M} UTC · {'ok' if self.ok else 'failed'}"


class OutboxJob(models.Model):
    """A background job waiting to be delivered (transactional outbox). Written in the same transaction as the
    business change that asks for it, so a job exists exactly when its change committed; published to the
    broker after commit and again by the drain until a worker marks it delivered, once."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_try = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["next_try"],
                name="outbox_pending",
                condition=models.Q(delivered_at__isnull=True, failed_at__isnull=True),
            )
        ]

    def __str__(self):
        return f"{self.task} #{self.pk}"
