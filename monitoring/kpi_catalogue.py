"""The built-in KPI catalogue, computed from the domains' records (registered in MonitoringConfig.ready).

Each entry is one `qms.core.kpis.Kpi`; a domain may register more in its own AppConfig.ready()."""

from __future__ import annotations

from django.db.models import Case, Count, F, FloatField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils.translation import gettext_lazy as _

from qms.core.i18n import LazyFormat
from qms.core.kpis import HIGHER, LOWER, Kpi, register_kpi

COMPLETED = {"status__in": ["accepted", "rejected"]}
INSPECTION = "inspection.Inspection"
# The line of a patrol check: its schedule's line, else its work order's line.
LINE = ("schedule__line__code", "work_order__line__code")


def _accepted():
    return Count("pk", filter=Q(status="accepted"))


def _count():
    return Count("pk")


def _qty(field):
    return lambda: Coalesce(Sum(field, output_field=FloatField()), Value(0.0))


def _inspection_kpis():
    stages = [
        ("IQC", _("IQC first-pass yield"), {"supplier": "supplier__code", "part": "part__number"}),
        (
            "IPQC",
            _("IPQC pass rate"),
            {"line": LINE, "operation": "operation__name", "part": "part__number"},
        ),
        ("FQC", _("FQC first-pass yield"), {"part": "part__number"}),
    ]
    for stage, label, dims in stages:
        register_kpi(
            Kpi(
                key=f"{stage.lower()}.fpy",
                label=label,
                # rendered in the reader's language (a lazy string formatted here would be frozen in English)
                definition=LazyFormat(
                    _(
                        "Share of %(stage)s inspections accepted at the first attempt (re-inspections left out), "
                        "on the day they were completed."
                    ),
                    stage=stage,
                ),
                unit="%",
                better=HIGHER,
                model=INSPECTION,
                time_field="completed_at",
                numerator=_accepted,
                denominator=_count,
                scale=100,
                filters={**COMPLETED, "stage": stage, "is_reinspection": False},
                dimensions=dims,
                url_name="inspection:detail",
                order=20,
            )
        )
    register_kpi(
        Kpi(
            key="iqc.lot_acceptance",
            label=_("Incoming lot acceptance rate"),
            definition=_("Incoming (IQC) lots accepted / lots inspected, including re-inspections."),
            unit="%",
            better=HIGHER,
            model=INSPECTION,
            time_field="completed_at",
            numerator=_accepted,
            denominator=_count,
            scale=100,
            filters={**COMPLETED, "stage": "IQC"},
            dimensions={"supplier": "supplier__code", "part": "part__number"},
            url_name="inspection:detail",
            order=10,
        )
    )
    register_kpi(
        Kpi(
            key="iqc.ppm",
            label=_("Incoming ppm"),
            definition=_("Nonconforming pieces found in IQC samples per million pieces inspected."),
            unit="ppm",
            better=LOWER,
            model=INSPECTION,
            time_field="completed_at",
            numerator=_qty("nonconforming"),
            denominator=_qty("sample_size"),
            scale=1_000_000,
            filters={**COMPLETED, "stage": "IQC"},
            dimensions={"supplier": "supplier__code", "part": "part__number"},
            url_name="inspection:detail",
            order=11,
        )
    )
    register_kpi(
        Kpi(
            key="ipqc.defect_rate",
            label=_("Process defect rate"),
            definition=_("Nonconforming pieces / pieces checked in in-process patrol inspections (IPQC)."),
            unit="%",
            better=LOWER,
            model=INSPECTION,
            time_field="completed_at",
            numerator=_qty("nonconforming"),
            denominator=_qty("sample_size"),
            scale=100,
            filters={**COMPLETED, "stage": "IPQC"},
            dimensions={"line": LINE, "operation": "operation__name", "part": "part__number"},
            url_name="inspection:detail",
            order=21,
        )
    )
    register_kpi(
        Kpi(
            key="fqc.defect_rate",
            label=_("Finished-goods defect rate"),
            definition=_("Nonconforming pieces / pieces sampled in final inspections (FQC/OQC)."),
            unit="%",
            better=LOWER,
            model=INSPECTION,
            time_field="completed_at",
            numerator=_qty("nonconforming"),
            denominator=_qty("sample_size"),
            scale=100,
            filters={**COMPLETED, "stage": "FQC"},
            dimensions={"part": "part__number"},
            url_name="inspection:detail",
            order=22,
        )
    )


def _cost_at_execution():
    """The standard cost of the line's part in force when the line was executed (None: not known)."""
    from qms.core.models import PartCost

    return Subquery(
        PartCost.objects.filter(part_id=OuterRef("disposition__ncr__part_id"), valid_from__lte=OuterRef("executed_at"))
        .order_by("-valid_from", "-pk")
        .values("standard_cost")[:1]
    )


def _ncr_kpis():
    dims = {
        "part": "part__number",
        "supplier": "supplier__code",
        "customer": "customer__code",
        "defect_code": "defect_codes__code",
    }
    common = dict(
        model="nonconformance.Ncr",
        time_field="created_at",
        excludes={"status": "cancelled"},
        dimensions=dims,
        url_name="nonconformance:ncr_detail",
    )
    register_kpi(
        Kpi(
            key="ncr.count",
            label=_("NCRs opened"),
            definition=_("Nonconformance reports opened (cancelled ones left out), on the day opened."),
            unit="count",
            better=LOWER,
            numerator=_count,
            order=30,
            **common,
        )
    )
    register_kpi(
        Kpi(
            key="ncr.quantity",
            label=_("Nonconforming quantity"),
            definition=_("Quantity confirmed nonconforming on NCRs (the suspect quantity until confirmed)."),
            unit="qty",
            better=LOWER,
            numerator=lambda: Coalesce(
                Sum(
                    Case(
                        When(quantity_confirmed__gt=0, then=F("quantity_confirmed")),
                        default=F("quantity_suspect"),
                        output_field=FloatField(),
                    )
                ),
                Value(0.0),
            ),
            order=31,
            **common,
        )
    )
    register_kpi(
        Kpi(
            key="ncr.cycle_days",
            label=_("NCR cycle time"),
            definition=_("Average days from opening to closing, of the NCRs closed that day."),
            unit="days",
            better=LOWER,
            model="nonconformance.Ncr",
            time_field="closed_at",
            numerator=lambda: Sum(F("closed_at") - F("created_at")),
            denominator=_count,
            scale=1,
            filters={"status": "closed"},
            dimensions={"part": "part__number", "supplier": "supplier__code"},
            url_name="nonconformance:ncr_detail",
            order=32,
        )
    )
    for kind, label, cost_label, unpriced_label, definition, order in [
        ("scrap", _("Scrap quantity"), _("Scrap cost"), _("Scrap not priced (no standard cost)"),
         _("Quantity scrapped by executed MRB dispositions."), 33),
        ("rework", _("Rework quantity"), _("Rework cost"), _("Rework not priced (no standard cost)"),
         _("Quantity reworked by executed MRB dispositions."), 36),
    ]:  # fmt: skip
        line_common = dict(
            model="nonconformance.DispositionLine",
            time_field="executed_at",
            site_field="disposition__ncr__site_id",
            filters={"kind": kind, "executed_at__isnull": False, "voided": False},
            dimensions={"part": "disposition__ncr__part__number", "supplier": "disposition__ncr__supplier__code"},
            code_field="disposition__ncr__code",
            url_name="nonconformance:ncr_detail",
            part_field="disposition__ncr__part",
        )
        register_kpi(
            Kpi(
                key=f"{kind}.quantity",
                label=label,
                definition=definition,
                unit="qty",
                better=LOWER,
                numerator=_qty("executed_quantity"),
                order=order,
                **line_common,
            )
        )
        register_kpi(
            Kpi(
                key=f"{kind}.cost",
                label=cost_label,
                definition=_(
                    "Executed quantity × the part's standard cost in force when the disposition was carried out "
                    "(master data, in the installation's currency). A part with no standard cost then is not "
                    "priced: its quantity is left out of the cost and counted apart as “not priced”."
                ),
                unit="cost",
                better=LOWER,
                numerator=lambda: Coalesce(
                    Sum(F("executed_quantity") * _cost_at_execution(), output_field=FloatField()), Value(0.0)
                ),
                order=order + 1,
                **line_common,
            )
        )
        register_kpi(
            Kpi(
                key=f"{kind}.unpriced",
                label=unpriced_label,
                definition=_(
                    "Quantity of parts that had no standard cost when the disposition was carried out: it is "
                    "not in the cost. Set the standard cost in master data and rebuild the roll-up to price it."
                ),
                unit="qty",
                better=LOWER,
                numerator=_qty("executed_quantity"),
                condition=lambda: IsNull(_cost_at_execution(), True),
                order=order + 2,
                **line_common,
            )
        )


def _complaint_kpis():
    register_kpi(
        Kpi(
            key="complaint.count",
            label=_("Customer complaints"),
            definition=_("Customer complaints received (cancelled ones left out), on the day received."),
            unit="count",
            better=LOWER,
            model="nonconformance.Complaint",
            time_field="received_on",
            numerator=_count,
            excludes={"status": "cancelled"},
            dimensions={"part": "part__number", "customer": "customer__code"},
            url_name="nonconformance:complaint_detail",
            order=40,
        )
    )
    shipment = dict(
        model="traceability.Shipment",
        time_field="shipped_on",
        site_field="lot__site_id",
        dimensions={"part": "lot__part__number", "customer": "customer__code"},
        code_field="lot__code",
        url_name="traceability:lot",
        part_field="lot__part",
    )
    register_kpi(
        Kpi(
            key="shipment.quantity",
            label=_("Units shipped"),
            definition=_("Units shipped to customers."),
            unit="qty",
            better=HIGHER,
            numerator=_qty("quantity"),
            order=45,
            **shipment,
        )
    )
    register_kpi(
        Kpi(
            key="shipment.count",
            label=_("Shipments"),
            definition=_("Shipments (delivery lines) to customers."),
            unit="count",
            better=HIGHER,
            numerator=_count,
            order=46,
            **shipment,
        )
    )
    register_kpi(
        Kpi(
            key="complaint.ppm",
            label=_("Complaints per million units shipped"),
            definition=_("Customer complaints / units shipped in the same period × 1,000,000."),
            unit="ppm",
            better=LOWER,
            ratio_of=("complaint.count", "shipment.quantity"),
            scale=1_000_000,
            dimensions={"part": "", "customer": ""},
            order=41,
        )
    )
    register_kpi(
        Kpi(
            key="complaint.per100",
            label=_("Complaints per 100 shipments"),
            definition=_("Customer complaints / shipments in the same period × 100."),
            unit="per 100",
            better=LOWER,
            ratio_of=("complaint.count", "shipment.count"),
            scale=100,
            dimensions={"part": "", "customer": ""},
            order=42,
        )
    )


def _capa_kpis():
    register_kpi(
        Kpi(
            key="capa.on_time",
            label=_("CAPA on-time closure"),
            definition=_("CAPAs closed on or before their target date / CAPAs closed, on the day closed."),
            unit="%",
            better=HIGHER,
            model="capa.Capa",
            time_field="closed_at",
            numerator=lambda: Count("pk", filter=Q(due_on__isnull=True) | Q(closed_at__date__lte=F("due_on"))),
            denominator=_count,
            scale=100,
            filters={"status": "closed"},
            url_name="capa:capa_detail",
            part_field="ncr__part",
            order=50,
        )
    )
    register_kpi(
        Kpi(
            key="capa.cycle_days",
            label=_("CAPA cycle time"),
            definition=_("Average days from raising to closing, of the CAPAs closed that day."),
            unit="days",
            better=LOWER,
            model="capa.Capa",
            time_field="closed_at",
            numerator=lambda: Sum(F("closed_at") - F("created_at")),
            denominator=_count,
            filters={"status": "closed"},
            url_name="capa:capa_detail",
            part_field="ncr__part",
            order=51,
        )
    )
    register_kpi(
        Kpi(
            key="scar.response_days",
            label=_("SCAR response time"),
            definition=_("Average days from sending a SCAR to the supplier's response, on the day responded."),
            unit="days",
            better=LOWER,
            model="capa.Scar",
            time_field="responded_on",
            numerator=lambda: Sum(F("responded_on") - F("issued_on")),
            denominator=_count,
            filters={"responded_on__isnull": False, "issued_on__isnull": False},
            dimensions={"supplier": "supplier__code"},
            url_name="capa:scar_detail",
            part_field="ncr__part",
            order=52,
        )
    )


def _recall_kpis():
    register_kpi(
        Kpi(
            key="recall.recovery",
            label=_("Recall recovery rate"),
            definition=_("Quantity recovered / quantity shipped of the recalled lots, by the recall's start day."),
            unit="%",
            better=HIGHER,
            model="traceability.RecallCustomer",
            time_field="recall__started_at",
            site_field="recall__site_id",
            numerator=_qty("quantity_recovered"),
            denominator=_qty("quantity_shipped"),
            scale=100,
            filters={"recall__is_mock": False},
            dimensions={"customer": "customer__code"},
            code_field="recall__code",
            url_name="traceability:recall",
            part_field="",
            order=60,
        )
    )


def _supplier_kpis():
    register_kpi(
        Kpi(
            key="supplier.cert_compliance",
            label=_("Certificate compliance"),
            definition=_(
                "Average share of the mandatory certificates covered by a valid certificate, over the suppliers "
                "scored that month (from the monthly supplier scorecards)."
            ),
            unit="%",
            better=HIGHER,
            model="suppliers.Scorecard",
            time_field="month",
            numerator=_qty("cert_compliance"),
            denominator=lambda: Count("pk", filter=Q(cert_compliance__isnull=False)),
            dimensions={"supplier": "supplier__code"},
            code_field="supplier__code",
            part_field="",
            order=55,
        )
    )


def register_all() -> None:
    _inspection_kpis()
    _ncr_kpis()
    _complaint_kpis()
    _capa_kpis()
    _recall_kpis()
    _supplier_kpis()
