"""GMP batch records: master batch records (MBR, per product, versioned, e-signed), executed batch records
(EBR, one per work order: steps signed by their operator, critical steps verified by a second person,
parameters and in-process controls judged against their limits as they are entered, material dispensed by
lot scan, yield reconciled), deviations (raised by hand or from any out-of-limit entry) and the review by
exception that QA signs before the batch's lot is released.

Statuses are kept by `batchrecords.services`; the transition methods below change fields only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.scoping import site_scoped_manager

# An entry recorded more than this many minutes after the time it claims is a late entry (needs a reason).
DEFAULT_LATE_ENTRY_MINUTES = 30


def late_entry_minutes() -> int:
    return int(getattr(settings, "BATCH_LATE_ENTRY_MINUTES", DEFAULT_LATE_ENTRY_MINUTES))


# ------------------------------------------------------------------------------------------ master record


class MbrStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    EFFECTIVE = "effective", _("Effective")
    SUPERSEDED = "superseded", _("Superseded")


class MasterBatchRecord(RegulatedModel):
    """The approved recipe of one product: steps, parameters with limits, in-process controls, materials
    with quantities and tolerances, the theoretical yield and its limits. One effective version per
    product and site; a new version supersedes it when approved."""

    signed_fields = (
        "code", "site", "part", "version", "title", "batch_size", "unit", "theoretical_yield",
        "yield_min_percent", "yield_max_percent", "notes",
    )  # fmt: skip
    signed_children = {
        "steps": ("sequence", "title", "instructions", "is_critical"),
        "parameters": ("step", "name", "kind", "unit", "lower_limit", "upper_limit", "characteristic"),
        "materials": ("part", "quantity", "tolerance_percent", "unit", "step"),
    }
    signature_closed_states = {MbrStatus.SUPERSEDED: "superseded"}

    code = models.CharField(_("master batch record"), max_length=30, unique=True)
    site = models.ForeignKey(
        "core.Site", on_delete=models.PROTECT, related_name="master_batch_records", verbose_name=_("site")
    )
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    version = models.PositiveIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    batch_size = models.DecimalField(_("batch size"), max_digits=14, decimal_places=3, default=Decimal(0))
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    theoretical_yield = models.DecimalField(_("theoretical yield"), max_digits=14, decimal_places=3)
    yield_min_percent = models.DecimalField(
        _("lowest acceptable yield (%)"), max_digits=6, decimal_places=2, default=Decimal("95")
    )
    yield_max_percent = models.DecimalField(
        _("highest acceptable yield (%)"), max_digits=6, decimal_places=2, default=Decimal("102")
    )
    notes = models.TextField(_("notes"), blank=True)
    status = FSMField(_("status"), max_length=20, choices=MbrStatus.choices, default=MbrStatus.DRAFT, protected=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
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
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("previous version")
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("master batch record")
        verbose_name_plural = _("master batch records")
        ordering = ["part__number", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "part", "version"], name="batch_mbr_version"),
            models.UniqueConstraint(
                fields=["site", "part"], condition=models.Q(status="effective"), name="batch_mbr_one_effective"
            ),
        ]

    def __str__(self):
        return f"{self.code} v{self.version} {self.title}"

    @property
    def is_draft(self) -> bool:
        return self.status == MbrStatus.DRAFT

    @transition(field=status, source=MbrStatus.DRAFT, target=MbrStatus.EFFECTIVE)
    def approve(self, *, user):
        self.approved_by = user
        self.approved_at = timezone.now()

    @transition(field=status, source=MbrStatus.EFFECTIVE, target=MbrStatus.SUPERSEDED)
    def supersede(self):
        pass


class MbrStep(RegulatedModel):
    audit_site_path = "mbr__site"
    mbr = models.ForeignKey(
        MasterBatchRecord, on_delete=models.PROTECT, related_name="steps", verbose_name=_("master batch record")
    )
    sequence = models.PositiveIntegerField(_("step"))
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    is_critical = models.BooleanField(
        _("critical step (second-person verification)"),
        default=False,
        help_text=_("A second person must verify this step after it is performed."),
    )

    objects = site_scoped_manager("mbr__site")

    class Meta:
        verbose_name = _("master batch record step")
        verbose_name_plural = _("master batch record steps")
        ordering = ["mbr", "sequence"]
        constraints = [models.UniqueConstraint(fields=["mbr", "sequence"], name="batch_mbr_step_seq")]

    def __str__(self):
        return f"{self.sequence} {self.title}"


class ParameterKind(models.TextChoices):
    PARAMETER = "parameter", _("Process parameter")
    IPC = "ipc", _("In-process control")


class MbrParameter(RegulatedModel):
    """A process parameter or in-process control (IPC) of a step, with its limits. An IPC may name the
    inspection characteristic it follows (limits copied from it when none are given)."""

    audit_site_path = "mbr__site"
    mbr = models.ForeignKey(MasterBatchRecord, on_delete=models.PROTECT, related_name="parameters")
    step = models.ForeignKey(MbrStep, on_delete=models.PROTECT, related_name="parameters", verbose_name=_("step"))
    name = models.CharField(_("parameter"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ParameterKind.choices, default=ParameterKind.PARAMETER)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    lower_limit = models.DecimalField(_("lower limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    characteristic = models.ForeignKey(
        "inspection.Characteristic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspection characteristic"),
    )

    objects = site_scoped_manager("mbr__site")

    class Meta:
        verbose_name = _("parameter / in-process control")
        verbose_name_plural = _("parameters / in-process controls")
        ordering = ["step", "pk"]

    def __str__(self):
        return self.name

    def limits_text(self) -> str:
        return limits_text(self.lower_limit, self.upper_limit, self.unit)


def _num(value) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text


def limits_text(low, high, unit="") -> str:
    if low is not None and high is not None:
        text = f"{_num(low)} – {_num(high)}"
    elif low is not None:
        text = f"≥ {_num(low)}"
    elif high is not None:
        text = f"≤ {_num(high)}"
    else:
        return "—"
    return f"{text} {unit}".strip()


def in_limits(value, low, high) -> bool:
    if value is None:
        return True
    if low is not None and value < low:
        return False
    return not (high is not None and value > high)


class MbrMaterial(RegulatedModel):
    audit_site_path = "mbr__site"
    mbr = models.ForeignKey(
        MasterBatchRecord, on_delete=models.PROTECT, related_name="materials", verbose_name=_("master batch record")
    )
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="+", verbose_name=_("material"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    tolerance_percent = models.DecimalField(_("tolerance (± %)"), max_digits=6, decimal_places=2, default=Decimal(0))
    step = models.ForeignKey(
        MbrStep, on_delete=models.PROTECT, null=True, blank=True, related_name="materials", verbose_name=_("step")
    )

    objects = site_scoped_manager("mbr__site")

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["mbr", "pk"]

    def __str__(self):
        return f"{self.part} {self.quantity} {self.unit}"

    @property
    def low(self) -> Decimal:
        return (self.quantity * (Decimal(100) - self.tolerance_percent) / Decimal(100)).quantize(Decimal("0.001"))

    @property
    def high(self) -> Decimal:
        return (self.quantity * (Decimal(100) + self.tolerance_percent) / Decimal(100)).quantize(Decimal("0.001"))


# ---------------------------------------------------------------------------------------- executed record


class EbrStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed, awaiting review")
    REVIEWED = "reviewed", _("Reviewed")


class ExecutedBatchRecord(RegulatedModel):
    """The batch record of one work order, made from the effective master batch record."""

    signed_fields = (
        "code", "site", "mbr", "work_order", "lot", "actual_yield", "yield_percent", "yield_in_limits",
        "yield_note", "review_comment",
    )  # fmt: skip
    signed_children = {
        "steps": (
            "sequence", "title", "status", "performed_by", "performed_at", "late_reason", "verified_by",
            "verified_at", "comment",
        ),
        "values": ("step", "name", "value", "in_limits", "late_reason"),
        "dispenses": ("material", "lot", "quantity", "in_tolerance"),
    }  # fmt: skip

    code = models.CharField(_("batch record"), max_length=30, unique=True)
    site = models.ForeignKey(
        "core.Site", on_delete=models.PROTECT, related_name="executed_batch_records", verbose_name=_("site")
    )
    mbr = models.ForeignKey(
        MasterBatchRecord, on_delete=models.PROTECT, related_name="executions", verbose_name=_("master batch record")
    )
    work_order = models.OneToOneField(
        "traceability.WorkOrder", on_delete=models.PROTECT, related_name="batch_record", verbose_name=_("work order")
    )
    lot = models.ForeignKey(
        "traceability.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="batch_records",
        verbose_name=_("batch lot"),
    )
    status = FSMField(
        _("status"), max_length=20, choices=EbrStatus.choices, default=EbrStatus.IN_PROGRESS, protected=False
    )
    actual_yield = models.DecimalField(_("actual yield"), max_digits=14, decimal_places=3, null=True, blank=True)
    yield_percent = models.DecimalField(_("yield (%)"), max_digits=8, decimal_places=2, null=True, blank=True)
    yield_in_limits = models.BooleanField(_("yield within limits"), null=True, blank=True)
    yield_note = models.TextField(_("reconciliation note"), blank=True)
    yield_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    yield_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("executed batch record")
        verbose_name_plural = _("executed batch records")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"], name="batch_ebr_site_status")]

    def __str__(self):
        return f"{self.code} ({self.work_order_id and self.work_order.code})"

    @transition(field=status, source=EbrStatus.IN_PROGRESS, target=EbrStatus.COMPLETED)
    def complete(self):
        self.completed_at = timezone.now()

    @transition(field=status, source=EbrStatus.COMPLETED, target=EbrStatus.REVIEWED)
    def review(self, *, user, comment: str):
        self.reviewed_by = user
        self.reviewed_at = timezone.now()
        self.review_comment = comment


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Performed")
    VERIFIED = "verified", _("Verified")


class EbrStep(RegulatedModel):
    audit_site_path = "ebr__site"
    signed_fields = (
        "ebr", "sequence", "title", "instructions", "is_critical", "performed_by", "performed_at", "late_reason",
        "comment",
    )  # fmt: skip
    signed_children = {"values": ("name", "value", "in_limits", "late_reason")}

    ebr = models.ForeignKey(
        ExecutedBatchRecord, on_delete=models.PROTECT, related_name="steps", verbose_name=_("batch record")
    )
    mbr_step = models.ForeignKey(MbrStep, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField(_("step"))
    title = models.CharField(_("title"), max_length=200)
    instructions = models.TextField(_("instructions"), blank=True)
    is_critical = models.BooleanField(_("critical step"), default=False)
    status = FSMField(
        _("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING, protected=False
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performed by"),
    )
    performed_at = models.DateTimeField(_("performed at"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    is_late = models.BooleanField(_("late entry"), default=False)
    late_reason = models.TextField(_("reason for the late entry"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    objects = site_scoped_manager("ebr__site")

    class Meta:
        verbose_name = _("batch record step")
        verbose_name_plural = _("batch record steps")
        ordering = ["ebr", "sequence"]
        constraints = [models.UniqueConstraint(fields=["ebr", "sequence"], name="batch_ebr_step_seq")]

    def __str__(self):
        return f"{self.sequence} {self.title}"

    @property
    def needs_verification(self) -> bool:
        return self.is_critical and self.status == StepStatus.DONE

    @property
    def is_finished(self) -> bool:
        return self.status == StepStatus.VERIFIED or (self.status == StepStatus.DONE and not self.is_critical)

    @transition(field=status, source=StepStatus.PENDING, target=StepStatus.DONE)
    def perform(self, *, user, performed_at, late: bool, late_reason: str, comment: str):
        self.performed_by = user
        self.performed_at = performed_at
        self.entered_at = timezone.now()
        self.is_late = late
        self.late_reason = late_reason
        self.comment = comment

    @transition(field=status, source=StepStatus.DONE, target=StepStatus.VERIFIED)
    def verify(self, *, user):
        self.verified_by = user
        self.verified_at = timezone.now()


class EbrValue(RegulatedModel):
    """A parameter or IPC result entered for a step, judged against the limits copied from the master."""

    audit_site_path = "ebr__site"
    ebr = models.ForeignKey(ExecutedBatchRecord, on_delete=models.PROTECT, related_name="values")
    step = models.ForeignKey(EbrStep, on_delete=models.PROTECT, related_name="values", verbose_name=_("step"))
    parameter = models.ForeignKey(MbrParameter, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("parameter"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ParameterKind.choices, default=ParameterKind.PARAMETER)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    lower_limit = models.DecimalField(_("lower limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=16, decimal_places=6, null=True, blank=True)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=6)
    in_limits = models.BooleanField(_("within limits"), default=True)
    late_reason = models.TextField(_("reason for the late entry"), blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)
    deviation = models.ForeignKey(
        "Deviation", on_delete=models.PROTECT, null=True, blank=True, related_name="values", verbose_name=_("deviation")
    )

    objects = site_scoped_manager("ebr__site")

    class Meta:
        verbose_name = _("recorded value")
        verbose_name_plural = _("recorded values")
        ordering = ["step", "pk"]

    def __str__(self):
        return f"{self.name} = {_num(self.value)} {self.unit}".strip()

    def limits_text(self) -> str:
        return limits_text(self.lower_limit, self.upper_limit, self.unit)

    @property
    def value_text(self) -> str:
        return _num(self.value)


class EbrDispense(RegulatedModel):
    """Material dispensed by lot scan into the batch lot (a genealogy link through the consumption
    service and its gates), with the quantity judged against the master's quantity ± tolerance."""

    audit_site_path = "ebr__site"
    ebr = models.ForeignKey(
        ExecutedBatchRecord, on_delete=models.PROTECT, related_name="dispenses", verbose_name=_("batch record")
    )
    material = models.ForeignKey(MbrMaterial, on_delete=models.PROTECT, related_name="+", verbose_name=_("material"))
    lot = models.ForeignKey("traceability.Lot", on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    in_tolerance = models.BooleanField(_("within tolerance"), default=True)
    link = models.ForeignKey("traceability.LotLink", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    dispensed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispensed_at = models.DateTimeField(_("dispensed at"), default=timezone.now)
    deviation = models.ForeignKey(
        "Deviation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispenses",
        verbose_name=_("deviation"),
    )

    objects = site_scoped_manager("ebr__site")

    class Meta:
        verbose_name = _("material dispensed")
        verbose_name_plural = _("materials dispensed")
        ordering = ["ebr", "pk"]

    def __str__(self):
        return f"{self.lot_id} {self.quantity}"


# --------------------------------------------------------------------------------------------- deviations


class DeviationClass(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


BLOCKING_CLASSES = (DeviationClass.MAJOR, DeviationClass.CRITICAL)


class DeviationSource(models.TextChoices):
    MANUAL = "manual", _("Raised by hand")
    PARAMETER = "parameter", _("Process parameter out of limits")
    IPC = "ipc", _("In-process control out of limits")
    MATERIAL = "material", _("Dispensed quantity out of tolerance")
    YIELD = "yield", _("Yield out of limits")


class DeviationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ASSESSED = "assessed", _("Impact assessed")
    APPROVED = "approved", _("Approved by QA")


DEVIATION_OPEN = (DeviationStatus.OPEN, DeviationStatus.ASSESSED)


class Deviation(RegulatedModel):
    """A departure from an approved instruction or limit: classified, its impact on the affected lots
    assessed, linked to a CAPA where needed, and approved by QA with an e-signature (not by the raiser).
    An open major or critical deviation blocks the release of its affected lots."""

    signed_fields = (
        "code", "site", "title", "description", "classification", "source", "source_reference", "ebr",
        "impact_assessment", "root_cause", "immediate_action", "capa", "capa_not_needed_reason",
    )  # fmt: skip
    signed_children = {"affected_lots": ("lot", "impact", "note")}

    code = models.CharField(_("deviation number"), max_length=30, unique=True)
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="deviations", verbose_name=_("site"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"), blank=True)
    classification = models.CharField(
        _("classification"), max_length=20, choices=DeviationClass.choices, default=DeviationClass.MINOR
    )
    source = models.CharField(
        _("source"), max_length=20, choices=DeviationSource.choices, default=DeviationSource.MANUAL
    )
    source_reference = models.CharField(_("source reference"), max_length=200, blank=True)
    ebr = models.ForeignKey(
        ExecutedBatchRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
        verbose_name=_("batch record"),
    )
    immediate_action = models.TextField(_("immediate action"), blank=True)
    impact_assessment = models.TextField(_("impact assessment"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    capa = models.ForeignKey(
        "capa.Capa", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("CAPA")
    )
    capa_not_needed_reason = models.TextField(_("why no CAPA is needed"), blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=DeviationStatus.choices, default=DeviationStatus.OPEN, protected=False
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
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
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"], name="batch_dev_site_status")]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in DEVIATION_OPEN

    @property
    def blocks_release(self) -> bool:
        return self.is_open and self.classification in BLOCKING_CLASSES

    @transition(field=status, source=[DeviationStatus.OPEN, DeviationStatus.ASSESSED], target=DeviationStatus.ASSESSED)
    def assess(self, *, user):
        self.assessed_by = user
        self.assessed_at = timezone.now()

    @transition(field=status, source=DeviationStatus.ASSESSED, target=DeviationStatus.APPROVED)
    def approve(self, *, user):
        self.approved_by = user
        self.approved_at = timezone.now()


class LotImpact(models.TextChoices):
    SUSPECTED = "suspected", _("To be assessed")
    AFFECTED = "affected", _("Affected")
    NOT_AFFECTED = "not_affected", _("Not affected")


class DeviationLot(RegulatedModel):
    audit_site_path = "deviation__site"
    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="affected_lots", verbose_name=_("deviation")
    )
    lot = models.ForeignKey("traceability.Lot", on_delete=models.PROTECT, related_name="+", verbose_name=_("lot"))
    impact = models.CharField(_("impact"), max_length=20, choices=LotImpact.choices, default=LotImpact.SUSPECTED)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = site_scoped_manager("deviation__site")

    class Meta:
        verbose_name = _("affected lot")
        verbose_name_plural = _("affected lots")
        ordering = ["deviation", "pk"]
        constraints = [models.UniqueConstraint(fields=["deviation", "lot"], name="batch_dev_lot")]

    def __str__(self):
        return f"{self.deviation_id} {self.lot_id}"
