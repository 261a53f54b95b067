"""SPC decisions and alarms: freezing control limits (an e-signed decision) and judging each new subgroup
against the limits in force (Nelson rules -> alarm; on a critical characteristic at IPQC, a line stop)."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.signatures import signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.i18n import LazyFormat
from qms.core.models import Role
from qms.core.selectors import users_with_role
from qms.core.services import notification_send

from . import signals, spc
from .models import (
    Characteristic,
    ControlLimits,
    Inspection,
    LimitsStatus,
    LineStop,
    SpcSignal,
    Special,
    Stage,
)
from .spc_charts import spc_chart, trial_limits

RECENT = 15  # subgroups needed to judge the longest Nelson pattern ending at the newest point


class SpcDecisionError(DomainError):
    pass


@policy.door("spc.freeze")
def control_limits_freeze(
    *, characteristic, user, credential, reason: str, excluded: dict[str, str] | None = None, rules=None
) -> ControlLimits:
    """Freeze Phase II limits from the characteristic's recorded subgroups, leaving out `excluded`
    ({inspection code: reason}); supersedes the set in force. E-signed ("approved") with its reason."""
    site = characteristic.plan.site
    policy.check_decide(user, "spc.freeze", site, what=_("these control limits"))
    excluded = {code.strip(): why.strip() for code, why in (excluded or {}).items() if code.strip()}
    if not (reason or "").strip():
        raise SpcDecisionError(_("Give the reason for setting these control limits."))
    missing_reason = [code for code, why in excluded.items() if not why]
    if missing_reason:
        raise SpcDecisionError(
            _("Give a reason for each excluded point: %(codes)s.") % {"codes": ", ".join(sorted(missing_reason))}
        )
    rule_numbers = sorted({int(r) for r in (rules or spc.DEFAULT_RULES)})
    if not rule_numbers or set(rule_numbers) - set(spc.NELSON_RULES):
        raise SpcDecisionError(_("Choose Nelson rules between 1 and 8."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        # The characteristic row is the lock: two freezes of one chart are taken one after the other.
        characteristic = Characteristic.objects.select_for_update().get(pk=characteristic.pk)
        chart = spc_chart(characteristic)
        unknown = set(excluded) - {g.code for g in chart.subgroups}
        if unknown:
            raise SpcDecisionError(
                _("These inspections are not points of this chart: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}
            )
        baseline = [g for g in chart.subgroups if g.code not in excluded]
        if len(baseline) < 2:
            raise SpcDecisionError(_("At least two subgroups are needed to compute control limits."))
        kind = chart.in_force.chart if chart.in_force else chart.kind
        try:
            computed = trial_limits(kind, chart.subgroup_size, baseline)
        except spc.SpcError as exc:
            raise SpcDecisionError(
                _("These subgroups give no control limits (%(why)s). Leave out fewer points or record more checks.")
                % {"why": exc}
            ) from exc
        previous = ControlLimits.objects.select_for_update().filter(
            characteristic=characteristic, status=LimitsStatus.FROZEN
        )
        for old in previous:
            old.supersede()
            old.save(reason=_("superseded by new control limits: %(r)s") % {"r": reason})
        spread = computed["spread"] or (None, None, None)
        limits = ControlLimits.objects.create(
            characteristic=characteristic,
            chart=kind,
            subgroup_size=chart.subgroup_size,
            center=computed["center"],
            lcl=computed["lcl"],
            ucl=computed["ucl"],
            spread_center=spread[0],
            spread_lcl=spread[1],
            spread_ucl=spread[2],
            sigma=computed["sigma"],
            rules=",".join(str(r) for r in rule_numbers),
            baseline_subgroups=len(baseline),
            baseline_from=baseline[0].at,
            baseline_to=baseline[-1].at,
            excluded=[{"inspection": code, "reason": why} for code, why in sorted(excluded.items())],
            reason=reason,
            frozen_by=user,
            frozen_at=timezone.now(),
        )
        signature_record(credential=credential, instance=limits, meaning="approved", reason=reason, role="SPC")
    return limits


def spc_evaluate_inspection(*, inspection_id: int) -> list[tuple[int, int]]:
    """Judge a completed inspection's subgroups against the frozen limits of each characteristic it measured.
    A Nelson-rule violation at this point notifies quality; on a critical characteristic at IPQC it also
    stops the line. Idempotent: notifications are de-duplicated per inspection, characteristic and rule."""
    insp = Inspection.objects.select_related("plan", "site", "work_order", "schedule").get(pk=inspection_id)
    flagged: list[tuple[int, int]] = []
    frozen = ControlLimits.objects.filter(characteristic__plan=insp.plan, status=LimitsStatus.FROZEN).select_related(
        "characteristic"
    )
    for limits in frozen:
        characteristic = limits.characteristic
        chart = spc_chart(characteristic, limit=RECENT)
        index = next((i for i, g in enumerate(chart.subgroups) if g.inspection_id == insp.pk), None)
        if index is None or chart.location is None:
            continue
        rules = sorted(set(chart.location.violations.get(index, [])) | set(_spread_rules(chart, index)))
        if not rules:
            continue
        flagged.extend((characteristic.pk, r) for r in rules)
        _signals_record(insp, characteristic, limits, rules)
        _alarm(insp, characteristic, rules)
    return flagged


def _signals_record(insp, characteristic, limits, rules: list[int]) -> None:
    """The facts monitoring counts; idempotent per inspection, characteristic and rule."""
    line = getattr(insp.schedule, "line", None) or getattr(insp.work_order, "line", None)
    created = []
    with transaction.atomic(), audit_context(reason=_("SPC signal")):
        for rule in rules:
            signal, made = SpcSignal.objects.get_or_create(
                inspection=insp,
                characteristic=characteristic,
                rule=rule,
                defaults={
                    "site": insp.site,
                    "part": insp.part,
                    "line": line,
                    "limits": limits,
                    "at": insp.completed_at or timezone.now(),
                },
            )
            if made:
                created.append(signal.pk)
    if created:
        transaction.on_commit(
            lambda: signals.spc_signals_raised.send(sender=SpcSignal, site_id=insp.site_id, signal_ids=created)
        )


def _spread_rules(chart, index) -> list[int]:
    return chart.spread.violations.get(index, []) if chart.spread else []


def _alarm(insp, characteristic, rules: list[int]) -> None:
    link = reverse("inspection:spc_chart", args=[characteristic.pk])
    rule_text = ", ".join(str(r) for r in rules)
    recipients = users_with_role(site=insp.site, roles=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER])
    critical = characteristic.special == Special.CC and insp.stage == Stage.IPQC
    if critical:
        recipients += users_with_role(site=insp.site, roles=[Role.PRODUCTION_SUPERVISOR])
    notification_send(
        recipients=recipients,
        site=insp.site,
        level="alarm",
        subject=LazyFormat(
            gettext_lazy("SPC: %(c)s out of statistical control (Nelson rule %(r)s) at %(i)s"),
            c=characteristic.name,
            r=rule_text,
            i=insp.code,
        ),
        body=LazyFormat(
            gettext_lazy("Inspection %(i)s on plan %(p)s. Check the process before it makes nonconforming parts."),
            i=insp.code,
            p=str(insp.plan),
        ),
        link=link,
        dedup_key=f"spc-{characteristic.pk}-{insp.pk}-{rule_text}",
    )
    if critical:
        with transaction.atomic(), audit_context(reason=_("SPC violation on a critical characteristic")):
            if not LineStop.objects.select_for_update().filter(inspection=insp).exists():
                LineStop.objects.create(
                    site=insp.site,
                    line=getattr(insp.schedule, "line", None) or getattr(insp.work_order, "line", None),
                    operation=insp.operation,
                    work_order=insp.work_order,
                    inspection=insp,
                )


def on_inspection_completed(sender, inspection, **kwargs) -> None:
    """Receiver of inspection_accepted / inspection_rejected (after commit): judge it in the background."""
    if ControlLimits.objects.filter(characteristic__plan_id=inspection.plan_id, status=LimitsStatus.FROZEN).exists():
        from .tasks import spc_evaluate

        spc_evaluate.delay(inspection.pk)
