"""Reads of the batchrecords app: the per-lot selectors the compliance packs call, the exceptions of a
batch record for the review by exception, lists and dashboard counts."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import (
    BLOCKING_CLASSES,
    DEVIATION_OPEN,
    Deviation,
    DeviationLot,
    EbrDispense,
    EbrStatus,
    EbrStep,
    EbrValue,
    ExecutedBatchRecord,
    LotImpact,
    MbrStatus,
    StepStatus,
)


def ebr_queryset():
    return ExecutedBatchRecord.objects.select_related(
        "site", "mbr", "mbr__part", "work_order", "lot", "lot__part", "created_by", "reviewed_by", "yield_by"
    ).prefetch_related(
        Prefetch(
            "steps",
            queryset=EbrStep.objects.select_related("performed_by", "verified_by").order_by("sequence"),
        ),
        Prefetch("values", queryset=EbrValue.objects.select_related("deviation", "entered_by", "step").order_by("pk")),
        Prefetch(
            "dispenses",
            queryset=EbrDispense.objects.select_related("lot", "material__part", "dispensed_by", "deviation"),
        ),
        Prefetch("deviations", queryset=Deviation.objects.select_related("capa").order_by("raised_at", "pk")),
    )


def annotate_signatures(records) -> list[ExecutedBatchRecord]:
    """Attach the signatures (signature, valid) to each record (`review_signatures`) and each of its steps
    (`signature_rows`), a few queries for all of them: what `batchrecords/pdf/_batch_record.html` prints."""
    from compliance.signatures import signatures_with_validity_many

    records = list(records)
    reviews = signatures_with_validity_many(records)
    steps = [s for r in records for s in r.steps.all()]
    by_step = signatures_with_validity_many(steps)
    for r in records:
        r.review_signatures = reviews.get(r.pk, [])
        for s in r.steps.all():
            s.signature_rows = by_step.get(s.pk, [])
    return records


def lot_batch_records(lot) -> list[ExecutedBatchRecord]:
    """The executed batch records of a lot: the batch whose lot it is, or the work order that made it.
    Steps, values, dispensing, deviations and signatures are loaded (for the lot bundle and the PDF
    partial `batchrecords/pdf/_batch_record.html`, context `record`)."""
    cond = Q(lot_id=lot.pk)
    if getattr(lot, "work_order_id", None):
        cond |= Q(work_order_id=lot.work_order_id)
    return annotate_signatures(ebr_queryset().filter(cond).order_by("created_at", "pk"))


def lot_deviations(lot) -> list[Deviation]:
    """Every deviation that names the lot as affected (or still to be assessed) or was raised on its batch
    record, oldest first."""
    cond = Q(affected_lots__lot_id=lot.pk)
    if getattr(lot, "work_order_id", None):
        cond |= Q(ebr__work_order_id=lot.work_order_id)
    cond |= Q(ebr__lot_id=lot.pk)
    return list(
        Deviation.objects.filter(cond)
        .distinct()
        .select_related("site", "capa", "raised_by", "approved_by", "ebr")
        .prefetch_related(Prefetch("affected_lots", queryset=DeviationLot.objects.select_related("lot")))
        .order_by("raised_at", "pk")
    )


def blocking_deviations(lot) -> list[Deviation]:
    """Open major or critical deviations whose assessment has not found the lot unaffected."""
    rows = (
        DeviationLot.objects.filter(
            lot_id=lot.pk,
            deviation__status__in=DEVIATION_OPEN,
            deviation__classification__in=BLOCKING_CLASSES,
        )
        .exclude(impact=LotImpact.NOT_AFFECTED)
        .select_related("deviation")
        .order_by("deviation__raised_at", "pk")
    )
    return [row.deviation for row in rows]


def ebr_exceptions(ebr) -> list[dict]:
    """What the reviewer must look at (review by exception): deviations, out-of-limit values and dispensing,
    late entries, missing or invalid signatures, an unreconciled or out-of-limit yield. Everything else is
    in order by construction. Uses the prefetched rows of `ebr_queryset()`."""
    from compliance.signatures import signatures_with_validity_many

    out = []
    steps = list(ebr.steps.all())
    sigs = signatures_with_validity_many(steps)
    for step in steps:
        where = _("Step %(n)s %(t)s") % {"n": step.sequence, "t": step.title}
        if step.status == StepStatus.PENDING:
            out.append(
                {"kind": "signature", "label": _("Missing signature"), "text": where + ": " + _("not performed")}
            )
            continue
        mine = sigs.get(step.pk, [])
        if not any(s.meaning == "authored" and valid for s, valid in mine):
            out.append(
                {
                    "kind": "signature",
                    "label": _("Missing signature"),
                    "text": where + ": " + _("no valid operator signature"),
                }
            )
        if step.is_critical and not any(s.meaning == "verified" and valid for s, valid in mine):
            out.append(
                {
                    "kind": "signature",
                    "label": _("Missing signature"),
                    "text": where + ": " + _("critical step without a valid second-person verification"),
                }
            )
        if step.is_late:
            out.append(
                {
                    "kind": "late",
                    "label": _("Late entry"),
                    "text": _("%(where)s performed at %(at)s, entered at %(entered)s. Reason: %(why)s")
                    % {
                        "where": where,
                        "at": step.performed_at.strftime("%Y-%m-%d %H:%M"),
                        "entered": step.entered_at.strftime("%Y-%m-%d %H:%M") if step.entered_at else "—",
                        "why": step.late_reason,
                    },
                }
            )
    for value in ebr.values.all():
        if not value.in_limits:
            out.append(
                {
                    "kind": "limit",
                    "label": _("Out of limits"),
                    "text": _("%(name)s = %(v)s %(u)s (limits %(lim)s)")
                    % {"name": value.name, "v": value.value_text, "u": value.unit, "lim": value.limits_text()},
                    "deviation": value.deviation,
                }
            )
    for d in ebr.dispenses.all():
        if not d.in_tolerance:
            out.append(
                {
                    "kind": "material",
                    "label": _("Dispensing out of tolerance"),
                    "text": _("%(m)s from lot %(lot)s: %(q)s")
                    % {"m": d.material.part.number, "lot": d.lot.code, "q": d.quantity},
                    "deviation": d.deviation,
                }
            )
    if ebr.actual_yield is None:
        out.append({"kind": "yield", "label": _("Yield not reconciled"), "text": _("No actual yield recorded.")})
    elif not ebr.yield_in_limits:
        out.append(
            {
                "kind": "yield",
                "label": _("Yield out of limits"),
                "text": _("%(p)s %% (limits %(low)s – %(high)s %%). %(note)s")
                % {
                    "p": ebr.yield_percent,
                    "low": ebr.mbr.yield_min_percent,
                    "high": ebr.mbr.yield_max_percent,
                    "note": ebr.yield_note,
                },
            }
        )
    for dev in ebr.deviations.all():
        out.append(
            {
                "kind": "deviation",
                "label": _("Deviation"),
                "text": f"{dev.code} · {dev.get_classification_display()} · {dev.get_status_display()} · {dev.title}",
                "deviation": dev,
                "open": dev.is_open,
            }
        )
    return out


def ebrs_for_list(*, site_ids, status: str = "", q: str = ""):
    qs = ExecutedBatchRecord.objects.filter(site_id__in=site_ids).select_related(
        "site", "mbr__part", "work_order", "lot"
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(work_order__code__icontains=q) | Q(lot__code__icontains=q))
    return qs.order_by("-created_at", "-pk")


def dashboard_tiles(user) -> list[dict]:
    from qms.core import policy

    tiles = []
    review_sites = policy.sites_for(user, "batch.review")
    if review_sites:
        n = ExecutedBatchRecord.objects.filter(site_id__in=review_sites, status=EbrStatus.COMPLETED).count()
        tiles.append(
            {
                "label": _("Batch records awaiting review"),
                "value": n,
                "url": reverse("batchrecords:index") + "?status=completed",
                "level": "warn" if n else "ok",
            }
        )
    dev_sites = policy.sites_for(user, "deviation.manage")
    if dev_sites:
        qs = Deviation.objects.filter(site_id__in=dev_sites, status__in=DEVIATION_OPEN)
        n = qs.count()
        tiles.append(
            {
                "label": _("Open deviations"),
                "value": n,
                "url": reverse("batchrecords:deviation_list") + "?status=open",
                "level": "bad" if qs.filter(classification__in=BLOCKING_CLASSES).exists() else ("warn" if n else "ok"),
            }
        )
    return tiles


def effective_mbrs(site_ids):
    from .models import MasterBatchRecord

    return MasterBatchRecord.objects.filter(site_id__in=site_ids, status=MbrStatus.EFFECTIVE)
