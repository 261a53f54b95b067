"""Inspection records: plans (versioned), characteristics, inspections, measurements, switching state,
IPQC schedules, line stops and lot releases. State changes go through `inspection.services`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.scoping import site_scoped_manager


def format_decimal(value, places: int | None) -> str:
    """Fixed-point text with `places` decimals (None: as stored, without trailing zeros); never "1E+1"."""
    if value is None:
        return ""
    value = Decimal(value)
    if places is None:
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


class Stage(models.TextChoices):
    IQC = "IQC", _("Incoming inspection (IQC)")
    FAI = "FAI", _("First article inspection (FAI)")
    IPQC = "IPQC", _("In-process patrol inspection (IPQC)")
    FQC = "FQC", _("Final / outgoing inspection (FQC/OQC)")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    OBSOLETE = "obsolete", _("Obsolete")


class Scheme(models.TextChoices):
    ISO2859 = "iso2859", _("ISO 2859-1 sampling (AQL)")
    CLASS_AQL = "class", _("ISO 2859-1 per defect class AQL")
    FIXED = "fixed", _("Fixed sample size")
    FULL = "hundred_percent", _("Full inspection (every piece)")


class InspectionLevel(models.TextChoices):
    S1 = "S-1", "S-1"
    S2 = "S-2", "S-2"
    S3 = "S-3", "S-3"
    S4 = "S-4", "S-4"
    I = "I", "I"  # noqa: E741
    II = "II", "II"
    III = "III", "III"


class InspectionPlan(RegulatedModel):
    """What to inspect on one part at one stage. Versioned: draft -> approved (e-signed) -> obsolete.
    An inspection pins the version it used."""

    # What the approver's signature covers (compliance.signatures): the plan and its characteristics.
    signed_fields = (
        "site", "part", "stage", "version", "title", "scheme", "aql", "level", "fixed_sample_size",
        "aql_critical", "aql_major", "aql_minor", "operation_name", "notes",
    )  # fmt: skip
    signed_children = {
        "characteristics": (
            "sequence", "name", "kind", "nominal", "lower_limit", "upper_limit", "unit", "decimals",
            "defect_class", "special", "gauge", "method", "is_lab_test",
        )
    }  # fmt: skip
    signature_closed_states = {"obsolete": "superseded"}  # approving the next version obsoletes this one

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    status = FSMField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT, protected=False)
    scheme = models.CharField(_("sampling scheme"), max_length=20, choices=Scheme.choices, default=Scheme.ISO2859)
    aql = models.CharField(_("AQL"), max_length=8, default="1.0", blank=True)
    level = models.CharField(_("inspection level"), max_length=4, choices=InspectionLevel.choices, default="II")
    fixed_sample_size = models.PositiveIntegerField(_("fixed sample size"), null=True, blank=True)
    aql_critical = models.CharField(_("AQL critical"), max_length=8, blank=True, help_text=_("empty = accept 0"))
    aql_major = models.CharField(_("AQL major"), max_length=8, blank=True)
    aql_minor = models.CharField(_("AQL minor"), max_length=8, blank=True)
    operation_name = models.CharField(_("operation"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The controlled document (procedure, work instruction, specification) this plan implements.
    # Not in signed_fields: linking a document is bookkeeping, it does not change what was approved.
    document = models.ForeignKey(
        "documents.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspection_plans",
        verbose_name=_("controlled document"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["part__number", "stage", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "part", "stage", "version"], name="insp_plan_version_uniq"),
            models.UniqueConstraint(
                fields=["site", "part", "stage"], condition=models.Q(status="approved"), name="insp_plan_one_approved"
            ),
        ]

    def __str__(self):
        return f"{self.part.number} {self.stage} v{self.version}"

    @transition(field=status, source=PlanStatus.DRAFT, target=PlanStatus.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=PlanStatus.APPROVED, target=PlanStatus.OBSOLETE)
    def make_obsolete(self):
        pass


class Kind(models.TextChoices):
    VARIABLE = "variable", _("Variable (measured value)")
    ATTRIBUTE = "attribute", _("Attribute (pass / fail)")
    COUNT = "count", _("Count of defects")
    TEXT = "text", _("Text / photo")


class DefectClass(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")


class Special(models.TextChoices):
    NONE = "", _("—")
    SC = "SC", _("Significant characteristic (SC)")
    CC = "CC", _("Critical characteristic (CC)")


class Characteristic(RegulatedModel):
    audit_site_path = "plan__site"  # audit entries are filed under this site
    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.PROTECT, related_name="characteristics", verbose_name=_("plan")
    )
    sequence = models.PositiveIntegerField(_("sequence"), default=10)
    name = models.CharField(_("characteristic"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VARIABLE)
    nominal = models.DecimalField(_("nominal"), max_digits=16, decimal_places=6, null=True, blank=True)
    lower_limit = models.DecimalField(_("lower limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=2)
    defect_class = models.CharField(
        _("defect class"), max_length=10, choices=DefectClass.choices, default=DefectClass.MAJOR
    )
    special = models.CharField(
        _("special characteristic"), max_length=2, choices=Special.choices, default="", blank=True
    )
    gauge = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("gauge")
    )
    method = models.CharField(_("method"), max_length=200, blank=True)
    is_lab_test = models.BooleanField(_("laboratory test (legal limit)"), default=False)

    objects = site_scoped_manager("plan__site")

    class Meta:
        verbose_name = _("characteristic")
        verbose_name_plural = _("characteristics")
        ordering = ["plan", "sequence", "pk"]

    def __str__(self):
        return self.name

    def format(self, value) -> str:
        """A value or limit of this characteristic printed with its decimals."""
        return format_decimal(value, self.decimals)

    @property
    def limits_for_script(self) -> tuple[str, str]:
        """Exact limits for the tablet's red/green script (plain digits, never "1E+1")."""
        return format_decimal(self.lower_limit, None), format_decimal(self.upper_limit, None)

    @property
    def limits_text(self) -> str:
        lo = self.format(self.lower_limit) if self.lower_limit is not None else None
        hi = self.format(self.upper_limit) if self.upper_limit is not None else None
        unit = f" {self.unit}" if self.unit else ""
        if lo is not None and hi is not None:
            return f"{lo} … {hi}{unit}"
        if hi is not None:
            return f"≤ {hi}{unit}"
        if lo is not None:
            return f"≥ {lo}{unit}"
        return ""

    def judge(self, *, number=None, passed=None, count=None, text="") -> bool | None:
        """Objective judgement: inclusive limits, exact decimal comparison. None = no judgement (text)."""
        if self.kind == Kind.VARIABLE:
            if number is None:
                return None
            value = Decimal(str(number))
            if self.lower_limit is not None and value < self.lower_limit:
                return False
            return not (self.upper_limit is not None and value > self.upper_limit)
        if self.kind == Kind.ATTRIBUTE:
            return None if passed is None else bool(passed)
        if self.kind == Kind.COUNT:
            if count is None:
                return None
            limit = int(self.upper_limit) if self.upper_limit is not None else 0
            return int(count) <= limit
        return None


class InspectionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Station(RegulatedModel):
    """A place where inspectors work (receiving bay, line patrol, final test). Inspectors cover stations."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    stages = models.CharField(_("stages"), max_length=60, help_text=_("comma separated, e.g. IQC or FAI,IPQC"))
    line = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("line")
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("inspectors")
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("inspection station")
        verbose_name_plural = _("inspection stations")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Inspection(RegulatedModel):
    # What the inspector's signature covers: the result and every measurement taken.
    signed_fields = (
        "code", "stage", "site", "part", "plan", "lot", "work_order", "operation", "supplier", "station",
        "lot_size", "severity", "code_letter", "sample_size", "accept_number", "reject_number",
        "nonconforming", "class_plans", "is_reinspection", "status", "result_note", "inspector",
    )  # fmt: skip
    signed_children = {
        "measurements": ("characteristic", "sample_no", "value", "passed", "count", "text", "photo", "ok", "gauge")
    }
    code = models.CharField(_("inspection number"), max_length=30, unique=True)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    plan = models.ForeignKey(
        InspectionPlan, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("plan version")
    )
    lot = models.ForeignKey(
        "traceability.Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lot")
    )
    work_order = models.ForeignKey(
        "traceability.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work order"),
    )
    operation = models.ForeignKey(
        "traceability.Operation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operation"),
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplier"),
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, null=True, blank=True, related_name="inspections", verbose_name=_("station")
    )
    schedule = models.ForeignKey(
        "IpqcSchedule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("schedule"),
    )
    status = FSMField(
        _("status"), max_length=20, choices=InspectionStatus.choices, default=InspectionStatus.PENDING, protected=False
    )
    # sampling, resolved when the inspection is created
    lot_size = models.PositiveIntegerField(_("lot size"), default=0)
    severity = models.CharField(_("inspection severity"), max_length=12, default="normal")
    code_letter = models.CharField(_("code letter"), max_length=2, blank=True)
    sample_size = models.PositiveIntegerField(_("sample size"), default=1)
    accept_number = models.PositiveIntegerField(_("acceptance number"), default=0)
    reject_number = models.PositiveIntegerField(_("rejection number"), default=1)
    nonconforming = models.PositiveIntegerField(_("nonconforming pieces"), default=0)
    class_plans = models.JSONField(_("plans per defect class"), default=dict, blank=True)
    is_reinspection = models.BooleanField(_("re-inspection"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    result_note = models.TextField(_("result"), blank=True)
    due_at = models.DateTimeField(_("due"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspector"),
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="insp_open_due_idx"),
            models.Index(fields=["station", "status", "due_at"], name="insp_station_due_idx"),
            models.Index(fields=["site", "status", "due_at"], name="insp_site_due_idx"),
            models.Index(fields=["lot", "stage"], name="insp_lot_stage_idx"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in (InspectionStatus.PENDING, InspectionStatus.IN_PROGRESS)

    @property
    def passed(self) -> bool:
        return self.status == InspectionStatus.ACCEPTED

    def is_overdue(self, now=None) -> bool:
        return self.is_open and self.due_at < (now or timezone.now())

    @transition(field=status, source=InspectionStatus.PENDING, target=InspectionStatus.IN_PROGRESS)
    def start(self):
        self.started_at = timezone.now()

    @transition(
        field=status, source=[InspectionStatus.PENDING, InspectionStatus.IN_PROGRESS], target=InspectionStatus.ACCEPTED
    )
    def accept(self):
        self.completed_at = timezone.now()

    @transition(
        field=status, source=[InspectionStatus.PENDING, InspectionStatus.IN_PROGRESS], target=InspectionStatus.REJECTED
    )
    def reject(self):
        self.completed_at = timezone.now()


class Measurement(RegulatedModel):
    """One value of one characteristic on one sample piece. Appended, never edited."""

    audit_site_path = "inspection__site"  # audit entries are filed under this site

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="measurements", verbose_name=_("inspection")
    )
    characteristic = models.ForeignKey(
        Characteristic, on_delete=models.PROTECT, related_name="+", verbose_name=_("characteristic")
    )
    sample_no = models.PositiveIntegerField(_("sample"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=6, null=True, blank=True)
    # the resolution the inspector entered ("12.00" -> 2): the column keeps 6 places, prints keep these
    decimals = models.PositiveSmallIntegerField(_("decimal places entered"), null=True, blank=True)
    passed = models.BooleanField(_("pass"), null=True, blank=True)
    count = models.PositiveIntegerField(_("defects"), null=True, blank=True)
    text = models.TextField(_("remark"), blank=True)
    photo = models.FileField(_("photo"), upload_to="private/inspection/photos/%Y/%m/", blank=True)
    ok = models.BooleanField(_("conforming"), null=True)
    gauge = models.ForeignKey("core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    submission = models.UUIDField(_("submission"), db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = site_scoped_manager("inspection__site")

    class Meta:
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        ordering = ["inspection", "sample_no", "characteristic__sequence"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "characteristic", "sample_no"], name="insp_measurement_once"),
        ]

    def __str__(self):
        return f"{self.inspection_id} #{self.sample_no} {self.characteristic_id}"

    @property
    def display_value(self) -> str:
        """The value at the resolution entered (values recorded before it was kept: the characteristic's
        decimals when the characteristic is loaded, else without trailing zeros)."""
        if self.value is None:
            return ""
        places = self.decimals
        if places is None and "characteristic" in self._state.fields_cache:
            places = self.characteristic.decimals
        return format_decimal(self.value, places)


class Submission(models.Model):
    """Idempotency: one row per submitted form key; a resubmitted form records nothing twice."""

    key = models.UUIDField(unique=True)
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    values = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("inspection__site", manager_class=models.Manager)

    def __str__(self):
        return str(self.key)


class SupplierSwitching(RegulatedModel):
    """ISO 2859-1 switching state for one supplier x part at one site."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    supplier = models.ForeignKey(
        "suppliers.Supplier", on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier")
    )
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    severity = models.CharField(_("inspection severity"), max_length=12, default="normal")
    normal_history = models.CharField(_("recent results on normal"), max_length=10, blank=True)  # e.g. "AARAA"
    switching_score = models.PositiveIntegerField(_("switching score"), default=0)
    tightened_accepted_run = models.PositiveIntegerField(default=0)
    tightened_not_accepted = models.PositiveIntegerField(default=0)
    reduced_eligible = models.BooleanField(default=False)
    reduced_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reduced_approved_at = models.DateTimeField(null=True, blank=True)
    lots = models.PositiveIntegerField(default=0)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("switching state")
        verbose_name_plural = _("switching states")
        constraints = [models.UniqueConstraint(fields=["site", "supplier", "part"], name="insp_switching_uniq")]

    def __str__(self):
        return f"{self.supplier} · {self.part.number}: {self.severity}"


class SwitchingEvent(RegulatedModel):
    audit_site_path = "switching__site"  # audit entries are filed under this site
    switching = models.ForeignKey(SupplierSwitching, on_delete=models.PROTECT, related_name="events")
    from_severity = models.CharField(max_length=12)
    to_severity = models.CharField(max_length=12)
    cause = models.CharField(max_length=40)
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("switching__site")

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("switching event")
        verbose_name_plural = _("switching events")

    def __str__(self):
        return f"{self.from_severity} → {self.to_severity} ({self.cause}) {self.at:%Y-%m-%d}"


class IpqcSchedule(RegulatedModel):
    """ "Every 2 hours, 5 pieces" on one line / operation."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    line = models.ForeignKey("core.Equipment", on_delete=models.PROTECT, related_name="+", verbose_name=_("line"))
    operation_name = models.CharField(_("operation"), max_length=120, blank=True)
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    every_minutes = models.PositiveIntegerField(_("every (minutes)"), default=120)
    pieces = models.PositiveIntegerField(_("pieces"), default=5)
    grace_minutes = models.PositiveIntegerField(_("overdue after (minutes)"), default=30)
    next_due_at = models.DateTimeField(_("next check due"), default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("IPQC schedule")
        verbose_name_plural = _("IPQC schedules")

    def __str__(self):
        return f"{self.line.code} {self.operation_name}: {self.pieces} / {self.every_minutes} min"


class LineStop(RegulatedModel):
    """A failed patrol check stops the line/operation until a supervisor records the correction and a
    re-check passes."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey("core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    operation = models.ForeignKey(
        "traceability.Operation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    work_order = models.ForeignKey(
        "traceability.WorkOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="+", verbose_name=_("failed check")
    )
    raised_at = models.DateTimeField(default=timezone.now)
    correction = models.TextField(_("correction"), blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    recheck = models.ForeignKey(Inspection, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("line stop")
        verbose_name_plural = _("line stops")
        ordering = ["-raised_at"]

    def __str__(self):
        return f"{self.inspection.code} stop"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class LotRelease(RegulatedModel):
    """The e-signed release of one lot (one per lot: two people releasing at once end with one)."""

    signed_fields = ("lot", "note_number", "released_by", "released_at", "reason")

    audit_site_path = "lot__site"  # audit entries are filed under this site

    lot = models.OneToOneField("traceability.Lot", on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    note_number = models.CharField(_("release note"), max_length=30, unique=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    # An automatic release (site setting, never GMP) is made by the system actor; its evidence is the
    # accepting inspection's signature. A person's release carries its own signature meaning "released".
    automatic = models.BooleanField(_("automatic"), default=False)
    evidence = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("evidence"),
    )  # fmt: skip

    objects = site_scoped_manager("lot__site")

    class Meta:
        verbose_name = _("lot release")
        verbose_name_plural = _("lot releases")

    def __str__(self):
        return self.note_number


class RejectionDecision(RegulatedModel):
    """A signed decision that settles a rejected inspection for one lot (or the part split off it):
    the MRB's use-as-is, regrade or concession, passed down as data by the deciding app. The lot is
    releasable for `quantity` despite the rejection; the inspection hold on it is lifted with this record
    as the reason. Append-only in practice: a decision is never edited, only recorded."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="rejection_decisions", verbose_name=_("inspection")
    )
    lot = models.ForeignKey("traceability.Lot", on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    kind = models.CharField(_("decision"), max_length=30)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    reference = models.CharField(_("reference"), max_length=80)
    text = models.CharField(_("text"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("lot__site")

    class Meta:
        verbose_name = _("decision on a rejection")
        verbose_name_plural = _("decisions on rejections")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "lot", "reference"], name="uniq_rejection_decision")
        ]

    def __str__(self):
        return f"{self.reference} · {self.kind}"


class ChartKind(models.TextChoices):
    IMR = "imr", _("Individuals and moving range (I-MR)")
    XBAR_R = "xbar_r", _("Average and range (x̄-R)")
    XBAR_S = "xbar_s", _("Average and standard deviation (x̄-S)")
    P = "p", _("Fraction defective (p)")
    U = "u", _("Defects per unit (u)")


class LimitsStatus(models.TextChoices):
    FROZEN = "frozen", _("In force")
    SUPERSEDED = "superseded", _("Superseded")


class ControlLimits(RegulatedModel):
    """Phase II control limits of one characteristic, frozen from a baseline by an e-signed decision.
    A change of limits is a new frozen set that supersedes the previous one; both stay on record so a chart
    shows which limits applied when."""

    characteristic = models.ForeignKey(
        Characteristic, on_delete=models.PROTECT, related_name="control_limits", verbose_name=_("characteristic")
    )
    chart = models.CharField(_("chart"), max_length=10, choices=ChartKind.choices)
    subgroup_size = models.PositiveSmallIntegerField(_("subgroup size"))
    center = models.FloatField(_("centre line"))
    lcl = models.FloatField(_("lower control limit"))
    ucl = models.FloatField(_("upper control limit"))
    spread_center = models.FloatField(_("spread centre line"), null=True, blank=True)
    spread_lcl = models.FloatField(_("spread lower limit"), null=True, blank=True)
    spread_ucl = models.FloatField(_("spread upper limit"), null=True, blank=True)
    sigma = models.FloatField(_("sigma (within)"))
    rules = models.CharField(_("Nelson rules"), max_length=20, default="1,2,3,5")
    baseline_subgroups = models.PositiveIntegerField(_("baseline subgroups"))
    baseline_from = models.DateTimeField(_("baseline from"))
    baseline_to = models.DateTimeField(_("baseline to"))
    excluded = models.JSONField(_("excluded points"), default=list, blank=True)
    status = FSMField(_("status"), max_length=12, choices=LimitsStatus.choices, default=LimitsStatus.FROZEN)
    reason = models.TextField(_("reason"))
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    frozen_at = models.DateTimeField(_("frozen at"), default=timezone.now)

    # What the signer reviewed: the limits, the rules and the baseline (not later status bookkeeping).
    signed_fields = (
        "characteristic_id", "chart", "subgroup_size", "center", "lcl", "ucl", "spread_center", "spread_lcl",
        "spread_ucl", "sigma", "rules", "baseline_subgroups", "baseline_from", "baseline_to", "excluded",
    )  # fmt: skip

    objects = site_scoped_manager("characteristic__plan__site")

    class Meta:
        verbose_name = _("control limits")
        verbose_name_plural = _("control limits")
        ordering = ["characteristic", "frozen_at", "pk"]

    def __str__(self):
        return f"{self.characteristic} {self.get_chart_display()} {self.frozen_at:%Y-%m-%d}"

    @property
    def rule_numbers(self) -> list[int]:
        return [int(r) for r in self.rules.split(",") if r.strip().isdigit()]

    @transition(field=status, source=LimitsStatus.FROZEN, target=LimitsStatus.SUPERSEDED)
    def supersede(self):
        pass


class SpcSignal(RegulatedModel):
    """One Nelson-rule violation of frozen control limits at one subgroup: the fact monitoring counts
    (KPI "spc.signals") and alarm rules watch. Written once per inspection, characteristic and rule."""

    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="+", verbose_name=_("site"))
    characteristic = models.ForeignKey(
        Characteristic, on_delete=models.PROTECT, related_name="+", verbose_name=_("characteristic")
    )
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspection"))
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    line = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("line")
    )
    rule = models.PositiveSmallIntegerField(_("Nelson rule"))
    limits = models.ForeignKey(ControlLimits, on_delete=models.PROTECT, related_name="+", verbose_name=_("limits"))
    at = models.DateTimeField(_("recorded at"))

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("SPC signal")
        verbose_name_plural = _("SPC signals")
        ordering = ["-at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "characteristic", "rule"], name="insp_spc_signal_once"),
        ]

    def __str__(self):
        return f"{self.inspection_id} {self.characteristic_id} rule {self.rule}"
