"""How monitoring hears the domains (it owns no registry of its own; KPIs register in qms.core.kpis).

Roll-ups kept incrementally, on the event:
- `inspection.signals.inspection_accepted` / `inspection_rejected` (after commit): the inspection KPIs of
  the inspection's site and day are recomputed, then the site's event-evaluated alarm rules on those KPIs
  run at once (a failed IPQC check re-evaluates its line's rules).
- `nonconformance.signals.ncr_opened` / `ncr_closed` (after commit): the NCR KPIs of the site and day.
Recomputed by the periodic job `monitoring.rollup` (last 3 days, idempotent), with no event of their own:
shipments, complaints, MRB disposition execution (scrap/rework), CAPA and SCAR closure, recall recovery.
"""

from __future__ import annotations

from django.utils import timezone

from qms.core.kpis import KPIS


def _keys(model_label: str) -> list[str]:
    return [k.key for k in KPIS.values() if k.model == model_label]


def _touch(site, when, model_label: str, evaluate: bool) -> None:
    from .engine import site_tz
    from .tasks import alarm_rules_evaluate_event, kpi_rollup_day

    keys = _keys(model_label)
    day = timezone.localtime(when or timezone.now(), site_tz(site)).date()
    kpi_rollup_day.delay(site.pk, day.isoformat(), keys)
    if evaluate:
        ratio = [k.key for k in KPIS.values() if k.ratio_of and set(k.ratio_of) & set(keys)]
        alarm_rules_evaluate_event.delay(site.pk, keys + ratio)


def on_inspection_done(sender, inspection, **kwargs):
    _touch(inspection.site, inspection.completed_at, "inspection.Inspection", evaluate=True)


def on_ncr(sender, ncr, **kwargs):
    _touch(ncr.site, ncr.created_at, "nonconformance.Ncr", evaluate=True)
    if ncr.closed_at:
        _touch(ncr.site, ncr.closed_at, "nonconformance.Ncr", evaluate=False)


def connect() -> None:
    from inspection.signals import inspection_accepted, inspection_rejected
    from nonconformance.signals import ncr_closed, ncr_opened

    inspection_accepted.connect(on_inspection_done, dispatch_uid="monitoring.inspection_accepted")
    inspection_rejected.connect(on_inspection_done, dispatch_uid="monitoring.inspection_rejected")
    ncr_opened.connect(on_ncr, dispatch_uid="monitoring.ncr_opened")
    ncr_closed.connect(on_ncr, dispatch_uid="monitoring.ncr_closed")
