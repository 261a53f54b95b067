"""Food (SC licence, Food Safety Law of the PRC) records through the report registry, Chinese first:
incoming acceptance record (进货查验记录, Art. 50), production process control record (生产过程控制记录),
outgoing inspection record (出厂检验记录, Art. 51). Parameters: site code and a date range. The traceability
record per batch and the recall record (Art. 63) are the registered traceability.trace and
traceability.recall reports, offered on the packs page."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import ReportError, ReportParam, Table
from inspection.models import Inspection, InspectionStatus, LotRelease
from qms.core import policy
from qms.core.models import Site
from suppliers.models import Certificate, CertificateStatus
from traceability.models import Lot, ProductionRecord, Shipment, WorkOrder

PDF_MAX_ROWS = 2000
PERM = "packs.export"

PARAMS = [
    ReportParam("site", help=gettext_lazy("site code; your first site when empty")),
    ReportParam("start", help=gettext_lazy("from (YYYY-MM-DD); 30 days ago when empty"), input_type="date"),
    ReportParam("end", help=gettext_lazy("to (YYYY-MM-DD); today when empty"), input_type="date"),
]


def resolve_site(params: dict, user, perm: str = PERM) -> Site:
    code = (params.get("site") or "").strip()
    allowed = policy.sites_for(user, perm) if getattr(user, "pk", None) else None
    qs = Site.objects.all() if allowed is None else Site.objects.filter(pk__in=allowed)
    site = qs.filter(code=code).first() if code else qs.order_by("code").first()
    if site is None:
        raise ReportError(
            _("No site “%(c)s” among your sites. Give one of your site codes.") % {"c": code}
            if code
            else _("You hold this right at no site.")
        )
    return site


def date_range(params: dict) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = datetime.date.fromisoformat(params["start"]) if params.get("start") else today - datetime.timedelta(days=30)
    end = datetime.date.fromisoformat(params["end"]) if params.get("end") else today
    if end < start:
        raise ReportError(_("The end date %(end)s is before the start date %(start)s.") % {"end": end, "start": start})
    return start, end


def _base(params, user, title):
    site = resolve_site(params, user)
    start, end = date_range(params)
    return (
        site,
        start,
        end,
        {
            "title": f"{title} · {site.code}",
            "site_id": site.pk,
            "site": site,
            "start": start,
            "end": end,
            "effective_params": {"site": site.code, "start": start.isoformat(), "end": end.isoformat()},
            "param_rows": [(_("Site"), str(site)), (_("Period"), f"{start} — {end}")],
        },
    )


def _num(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _shelf(lot) -> str:
    if lot.part.shelf_life_days:
        return _("%(n)s days") % {"n": lot.part.shelf_life_days}
    return "—"


# --- 进货查验记录 (Art. 50) -------------------------------------------------------------------------------


INCOMING_COLUMNS = [
    gettext_lazy("Name"),
    gettext_lazy("Specification"),
    gettext_lazy("Quantity"),
    gettext_lazy("Production date or lot"),
    gettext_lazy("Shelf life / expires"),
    gettext_lazy("Supplier"),
    gettext_lazy("Supplier address"),
    gettext_lazy("Supplier contact"),
    gettext_lazy("Date received"),
    gettext_lazy("Supplier certificates"),
    gettext_lazy("Acceptance inspection"),
]


def _incoming_qs(site, start, end):
    return (
        Lot.objects.filter(site=site, supplier__isnull=False, received_on__gte=start, received_on__lte=end)
        .select_related("part", "supplier")
        .order_by("received_on", "code")
    )


def _incoming_rows(site, start, end, limit=None):
    lots = _incoming_qs(site, start, end)
    if limit:
        lots = lots[:limit]
    for chunk in _chunked(lots):
        supplier_ids = {lot.supplier_id for lot in chunk}
        certs: dict[int, list] = {}
        for c in Certificate.objects.filter(supplier_id__in=supplier_ids, status=CertificateStatus.VALID).order_by(
            "valid_until"
        ):
            certs.setdefault(c.supplier_id, []).append(c)
        iqc: dict[int, list] = {}
        for i in Inspection.objects.filter(lot_id__in=[lot.pk for lot in chunk]).order_by("created_at"):
            iqc.setdefault(i.lot_id, []).append(f"{i.code} {i.get_status_display()}")
        for lot in chunk:
            s = lot.supplier
            valid = [
                f"{c.get_cert_type_display()} {c.number}"
                + (f" ({_('valid until')} {c.valid_until})" if c.valid_until else "")
                for c in certs.get(s.pk, [])
                if (c.valid_until is None or lot.received_on is None or c.valid_until >= lot.received_on)
                and (c.issued_on is None or lot.received_on is None or c.issued_on <= lot.received_on)
            ]
            yield [
                lot.part.name,
                f"{lot.part.number} rev {lot.part.revision}",
                f"{lot.quantity.normalize():f} {lot.unit}",
                " / ".join(x for x in [str(lot.produced_on or ""), lot.supplier_lot_code or lot.code] if x),
                " / ".join(x for x in [_shelf(lot), str(lot.expires_on or "")] if x and x != "—") or "—",
                s.name,
                s.address or "—",
                " ".join(x for x in [s.contact_name, s.contact_phone, s.contact_email] if x) or "—",
                str(lot.received_on or ""),
                "; ".join(valid) or _("none on file"),
                "; ".join(iqc.get(lot.pk, [])) or "—",
            ]


def _chunked(qs, size=500):
    chunk = []
    for obj in qs.iterator(chunk_size=size):
        chunk.append(obj)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build_incoming(params, user):
    site, start, end, ctx = _base(params, user, _("Incoming acceptance record (Art. 50)"))
    total = _incoming_qs(site, start, end).count()
    return {
        **ctx,
        "columns": INCOMING_COLUMNS,
        "rows": list(_incoming_rows(site, start, end, PDF_MAX_ROWS)),
        "total": total,
        "truncated": total > PDF_MAX_ROWS,
        "shown": min(total, PDF_MAX_ROWS),
        "narrow": _("choose a shorter period, or export as CSV"),
        "law": _("Food Safety Law of the PRC, Art. 50: kept at least 6 months past the shelf life, else 2 years."),
    }


def table_incoming(params, user):
    site = resolve_site(params, user)
    start, end = date_range(params)
    return Table(
        [str(c) for c in INCOMING_COLUMNS], _incoming_qs(site, start, end).count(), _incoming_rows(site, start, end)
    )


# --- 生产过程控制记录 ------------------------------------------------------------------------------------


PRODUCTION_COLUMNS = [
    gettext_lazy("Work order / batch"),
    gettext_lazy("Product"),
    gettext_lazy("Operation"),
    gettext_lazy("Shift"),
    gettext_lazy("Operators"),
    gettext_lazy("Equipment"),
    gettext_lazy("Started"),
    gettext_lazy("Ended"),
    gettext_lazy("Process parameters (value, limits)"),
    gettext_lazy("Materials (lots used)"),
    gettext_lazy("In-process inspections"),
]


def _production_qs(site, start, end):
    return (
        ProductionRecord.objects.filter(work_order__site=site, started_at__date__gte=start, started_at__date__lte=end)
        .select_related("work_order", "work_order__part", "operation", "equipment")
        .prefetch_related("operators", "parameters")
        .order_by("started_at", "pk")
    )


def _production_rows(site, start, end, limit=None):
    from traceability.models import LotLink

    records = _production_qs(site, start, end)
    if limit:
        records = records[:limit]
    wo_cache: dict[int, tuple[str, str]] = {}
    for chunk in _chunked_prefetch(records):
        wo_ids = {r.work_order_id for r in chunk} - set(wo_cache)
        mats: dict[int, set] = {}
        for wo_id, code in LotLink.objects.filter(child__work_order_id__in=wo_ids).values_list(
            "child__work_order_id", "parent__code"
        ):
            mats.setdefault(wo_id, set()).add(code)
        insp: dict[int, list] = {}
        for i in Inspection.objects.filter(work_order_id__in=wo_ids).order_by("created_at"):
            insp.setdefault(i.work_order_id, []).append(f"{i.code} {i.get_status_display()}")
        for wo_id in wo_ids:
            wo_cache[wo_id] = (", ".join(sorted(mats.get(wo_id, []))) or "—", "; ".join(insp.get(wo_id, [])) or "—")
        for r in chunk:
            params_text = "; ".join(
                f"{p.name} {p.value.normalize():f}{p.unit}"
                + (
                    f" [{_num(p.lower_limit)}…{_num(p.upper_limit)}]"
                    if p.lower_limit is not None or p.upper_limit is not None
                    else ""
                )
                for p in r.parameters.all()
            )
            materials, inspections = wo_cache[r.work_order_id]
            yield [
                r.work_order.code,
                f"{r.work_order.part.number} {r.work_order.part.name}",
                r.operation.name if r.operation else "—",
                r.shift or "—",
                ", ".join(u.printed_name for u in r.operators.all()) or "—",
                str(r.equipment) if r.equipment else "—",
                timezone.localtime(r.started_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(r.ended_at).strftime("%Y-%m-%d %H:%M") if r.ended_at else "—",
                params_text or "—",
                materials,
                inspections,
            ]


def _chunked_prefetch(qs, size=200):
    # prefetch_related needs a sliced list, not an iterator without chunk_size on old Django
    chunk = []
    for obj in qs.iterator(chunk_size=size):
        chunk.append(obj)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build_production(params, user):
    site, start, end, ctx = _base(params, user, _("Production process control record"))
    total = _production_qs(site, start, end).count()
    return {
        **ctx,
        "columns": PRODUCTION_COLUMNS,
        "rows": list(_production_rows(site, start, end, PDF_MAX_ROWS)),
        "total": total,
        "truncated": total > PDF_MAX_ROWS,
        "shown": min(total, PDF_MAX_ROWS),
        "narrow": _("choose a shorter period, or export as CSV"),
        "law": _("Food Safety Law of the PRC, Art. 46: control of the production process."),
        "work_orders": WorkOrder.objects.filter(site=site).count(),
    }


def table_production(params, user):
    site = resolve_site(params, user)
    start, end = date_range(params)
    return Table(
        [str(c) for c in PRODUCTION_COLUMNS],
        _production_qs(site, start, end).count(),
        _production_rows(site, start, end),
    )


# --- 出厂检验记录 (Art. 51) -------------------------------------------------------------------------------


OUTGOING_COLUMNS = [
    gettext_lazy("Name"),
    gettext_lazy("Specification"),
    gettext_lazy("Quantity"),
    gettext_lazy("Production date or lot"),
    gettext_lazy("Inspection certificate number"),
    gettext_lazy("Date sold"),
    gettext_lazy("Buyer"),
    gettext_lazy("Buyer contact"),
]


def _outgoing_qs(site, start, end):
    return (
        Shipment.objects.filter(lot__site=site, shipped_on__gte=start, shipped_on__lte=end)
        .select_related("lot", "lot__part", "customer")
        .order_by("shipped_on", "pk")
    )


def _outgoing_rows(site, start, end, limit=None):
    ships = _outgoing_qs(site, start, end)
    if limit:
        ships = ships[:limit]
    for chunk in _chunked(ships):
        lot_ids = [s.lot_id for s in chunk]
        notes = dict(LotRelease.objects.filter(lot_id__in=lot_ids).values_list("lot_id", "note_number"))
        accepted: dict[int, str] = {}
        for lot_id, code in (
            Inspection.objects.filter(lot_id__in=lot_ids, status=InspectionStatus.ACCEPTED)
            .order_by("created_at")
            .values_list("lot_id", "code")
        ):
            accepted[lot_id] = code
        for s in chunk:
            lot = s.lot
            cert = " / ".join(x for x in [notes.get(lot.pk, ""), accepted.get(lot.pk, "")] if x)
            yield [
                lot.part.name,
                f"{lot.part.number} rev {lot.part.revision}",
                f"{s.quantity.normalize():f} {lot.unit}",
                " / ".join(x for x in [str(lot.produced_on or ""), lot.code] if x),
                cert or _("not inspected"),
                str(s.shipped_on),
                s.customer.name,
                " ".join(x for x in [s.customer.email, s.customer.country] if x) or "—",
            ]


def build_outgoing(params, user):
    site, start, end, ctx = _base(params, user, _("Outgoing inspection record (Art. 51)"))
    total = _outgoing_qs(site, start, end).count()
    return {
        **ctx,
        "columns": OUTGOING_COLUMNS,
        "rows": list(_outgoing_rows(site, start, end, PDF_MAX_ROWS)),
        "total": total,
        "truncated": total > PDF_MAX_ROWS,
        "shown": min(total, PDF_MAX_ROWS),
        "narrow": _("choose a shorter period, or export as CSV"),
        "law": _("Food Safety Law of the PRC, Art. 51: kept at least 6 months past the shelf life, else 2 years."),
    }


def table_outgoing(params, user):
    site = resolve_site(params, user)
    start, end = date_range(params)
    return Table(
        [str(c) for c in OUTGOING_COLUMNS], _outgoing_qs(site, start, end).count(), _outgoing_rows(site, start, end)
    )
