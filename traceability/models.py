"""Lots, serials, genealogy links, work orders with operations and production records (5M1E),
shipments, recalls and the public trace page profile.

Statuses are kept by services (traceability.services); the transition methods below change fields only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from qms.core.audit import RegulatedModel
from qms.core.codes import validate_code
from qms.core.scoping import site_scoped_manager


class LotStatus(models.TextChoices):
    QUARANTINE = "quarantine", _("Quarantine")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    CONSUMED = "consumed", _("Consumed")
    SHIPPED = "shipped", _("Shipped")
    EXPIRED = "expired", _("Expired")


IN_STOCK = (LotStatus.QUARANTINE, LotStatus.RELEASED)


class Lot(RegulatedModel):
    code = models.CharField(_("lot code"), max_length=60, unique=True, validators=[validate_code])
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="lots", verbose_name=_("part"))
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="lots", verbose_name=_("site"))
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lots",
        verbose_name=_("supplier"),
    )
    supplier_lot_code = models.CharField(
        _("supplier's lot number"), max_length=60, blank=True, validators=[validate_code]
    )
    work_order = models.ForeignKey(
        "WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="output_lots",
        verbose_name=_("work order"),
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    received_on = models.DateField(_("received on"), null=True, blank=True)
    produced_on = models.DateField(_("produced on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    status = FSMField(
        _("status"), max_length=20, choices=LotStatus.choices, default=LotStatus.QUARANTINE, protected=False
    )
    # Consumer QR code: an unguessable token, never the database id.
    public_token = models.CharField(_("public token"), max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["supplier", "supplier_lot_code"], name="trace_lot_supplier_lot"),
            models.Index(fields=["site", "status"], name="trace_lot_site_status"),
            models.Index(fields=["expires_on"], name="trace_lot_expires"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_purchased(self) -> bool:
        return self.supplier_id is not None

    @property
    def made_on(self):
        return self.produced_on or self.received_on

    def active_holds(self):
        """Holds not lifted. Uses the prefetched list when a selector loaded it (`_active_holds`)."""
        cached = getattr(self, "_active_holds", None)
        if cached is not None:
            return cached
        return list(self.holds.filter(lifted_at__isnull=True).order_by("placed_at"))

    @property
    def is_on_hold(self) -> bool:
        cached = getattr(self, "_active_holds", None)
        if cached is not None:
            return bool(cached)
        return self.holds.filter(lifted_at__isnull=True).exists()

    def is_expired(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.status == LotStatus.EXPIRED or (self.expires_on is not None and self.expires_on < on)

    @transition(field=status, source=LotStatus.QUARANTINE, target=LotStatus.RELEASED)
    def release(self):
        pass

    @transition(field=status, source=[LotStatus.QUARANTINE, LotStatus.RELEASED], target=LotStatus.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=LotStatus.RELEASED, target=LotStatus.CONSUMED)
    def mark_consumed(self):
        pass

    @transition(field=status, source=LotStatus.RELEASED, target=LotStatus.SHIPPED)
    def mark_shipped(self):
        pass

    @transition(field=status, source=[LotStatus.QUARANTINE, LotStatus.RELEASED], target=LotStatus.EXPIRED)
    def expire(self):
        pass


class HoldSource(models.TextChoices):
    NCR = "ncr", _("Nonconformance")
    RECALL = "recall", _("Recall")
    EXPIRY = "expiry", _("Expiry")
    INSPECTION = "inspection", _("Inspection")
    MANUAL = "manual", _("Manual")


class LotHold(RegulatedModel):
    """A hold layered on top of a lot's status: while any hold is active the lot neither ships, nor is
    consumed, nor released."""

    audit_site_path = "lot__site"  # audit entries are filed under this site

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="holds", verbose_name=_("lot"))
    source = models.CharField(_("source"), max_length=20)
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.TextField(_("reason for lifting"), blank=True)

    objects = site_scoped_manager("lot__site")

    class Meta:
        verbose_name = _("lot hold")
        verbose_name_plural = _("lot holds")
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["lot", "lifted_at"], name="trace_hold_lot_active")]

    def __str__(self):
        return f"{self.lot.code} · {self.get_source_display()} {self.reference}".strip()

    def get_source_display(self):
        return HoldSource(self.source).label if self.source in HoldSource.values else self.source

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class Serial(RegulatedModel):
    audit_site_path = "lot__site"  # audit entries are filed under this site
    serial = models.CharField(_("serial number"), max_length=80, unique=True, validators=[validate_code])
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="serials", verbose_name=_("lot"))
    shipment = models.ForeignKey(
        "Shipment", on_delete=models.PROTECT, null=True, blank=True, related_name="serials", verbose_name=_("shipment")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = site_scoped_manager("lot__site")

    class Meta:
        verbose_name = _("serial number")
        verbose_name_plural = _("serial numbers")
        ordering = ["serial"]

    def __str__(self):
        return self.serial


class LinkKind(models.TextChoices):
    CONSUMPTION = "consumption", _("Consumed")
    SPLIT = "split", _("Split off")


class LotLink(RegulatedModel):
    """One edge of the genealogy: `quantity` of lot `parent` was consumed into lot `child`, or (kind
    "split") was split off the parent into a new lot: the parent's quantity was reduced by it, so a split
    link does not count as consumption of the parent's remaining quantity.
    Indexed in both directions (unique parent→child, and child→parent) so traces are index scans."""

    audit_site_path = "child__site"  # audit entries are filed under this site

    parent = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="child_links", db_index=False, verbose_name=_("consumed lot")
    )
    child = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="parent_links", db_index=False, verbose_name=_("produced lot")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    kind = models.CharField(
        _("kind"), max_length=20, choices=LinkKind.choices, default=LinkKind.CONSUMPTION, db_default="consumption"
    )
    work_order = models.ForeignKey(
        "WorkOrder", on_delete=models.PROTECT, null=True, blank=True, related_name="links", verbose_name=_("work order")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = site_scoped_manager("parent__site", "child__site", all_of=True)

    class Meta:
        verbose_name = _("genealogy link")
        verbose_name_plural = _("genealogy links")
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="trace_link_parent_child"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("child")), name="trace_link_not_self"),
        ]
        indexes = [models.Index(fields=["child", "parent"], name="trace_link_child_parent")]

    def __str__(self):
        return f"{self.parent_id} → {self.child_id}"


class WorkOrderStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SETUP = "setup", _("Set-up")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class WorkOrder(RegulatedModel):
    """A work order or batch: the production record of the lots it produces."""

    code = models.CharField(_("work order / batch"), max_length=40, unique=True, validators=[validate_code])
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("site"))
    part = models.ForeignKey("core.Part", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("part"))
    line = models.ForeignKey(
        "core.Equipment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("line"),
    )
    quantity_planned = models.DecimalField(_("planned quantity"), max_digits=14, decimal_places=3, default=0)
    status = FSMField(
        _("status"), max_length=20, choices=WorkOrderStatus.choices, default=WorkOrderStatus.PLANNED, protected=False
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.code

    @transition(field=status, source=WorkOrderStatus.PLANNED, target=WorkOrderStatus.SETUP)
    def to_setup(self):
        pass

    @transition(field=status, source=[WorkOrderStatus.PLANNED, WorkOrderStatus.SETUP], target=WorkOrderStatus.RUNNING)
    def to_running(self):
        self.started_at = self.started_at or timezone.now()

    @transition(field=status, source=WorkOrderStatus.RUNNING, target=WorkOrderStatus.COMPLETED)
    def to_completed(self):
        self.ended_at = timezone.now()

    @transition(field=status, source=[WorkOrderStatus.PLANNED, WorkOrderStatus.SETUP], target=WorkOrderStatus.CANCELLED)
    def to_cancelled(self):
        self.ended_at = timezone.now()


class OperationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class Operation(RegulatedModel):
    audit_site_path = "work_order__site"  # audit entries are filed under this site
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, related_name="operations", verbose_name=_("work order")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("operation"), max_length=120)
    equipment = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("equipment")
    )
    status = FSMField(
        _("status"), max_length=20, choices=OperationStatus.choices, default=OperationStatus.PENDING, protected=False
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    objects = site_scoped_manager("work_order__site")

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["work_order", "sequence"]
        constraints = [models.UniqueConstraint(fields=["work_order", "sequence"], name="trace_op_sequence")]

    def __str__(self):
        return f"{self.work_order.code}/{self.sequence} {self.name}"

    @transition(field=status, source=OperationStatus.PENDING, target=OperationStatus.RUNNING)
    def start(self):
        self.started_at = timezone.now()

    @transition(field=status, source=OperationStatus.RUNNING, target=OperationStatus.DONE)
    def finish(self):
        self.ended_at = timezone.now()


class ProductionRecord(RegulatedModel):
    """5M1E of a run: man (operators), machine (equipment), material (the work order's links),
    method (operation), measurement (process parameters), environment (shift, notes)."""

    audit_site_path = "work_order__site"  # audit entries are filed under this site

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, related_name="records", verbose_name=_("work order")
    )
    operation = models.ForeignKey(
        Operation, on_delete=models.PROTECT, null=True, blank=True, related_name="records", verbose_name=_("operation")
    )
    shift = models.CharField(_("shift"), max_length=20, blank=True)
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("operators")
    )
    equipment = models.ForeignKey(
        "core.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("equipment")
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = site_scoped_manager("work_order__site")

    class Meta:
        verbose_name = _("production record")
        verbose_name_plural = _("production records")
        ordering = ["started_at", "id"]

    def __str__(self):
        return f"{self.work_order.code} {self.started_at:%Y-%m-%d %H:%M}"


class ProcessParameter(RegulatedModel):
    audit_site_path = "record__work_order__site"  # audit entries are filed under this site
    record = models.ForeignKey(
        ProductionRecord, on_delete=models.PROTECT, related_name="parameters", verbose_name=_("production record")
    )
    name = models.CharField(_("parameter"), max_length=80)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    lower_limit = models.DecimalField(_("lower limit"), max_digits=14, decimal_places=4, null=True, blank=True)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=14, decimal_places=4, null=True, blank=True)

    objects = site_scoped_manager("record__work_order__site")

    class Meta:
        verbose_name = _("process parameter")
        verbose_name_plural = _("process parameters")
        ordering = ["id"]

    def __str__(self):
        return f"{self.name} = {self.value} {self.unit}".strip()

    @property
    def in_limits(self) -> bool:
        if self.lower_limit is not None and self.value < self.lower_limit:
            return False
        return not (self.upper_limit is not None and self.value > self.upper_limit)


class Shipment(RegulatedModel):
    audit_site_path = "lot__site"  # audit entries are filed under this site
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("lot"))
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("customer")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    shipped_on = models.DateField(_("shipped on"), default=timezone.localdate)
    delivery_note = models.CharField(_("delivery note"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = site_scoped_manager("lot__site")

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-shipped_on", "-id"]
        indexes = [models.Index(fields=["lot", "customer"], name="trace_ship_lot_customer")]

    def __str__(self):
        return self.delivery_note or f"{self.lot.code} → {self.customer.code}"


class RecallSource(models.TextChoices):
    LOT = "lot", _("Suspect lot")
    SUPPLIER_LOT = "supplier_lot", _("Supplier lot")
    COMPLAINT = "complaint", _("Customer complaint")


class RecallStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    NOTIFYING = "notifying", _("Notifying customers")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class Recall(RegulatedModel):
    # The approver signs the recall and its frozen scope (which lots, which customers, what was shipped);
    # notifying and recovering are later bookkeeping.
    signed_fields = ("code", "site", "source", "reference", "reason", "is_mock")
    signed_children = {
        "scope_lots": ("lot", "depth", "status_at_scope"),
        "customers": ("customer", "quantity_shipped", "lots"),
    }
    code = models.CharField(_("recall number"), max_length=30, unique=True)
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, related_name="recalls", verbose_name=_("site"))
    source = models.CharField(_("started from"), max_length=20, choices=RecallSource.choices, default=RecallSource.LOT)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    reason = models.TextField(_("reason"))
    is_mock = models.BooleanField(_("mock recall (drill)"), default=False)
    status = FSMField(
        _("status"), max_length=20, choices=RecallStatus.choices, default=RecallStatus.DRAFT, protected=False
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    scope_computed_at = models.DateTimeField(_("scope computed at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("all customers notified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return self.code

    @property
    def is_frozen(self) -> bool:
        return self.status != RecallStatus.DRAFT

    @transition(field=status, source=RecallStatus.DRAFT, target=RecallStatus.APPROVED)
    def approve(self):
        self.approved_at = timezone.now()

    @transition(field=status, source=RecallStatus.APPROVED, target=RecallStatus.NOTIFYING)
    def start_notifying(self):
        pass

    @transition(field=status, source=RecallStatus.NOTIFYING, target=RecallStatus.IN_PROGRESS)
    def notifications_done(self):
        self.notified_at = timezone.now()

    @transition(field=status, source=RecallStatus.IN_PROGRESS, target=RecallStatus.CLOSED)
    def close(self):
        self.closed_at = timezone.now()


class RecallLot(RegulatedModel):
    """One lot in a recall's scope (depth 0 = a start lot), as found by the forward trace."""

    audit_site_path = "recall__site"  # audit entries are filed under this site

    recall = models.ForeignKey(Recall, on_delete=models.PROTECT, related_name="scope_lots", verbose_name=_("recall"))
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="recall_entries", verbose_name=_("lot"))
    depth = models.PositiveIntegerField(_("depth"), default=0)
    status_at_scope = models.CharField(_("status when scoped"), max_length=20, choices=LotStatus.choices)
    in_stock = models.BooleanField(_("in stock"), default=False)
    hold = models.ForeignKey(LotHold, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = site_scoped_manager("recall__site")

    class Meta:
        verbose_name = _("recalled lot")
        verbose_name_plural = _("recalled lots")
        ordering = ["depth", "lot__code"]
        constraints = [models.UniqueConstraint(fields=["recall", "lot"], name="trace_recall_lot")]

    def __str__(self):
        return f"{self.recall.code} · {self.lot.code}"


class RecallCustomer(RegulatedModel):
    audit_site_path = "recall__site"  # audit entries are filed under this site
    recall = models.ForeignKey(Recall, on_delete=models.PROTECT, related_name="customers", verbose_name=_("recall"))
    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    quantity_shipped = models.DecimalField(_("quantity shipped"), max_digits=14, decimal_places=3, default=0)
    quantity_recovered = models.DecimalField(_("quantity recovered"), max_digits=14, decimal_places=3, default=0)
    lots = models.TextField(_("lots shipped"), blank=True)  # comma-separated codes, frozen with the scope
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    letter = models.ForeignKey(
        "compliance.GeneratedReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recall letter"),
    )

    objects = site_scoped_manager("recall__site")

    class Meta:
        verbose_name = _("recall customer")
        verbose_name_plural = _("recall customers")
        ordering = ["customer__code"]
        constraints = [models.UniqueConstraint(fields=["recall", "customer"], name="trace_recall_customer")]

    def __str__(self):
        return f"{self.recall.code} · {self.customer.code}"

    @property
    def recovered_percent(self):
        if not self.quantity_shipped:
            return None
        return round(float(self.quantity_recovered) * 100 / float(self.quantity_shipped), 1)


class PublicTraceProfile(RegulatedModel):
    """What a site chooses to publish on the consumer page opened by a lot's QR code."""

    site = models.OneToOneField(
        "core.Site", on_delete=models.PROTECT, related_name="public_trace_profile", verbose_name=_("site")
    )
    show_product = models.BooleanField(_("product"), default=True)
    show_production_date = models.BooleanField(_("production date"), default=True)
    show_lot = models.BooleanField(_("lot code"), default=True)
    show_shelf_life = models.BooleanField(_("shelf life"), default=True)
    show_release_status = models.BooleanField(_("release status"), default=True)
    show_inspection_summary = models.BooleanField(_("inspection summary"), default=True)
    show_origin = models.BooleanField(_("raw-material origin"), default=False)
    public_name = models.CharField(_("published company name"), max_length=200, blank=True)

    objects = site_scoped_manager("site")

    class Meta:
        verbose_name = _("public trace page profile")
        verbose_name_plural = _("public trace page profiles")

    def __str__(self):
        return str(self.site)
