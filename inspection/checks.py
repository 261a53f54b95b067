"""Gate checks registered into traceability.gates (see InspectionConfig.ready). Each returns reasons."""

from __future__ import annotations

import contextlib
import contextvars

from django.utils.translation import gettext as _

from .models import Inspection, InspectionStatus, LineStop, LotRelease, PlanStatus, Stage, SupplierSwitching

_preview_signed_release = contextvars.ContextVar("inspection_preview_signed_release", default=False)


@contextlib.contextmanager
def previewing_signed_release():
    """While showing the release page, the missing QA release itself is not listed as a blocker."""
    token = _preview_signed_release.set(True)
    try:
        yield
    finally:
        _preview_signed_release.reset(token)


_history_release = contextvars.ContextVar("inspection_history_release", default=False)


@contextlib.contextmanager
def releasing_history():
    """Inside the history-import door only: the lots being released were inspected in the system the
    portal replaces, so the portal's inspection gates do not apply (holds, expiry and state still do)."""
    token = _history_release.set(True)
    try:
        yield
    finally:
        _history_release.reset(token)


def _latest_by_stage(qs) -> dict[str, Inspection]:
    latest: dict[str, Inspection] = {}
    for insp in qs.order_by("created_at", "pk"):
        latest[insp.stage] = insp
    return latest


def _state_reason(insp: Inspection) -> str:
    if insp.status == InspectionStatus.REJECTED:
        return _("%(stage)s %(code)s was rejected: %(why)s") % {
            "stage": insp.stage,
            "code": insp.code,
            "why": insp.result_note or _("see the inspection"),
        }
    return _("%(stage)s %(code)s is %(st)s; it must pass first.") % {
        "stage": insp.stage,
        "code": insp.code,
        "st": insp.get_status_display(),
    }


def receipt_check(*, site, part, supplier) -> list[str]:
    if supplier is None:
        return []
    sw = SupplierSwitching.objects.filter(site=site, supplier=supplier, part=part, severity="discontinued").first()
    if sw:
        return [
            _(
                "Inspection of %(part)s from %(sup)s is discontinued (5 lots not accepted on tightened inspection); "
                "receipts are refused until a quality manager restores it."
            )
            % {"part": part.number, "sup": supplier.code}
        ]
    return []


def _plan_exists(site_id, part_id, stage) -> bool:
    from .models import InspectionPlan

    return InspectionPlan.objects.filter(
        site_id=site_id, part_id=part_id, stage=stage, status=PlanStatus.APPROVED
    ).exists()


def _inspected_lot(lot):
    """A lot split off another (e.g. the conceded quantity) was inspected as part of its origin lot."""
    from traceability.selectors import split_origin

    seen = {lot.pk}
    while not Inspection.objects.filter(lot=lot).exists():
        origin = split_origin(lot)
        if origin is None or origin.pk in seen:
            break
        seen.add(origin.pk)
        lot = origin
    return lot


def release_check(lot) -> list[str]:
    """The latest inspection of each stage must have passed, or its rejection must be settled for this
    lot by a signed decision passed down as data (RejectionDecision: MRB use as is, regrade, concession)."""
    from .models import RejectionDecision

    if _history_release.get():
        return []
    reasons = []
    inspected = _inspected_lot(lot)
    latest = _latest_by_stage(Inspection.objects.filter(lot=inspected))
    settled = set(RejectionDecision.objects.filter(lot=lot).values_list("inspection_id", flat=True))
    for insp in latest.values():
        if insp.status != InspectionStatus.ACCEPTED and not (
            insp.status == InspectionStatus.REJECTED and insp.pk in settled
        ):
            reasons.append(_state_reason(insp))
    if lot.supplier_id and Stage.IQC not in latest and _plan_exists(lot.site_id, lot.part_id, Stage.IQC):
        reasons.append(_("Lot %(lot)s has no incoming inspection yet.") % {"lot": lot.code})
    if lot.work_order_id and Stage.FQC not in latest and _plan_exists(lot.site_id, lot.part_id, Stage.FQC):
        reasons.append(_("Lot %(lot)s has no final inspection yet.") % {"lot": lot.code})
    if (
        lot.site.requires_qa_release
        and not _preview_signed_release.get()
        and not LotRelease.objects.filter(lot=lot).exists()
    ):
        reasons.append(_("This site requires a separate e-signed QA release of lot %(lot)s.") % {"lot": lot.code})
    return reasons


def work_order_check(work_order, step: str) -> list[str]:
    if step != "run" or not _plan_exists(work_order.site_id, work_order.part_id, Stage.FAI):
        return []
    fai = Inspection.objects.filter(work_order=work_order, stage=Stage.FAI).order_by("-created_at", "-pk").first()
    if fai is None:
        return [
            _("The first article of %(wo)s has not been inspected: an inspector must pass the FAI before the run.")
            % {"wo": work_order.code}
        ]
    if fai.status == InspectionStatus.REJECTED:
        return [
            _("First article inspection %(code)s failed: %(why)s The run stays blocked until a new FAI passes.")
            % {"code": fai.code, "why": fai.result_note or ""}
        ]
    if fai.status != InspectionStatus.ACCEPTED:
        return [_state_reason(fai)]
    return []


def operation_start_check(operation) -> list[str]:
    from traceability.models import Operation

    reasons = []
    prev = (
        Operation.objects.filter(work_order_id=operation.work_order_id, sequence__lt=operation.sequence)
        .order_by("-sequence")
        .first()
    )
    if prev is not None:
        last = Inspection.objects.filter(operation=prev).order_by("-created_at", "-pk").first()
        if last is not None and last.status != InspectionStatus.ACCEPTED:
            reasons.append(_("Handover from %(op)s: %(why)s") % {"op": prev.name, "why": _state_reason(last)})
    line_id = getattr(operation.work_order, "line_id", None)
    stops = LineStop.objects.filter(cleared_at__isnull=True, site_id=operation.work_order.site_id)
    from django.db.models import Q

    q = Q(operation_id=operation.pk) | Q(work_order_id=operation.work_order_id)
    if line_id:
        q |= Q(line_id=line_id)
    for stop in stops.filter(q).select_related("inspection"):
        reasons.append(
            _(
                "Line stop after failed patrol check %(code)s: a supervisor must record the correction and a re-check must pass."
            )
            % {"code": stop.inspection.code}
        )
    return reasons
