"""Supplier quality records: suppliers and their status decisions, certificates, on-site audits, the
approved supplier list (ASL) with its automatic suspensions, PPAP submissions, and scorecard inputs.

Allowed transitions are declared here, once; the services in `services.py` make every change.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.codes import validate_code
from qms.core.models import Part, Site
from qms.core.scoping import site_scoped_manager, supplier_scoped_manager

# ---------------------------------------------------------------------------------------------------
# Supplier


class SupplierStatus(models.TextChoices):
    PROSPECTIVE = "prospective", _("Prospective")
    UNDER_EVALUATION = "under_evaluation", _("Under evaluation")
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Conditionally approved")
    SUSPENDED = "suspended", _("Suspended")
    DISQUALIFIED = "disqualified", _("Disqualified")


S = SupplierStatus
# The statuses from which material may be received.
SUPPLYING_STATUSES = (S.APPROVED, S.CONDITIONAL)


class SupplierCategory(models.TextChoices):
    RAW_MATERIAL = "raw_material", _("Raw material")
    COMPONENT = "component", _("Component / purchased part")
    PACKAGING = "packaging", _("Packaging")
    PROCESS = "process", _("Outsourced process (heat treatment, plating ...)")
    SERVICE = "service", _("Service / calibration / laboratory")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Supplier(RegulatedModel):
    code = models.CharField(_("supplier code"), max_length=30, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=SupplierCategory.choices)
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    sites = models.ManyToManyField(Site, related_name="suppliers", verbose_name=_("sites supplied"))
    address = models.TextField(_("address"), blank=True)
    country = models.CharField(_("country"), max_length=60, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=50, blank=True)
    quality_agreement_on_file = models.BooleanField(_("quality agreement on file"), default=False)
    quality_agreement_signed_on = models.DateField(_("quality agreement signed on"), null=True, blank=True)
    sqe = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible SQE"),
    )
    status = FSMField(
        _("status"), max_length=20, choices=SupplierStatus.choices, default=S.PROSPECTIVE, protected=False
    )
    conditional_until = models.DateField(_("conditional approval ends"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = supplier_scoped_manager()

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def may_supply(self) -> bool:
        return self.status in SUPPLYING_STATUSES

    # Transitions change fields only; services check the rules, sign and record.
    @transition(field=status, source=S.PROSPECTIVE, target=S.UNDER_EVALUATION)
    def start_evaluation(self):
        self.status_changed_at = timezone.now()

    @transition(field=status, source=[S.UNDER_EVALUATION, S.CONDITIONAL], target=S.APPROVED)
    def approve(self):
        self.conditional_until = None
        self.status_changed_at = timezone.now()

    @transition(field=status, source=[S.UNDER_EVALUATION, S.APPROVED], target=S.CONDITIONAL)
    def approve_conditionally(self, until: datetime.date):
        self.conditional_until = until
        self.status_changed_at = timezone.now()

    @transition(field=status, source=[S.APPROVED, S.CONDITIONAL], target=S.SUSPENDED)
    def suspend(self):
        self.status_changed_at = timezone.now()

    @transition(field=status, source=S.SUSPENDED, target=S.APPROVED)
    def reinstate(self):
        self.conditional_until = None
        self.status_changed_at = timezone.now()

    @transition(
        field=status, source=[S.UNDER_EVALUATION, S.APPROVED, S.CONDITIONAL, S.SUSPENDED], target=S.DISQUALIFIED
    )
    def disqualify(self):
        self.conditional_until = None
        self.status_changed_at = timezone.now()

    @transition(field=status, source=S.DISQUALIFIED, target=S.UNDER_EVALUATION)
    def requalify(self):
        self.status_changed_at = timezone.now()


class SupplierStatusChange(RegulatedModel):
    """One e-signed status decision. Append-only: the history of the supplier's status."""

    signed_fields = (
        "supplier", "action", "from_status", "to_status", "conditional_until", "reason", "decided_by", "decided_at",
    )  # fmt: skip

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="status_changes")
    action = models.CharField(_("decision"), max_length=30)
    from_status = models.CharField(_("from"), max_length=20, choices=SupplierStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=SupplierStatus.choices)
    conditional_until = models.DateField(_("conditional approval ends"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    objects = supplier_scoped_manager("supplier")

    class Meta:
        verbose_name = _("supplier status decision")
        verbose_name_plural = _("supplier status decisions")
        ordering = ["-decided_at", "-pk"]

    def __str__(self):
        return f"{self.supplier.code}: {self.get_from_status_display()} → {self.get_to_status_display()}"


# ---------------------------------------------------------------------------------------------------
# Certificates and audits


class CertificateType(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    ISO_9001 = "iso9001", _("ISO 9001 certificate")
    IATF_16949 = "iatf16949", _("IATF 16949 certificate")
    ISO_13485 = "iso13485", _("ISO 13485 certificate")
    GMP = "gmp", _("GMP certificate")
    SC_LICENCE = "sc_licence", _("SC food production licence")
    TEST_REPORT = "test_report", _("Third-party test report")
    ISO_14001 = "iso14001", _("ISO 14001 certificate")
    OTHER = "other", _("Other")


class CertificateStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("Awaiting review")
    VALID = "valid", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")
    VOID = "void", _("Void")


CS = CertificateStatus


def certificate_upload_to(instance, filename):
    # Never under a guessable, public path: files are served only by the permission-checked view.
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/suppliers/certificates/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


def ppap_upload_to(instance, filename):
    import uuid

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"private/suppliers/ppap/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class Certificate(RegulatedModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="certificates")
    cert_type = models.CharField(_("type"), max_length=20, choices=CertificateType.choices)
    number = models.CharField(_("certificate number"), max_length=100)
    issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    scope = models.TextField(_("scope"), blank=True)
    parts = models.ManyToManyField(
        Part,
        blank=True,
        related_name="+",
        verbose_name=_("parts covered"),
        help_text=_("Leave empty when the certificate covers everything the supplier delivers."),
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Last day of validity; empty for no expiry.")
    )
    file = models.FileField(_("file"), upload_to=certificate_upload_to, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_type = models.CharField(max_length=50, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    status = FSMField(_("status"), max_length=20, choices=CS.choices, default=CS.PENDING_REVIEW, protected=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
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

    objects = supplier_scoped_manager("supplier")

    class Meta:
        verbose_name = _("supplier certificate")
        verbose_name_plural = _("supplier certificates")
        ordering = ["supplier__code", "cert_type", "-valid_until"]
        indexes = [models.Index(fields=["status", "valid_until"])]

    def __str__(self):
        return f"{self.supplier.code} {self.get_cert_type_display()} {self.number}"

    def is_expired(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.valid_until is not None and self.valid_until < on

    def is_current(self, on=None) -> bool:
        return self.status == CS.VALID and not self.is_expired(on)

    def days_left(self, on=None) -> int | None:
        if self.valid_until is None:
            return None
        return (self.valid_until - (on or timezone.localdate())).days

    @transition(field=status, source=CS.PENDING_REVIEW, target=CS.VALID)
    def accept(self, *, by, comment=""):
        self.reviewed_by, self.reviewed_at, self.review_comment = by, timezone.now(), comment

    @transition(field=status, source=CS.PENDING_REVIEW, target=CS.REJECTED)
    def reject(self, *, by, comment=""):
        self.reviewed_by, self.reviewed_at, self.review_comment = by, timezone.now(), comment

    @transition(field=status, source=CS.VALID, target=CS.SUPERSEDED)
    def supersede(self):
        pass

    @transition(field=status, source=[CS.PENDING_REVIEW, CS.VALID], target=CS.VOID)
    def void(self):
        pass


class CertificateTypePolicy(RegulatedModel):
    """Configuration per certificate type: when to remind, and whether its expiry suspends approvals."""

    cert_type = models.CharField(_("type"), max_length=20, choices=CertificateType.choices, unique=True)
    reminder_days = models.CharField(
        _("reminder days before expiry"),
        max_length=60,
        default="90,30,7",
        help_text=_("Comma-separated numbers of days, e.g. 90,30,7. A reminder is also sent on expiry."),
    )
    suspends_on_expiry = models.BooleanField(_("expiry suspends approvals"), default=True)

    class Meta:
        verbose_name = _("certificate type policy")
        verbose_name_plural = _("certificate type policies")
        ordering = ["cert_type"]

    def __str__(self):
        return self.get_cert_type_display()


class CertificateReminder(models.Model):
    """Which reminder was sent for which certificate and expiry date: each reminder once."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="reminders")
    valid_until = models.DateField()
    stage = models.CharField(max_length=20)  # "90", "30", "7" or "expired"
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    objects = supplier_scoped_manager("certificate__supplier", manager_class=models.Manager)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["certificate", "valid_until", "stage"], name="uniq_cert_reminder")
        ]

    def __str__(self):
        return f"{self.valid_until} · {self.stage}"


class AuditResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    CONDITIONAL = "conditional", _("Passed with conditions")
    FAILED = "failed", _("Failed")


class SupplierAudit(RegulatedModel):
    """An on-site (or remote) audit of the supplier and its result."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="audits")
    audited_on = models.DateField(_("audit date"))
    auditor = models.CharField(_("lead auditor"), max_length=150)
    score = models.DecimalField(_("score (%)"), max_digits=5, decimal_places=1, null=True, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=AuditResult.choices)
    findings = models.TextField(_("findings"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = supplier_scoped_manager("supplier")

    class Meta:
        verbose_name = _("supplier audit")
        verbose_name_plural = _("supplier audits")
        ordering = ["-audited_on", "-pk"]

    def __str__(self):
        return f"{self.supplier.code} audit {self.audited_on}"


# ---------------------------------------------------------------------------------------------------
# Approved supplier list


class AslStatus(models.TextChoices):
    PENDING = "pending", _("Pending qualification")
    APPROVED = "approved", _("Approved")
    CONDITIONAL = "conditional", _("Conditionally approved")
    BLOCKED = "blocked", _("Blocked")


A = AslStatus


class AslEntry(RegulatedModel):
    """Approval of one supplier for one part, with the evidence behind it."""

    # Each decision signs the entry's state then; a later signed decision supersedes the earlier ones.
    signed_fields = ("supplier", "part", "status", "conditional_until", "evidence", "ppap")

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="asl_entries")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    status = FSMField(_("status"), max_length=20, choices=AslStatus.choices, default=A.PENDING, protected=False)
    conditional_until = models.DateField(_("conditional until"), null=True, blank=True)
    evidence = models.TextField(_("qualification evidence"), blank=True)
    ppap = models.ForeignKey(
        "PpapSubmission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PPAP"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = supplier_scoped_manager("supplier")

    class Meta:
        verbose_name = _("approved supplier list entry")
        verbose_name_plural = _("approved supplier list")
        ordering = ["supplier__code", "part__number"]
        constraints = [models.UniqueConstraint(fields=["supplier", "part"], name="uniq_asl_supplier_part")]

    def __str__(self):
        return f"{self.supplier.code} · {self.part.number}"

    def _decided(self, by):
        self.decided_by, self.decided_at = by, timezone.now()

    @transition(field=status, source=[A.PENDING, A.CONDITIONAL, A.BLOCKED], target=A.APPROVED)
    def approve(self, *, by, evidence="", ppap=None):
        self.conditional_until = None
        self.evidence = evidence or self.evidence
        self.ppap = ppap or self.ppap
        self._decided(by)

    @transition(field=status, source=[A.PENDING, A.APPROVED, A.BLOCKED], target=A.CONDITIONAL)
    def approve_conditionally(self, *, by, until, evidence="", ppap=None):
        self.conditional_until = until
        self.evidence = evidence or self.evidence
        self.ppap = ppap or self.ppap
        self._decided(by)

    @transition(field=status, source=[A.PENDING, A.APPROVED, A.CONDITIONAL], target=A.BLOCKED)
    def block(self, *, by):
        self.conditional_until = None
        self._decided(by)


class AslSuspension(RegulatedModel):
    """An automatic suspension of an ASL entry because a mandatory certificate expired. It does not
    change the entry's own decision; renewing the certificate lifts it."""

    asl_entry = models.ForeignKey(AslEntry, on_delete=models.PROTECT, related_name="suspensions")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    cert_type = models.CharField(max_length=20, choices=CertificateType.choices)
    reason = models.TextField(_("reason"))
    suspended_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = supplier_scoped_manager("asl_entry__supplier")

    class Meta:
        verbose_name = _("automatic ASL suspension")
        verbose_name_plural = _("automatic ASL suspensions")
        ordering = ["-suspended_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asl_entry", "cert_type"], condition=models.Q(lifted_at__isnull=True), name="uniq_open_susp"
            )
        ]

    def __str__(self):
        return f"{self.asl_entry} suspended ({self.get_cert_type_display()})"


# ---------------------------------------------------------------------------------------------------
# PPAP (AIAG, 4th edition)


class PpapStatus(models.TextChoices):
    OPEN = "open", _("Collecting documents")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    INTERIM = "interim", _("Interim approval")
    REJECTED = "rejected", _("Rejected")


P = PpapStatus


class PpapReason(models.TextChoices):
    INITIAL = "initial", _("Initial submission")
    ENGINEERING_CHANGE = "engineering_change", _("Engineering change")
    TOOLING = "tooling", _("Tooling transfer, replacement or refurbishment")
    CORRECTION = "correction", _("Correction of discrepancy")
    SUBCONTRACTOR = "subcontractor", _("Sub-supplier or material source change")
    OTHER = "other", _("Other")


class PpapSubmission(RegulatedModel):
    signed_fields = (
        "code", "supplier", "part", "level", "reason", "status", "interim_until", "decision_reason",
    )  # fmt: skip
    signed_children = {"elements": ("number", "required", "status", "comment")}
    code = models.CharField(_("PPAP number"), max_length=40, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="ppaps")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    level = models.PositiveSmallIntegerField(
        _("submission level"), choices=[(i, _("Level %(n)s") % {"n": i}) for i in range(1, 6)], default=3
    )
    reason = models.CharField(_("reason for submission"), max_length=30, choices=PpapReason.choices)
    status = FSMField(_("status"), max_length=20, choices=P.choices, default=P.OPEN, protected=False)
    interim_until = models.DateField(_("interim approval ends"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = supplier_scoped_manager("supplier")

    class Meta:
        verbose_name = _("PPAP submission")
        verbose_name_plural = _("PPAP submissions")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.code} {self.part.number} L{self.level}"

    @transition(field=status, source=P.OPEN, target=P.IN_REVIEW)
    def submit(self, *, by):
        self.submitted_by, self.submitted_at = by, timezone.now()

    @transition(field=status, source=P.IN_REVIEW, target=P.OPEN)
    def return_to_supplier(self):
        pass

    @transition(field=status, source=[P.IN_REVIEW, P.INTERIM], target=P.APPROVED)
    def approve(self, *, by, reason=""):
        self.interim_until = None
        self.decision_reason, self.decided_by, self.decided_at = reason, by, timezone.now()

    @transition(field=status, source=P.IN_REVIEW, target=P.INTERIM)
    def approve_interim(self, *, by, until, reason):
        self.interim_until = until
        self.decision_reason, self.decided_by, self.decided_at = reason, by, timezone.now()

    @transition(field=status, source=[P.IN_REVIEW, P.INTERIM], target=P.REJECTED)
    def reject(self, *, by, reason):
        self.decision_reason, self.decided_by, self.decided_at = reason, by, timezone.now()


class ElementStatus(models.TextChoices):
    PENDING = "pending", _("Not reviewed")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class PpapElement(RegulatedModel):
    submission = models.ForeignKey(PpapSubmission, on_delete=models.PROTECT, related_name="elements")
    number = models.PositiveSmallIntegerField(_("element"))
    required = models.BooleanField(_("required at this level"), default=False)
    status = models.CharField(_("review"), max_length=20, choices=ElementStatus.choices, default=ElementStatus.PENDING)
    comment = models.TextField(_("review comment"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    objects = supplier_scoped_manager("submission__supplier")

    class Meta:
        verbose_name = _("PPAP element")
        verbose_name_plural = _("PPAP elements")
        ordering = ["submission", "number"]
        constraints = [models.UniqueConstraint(fields=["submission", "number"], name="uniq_ppap_element")]

    def __str__(self):
        from .ppap import element_name

        return f"{self.submission.code} #{self.number} {element_name(self.number)}"

    @property
    def name(self):
        from .ppap import element_name

        return element_name(self.number)


class PpapAttachment(RegulatedModel):
    element = models.ForeignKey(PpapElement, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=ppap_upload_to)
    file_name = models.CharField(max_length=255)
    file_type = models.CharField(max_length=50)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = supplier_scoped_manager("element__submission__supplier")

    class Meta:
        verbose_name = _("PPAP attachment")
        verbose_name_plural = _("PPAP attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.file_name


# ---------------------------------------------------------------------------------------------------
# Scorecard inputs and results


class ReceiptRecord(RegulatedModel):
    """One received lot and its incoming-inspection outcome (recorded by inspection)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="receipts")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    lot_code = models.CharField(_("lot"), max_length=60)
    received_on = models.DateField(_("date"))
    accepted = models.BooleanField(_("accepted"))
    quantity_inspected = models.PositiveIntegerField(_("quantity inspected"))
    quantity_defective = models.PositiveIntegerField(_("quantity defective"))

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("receipt outcome")
        verbose_name_plural = _("receipt outcomes")
        ordering = ["-received_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["supplier", "site", "lot_code"], name="uniq_receipt_lot")]
        indexes = [models.Index(fields=["supplier", "site", "received_on"])]

    def __str__(self):
        return f"{self.supplier.code} {self.lot_code}"


class NcrRecord(RegulatedModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="ncrs")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    ncr_code = models.CharField(_("NCR"), max_length=60, unique=True)
    raised_on = models.DateField(_("raised on"))

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("supplier NCR")
        verbose_name_plural = _("supplier NCRs")
        ordering = ["-raised_on"]

    def __str__(self):
        return self.ncr_code


class ScarRecord(RegulatedModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="scars")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    scar_code = models.CharField(_("SCAR"), max_length=60, unique=True)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("response due"))
    responded_on = models.DateField(_("answered on"), null=True, blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("supplier SCAR")
        verbose_name_plural = _("supplier SCARs")
        ordering = ["-issued_on"]

    def __str__(self):
        return self.scar_code


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class ScorecardPolicy(RegulatedModel):
    """Per site: weights of the scorecard (they need not add up to 100) and grade thresholds."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="scorecard_policy")
    weight_lar = models.PositiveSmallIntegerField(_("weight: lot acceptance rate"), default=40)
    weight_ppm = models.PositiveSmallIntegerField(_("weight: ppm defective"), default=30)
    weight_scar = models.PositiveSmallIntegerField(_("weight: SCAR response"), default=20)
    weight_cert = models.PositiveSmallIntegerField(_("weight: certificate compliance"), default=10)
    ppm_full_marks = models.PositiveIntegerField(_("ppm for full marks"), default=100)
    ppm_zero_marks = models.PositiveIntegerField(_("ppm for zero marks"), default=5000)
    grade_a_min = models.DecimalField(_("grade A from score"), max_digits=5, decimal_places=1, default=90)
    grade_b_min = models.DecimalField(_("grade B from score"), max_digits=5, decimal_places=1, default=80)
    grade_c_min = models.DecimalField(_("grade C from score"), max_digits=5, decimal_places=1, default=65)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("scorecard policy")
        verbose_name_plural = _("scorecard policies")

    def __str__(self):
        return f"{self.site.code} scorecard policy"


class Scorecard(models.Model):
    """A computed monthly scorecard for one supplier at one site (recomputed from the inputs)."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="scorecards")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("month"))  # first day of the month
    lots_received = models.PositiveIntegerField(_("lots received"), default=0)
    lots_accepted = models.PositiveIntegerField(_("lots accepted"), default=0)
    lots_rejected = models.PositiveIntegerField(_("lots rejected"), default=0)
    quantity_inspected = models.PositiveIntegerField(_("quantity inspected"), default=0)
    quantity_defective = models.PositiveIntegerField(_("quantity defective"), default=0)
    ncr_count = models.PositiveIntegerField(_("NCRs"), default=0)
    scar_count = models.PositiveIntegerField(_("SCARs"), default=0)
    scar_on_time = models.PositiveIntegerField(_("SCARs answered on time"), default=0)
    scar_late = models.PositiveIntegerField(_("SCARs late or overdue"), default=0)
    scar_avg_days = models.DecimalField(_("average SCAR response (days)"), max_digits=6, decimal_places=1, null=True)
    lar = models.DecimalField(_("lot acceptance rate (%)"), max_digits=5, decimal_places=1, null=True)
    ppm = models.DecimalField(_("ppm defective"), max_digits=10, decimal_places=0, null=True)
    scar_score = models.DecimalField(_("SCAR response score"), max_digits=5, decimal_places=1, null=True)
    cert_compliance = models.DecimalField(_("certificate compliance (%)"), max_digits=5, decimal_places=1, null=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = site_scoped_manager("site", manager_class=models.Manager)

    class Meta:
        verbose_name = _("supplier scorecard")
        verbose_name_plural = _("supplier scorecards")
        ordering = ["-month", "supplier__code"]
        constraints = [models.UniqueConstraint(fields=["supplier", "site", "month"], name="uniq_scorecard_month")]

    def __str__(self):
        return f"{self.supplier.code} {self.site.code} {self.month:%Y-%m} {self.grade}"
