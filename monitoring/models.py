"""KPI daily roll-ups, quality objectives, alarm rules and alarms."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qms.core.audit import RegulatedModel
from qms.core.kpis import get_kpi
from qms.core.models import Role, Site
from qms.core.scoping import site_scoped_manager


class KpiDaily(models.Model):
    """Numerator and denominator of one KPI for one site, dimension value and day. Derived data: rebuilt
    from the records at any time (`manage.py kpi_rollup`), so it is replaced, not audited."""

    kpi = models.CharField(max_length=60)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    dim_key = models.CharField(max_length=20, blank=True, default="")
    dim_value = models.CharField(max_length=100, blank=True, default="")
    day = models.DateField()
    num = models.FloatField(default=0)
    den = models.FloatField(default=0)

    objects = site_scoped_manager("site", manager_class=models.Manager)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "site", "dim_key", "dim_value", "day"], name="uniq_kpi_daily")
        ]
        indexes = [models.Index(fields=["kpi", "dim_key", "site", "day"], name="kpidaily_series_idx")]


class Comparator(models.TextChoices):
    LT = "<", "<"
    LE = "<=", "≤"
    GT = ">", ">"
    GE = ">=", "≥"


class Period(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class Dimension(models.TextChoices):
    SITE = "", _("Whole site")
    LINE = "line", _("Line")
    OPERATION = "operation", _("Operation")
    PART = "part", _("Part")
    SUPPLIER = "supplier", _("Supplier")
    CUSTOMER = "customer", _("Customer")
    DEFECT_CODE = "defect_code", _("Defect code")


class Objective(RegulatedModel):
    """A measurable quality objective: "finished-goods defect rate ≤ 0.5 % per month" at one site,
    optionally narrowed to one line, part, supplier or customer."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    title = models.CharField(_("title"), max_length=200)
    kpi = models.CharField(_("KPI"), max_length=60)
    dim_key = models.CharField(_("narrowed to"), max_length=20, choices=Dimension.choices, blank=True, default="")
    dim_value = models.CharField(_("value"), max_length=100, blank=True, default="")
    comparator = models.CharField(_("comparator"), max_length=2, choices=Comparator.choices)
    target = models.FloatField(_("target"))
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.MONTH)
    year = models.PositiveIntegerField(_("year"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    review_every_months = models.PositiveIntegerField(_("review every (months)"), default=3)
    escalate_after_periods = models.PositiveIntegerField(
        _("escalate to the quality manager after (periods off track)"), default=2
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("quality objective")
        verbose_name_plural = _("quality objectives")
        ordering = ["site", "kpi", "pk"]

    def __str__(self):
        return f"{self.title} ({self.comparator} {self.target:g})"


class ObjectiveReview(RegulatedModel):
    """The management review of one objective: the actual seen, the decision, an e-signature."""

    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="reviews")
    period_label = models.CharField(_("period"), max_length=20)
    actual = models.FloatField(_("actual"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10)
    conclusion = models.TextField(_("conclusion"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("objective__site")

    class Meta:
        ordering = ["-reviewed_at"]
        verbose_name = _("objective review")
        verbose_name_plural = _("objective reviews")

    def __str__(self):
        return f"{self.objective.title} · {self.period_label}"


class WindowKind(models.TextChoices):
    HOURS = "hours", _("Last N hours")
    TODAY = "today", _("Today")
    DAYS = "days", _("Last N days")
    MONTH = "month", _("This month")
    RECORDS = "records", _("Last N records (lots, checks)")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlarmAction(models.TextChoices):
    NOTIFY = "notify", _("Notify")
    NCR = "ncr", _("Notify and open an NCR")
    CAPA = "capa", _("Notify and open a CAPA")
    LINE_STOP = "line_stop", _("Notify and request an IPQC line stop")


class AlarmRule(RegulatedModel):
    """When a KPI over a window crosses a threshold, raise an alarm (once per breach)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=200)
    kpi = models.CharField(_("KPI"), max_length=60)
    # Scope: with a dimension and no value the rule watches every value separately (each line, each supplier).
    dim_key = models.CharField(_("per"), max_length=20, choices=Dimension.choices, blank=True, default="")
    dim_value = models.CharField(_("only for"), max_length=100, blank=True, default="")
    window = models.CharField(_("window"), max_length=10, choices=WindowKind.choices, default=WindowKind.HOURS)
    window_size = models.PositiveIntegerField(_("window size (N)"), default=8)
    comparator = models.CharField(_("comparator"), max_length=2, choices=Comparator.choices)
    threshold = models.FloatField(_("threshold"))
    consecutive = models.PositiveIntegerField(_("for N consecutive windows"), default=1)
    min_denominator = models.FloatField(
        _("minimum sample"), default=0, help_text=_("ignore windows with fewer pieces or records than this")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    recipient_roles = models.CharField(
        _("recipients (roles)"), max_length=200, default=Role.QUALITY_MANAGER, help_text=_("comma separated roles")
    )
    cooldown_minutes = models.PositiveIntegerField(_("cool-down (minutes)"), default=60)
    action = models.CharField(_("action"), max_length=10, choices=AlarmAction.choices, default=AlarmAction.NOTIFY)
    evaluate_on_event = models.BooleanField(_("evaluate on each event"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["site", "name"]

    def __str__(self):
        return self.name

    @property
    def roles(self) -> list[str]:
        return [r.strip() for r in self.recipient_roles.split(",") if r.strip()]

    @property
    def kpi_label(self):
        kpi = get_kpi(self.kpi)
        return kpi.label if kpi else self.kpi

    @property
    def recipient_labels(self) -> str:
        """The recipients' roles as the reader names them."""
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(r, r)) for r in self.roles)


class AlarmStatus(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alarm(RegulatedModel):
    """One breach of one rule for one scope value. Raised once; acknowledged; resolved automatically when
    back in range or by hand with a reason."""

    code = models.CharField(_("alarm number"), max_length=30, unique=True)
    rule = models.ForeignKey(AlarmRule, on_delete=models.PROTECT, related_name="alarms")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    dim_value = models.CharField(_("scope"), max_length=100, blank=True, default="")
    status = models.CharField(_("status"), max_length=15, choices=AlarmStatus.choices, default=AlarmStatus.RAISED)
    value = models.FloatField(_("value when raised"), null=True)
    last_value = models.FloatField(_("latest value"), null=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_comment = models.TextField(_("acknowledgement"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    auto_resolved = models.BooleanField(default=False)
    action_reference = models.CharField(_("opened"), max_length=60, blank=True)  # NCR / CAPA / line stop
    action_error = models.TextField(blank=True)

    audit_exempt_reason_fields = ("last_value",)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at"]
        constraints = [
            # Raised once per breach: one open alarm per rule and scope value, even with two evaluators.
            models.UniqueConstraint(
                fields=["rule", "dim_value"],
                condition=~models.Q(status="resolved"),
                name="uniq_open_alarm_per_rule_scope",
            )
        ]
        indexes = [
            models.Index(fields=["site", "status"]),
            # the dashboard's "open alarms, newest first" (a busy plant keeps many resolved ones)
            models.Index(
                fields=["site", "-raised_at"], condition=~models.Q(status="resolved"), name="alarm_open_recent_idx"
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status != AlarmStatus.RESOLVED
