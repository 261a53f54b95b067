"""Machine-fed measurements (MES, CMM, gauges through the integration API): many inspections' values in one
call, judged against the limits at once, recorded through `measurements_record` (the tablet's service).

`measurements_ingest` checks every item first and refuses the whole call when any item is unreadable,
names an unknown inspection, characteristic or sample, or repeats a recorded value: nothing is written
then, and each bad item is named (`IngestRefused.errors`). Values measured with a gauge past its
calibration are not recorded (IATF 16949 7.1.5), as on the tablet: they come back as refused, the others
are recorded. The same `key` sent again records nothing twice (one submission per inspection and key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.errors import DomainError

from .models import Characteristic, Inspection, LineStop, Measurement, Submission
from .services import InspectionError, gauge_problems, judge, measurements_record, parse_value

MAX_ITEMS = 1000
_NAMESPACE = uuid.UUID("6f1c7a52-3f0e-4d55-9a3c-2b7c1d0e9a11")


class IngestRefused(DomainError):
    """Some items are wrong; nothing was recorded. `errors`: [(index, field, message)]."""

    def __init__(self, message, *, errors: list[tuple[int, str, str]]):
        super().__init__(message, code="ingest_refused")
        self.errors = errors


@dataclass
class IngestResult:
    recorded: int = 0
    replayed: bool = False
    out_of_limits: list[int] = field(default_factory=list)  # indexes of recorded values outside the limits
    refused: dict[int, str] = field(default_factory=dict)  # index -> why not recorded (gauge calibration)
    line_stops: list[dict] = field(default_factory=list)  # open stops on the lines of these inspections
    inspections: list[str] = field(default_factory=list)


def submission_key(key: str, inspection_code: str) -> uuid.UUID:
    """One submission per inspection for one caller's key: a retried call finds them all recorded."""
    return uuid.uuid5(_NAMESPACE, f"{key}\x00{inspection_code}")


def _line_of(insp: Inspection):
    return getattr(insp.schedule, "line", None) or getattr(insp.work_order, "line", None)


def open_line_stops(inspections) -> list[dict]:
    """Stops not cleared on the lines (or of the inspections) given: what the line must heed now."""
    lines = {line.pk for line in map(_line_of, inspections) if line is not None}
    ids = [i.pk for i in inspections]
    q = Q(inspection_id__in=ids)
    if lines:
        q |= Q(line_id__in=lines)
    stops = LineStop.objects.filter(q, cleared_at__isnull=True).select_related("line", "inspection")
    return [
        {
            "line": s.line.code if s.line_id else "",
            "inspection": s.inspection.code,
            "raised_at": s.raised_at,
        }
        for s in stops.order_by("raised_at")
    ]


def measurements_ingest(*, items: list[dict], key: str, user) -> IngestResult:
    """Record `items` ([{"inspection": code, "characteristic": sequence, "sample_no": n, "value": "10.01"}])
    for `user` (a person or an integration's service account) under the caller's idempotency `key`."""
    if not items:
        raise InspectionError(_("Send at least one value."))
    if len(items) > MAX_ITEMS:
        raise InspectionError(_("At most %(n)s values per call.") % {"n": MAX_ITEMS})
    codes = sorted({str(it.get("inspection", "")) for it in items})
    inspections = {
        i.code: i
        for i in Inspection.objects.filter(code__in=codes).select_related(
            "plan", "site", "schedule__line", "work_order__line"
        )
    }
    for insp in inspections.values():
        policy.check(user, "inspection.perform", insp.site)
    chars: dict[tuple[int, int], Characteristic] = {
        (c.plan_id, c.sequence): c
        for c in Characteristic.objects.filter(plan_id__in={i.plan_id for i in inspections.values()}).select_related(
            "gauge"
        )
    }
    problems = gauge_problems(chars.values())
    taken = set(
        Measurement.objects.filter(inspection__in=list(inspections.values())).values_list(
            "inspection_id", "characteristic_id", "sample_no"
        )
    )
    replayed = set(
        Submission.objects.filter(key__in=[submission_key(key, c) for c in inspections]).values_list(
            "inspection__code", flat=True
        )
    )
    errors: list[tuple[int, str, str]] = []
    seen: set = set()
    grouped: dict[str, list[dict]] = {}
    result = IngestResult()
    judged: dict[int, bool | None] = {}
    for index, it in enumerate(items):
        insp = inspections.get(str(it.get("inspection", "")))
        if insp is None:
            errors.append(
                (index, "inspection", _("No inspection %(c)s among your sites.") % {"c": it.get("inspection")})
            )
            continue
        if not insp.is_open:
            errors.append(
                (
                    index,
                    "inspection",
                    _("Inspection %(c)s is already %(s)s.") % {"c": insp.code, "s": insp.get_status_display()},
                )
            )
            continue
        c = chars.get((insp.plan_id, it.get("characteristic")))
        if c is None:
            errors.append(
                (
                    index,
                    "characteristic",
                    _("Plan %(p)s has no characteristic number %(n)s.")
                    % {"p": insp.plan, "n": it.get("characteristic")},
                )
            )
            continue
        n = it.get("sample_no")
        if not isinstance(n, int) or not 1 <= n <= insp.sample_size:
            errors.append(
                (index, "sample_no", _("Sample %(n)s is outside 1 … %(max)s.") % {"n": n, "max": insp.sample_size})
            )
            continue
        if (insp.pk, c.pk, n) in seen:
            errors.append(
                (index, "sample_no", _("%(c)s sample %(n)s is sent twice in this call.") % {"c": c.name, "n": n})
            )
            continue
        seen.add((insp.pk, c.pk, n))
        if insp.code in replayed:
            continue  # this call was sent before: its values are recorded already, nothing is recorded again
        if (insp.pk, c.pk, n) in taken:
            errors.append(
                (
                    index,
                    "sample_no",
                    _("%(c)s sample %(n)s is already recorded; recorded values are not overwritten.")
                    % {"c": c.name, "n": n},
                )
            )
            continue
        if c.pk in problems:
            result.refused[index] = problems[c.pk]
            continue
        try:
            fields = parse_value(c, it.get("value"))
        except InspectionError as exc:
            errors.append((index, "value", f"{c.name} #{n}: {exc.message}"))
            continue
        judged[index] = judge(c, fields)
        grouped.setdefault(insp.code, []).append({"characteristic": c.pk, "sample_no": n, "raw": it.get("value")})
    if errors:
        raise IngestRefused(
            _("%(n)s of %(total)s values were refused; nothing was recorded.")
            % {"n": len(errors), "total": len(items)},
            errors=errors,
        )
    with transaction.atomic():
        for code, values in grouped.items():
            recorded = measurements_record(
                inspection=inspections[code],
                values=[{k: v[k] for k in ("characteristic", "sample_no", "raw")} for v in values],
                submission_key=submission_key(key, code),
                user=user,
            )
            result.recorded += recorded.recorded
    result.replayed = bool(replayed) and not grouped
    result.out_of_limits = sorted(i for i, ok in judged.items() if ok is False)
    result.inspections = sorted(grouped)
    result.line_stops = open_line_stops([inspections[c] for c in codes if c in inspections])
    return result
