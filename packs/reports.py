"""The packs' registered reports: the lot bundle, PPAP and complaint packs (assembled PDFs made by export
jobs), the control plan, the SC food records and the retention report."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, Table, register_report

from . import bundle, food, iatf
from .models import RecordType

PDF_MAX_ROWS = 2000


# --- retention report ----------------------------------------------------------------------------------

RETENTION_COLUMNS = [
    gettext_lazy("Record type"),
    gettext_lazy("Record"),
    gettext_lazy("Record date"),
    gettext_lazy("End of shelf life"),
    gettext_lazy("Kept until"),
]


def _retention_rows(site, before, limit=None):
    from compliance.models import GeneratedReport
    from traceability.models import Lot

    from .retention import _apply, _as_date, _part_life_end, lot_expiry, policy_for

    lot_rule = policy_for(site, RecordType.LOT)
    report_rule = policy_for(site, RecordType.REPORT)
    life_end: dict[int, object] = {}
    rows = []
    for lot in Lot.objects.filter(site=site).select_related("part").order_by("pk").iterator(chunk_size=1000):
        part = lot.part
        if not part.is_active and part.pk not in life_end:
            life_end[part.pk] = _part_life_end(part, site.pk)
        record_date = lot.produced_on or lot.received_on or _as_date(lot.created_at)
        until = _apply(
            lot_rule,
            record_date=record_date,
            basis_date=lot_expiry(lot),
            active=part.is_active,
            active_life_end=life_end.get(part.pk),
        )
        rows.append((until, [str(RecordType.LOT.label), lot.code, record_date, lot_expiry(lot) or "—"]))
    for rep in GeneratedReport.objects.filter(site=site).order_by("pk").iterator(chunk_size=1000):
        from .retention import retention_until

        until = (
            retention_until(rep)
            if (rep.params or {}).get("lot")
            else _apply(
                report_rule, record_date=rep.generated_at, basis_date=None, active=report_rule.basis == "active_life"
            )
        )
        rows.append((until, [str(RecordType.REPORT.label), rep.document_number, _as_date(rep.generated_at), "—"]))
    far = datetime.date.max
    rows.sort(key=lambda r: (r[0] or far, r[1][1]))
    n = 0
    for until, row in rows:
        if before and until is not None and until > before:
            continue
        if before and until is None:
            continue
        yield [*row, until or _("while the part is active / no end yet")]
        n += 1
        if limit and n >= limit:
            return


def _retention_params(params, user):
    site = food.resolve_site(params, user, "packs.view")
    before = datetime.date.fromisoformat(params["before"]) if params.get("before") else None
    return site, before


def build_retention(params, user):
    from .retention import policy_for

    site, before = _retention_params(params, user)
    rows = list(_retention_rows(site, before, PDF_MAX_ROWS + 1))
    policies = [(RecordType(v).label, policy_for(site, v)) for v, _l in RecordType.choices]
    return {
        "title": _("Records by retention date · %(site)s") % {"site": site.code},
        "site_id": site.pk,
        "columns": RETENTION_COLUMNS,
        "rows": rows[:PDF_MAX_ROWS],
        "truncated": len(rows) > PDF_MAX_ROWS,
        "shown": PDF_MAX_ROWS,
        "total": len(rows),
        "narrow": _("give an earlier “kept until before” date, or export as CSV"),
        "policies": policies,
        "law": "",
        "effective_params": {"site": site.code, **({"before": before.isoformat()} if before else {})},
        "param_rows": [(_("Site"), str(site))] + ([(_("Kept until before"), before)] if before else []),
    }


def table_retention(params, user):
    site, before = _retention_params(params, user)
    rows = list(_retention_rows(site, before))
    return Table([str(c) for c in RETENTION_COLUMNS], len(rows), iter(rows))


def register() -> None:
    lot = ReportParam("lot", required=True, help=gettext_lazy("lot code"))
    register_report(
        Report(
            key="packs.lot_bundle",
            title=gettext_lazy("Everything about a lot (bundle)"),
            template="packs/pdf/body.html",
            build=bundle.build_lot_bundle,
            params=[lot],
            perm="packs.export",
            document_prefix="LOT",
            background=True,
            run=bundle.run_lot_bundle,
        )
    )
    register_report(
        Report(
            key="packs.ppap",
            title=gettext_lazy("PPAP submission pack"),
            template="packs/pdf/body.html",
            build=iatf.build_ppap,
            params=[ReportParam("ppap", required=True, help=gettext_lazy("PPAP number"))],
            perm="packs.export",
            document_prefix="PPAP",
            background=True,
            run=iatf.run_ppap,
        )
    )
    register_report(
        Report(
            key="packs.complaint",
            title=gettext_lazy("Complaint pack with 8D"),
            template="packs/pdf/body.html",
            build=iatf.build_complaint,
            params=[ReportParam("complaint", required=True, help=gettext_lazy("complaint number"))],
            perm="packs.export",
            document_prefix="CMP",
            background=True,
            run=iatf.run_complaint,
        )
    )
    register_report(
        Report(
            key="packs.control_plan",
            title=gettext_lazy("Control plan (AIAG)"),
            template="packs/pdf/control_plan.html",
            build=iatf.build_control_plan,
            params=[
                ReportParam("site", help=gettext_lazy("site code; your first site when empty")),
                ReportParam("part", help=gettext_lazy("part number; the latest control plan when empty")),
                ReportParam("version", help=gettext_lazy("version; the latest when empty"), input_type="number"),
            ],
            perm="packs.export",
            document_prefix="CP",
        )
    )
    for key, title, build, table in [
        ("packs.sc_incoming", gettext_lazy("进货查验记录 Incoming acceptance record (Art. 50)"), food.build_incoming, food.table_incoming),
        ("packs.sc_production", gettext_lazy("生产过程控制记录 Production process control record"), food.build_production, food.table_production),
        ("packs.sc_outgoing", gettext_lazy("出厂检验记录 Outgoing inspection record (Art. 51)"), food.build_outgoing, food.table_outgoing),
    ]:  # fmt: skip
        register_report(
            Report(
                key=key,
                title=title,
                template="packs/pdf/record_table.html",
                build=build,
                params=food.PARAMS,
                perm="packs.export",
                document_prefix="SC",
                background=True,
                table=table,
            )
        )
    register_report(
        Report(
            key="packs.retention",
            title=gettext_lazy("Records by retention date"),
            template="packs/pdf/retention.html",
            build=build_retention,
            params=[
                ReportParam("site", help=gettext_lazy("site code; your first site when empty")),
                ReportParam("before", help=gettext_lazy("kept until before (YYYY-MM-DD)"), input_type="date"),
            ],
            perm="packs.export",
            document_prefix="RET",
            background=True,
            table=table_retention,
        )
    )


__all__ = ["ReportError", "register"]
