"""Reads of the nonconformance app: lists, the NCR page, suspect stock, the complaint's root-cause view,
the trace overlay, Pareto and complaint rate."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    NCR_ACTIVE,
    Attachment,
    Complaint,
    ComplaintStatus,
    ContainmentAction,
    DefectCode,
    Disposition,
    DispositionLine,
    MrbDecision,
    Ncr,
    NcrLot,
    NcrStatus,
)


def ncrs_for_list(*, site_ids, q: str = "", status: str = ""):
    qs = Ncr.objects.filter(site_id__in=site_ids).select_related("site", "part", "supplier", "created_by")
    if status == "active":
        qs = qs.filter(status__in=NCR_ACTIVE)
    elif status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(code__icontains=q)
            | Q(title__icontains=q)
            | Q(part__number__icontains=q)
            | Q(ncr_lots__lot__code__icontains=q)
        ).distinct()
    return qs.order_by("-created_at", "-pk")


def ncr_by_code(code: str) -> Ncr | None:
    return (
        Ncr.objects.select_related("site", "part", "supplier", "customer", "complaint", "created_by", "verified_by")
        .prefetch_related(
            "defect_codes",
            Prefetch("ncr_lots", queryset=NcrLot.objects.select_related("lot", "hold").order_by("pk")),
            Prefetch("containment_actions", queryset=ContainmentAction.objects.select_related("owner")),
            Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        )
        .filter(code=code)
        .first()
    )


def disposition_for(ncr: Ncr) -> Disposition | None:
    return (
        Disposition.objects.select_related("proposed_by", "ncr", "ncr__site", "ncr__customer")
        .prefetch_related(
            Prefetch("lines", queryset=DispositionLine.objects.select_related("lot", "executed_by").order_by("pk")),
            Prefetch("decisions", queryset=MrbDecision.objects.select_related("reviewer").order_by("round", "pk")),
        )
        .filter(ncr=ncr)
        .first()
    )


def decisions_with_signatures(disposition: Disposition) -> list[dict]:
    """Each decision with its e-signature (one query for all signatures)."""
    from compliance.models import Signature

    decisions = list(disposition.decisions.all())
    sigs = {
        s.object_id: s
        for s in Signature.objects.filter(
            model=MrbDecision._meta.label_lower, object_id__in=[str(d.pk) for d in decisions]
        ).select_related("signer")
    }
    return [{"decision": d, "signature": sigs.get(str(d.pk))} for d in decisions]


def ncrs_for_lots(lot_ids) -> dict[int, list[dict]]:
    """Trace overlay: NCRs on each lot (one query)."""
    out: dict[int, list[dict]] = defaultdict(list)
    links = NcrLot.objects.filter(lot_id__in=list(lot_ids)).select_related("ncr").order_by("ncr__created_at")
    for link in links:
        ncr = link.ncr
        out[link.lot_id].append(
            {
                "kind": "ncr",
                "id": ncr.pk,
                "site_id": ncr.site_id,
                "label": f"{ncr.code} {ncr.get_status_display()}",
                "ok": None if ncr.is_active else (ncr.status == NcrStatus.CLOSED),
                "url": reverse("nonconformance:ncr_detail", args=[ncr.code]),
                "code": ncr.code,
                "status": ncr.status,
                "title": ncr.title,
                "public_summary": False,
            }
        )
    return dict(out)


def concessions_for_lots(lot_ids) -> dict[int, list[dict]]:
    """Executed concessions (特采) per lot, for the lot's CoA and pages."""
    out: dict[int, list[dict]] = defaultdict(list)
    ids = list(lot_ids)
    lines = (
        DispositionLine.objects.filter(kind="concession", voided=False, executed_at__isnull=False)
        .filter(Q(released_lot_id__in=ids) | Q(released_lot__isnull=True, lot_id__in=ids))
        .select_related("disposition__ncr")
    )
    for line in lines:
        # the note belongs to the lot released under the concession: the split-off lot when only part of
        # the lot was conceded (the rest stays held and gets no note), else the lot itself
        out[line.released_lot_id or line.lot_id].append(
            {
                "ncr": line.disposition.ncr.code,
                "quantity": line.executed_quantity,
                "expires_on": line.concession_expires_on,
                "quantity_limit": line.concession_quantity_limit,
                "customer_approval": line.customer_approval_reference,
                "text": _("Concession %(ncr)s: %(qty)s released under concession%(until)s")
                % {
                    "ncr": line.disposition.ncr.code,
                    "qty": format(line.executed_quantity.normalize(), "f"),
                    "until": (_(" until %(d)s") % {"d": line.concession_expires_on})
                    if line.concession_expires_on
                    else "",
                },
            }
        )
    return dict(out)


def suspect_stock(ncr: Ncr) -> list[dict]:
    """ "Find suspect stock": for each lot on the NCR, sibling lots (same supplier lot, or made from the
    same parent lots) and downstream lots (forward trace), with whether they are already held."""
    from traceability.models import IN_STOCK, Lot, LotLink
    from traceability.selectors import trace_forward

    on_ncr = {link.lot_id for link in ncr.ncr_lots.all()}
    rows: dict[int, dict] = {}
    for link in ncr.ncr_lots.all():
        lot = link.lot
        sibling_q = Q(pk__in=[])
        if lot.supplier_id and lot.supplier_lot_code:
            sibling_q |= Q(supplier_id=lot.supplier_id, supplier_lot_code=lot.supplier_lot_code)
        parent_ids = list(LotLink.objects.filter(child=lot).values_list("parent_id", flat=True))
        if parent_ids:
            sibling_q |= Q(parent_links__parent_id__in=parent_ids)
        for sib in Lot.objects.filter(sibling_q).exclude(pk=lot.pk).distinct():
            rows.setdefault(sib.pk, {"lot_id": sib.pk, "relation": _("sibling of %(lot)s") % {"lot": lot.code}})
        for r in trace_forward(lot):
            rows.setdefault(
                r["lot_id"],
                {
                    "lot_id": r["lot_id"],
                    "relation": _("made from %(lot)s (depth %(d)s)") % {"lot": lot.code, "d": r["depth"]},
                },
            )
    if not rows:
        return []
    lots = {
        x.pk: x for x in Lot.objects.filter(pk__in=list(rows)).select_related("part", "site").prefetch_related("holds")
    }
    out = []
    for lot_id, row in rows.items():
        lot = lots[lot_id]
        held = [h for h in lot.holds.all() if h.lifted_at is None]
        out.append(
            {
                **row,
                "lot": lot,
                "in_stock": lot.status in IN_STOCK,
                "held": bool(held),
                "on_ncr": lot_id in on_ncr,
            }
        )
    return sorted(out, key=lambda r: (r["on_ncr"], not r["in_stock"], r["lot"].code))


def complaints_for_list(*, site_ids, q: str = "", status: str = ""):
    qs = Complaint.objects.filter(site_id__in=site_ids).select_related("site", "customer", "part", "lot")
    if status == "open":
        qs = qs.filter(status__in=[ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING])
    elif status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(code__icontains=q)
            | Q(title__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(lot__code__icontains=q)
            | Q(serial__icontains=q)
        )
    return qs.order_by("-received_on", "-pk")


def complaint_by_code(code: str) -> Complaint | None:
    return (
        Complaint.objects.select_related("site", "customer", "part", "lot", "lot__supplier", "created_by")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")))
        .filter(code=code)
        .first()
    )


def _lot_for_complaint(complaint: Complaint):
    if complaint.lot_id:
        return complaint.lot
    if complaint.serial:
        from traceability.models import Serial

        serial = Serial.objects.select_related("lot").filter(serial=complaint.serial).first()
        return serial.lot if serial else None
    return None


def _inspection_results(lots) -> dict[int, list[dict]]:
    from inspection.selectors import results_for_lots

    return results_for_lots([x.pk for x in lots], work_orders={x.pk: x.work_order_id for x in lots}) or {}


def _complaints_and_capas(lot_ids, ncr_rows, *, exclude_pk, site_ids) -> dict[int, dict]:
    """Per lot: the other complaints on it and the CAPAs of those complaints and of the lot's NCRs.
    Two queries (complaints, CAPAs) whatever the number of lots."""
    from .registries import related_records_many

    complaints = Complaint.objects.filter(lot_id__in=list(lot_ids)).exclude(pk=exclude_pk).select_related("customer")
    if site_ids is not None:
        complaints = complaints.filter(site_id__in=site_ids)
    complaints = list(complaints.order_by("received_on", "pk"))
    ncr_ids = {n["id"] for rows in ncr_rows.values() for n in rows}
    related = related_records_many(ncr_ids=ncr_ids, complaint_ids=[c.pk for c in complaints])
    out: dict[int, dict] = defaultdict(lambda: {"complaints": [], "capas": []})
    for c in complaints:
        out[c.lot_id]["complaints"].append(
            {
                "code": c.code,
                "title": c.title,
                "status": c.get_status_display(),
                "received_on": c.received_on,
                "url": reverse("nonconformance:complaint_detail", args=[c.code]),
            }
        )
        out[c.lot_id]["capas"].extend(related.get(("complaint", c.pk), []))
    for lot_id, rows in ncr_rows.items():
        for n in rows:
            out[lot_id]["capas"].extend(related.get(("ncr", n["id"]), []))
    for entry in out.values():  # a CAPA opened from an NCR of a complaint is listed once
        seen, unique = set(), []
        for capa in entry["capas"]:
            if capa["code"] not in seen and (site_ids is None or capa.get("site_id") in site_ids):
                seen.add(capa["code"])
                unique.append(capa)
        entry["capas"] = unique
    return out


def root_cause_view(complaint: Complaint, *, site_ids=None) -> dict:
    """The "10-minute root cause" view: backward trace (materials, supplier lots, suppliers), the
    production record (line, shift, operators, equipment, parameters), every inspection result on the lot
    and its ancestors (the lot's own and those of the work order that made it), the NCRs on them, earlier
    complaints on the same lots and the CAPAs of those complaints and NCRs. A constant number of queries.
    `site_ids` limits the NCRs, complaints and CAPAs listed to the reader's sites."""
    lot = _lot_for_complaint(complaint)
    if lot is None:
        return {"lot": None}
    from suppliers.models import Supplier
    from traceability.models import Lot, ProductionRecord
    from traceability.selectors import trace_backward

    back = trace_backward(lot)
    ids = [lot.pk] + [r["lot_id"] for r in back]
    lots = {x.pk: x for x in Lot.objects.filter(pk__in=ids).select_related("part", "supplier", "work_order")}
    results = _inspection_results(lots.values())
    ncr_rows = ncrs_for_lots(ids)
    if site_ids is not None:
        ncr_rows = {k: [n for n in v if n["site_id"] in site_ids] for k, v in ncr_rows.items()}
    history = _complaints_and_capas(ids, ncr_rows, exclude_pk=complaint.pk, site_ids=site_ids)
    supplier_ids = {x.supplier_id for x in lots.values() if x.supplier_id}
    suppliers = list(Supplier.objects.filter(pk__in=supplier_ids).order_by("code"))
    wo_ids = {x.work_order_id for x in lots.values() if x.work_order_id}
    records = list(
        ProductionRecord.objects.filter(work_order_id__in=wo_ids)
        .select_related("work_order", "work_order__line", "operation", "equipment")
        .prefetch_related("operators", "parameters")
        .order_by("work_order_id", "started_at")
    )
    records_by_wo: dict[int, list] = defaultdict(list)
    for rec in records:
        records_by_wo[rec.work_order_id].append(rec)

    def row(lot_obj, depth, quantity=None):
        return {
            "lot": lot_obj,
            "depth": depth,
            "quantity": quantity,
            "inspections": results.get(lot_obj.pk, []),
            "ncrs": ncr_rows.get(lot_obj.pk, []),
            "complaints": history[lot_obj.pk]["complaints"] if lot_obj.pk in history else [],
            "capas": history[lot_obj.pk]["capas"] if lot_obj.pk in history else [],
            "records": records_by_wo.get(lot_obj.work_order_id, []) if lot_obj.work_order_id else [],
        }

    ancestors = [row(lots[r["lot_id"]], r["depth"], r["quantity"]) for r in back]
    start = row(lots[lot.pk], 0)
    all_rows = [start, *ancestors]
    open_ncrs = [n for r in all_rows for n in r["ncrs"] if n["status"] in NCR_ACTIVE]
    failed = [(r["lot"], i) for r in all_rows for i in r["inspections"] if i.get("ok") is False]
    return {
        "lot": lots[lot.pk],
        "start": start,
        "ancestors": ancestors,
        "rows": all_rows,
        "supplier_lots": [r for r in ancestors if r["lot"].supplier_id],
        "suppliers": suppliers,
        "open_ncrs": open_ncrs,
        "failed_inspections": failed,
        "records": records_by_wo.get(lots[lot.pk].work_order_id, []),
    }


def defect_pareto(*, site_ids, since=None) -> list[dict]:
    """Defect categories by number of NCRs, largest first, with the cumulative percentage."""
    since = since or timezone.localdate() - datetime.timedelta(days=365)
    rows = (
        DefectCode.objects.filter(ncrs__site_id__in=site_ids, ncrs__created_at__date__gte=since)
        .values("category")
        .annotate(n=Count("ncrs", distinct=True))
        .order_by("-n")
    )
    from .models import DefectCategory

    total = sum(r["n"] for r in rows) or 1
    out, cumulative = [], 0
    for r in rows:
        cumulative += r["n"]
        out.append(
            {
                "category": DefectCategory(r["category"]).label,
                "count": r["n"],
                "cumulative_pct": round(100 * cumulative / total, 1),
            }
        )
    return out


def complaint_rate(*, site_ids, months: int = 12, today=None) -> list[dict]:
    """Complaints per month (and per shipped quantity when shipments are known)."""
    today = today or timezone.localdate()
    start = (today.replace(day=1) - datetime.timedelta(days=31 * (months - 1))).replace(day=1)
    counts = {
        r["m"].date() if hasattr(r["m"], "date") else r["m"]: r["n"]
        for r in Complaint.objects.filter(site_id__in=site_ids, received_on__gte=start)
        .exclude(status=ComplaintStatus.CANCELLED)
        .annotate(m=TruncMonth("received_on"))
        .values("m")
        .annotate(n=Count("pk"))
    }
    from traceability.models import Shipment

    shipped = {
        r["m"].date() if hasattr(r["m"], "date") else r["m"]: r["q"]
        for r in Shipment.objects.filter(lot__site_id__in=site_ids, shipped_on__gte=start)
        .annotate(m=TruncMonth("shipped_on"))
        .values("m")
        .annotate(q=Sum("quantity"))
    }
    out = []
    month = start
    while month <= today:
        n = counts.get(month, 0)
        q = shipped.get(month)
        out.append(
            {
                "month": month,
                "complaints": n,
                "shipped": q,
                "per_million": round(float(n) * 1_000_000 / float(q), 1) if q else None,
            }
        )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return out


def ncr_tiles(user) -> list[dict]:
    from qms.core import policy

    site_ids = policy.sites_for(user, "ncr.view")
    if not site_ids:
        return []
    active = Ncr.objects.filter(site_id__in=site_ids, status__in=NCR_ACTIVE).count()
    in_mrb = Ncr.objects.filter(site_id__in=site_ids, status=NcrStatus.MRB_REVIEW).count()
    overdue = Complaint.objects.filter(
        site_id__in=site_ids,
        status__in=[ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING],
        response_due_on__lt=timezone.localdate(),
    ).count()
    return [
        {
            "label": _("Open NCRs"),
            "value": active,
            "url": reverse("nonconformance:ncr_list") + "?status=active",
            "level": "warning" if active else "ok",
        },
        {
            "label": _("NCRs in MRB review"),
            "value": in_mrb,
            "url": reverse("nonconformance:ncr_list") + "?status=mrb_review",
            "level": "warning" if in_mrb else "ok",
        },
        {
            "label": _("Complaint responses overdue"),
            "value": overdue,
            "url": reverse("nonconformance:complaint_list") + "?status=open",
            "level": "bad" if overdue else "ok",
        },
    ]
