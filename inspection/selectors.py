"""Every non-trivial read of the inspection app."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.verdict import Verdict

from .models import Inspection, InspectionStatus, LotRelease, Measurement, Station

OPEN = (InspectionStatus.PENDING, InspectionStatus.IN_PROGRESS)


def stations_for(user) -> list[Station]:
    return list(Station.objects.filter(inspectors=user))


def worklist(user, *, now=None):
    """Due and overdue inspections for the stations the user covers (all stations of their sites when the
    user covers none), the most urgent first. A queryset: paginate it."""
    site_ids = policy.sites_for(user, "inspection.perform")
    qs = Inspection.objects.filter(status__in=OPEN, site_id__in=site_ids)
    station_ids = list(Station.objects.filter(inspectors=user).values_list("pk", flat=True))
    if station_ids:
        qs = qs.filter(Q(station_id__in=station_ids) | Q(station__isnull=True))
    return qs.select_related("part", "lot", "station", "work_order", "operation").order_by("due_at", "pk")


def due_counts(qs, *, now=None) -> dict:
    """{"due": n, "overdue": n} of a queryset of open inspections, split like the worklist's pills. One query."""
    now = now or timezone.now()
    return qs.order_by().aggregate(
        due=Count("pk", filter=Q(due_at__gte=now)), overdue=Count("pk", filter=Q(due_at__lt=now))
    )


def open_inspections(user):
    """Open inspections at the sites where the user may view inspections (read-only list)."""
    site_ids = policy.sites_for(user, "inspection.view")
    return (
        Inspection.objects.filter(status__in=OPEN, site_id__in=site_ids)
        .select_related("part", "lot", "station", "work_order", "operation", "site")
        .order_by("due_at", "pk")
    )


def lots_awaiting_release(site_ids):
    """Quarantined lots whose latest inspection passed, with no inspection open, no active hold and no QA
    release yet: the quality release queue. A queryset: paginate it."""
    from traceability.models import Lot, LotHold, LotStatus

    latest = Inspection.objects.filter(lot=OuterRef("pk")).order_by("-created_at", "-pk").values("status")[:1]
    return (
        Lot.objects.filter(site_id__in=list(site_ids), status=LotStatus.QUARANTINE)
        .annotate(last_inspection=Subquery(latest))
        .filter(last_inspection=InspectionStatus.ACCEPTED)
        .exclude(Exists(Inspection.objects.filter(lot=OuterRef("pk"), status__in=OPEN)))
        .exclude(Exists(LotHold.objects.filter(lot=OuterRef("pk"), lifted_at__isnull=True)))
        .exclude(Exists(LotRelease.objects.filter(lot=OuterRef("pk"))))
        .select_related("part", "site", "supplier")
        .order_by("created_at", "pk")
    )


def dashboard_tiles(user) -> list[dict]:
    """Registered with the kernel's dashboard: due / overdue inspections for inspectors (their worklist),
    overdue inspections read-only for viewers who cannot inspect, lots awaiting release for releasers."""
    tiles: list[dict] = []
    now = timezone.now()
    if policy.sites_for(user, "inspection.perform"):
        counts = due_counts(worklist(user, now=now), now=now)
        url = reverse("inspection:worklist")
        tiles += [
            {
                "label": _("Inspections due"),
                "value": counts["due"],
                "url": url,
                "level": "warning" if counts["due"] else "ok",
            },
            {
                "label": _("Inspections overdue"),
                "value": counts["overdue"],
                "url": url,
                "level": "bad" if counts["overdue"] else "ok",
            },
        ]
    elif policy.sites_for(user, "inspection.view"):
        counts = due_counts(open_inspections(user), now=now)
        tiles.append(
            {
                "label": _("Inspections overdue"),
                "value": counts["overdue"],
                "url": reverse("inspection:open") + "?overdue=1",
                "level": "bad" if counts["overdue"] else "ok",
            }
        )
    release_sites = policy.sites_for(user, "inspection.release")
    if release_sites:
        n = lots_awaiting_release(release_sites).count()
        tiles.append(
            {
                "label": _("Lots awaiting release"),
                "value": n,
                "url": reverse("inspection:release_queue"),
                "level": "warning" if n else "ok",
            }
        )
    return tiles


def open_inspection_for_lot(lot_code: str) -> Inspection | None:
    return (
        Inspection.objects.filter(lot__code=lot_code, status__in=OPEN).select_related("site").order_by("due_at").first()
    )


def results_for_lots(lot_ids, *, work_orders: dict[int, int] | None = None) -> dict[int, list[dict]]:
    """Per lot: one summary per inspection (complaint page, trace overlay, CoA). One query.

    `work_orders` (lot id -> id of the work order that made it) adds the inspections recorded against the
    work order rather than the lot (FAI, IPQC patrols of the order that made it), so a produced lot shows
    the inspections of its production too."""
    lot_ids = list(lot_ids)
    by_wo: dict[int, list[int]] = {}
    for lot_id, wo_id in (work_orders or {}).items():
        if wo_id:
            by_wo.setdefault(wo_id, []).append(lot_id)
    cond = Q(lot_id__in=lot_ids)
    if by_wo:
        cond |= Q(lot__isnull=True, work_order_id__in=list(by_wo))
    out: dict[int, list[dict]] = {}
    qs = Inspection.objects.filter(cond).select_related("plan__part", "inspector").order_by("created_at", "pk")
    for insp in qs:
        row = {
            "id": insp.pk,
            "code": insp.code,
            "stage": insp.stage,
            "status": insp.status,
            "status_label": str(insp.get_status_display()),
            "label": f"{insp.code} {insp.get_status_display()}",
            "ok": True
            if insp.status == InspectionStatus.ACCEPTED
            else (False if insp.status == InspectionStatus.REJECTED else None),
            "url": reverse("inspection:detail", args=[insp.code]),
            "passed": insp.status == InspectionStatus.ACCEPTED,
            "plan": str(insp.plan),
            "sample_size": insp.sample_size,
            "accept": insp.accept_number,
            "reject": insp.reject_number,
            "nonconforming": insp.nonconforming,
            "severity": insp.severity,
            "inspector": insp.inspector.printed_name if insp.inspector else "",
            "completed_at": insp.completed_at,
        }
        targets = [insp.lot_id] if insp.lot_id else by_wo.get(insp.work_order_id, [])
        for lot_id in targets:
            out.setdefault(lot_id, []).append(row)
    return out


def trace_overlay(lot_ids) -> dict[int, list[dict]]:
    result = {}
    for lot_id, rows in results_for_lots(lot_ids).items():
        result[lot_id] = [
            {
                "kind": "inspection",
                "label": f"{r['code']} {r['status_label']}",
                "ok": True if r["passed"] else (False if r["status"] == InspectionStatus.REJECTED else None),
                "url": reverse("inspection:detail", args=[r["code"]]),
                "public_summary": r["passed"],
            }
            for r in rows
        ]
    return result


def release_overlay(lot_ids) -> dict[int, list[dict]]:
    """The release record of each lot (one query), shown on the lot and trace pages: its note, who signed
    and whether it was a history import or an automatic release."""
    result = {}
    for rel in LotRelease.objects.filter(lot_id__in=list(lot_ids)).select_related("released_by", "lot"):
        if rel.history_import:
            how = _("history import, e-signed by %(who)s") % {"who": rel.released_by.printed_name}
        elif rel.automatic:
            how = _("automatic release after the accepted IQC")
        else:
            how = _("e-signed by %(who)s") % {"who": rel.released_by.printed_name}
        result.setdefault(rel.lot_id, []).append(
            {
                "kind": "release",
                "label": f"{rel.note_number} · {how}",
                "ok": True,
                "url": reverse("inspection:release", args=[rel.lot.code]),
            }
        )
    return result


def handover_verdict(operation) -> Verdict:
    """May this operation start as far as inspection is concerned (previous operation's inspection passed,
    no open IPQC stop)? For the UI and for integrations."""
    from .checks import operation_start_check

    return Verdict.from_reasons(operation_start_check(operation))


def measurement_grid(inspection) -> dict[tuple[int, int], Measurement]:
    return {(m.characteristic_id, m.sample_no): m for m in Measurement.objects.filter(inspection=inspection)}


def coa_context(lot) -> dict:
    """Results, limits and signatures of every inspection of a lot (CoA and release note)."""
    from compliance.signatures import signatures_with_validity

    from .models import LotRelease

    inspections = list(
        Inspection.objects.filter(lot=lot)
        .select_related("plan", "inspector")
        .prefetch_related("plan__characteristics")
        .order_by("created_at")
    )
    sections = []
    for insp in inspections:
        ms = list(Measurement.objects.filter(inspection=insp).select_related("characteristic"))
        rows = []
        for c in insp.plan.characteristics.all():
            vals = [m for m in ms if m.characteristic_id == c.pk]
            numbers = [m for m in vals if m.value is not None]
            low = min(numbers, key=lambda m: m.value) if numbers else None
            high = max(numbers, key=lambda m: m.value) if numbers else None
            rows.append(
                {
                    "c": c,
                    "n": len(vals),
                    # printed at the resolution the inspector entered
                    "min": low.display_value if low else None,
                    "max": high.display_value if high else None,
                    "bad": sum(1 for m in vals if m.ok is False),
                }
            )
        sections.append({"inspection": insp, "rows": rows, "signatures": signatures_with_validity(insp)})
    release = LotRelease.objects.filter(lot=lot).select_related("released_by").first()
    from .coa_notes import coa_notes

    return {
        "lot": lot,
        "notes": coa_notes([lot.pk]).get(lot.pk, []),
        "sections": sections,
        "release": release,
        "release_signatures": signatures_with_validity(release) if release else [],
        "generated_at": timezone.now(),
        "all_passed": bool(inspections) and all(i.status == InspectionStatus.ACCEPTED for i in inspections),
        "title": _("Certificate of Analysis"),
    }
