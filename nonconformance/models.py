"""Nonconformance records: the defect catalogue, NCRs with containment, MRB dispositions and their
signatures, customer complaints.

State machines are declared here (django_fsm); every change goes through `nonconformance.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.models import Customer, Part, Role, Site
from qms.core.scoping import site_scoped_manager


class DefectCategory(models.TextChoices):
    DIMENSIONAL = "dimensional", _("Dimensional")
    VISUAL = "visual", _("Visual / cosmetic")
    MATERIAL = "material", _("Material")
    FUNCTIONAL = "functional", _("Functional / performance")
    PACKAGING = "packaging", _("Packaging / labelling")
    CONTAMINATION = "contamination", _("Contamination / foreign matter")
    DOCUMENTATION = "documentation", _("Documentation")
    OTHER = "other", _("Other")


class DefectCode(RegulatedModel):
    """The catalogue of defect codes; the category groups them for the Pareto chart."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=DefectCategory.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("defect code")
        verbose_name_plural = _("defect codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class NcrSource(models.TextChoices):
    IQC = "iqc", _("Incoming inspection (IQC)")
    FAI = "fai", _("First article inspection (FAI)")
    IPQC = "ipqc", _("In-process inspection (IPQC)")
    FQC = "fqc", _("Final inspection (FQC/OQC)")
    COMPLAINT = "complaint", _("Customer complaint")
    AUDIT = "audit", _("Internal audit")
    PRODUCTION = "production", _("Production")
    SUPPLIER = "supplier", _("Supplier notice")
    OTHER = "other", _("Other")


class NcrStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONTAINMENT = "containment", _("Containment")
    MRB_REVIEW = "mrb_review", _("MRB review")
    DISPOSITIONED = "dispositioned", _("Dispositioned")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


NCR_ACTIVE = [NcrStatus.OPEN, NcrStatus.CONTAINMENT, NcrStatus.MRB_REVIEW, NcrStatus.DISPOSITIONED, NcrStatus.VERIFIED]


class Ncr(RegulatedModel):
    # What a verification (or cancellation) signature covers; status and closing are later bookkeeping.
    signed_fields = (
        "code", "site", "source", "source_reference", "title", "description", "part", "serials",
        "quantity_suspect", "quantity_confirmed", "unit_value", "severity", "failing_values", "supplier",
        "customer", "complaint", "cancel_reason",
    )  # fmt: skip
    signed_children = {"ncr_lots": ("lot", "quantity_suspect"), "defect_codes": ("code",)}
    code = models.CharField(_("NCR number"), max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="ncrs", verbose_name=_("site"))
    source = models.CharField(_("source"), max_length=20, choices=NcrSource.choices)
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="ncrs", verbose_name=_("part"))
    serials = models.TextField(_("serial numbers"), blank=True, help_text=_("One per line."))
    quantity_suspect = models.DecimalField(_("quantity suspect"), max_digits=14, decimal_places=3, default=0)
    quantity_confirmed = models.DecimalField(
        _("quantity nonconforming (confirmed)"), max_digits=14, decimal_places=3, default=0
    )
    unit_value = models.DecimalField(
        _("value per unit"), max_digits=14, decimal_places=4, default=0, help_text=_("Used for MRB value thresholds.")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    defect_codes = models.ManyToManyField(DefectCode, blank=True, related_name="ncrs", verbose_name=_("defect codes"))
    failing_values = models.JSONField(_("failing values"), default=list, blank=True)
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nonconformance_reports",
        verbose_name=_("supplier"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="ncrs", verbose_name=_("customer")
    )
    complaint = models.ForeignKey(
        "Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="ncrs", verbose_name=_("complaint")
    )
    status = FSMField(_("status"), default=NcrStatus.OPEN, choices=NcrStatus.choices, protected=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("opened by")
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("NCR")
        verbose_name_plural = _("NCRs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in NCR_ACTIVE

    @property
    def nonconforming_quantity(self) -> Decimal:
        return self.quantity_confirmed or self.quantity_suspect

    # Transitions: fields only; services do the rest.
    @transition(field=status, source=NcrStatus.OPEN, target=NcrStatus.CONTAINMENT)
    def start_containment(self):
        pass

    @transition(field=status, source=[NcrStatus.OPEN, NcrStatus.CONTAINMENT], target=NcrStatus.MRB_REVIEW)
    def submit_to_mrb(self):
        pass

    @transition(field=status, source=NcrStatus.MRB_REVIEW, target=NcrStatus.DISPOSITIONED)
    def disposition(self):
        pass

    @transition(field=status, source=NcrStatus.DISPOSITIONED, target=NcrStatus.VERIFIED)
    def verify(self, *, user):
        self.verified_by = user
        self.verified_at = timezone.now()

    @transition(field=status, source=NcrStatus.VERIFIED, target=NcrStatus.CLOSED)
    def close(self):
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[NcrStatus.OPEN, NcrStatus.CONTAINMENT, NcrStatus.MRB_REVIEW],
        target=NcrStatus.CANCELLED,
    )
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()


class NcrLot(RegulatedModel):
    """A lot affected by an NCR, with the hold placed on it."""

    audit_site_path = "ncr__site"  # audit entries are filed under this site

    ncr = models.ForeignKey(Ncr, on_delete=models.PROTECT, related_name="ncr_lots", verbose_name=_("NCR"))
    lot = models.ForeignKey(
        "traceability.Lot", on_delete=models.PROTECT, related_name="ncr_links", verbose_name=_("lot")
    )
    quantity_suspect = models.DecimalField(_("quantity suspect"), max_digits=14, decimal_places=3, default=0)
    hold = models.ForeignKey(
        "traceability.LotHold",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hold"),
    )

    objects = site_scoped_manager("ncr__site")

    class Meta:
        verbose_name = _("affected lot")
        verbose_name_plural = _("affected lots")
        constraints = [models.UniqueConstraint(fields=["ncr", "lot"], name="uniq_ncr_lot")]

    def __str__(self):
        return f"{self.ncr.code} · {self.lot_id}"


class ContainmentKind(models.TextChoices):
    SORT = "sort", _("Sort / full inspection")
    QUARANTINE = "quarantine", _("Quarantine stock")
    STOP_LINE = "stop_line", _("Stop the line")
    IN_TRANSIT = "in_transit", _("Check goods in transit")
    AT_CUSTOMER = "at_customer", _("Check stock at the customer")
    OTHER = "other", _("Other")


class ContainmentAction(RegulatedModel):
    audit_site_path = "ncr__site"  # audit entries are filed under this site
    ncr = models.ForeignKey(Ncr, on_delete=models.PROTECT, related_name="containment_actions", verbose_name=_("NCR"))
    kind = models.CharField(_("action"), max_length=20, choices=ContainmentKind.choices)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    quantity_found = models.DecimalField(_("quantity found"), max_digits=14, decimal_places=3, null=True, blank=True)

    objects = site_scoped_manager("ncr__site")

    class Meta:
        verbose_name = _("containment action")
        verbose_name_plural = _("containment actions")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.ncr.code} · {self.get_kind_display()}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Attachment(RegulatedModel):
    """A photo or document on an NCR or a complaint. Never deleted."""

    audit_site_path = ("ncr__site", "complaint__site")  # audit entries are filed under this site

    ncr = models.ForeignKey(
        Ncr, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments", verbose_name=_("NCR")
    )
    complaint = models.ForeignKey(
        "Complaint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("complaint"),
    )
    file = models.FileField(_("file"), upload_to="private/nonconformance/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_type = models.CharField(max_length=100, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("ncr__site", "complaint__site")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.caption or self.file_name or self.file.name

    @property
    def site(self):
        return (self.ncr or self.complaint).site


# --- MRB -------------------------------------------------------------------------------------------


class DispositionType(models.TextChoices):
    USE_AS_IS = "use_as_is", _("Use as is")
    CONCESSION = "concession", _("Concession (特采)")
    REWORK = "rework", _("Rework")
    REPAIR = "repair", _("Repair")
    REGRADE = "regrade", _("Regrade")
    SCRAP = "scrap", _("Scrap")
    RETURN_TO_SUPPLIER = "return_to_supplier", _("Return to supplier")


class MrbRole(models.TextChoices):
    QUALITY = "quality", _("Quality")
    PRODUCTION = "production", _("Production")
    ENGINEERING = "engineering", _("Engineering")
    SALES = "sales", _("Sales / customer")
    QUALITY_MANAGER = "quality_manager", _("Quality manager")


# Which kernel roles may sign for each MRB role. There is no sales role in the kernel: an MRB member
# (who represents sales on the board) or the quality manager signs for sales.
MRB_ROLE_HOLDERS: dict[str, set[str]] = {
    MrbRole.QUALITY: {Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER},
    MrbRole.PRODUCTION: {Role.PRODUCTION_SUPERVISOR},
    MrbRole.ENGINEERING: {Role.MRB_MEMBER},
    MrbRole.SALES: {Role.MRB_MEMBER, Role.QUALITY_MANAGER},
    MrbRole.QUALITY_MANAGER: {Role.QUALITY_MANAGER},
}

# Defaults used for a site that has no rule of its own: (disposition, MRB role, minimum value or None).
DEFAULT_MRB_RULES: list[tuple[str, str, Decimal | None]] = [
    (DispositionType.USE_AS_IS, MrbRole.QUALITY, None),
    (DispositionType.USE_AS_IS, MrbRole.ENGINEERING, None),
    (DispositionType.CONCESSION, MrbRole.QUALITY, None),
    (DispositionType.CONCESSION, MrbRole.ENGINEERING, None),
    (DispositionType.CONCESSION, MrbRole.SALES, None),
    (DispositionType.REWORK, MrbRole.QUALITY, None),
    (DispositionType.REWORK, MrbRole.PRODUCTION, None),
    (DispositionType.REPAIR, MrbRole.QUALITY, None),
    (DispositionType.REPAIR, MrbRole.PRODUCTION, None),
    (DispositionType.REPAIR, MrbRole.ENGINEERING, None),
    (DispositionType.REGRADE, MrbRole.QUALITY, None),
    (DispositionType.REGRADE, MrbRole.ENGINEERING, None),
    (DispositionType.SCRAP, MrbRole.QUALITY, None),
    (DispositionType.SCRAP, MrbRole.PRODUCTION, None),
    (DispositionType.SCRAP, MrbRole.QUALITY_MANAGER, Decimal("10000")),
    (DispositionType.RETURN_TO_SUPPLIER, MrbRole.QUALITY, None),
]


class MrbRule(RegulatedModel):
    """Per site: a disposition type needs a signature of this MRB role (when the line's value reaches
    `min_value`, if set)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="mrb_rules", verbose_name=_("site"))
    disposition_type = models.CharField(_("disposition"), max_length=20, choices=DispositionType.choices)
    mrb_role = models.CharField(_("MRB role"), max_length=20, choices=MrbRole.choices)
    min_value = models.DecimalField(
        _("from value"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Required only when the disposed value reaches this amount; empty means always."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("MRB rule")
        verbose_name_plural = _("MRB rules")
        ordering = ["site", "disposition_type", "mrb_role"]
        constraints = [
            models.UniqueConstraint(fields=["site", "disposition_type", "mrb_role"], name="uniq_mrb_rule"),
        ]

    def __str__(self):
        return f"{self.site.code} · {self.get_disposition_type_display()} · {self.get_mrb_role_display()}"


class DispositionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("Awaiting signatures")
    APPROVED = "approved", _("Approved")


class Disposition(RegulatedModel):
    """The MRB decision for an NCR: quantity split into lines, signed by every required MRB role.

    A rejection returns it to draft with the reason and starts a new signing round."""

    audit_site_path = "ncr__site"  # audit entries are filed under this site

    ncr = models.OneToOneField(Ncr, on_delete=models.PROTECT, related_name="mrb", verbose_name=_("NCR"))
    status = FSMField(_("status"), default=DispositionStatus.DRAFT, choices=DispositionStatus.choices, protected=False)
    round = models.PositiveIntegerField(_("review round"), default=1)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("last rejection reason"), blank=True)
    required_roles = models.JSONField(_("required MRB roles"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = site_scoped_manager("ncr__site")

    class Meta:
        verbose_name = _("MRB disposition")
        verbose_name_plural = _("MRB dispositions")

    def __str__(self):
        return f"{self.ncr.code} MRB"

    @transition(field=status, source=DispositionStatus.DRAFT, target=DispositionStatus.IN_REVIEW)
    def submit(self, *, required_roles: list[str]):
        self.required_roles = list(required_roles)
        self.submitted_at = timezone.now()

    @transition(field=status, source=DispositionStatus.IN_REVIEW, target=DispositionStatus.DRAFT)
    def send_back(self, *, reason: str):
        self.rejection_reason = reason
        self.round += 1
        self.submitted_at = None

    @transition(field=status, source=DispositionStatus.IN_REVIEW, target=DispositionStatus.APPROVED)
    def approve(self):
        self.approved_at = timezone.now()


class DispositionLine(RegulatedModel):
    audit_site_path = "disposition__ncr__site"  # audit entries are filed under this site
    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, related_name="lines", verbose_name=_("disposition")
    )
    kind = models.CharField(_("disposition"), max_length=20, choices=DispositionType.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    lot = models.ForeignKey(
        "traceability.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disposition_lines",
        verbose_name=_("lot"),
    )
    instructions = models.TextField(_("instructions"), blank=True)
    # concession (特采)
    concession_expires_on = models.DateField(_("concession valid until"), null=True, blank=True)
    concession_quantity_limit = models.DecimalField(
        _("concession quantity limit"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    customer_approval_reference = models.CharField(_("customer approval reference"), max_length=100, blank=True)
    # execution
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("executed by"),
    )
    executed_quantity = models.DecimalField(
        _("executed quantity"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    execution_note = models.TextField(_("execution note"), blank=True)
    released_lot = models.ForeignKey(
        "traceability.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concession_lines",
        verbose_name=_("lot released under concession"),
        help_text=_("The lot split off for the conceded quantity and released; the rest stays on hold."),
    )
    reinspection_reference = models.CharField(_("re-inspection"), max_length=60, blank=True)
    return_reference = models.CharField(_("return shipment reference"), max_length=100, blank=True)
    returned_on = models.DateField(_("shipped back on"), null=True, blank=True)
    voided = models.BooleanField(_("removed"), default=False)

    objects = site_scoped_manager("disposition__ncr__site")

    class Meta:
        verbose_name = _("disposition line")
        verbose_name_plural = _("disposition lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.quantity}"

    @property
    def is_executed(self) -> bool:
        return self.executed_at is not None

    @property
    def value(self) -> Decimal:
        return (self.quantity or 0) * (self.disposition.ncr.unit_value or 0)


class MrbVote(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class MrbDecision(RegulatedModel):
    """One reviewer's e-signed decision for one MRB role in one round. Never changed afterwards."""

    # A reviewer signs the vote and the disposition lines as they stood (execution is later bookkeeping).
    signed_fields = ("disposition", "round", "mrb_role", "reviewer", "vote", "comment", "lines_digest")
    signed_children = {
        "disposition__lines": (
            "kind", "quantity", "lot", "instructions", "concession_expires_on", "concession_quantity_limit",
            "customer_approval_reference", "voided",
        )
    }  # fmt: skip
    # A rejected round returns the same disposition to draft and its lines are edited for the next round.
    signed_content_shared_with_successor = True

    def signature_closed_state(self):
        current = Disposition._base_manager.filter(pk=self.disposition_id).values_list("round", flat=True).first()
        return "superseded" if current is not None and self.round < current else None

    audit_site_path = "disposition__ncr__site"  # audit entries are filed under this site

    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("disposition")
    )
    round = models.PositiveIntegerField(_("review round"))
    mrb_role = models.CharField(_("MRB role"), max_length=20, choices=MrbRole.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    vote = models.CharField(_("decision"), max_length=10, choices=MrbVote.choices)
    comment = models.TextField(_("comment"), blank=True)
    lines_digest = models.CharField(_("content signed (SHA-256 of the lines)"), max_length=64)
    signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    objects = site_scoped_manager("disposition__ncr__site")

    class Meta:
        verbose_name = _("MRB decision")
        verbose_name_plural = _("MRB decisions")
        ordering = ["round", "decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["disposition", "round", "mrb_role"], name="uniq_mrb_role_per_round"),
            models.UniqueConstraint(fields=["disposition", "round", "reviewer"], name="uniq_mrb_reviewer_per_round"),
        ]

    def __str__(self):
        return f"{self.disposition.ncr.code} · {self.get_mrb_role_display()} · {self.get_vote_display()}"


# --- Complaints ------------------------------------------------------------------------------------


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVESTIGATING = "investigating", _("Investigating")
    RESPONDED = "responded", _("Responded")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Complaint(RegulatedModel):
    signed_fields = (
        "code", "site", "customer", "customer_reference", "part", "lot", "serial", "received_on", "title",
        "description", "severity", "quantity_affected", "cancel_reason",
    )  # fmt: skip
    code = models.CharField(_("complaint number"), max_length=30, unique=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("site"))
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("customer")
    )
    customer_reference = models.CharField(_("customer reference"), max_length=100, blank=True)
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("product"))
    lot = models.ForeignKey(
        "traceability.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name=_("lot"),
    )
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    received_on = models.DateField(_("received on"), default=timezone.localdate)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MAJOR)
    quantity_affected = models.DecimalField(_("quantity affected"), max_digits=14, decimal_places=3, default=0)
    response_due_on = models.DateField(_("response requested by"))
    status = FSMField(_("status"), default=ComplaintStatus.OPEN, choices=ComplaintStatus.choices, protected=False)
    response = models.TextField(_("response to the customer"), blank=True)
    responded_on = models.DateField(_("responded on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("customer complaint")
        verbose_name_plural = _("customer complaints")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING)

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.response_due_on < today

    @transition(field=status, source=ComplaintStatus.OPEN, target=ComplaintStatus.INVESTIGATING)
    def investigate(self):
        pass

    @transition(
        field=status, source=[ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING], target=ComplaintStatus.RESPONDED
    )
    def respond(self, *, response: str, on):
        self.response = response
        self.responded_on = on

    @transition(field=status, source=ComplaintStatus.RESPONDED, target=ComplaintStatus.CLOSED)
    def close(self):
        self.closed_at = timezone.now()

    @transition(
        field=status, source=[ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING], target=ComplaintStatus.CANCELLED
    )
    def cancel(self, *, reason: str):
        self.cancel_reason = reason
        self.closed_at = timezone.now()
