"""Registered report: the batch disposition pack of an executed batch record (EN + ZH): batch record,
IPC results, deviations, yield reconciliation, the CoA of the batch lot and its release signature."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report


def build_disposition(params, user) -> dict:
    from inspection.selectors import coa_context, results_for_lots

    from .selectors import annotate_signatures, ebr_exceptions, ebr_queryset

    code = (params.get("record") or "").strip()
    qs = ebr_queryset()
    if code:
        record = qs.filter(code=code).first()
        if record is None:
            raise ReportError(
                _("No batch record has the number “%(c)s”. Give an existing batch record number.") % {"c": code[:60]},
                field="record",
            )
    else:
        record = qs.order_by("-created_at", "-pk").first()
        if record is None:
            raise ReportError(_("No batch record exists yet. Give a batch record number."), field="record")
    annotate_signatures([record])
    lot = record.lot
    coa = coa_context(lot) if lot else None
    ipc_inspections = []
    if lot:
        ipc_inspections = [
            r for r in results_for_lots([lot.pk], work_orders={lot.pk: record.work_order_id}).get(lot.pk, [])
        ]
    return {
        "record": record,
        "exceptions": ebr_exceptions(record),
        "ipc_values": [v for v in record.values.all() if v.kind == "ipc"],
        "ipc_inspections": ipc_inspections,
        "coa": coa,
        "title": _("Batch disposition pack — %(code)s") % {"code": record.code},
        "effective_params": {"record": record.code},
        "param_rows": [(_("Batch record"), record.code), (_("Work order"), record.work_order.code)],
        "site_id": record.site_id,
    }


def register() -> None:
    register_report(
        Report(
            key="batchrecords.disposition",
            title=gettext_lazy("Batch disposition pack"),
            template="batchrecords/pdf/disposition.html",
            build=build_disposition,
            params=[ReportParam("record", help=gettext_lazy("batch record number (default: the latest)"))],
            perm="batch.view",
            document_prefix="BDP",
        )
    )
