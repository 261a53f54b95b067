"""Every write of monitoring: objectives and their reviews, alarm rules, alarms (raise, act, acknowledge,
resolve), reminders. Each is keyword-only, checks its permission and the state on the locked row."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.signatures import credential_check_owner, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import create_with_code
from qms.core.errors import DomainError
from qms.core.i18n import LazyFormat
from qms.core.kpis import COMPARATORS, KPIS, get_kpi
from qms.core.models import Role
from qms.core.selectors import users_with_role
from qms.core.services import notification_send, system_actor

from . import engine
from .models import (
    Alarm,
    AlarmAction,
    AlarmRule,
    AlarmStatus,
    Objective,
    ObjectiveReview,
    Period,
    Severity,
    WindowKind,
)

log = logging.getLogger(__name__)


class MonitoringError(DomainError):
    pass


# --- validation shared by objectives and rules -----------------------------------------------------


def _check_kpi_scope(kpi_key: str, dim_key: str, comparator: str):
    kpi = get_kpi(kpi_key)
    if kpi is None:
        raise MonitoringError(
            _("Unknown KPI “%(k)s”. Choose one of: %(known)s.") % {"k": kpi_key, "known": ", ".join(sorted(KPIS))},
            field="kpi",
        )
    if dim_key and dim_key not in kpi.dimensions:
        raise MonitoringError(
            _("%(kpi)s cannot be narrowed to a %(dim)s. It can be cut by: %(dims)s.")
            % {"kpi": kpi.label, "dim": dim_key, "dims": ", ".join(kpi.dimensions) or _("the whole site only")},
            field="dim_key",
        )
    if comparator not in COMPARATORS:
        raise MonitoringError(_("The comparator must be one of < <= > >=."), field="comparator")
    return kpi


def _number(value, name) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MonitoringError(_("%(name)s must be a number.") % {"name": name}, field=name) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise MonitoringError(_("%(name)s must be a number.") % {"name": name}, field=name)
    return number


# --- objectives ------------------------------------------------------------------------------------


def objective_create(
    *,
    site,
    title: str,
    kpi: str,
    comparator: str,
    target,
    year: int,
    owner,
    user,
    period: str = Period.MONTH,
    dim_key: str = "",
    dim_value: str = "",
    review_every_months: int = 3,
    escalate_after_periods: int = 2,
) -> Objective:
    policy.check(user, "objectives.manage", site)
    _check_kpi_scope(kpi, dim_key, comparator)
    if not title.strip():
        raise MonitoringError(_("Give the objective a title."), field="title")
    if period not in Period.values:
        raise MonitoringError(_("The period must be month, quarter or year."), field="period")
    if dim_key and not dim_value.strip():
        raise MonitoringError(
            _("Say which %(dim)s the objective is narrowed to.") % {"dim": dim_key}, field="dim_value"
        )
    if owner is None or not policy.can(owner, "portal.view", site) or policy.is_read_only(owner):
        raise MonitoringError(_("The owner must work at this site (and not be read-only)."), field="owner")
    year = int(year)
    if not 2000 <= year <= 2100:
        raise MonitoringError(_("Give the year the objective is for."), field="year")
    with transaction.atomic(), audit_context(user=user, reason=_("objective set")):
        return Objective.objects.create(
            site=site,
            title=title.strip()[:200],
            kpi=kpi,
            dim_key=dim_key,
            dim_value=dim_value.strip() if dim_key else "",
            comparator=comparator,
            target=_number(target, "target"),
            period=period,
            year=year,
            owner=owner,
            review_every_months=max(1, int(review_every_months)),
            escalate_after_periods=max(1, int(escalate_after_periods)),
            created_by=user,
        )


def objective_update(*, objective: Objective, user, reason: str, **fields) -> Objective:
    policy.check(user, "objectives.manage", objective.site)
    if not reason.strip():
        raise MonitoringError(_("Say why the objective changes."), field="reason")
    allowed = {"title", "comparator", "target", "owner", "review_every_months", "escalate_after_periods", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise MonitoringError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(user=user, reason=reason):
        obj = Objective.objects.select_for_update().get(pk=objective.pk)
        for name, value in fields.items():
            if name == "target":
                value = _number(value, "target")
            setattr(obj, name, value)
        _check_kpi_scope(obj.kpi, obj.dim_key, obj.comparator)
        obj.save()
    return obj


def objective_review_sign(*, objective: Objective, user, credential, conclusion: str, today=None) -> ObjectiveReview:
    """Management review (ISO 9001 §9.3): the reviewer records the conclusion on the actual shown, and
    signs it. The owner of an objective does not review their own objective."""
    from .selectors import objective_progress

    policy.check(user, "objectives.manage", objective.site)
    credential_check_owner(user=user, credential=credential)
    policy.check_not_author(user, objective.owner, what=_("this objective (you own it)"))
    if not conclusion.strip():
        raise MonitoringError(_("Write the review conclusion (kept, changed, actions)."), field="conclusion")
    progress = objective_progress(objective, today=today)
    with transaction.atomic(), audit_context(user=user, reason=_("management review")):
        obj = Objective.objects.select_for_update().get(pk=objective.pk)
        review = ObjectiveReview.objects.create(
            objective=obj,
            period_label=progress.period_label,
            actual=progress.actual,
            status=progress.status,
            conclusion=conclusion.strip(),
            reviewed_by=user,
        )
        signature_record(
            credential=credential, instance=review, meaning="reviewed", reason=conclusion.strip(), role="management"
        )
    return review


def objective_reminders_send(*, today=None) -> int:
    """Remind the owner of each objective off track, once per period; escalate to the site's quality
    managers once it has been off track for `escalate_after_periods` periods in a row."""
    from .selectors import objective_progress, objective_streak

    today = today or timezone.localdate()
    sent = 0
    for obj in Objective.objects.filter(is_active=True, year=today.year).select_related("owner", "site"):
        progress = objective_progress(obj, today=today)
        if progress.status not in ("red", "amber"):
            continue
        link = reverse("monitoring:objective", args=[obj.pk])
        kpi = get_kpi(obj.kpi)
        actual = "—" if progress.actual is None else f"{progress.actual:.4g} {kpi.unit_label}"
        sent += len(
            notification_send(
                recipients=[obj.owner],
                site=obj.site,
                level="warning",
                link=link,
                dedup_key=f"objective:{obj.pk}:{progress.period_label}",
                subject=LazyFormat(
                    gettext_lazy("Objective off track: %(title)s (%(actual)s, target %(cmp)s %(target)s)"),
                    title=obj.title,
                    actual=actual,
                    cmp=obj.comparator,
                    target=f"{obj.target:g}",
                ),
            )
        )
        streak = objective_streak(obj, today=today)
        if streak >= obj.escalate_after_periods:
            sent += len(
                notification_send(
                    recipients=users_with_role(site=obj.site, roles=[Role.QUALITY_MANAGER]),
                    site=obj.site,
                    level="alarm",
                    link=link,
                    dedup_key=f"objective-escalation:{obj.pk}:{progress.period_label}",
                    subject=LazyFormat(
                        gettext_lazy("Objective off track for %(n)s periods in a row: %(title)s (owner %(owner)s)"),
                        n=streak,
                        title=obj.title,
                        owner=obj.owner.printed_name,
                    ),
                )
            )
    return sent


# --- alarm rules -----------------------------------------------------------------------------------

RULE_FIELDS = {
    "name",
    "kpi",
    "dim_key",
    "dim_value",
    "window",
    "window_size",
    "comparator",
    "threshold",
    "consecutive",
    "min_denominator",
    "severity",
    "recipient_roles",
    "cooldown_minutes",
    "action",
    "evaluate_on_event",
    "is_active",
}


def _clean_rule(fields: dict) -> dict:
    kpi = _check_kpi_scope(fields.get("kpi", ""), fields.get("dim_key", ""), fields.get("comparator", ""))
    if not str(fields.get("name", "")).strip():
        raise MonitoringError(_("Give the rule a name."), field="name")
    if fields.get("window") not in WindowKind.values:
        raise MonitoringError(_("Unknown window “%(w)s”.") % {"w": fields.get("window")}, field="window")
    if fields.get("window") == WindowKind.RECORDS and kpi.ratio_of:
        raise MonitoringError(_("This KPI cannot be watched over the last N records."), field="window")
    if fields.get("action", AlarmAction.NOTIFY) not in AlarmAction.values:
        raise MonitoringError(_("Unknown action “%(a)s”.") % {"a": fields.get("action")}, field="action")
    if fields.get("action") == AlarmAction.LINE_STOP and fields.get("dim_key") != "line":
        raise MonitoringError(_("A line stop needs a rule watched per line."), field="action")
    if fields.get("severity", Severity.WARNING) not in Severity.values:
        raise MonitoringError(_("Unknown severity “%(s)s”.") % {"s": fields.get("severity")}, field="severity")
    roles = [r.strip() for r in str(fields.get("recipient_roles", "")).split(",") if r.strip()]
    bad = [r for r in roles if r not in Role.values]
    if not roles or bad:
        raise MonitoringError(
            _("Recipients are roles, comma separated, from: %(roles)s.") % {"roles": ", ".join(Role.values)},
            field="recipient_roles",
        )
    out = dict(fields)
    out["recipient_roles"] = ",".join(roles)
    out["name"] = str(out["name"]).strip()[:200]
    out["threshold"] = _number(out.get("threshold"), "threshold")
    for name, low in (("window_size", 1), ("consecutive", 1), ("cooldown_minutes", 0)):
        if name in out:
            try:
                out[name] = int(out[name])
            except (TypeError, ValueError):
                raise MonitoringError(_("%(name)s must be a whole number.") % {"name": name}, field=name) from None
            if out[name] < low:
                raise MonitoringError(_("%(name)s must be at least %(n)s.") % {"name": name, "n": low}, field=name)
    if "min_denominator" in out:
        out["min_denominator"] = _number(out["min_denominator"], "min_denominator")
    if not out.get("dim_key"):
        out["dim_value"] = ""
    return out


def alarm_rule_create(*, site, user, **fields) -> AlarmRule:
    policy.check(user, "alarms.manage", site)
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise MonitoringError(_("Unknown rule fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    fields.setdefault("window", WindowKind.HOURS)
    fields.setdefault("action", AlarmAction.NOTIFY)
    fields.setdefault("recipient_roles", Role.QUALITY_MANAGER)
    clean = _clean_rule(fields)
    with transaction.atomic(), audit_context(user=user, reason=_("alarm rule created")):
        return AlarmRule.objects.create(site=site, created_by=user, **clean)


def alarm_rule_update(*, rule: AlarmRule, user, reason: str, **fields) -> AlarmRule:
    policy.check(user, "alarms.manage", rule.site)
    if not reason.strip():
        raise MonitoringError(_("Say why the rule changes."), field="reason")
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise MonitoringError(_("Unknown rule fields: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = AlarmRule.objects.select_for_update().get(pk=rule.pk)
        current = {f: getattr(locked, f) for f in RULE_FIELDS}
        current.update(fields)
        for name, value in _clean_rule(current).items():
            setattr(locked, name, value)
        locked.save()
    return locked


# --- windows and evaluation ------------------------------------------------------------------------


def rule_window(rule: AlarmRule, now, k: int = 0) -> tuple[datetime.datetime, datetime.datetime]:
    """The k-th window back from now (k=0: the current one), in the site's time zone."""
    tz = engine.site_tz(rule.site)
    now = timezone.localtime(now, tz)
    today = engine.day_bounds(now.date(), tz)[0]
    n = rule.window_size
    if rule.window == WindowKind.HOURS:
        end = now - datetime.timedelta(hours=n * k)
        return end - datetime.timedelta(hours=n), end
    if rule.window == WindowKind.TODAY:
        start = today - datetime.timedelta(days=k)
        return start, now if k == 0 else start + datetime.timedelta(days=1)
    if rule.window == WindowKind.DAYS:
        start = today - datetime.timedelta(days=n - 1 + n * k)
        return start, now if k == 0 else start + datetime.timedelta(days=n)
    # month
    first = engine.add_months(now.date().replace(day=1), -k)
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = now if k == 0 else datetime.datetime.combine(engine.add_months(first, 1), datetime.time.min, tzinfo=tz)
    return start, end


def _breaches(rule: AlarmRule, kpi, num: float, den: float) -> tuple[float | None, bool | None]:
    if kpi.is_ratio and den < max(rule.min_denominator, 1e-12):
        return None, None  # too small a sample (or nothing) to judge
    value = kpi.value(num, den)
    return value, kpi.meets(value, rule.comparator, rule.threshold)


def rule_evaluate(*, rule: AlarmRule, now=None, cache: dict | None = None, open_alarms=None) -> dict:
    """Evaluate one rule: raise an alarm for each scope value in breach (once per breach), resolve open
    alarms whose value is back in range. Returns counts. Rules of one tick that watch the same KPI, scope
    and window share one computation (`cache`)."""
    now = now or timezone.now()
    cache = {} if cache is None else cache
    kpi = get_kpi(rule.kpi)
    if kpi is None:
        return {"raised": 0, "resolved": 0}
    dim_value = rule.dim_value if rule.dim_key and rule.dim_value else None
    if rule.window == WindowKind.RECORDS:
        key = ("records", kpi.key, rule.site_id, rule.dim_key, dim_value, rule.window_size)
        if key not in cache:
            cache[key] = engine.last_records_sums(
                kpi, site=rule.site, n=rule.window_size, dim_key=rule.dim_key, dim_value=dim_value
            )
        windows = [cache[key]]
        bounds = (now - datetime.timedelta(days=90), now)
    else:
        windows = []
        for k in range(max(1, rule.consecutive)):
            start, end = rule_window(rule, now, k)
            key = (kpi.key, rule.site_id, rule.dim_key, dim_value, start, end)
            if key not in cache:
                cache[key] = engine.window_sums(
                    kpi, site=rule.site, start=start, end=end, dim_key=rule.dim_key, dim_value=dim_value, now=now
                )
            windows.append(cache[key])
        bounds = rule_window(rule, now, 0)
    if open_alarms is None:
        open_alarms = {a.dim_value: a for a in Alarm.objects.filter(rule=rule).exclude(status=AlarmStatus.RESOLVED)}
    raised = resolved = 0
    for scope in set(windows[0]) | set(open_alarms):
        judged = [_breaches(rule, kpi, *w.get(scope, (0.0, 0.0))) for w in windows]
        value, breach = judged[0]
        in_breach = all(b for _v, b in judged)
        alarm = open_alarms.get(scope)
        if in_breach and alarm is None:
            if alarm_raise(rule=rule, scope=scope, value=value, window=bounds, now=now) is not None:
                raised += 1
        elif alarm is not None and breach is False:
            alarm_auto_resolve(alarm=alarm, value=value)
            resolved += 1
    return {"raised": raised, "resolved": resolved}


def alarm_rules_evaluate(*, site_ids=None, kpi_keys=None, on_event: bool = False, now=None) -> dict:
    """Evaluate the active rules (periodic tick), or, on an event, the site's event-evaluated rules on the
    KPIs it touched. A rule that fails is logged and the others still run."""
    rules = AlarmRule.objects.filter(is_active=True).select_related("site")
    if site_ids is not None:
        rules = rules.filter(site_id__in=site_ids)
    if kpi_keys is not None:
        rules = rules.filter(kpi__in=list(kpi_keys))
    if on_event:
        rules = rules.filter(evaluate_on_event=True)
    now = now or timezone.now()
    rules = list(rules)
    open_by_rule: dict[int, dict] = {r.pk: {} for r in rules}
    for alarm in Alarm.objects.filter(rule__in=rules).exclude(status=AlarmStatus.RESOLVED):
        open_by_rule[alarm.rule_id][alarm.dim_value] = alarm
    cache: dict = {}
    totals = {"rules": 0, "raised": 0, "resolved": 0, "failed": 0}
    for rule in rules:
        totals["rules"] += 1
        try:
            result = rule_evaluate(rule=rule, now=now, cache=cache, open_alarms=open_by_rule[rule.pk])
        except Exception:  # noqa: BLE001 - one broken rule must not silence the others
            log.exception("alarm rule %s failed", rule.pk)
            totals["failed"] += 1
            continue
        totals["raised"] += result["raised"]
        totals["resolved"] += result["resolved"]
    return totals


# --- alarms ----------------------------------------------------------------------------------------


def alarm_url(alarm: Alarm) -> str:
    return reverse("monitoring:alarm", args=[alarm.code])


def alarm_raise(*, rule: AlarmRule, scope: str, value, window, now=None) -> Alarm | None:
    """Raise one alarm for a breach, unless one is open for the rule and scope or the cool-down after the
    last one has not passed. The rule row is locked: two evaluators raise one alarm."""
    now = now or timezone.now()
    actor = system_actor()
    with transaction.atomic(), audit_context(user=actor, reason=_("alarm rule breached"), source="job"):
        AlarmRule.objects.select_for_update().filter(pk=rule.pk).first()
        if Alarm.objects.filter(rule=rule, dim_value=scope).exclude(status=AlarmStatus.RESOLVED).exists():
            return None
        last = Alarm.objects.filter(rule=rule, dim_value=scope).order_by("-resolved_at").first()
        if last and last.resolved_at and last.resolved_at > now - datetime.timedelta(minutes=rule.cooldown_minutes):
            return None
        alarm = create_with_code(
            Alarm,
            "ALM",
            rule=rule,
            site=rule.site,
            dim_value=scope,
            value=value,
            last_value=value,
            window_start=window[0],
            window_end=window[1],
            raised_at=now,
        )
        _alarm_act(alarm, rule, actor)
        kpi = get_kpi(rule.kpi)
        notification_send(
            recipients=users_with_role(site=rule.site, roles=rule.roles),
            site=rule.site,
            level="alarm" if rule.severity == Severity.CRITICAL else "warning",
            link=alarm_url(alarm),
            dedup_key=f"alarm:{alarm.pk}",
            subject=LazyFormat(
                gettext_lazy("ALARM %(code)s %(rule)s: %(kpi)s %(scope)s = %(value)s (limit %(cmp)s %(limit)s)"),
                code=alarm.code,
                rule=rule.name,
                kpi=kpi.label,
                scope=scope,
                value="—" if value is None else f"{value:.4g}",
                cmp=rule.comparator,
                limit=f"{rule.threshold:g}",
            ),
            body=alarm.action_reference or alarm.action_error,
        )
        from .signals import alarm_raised

        transaction.on_commit(lambda: alarm_raised.send(sender=Alarm, alarm=alarm))
    return alarm


def _alarm_act(alarm: Alarm, rule: AlarmRule, actor) -> None:
    """The rule's action, in a savepoint: when it is refused, the alarm stays raised and says why."""
    if rule.action == AlarmAction.NOTIFY:
        return
    kpi = get_kpi(rule.kpi)
    title = _("Alarm %(code)s: %(rule)s %(scope)s") % {"code": alarm.code, "rule": rule.name, "scope": alarm.dim_value}
    try:
        with transaction.atomic():
            dim_value = alarm.dim_value if rule.dim_key else None
            record = engine.latest_record(
                kpi,
                site=rule.site,
                start=alarm.window_start,
                end=alarm.window_end,
                dim_key=rule.dim_key,
                dim_value=dim_value,
            )
            if rule.action == AlarmAction.NCR:
                alarm.action_reference = _open_ncr(alarm, rule, kpi, record, title, actor)
            elif rule.action == AlarmAction.CAPA:
                alarm.action_reference = _open_capa(alarm, rule, title, actor)
            elif rule.action == AlarmAction.LINE_STOP:
                from inspection.services import line_stop_request

                stop = line_stop_request(site=rule.site, line_code=alarm.dim_value, reason=title, user=actor)
                alarm.action_reference = _("line stop on %(line)s (check %(c)s)") % {
                    "line": alarm.dim_value,
                    "c": stop.inspection.code,
                }
    except DomainError as exc:
        alarm.action_error = str(exc)
    alarm.save(reason=_("alarm action"))


def _part_of(record, kpi):
    if record is None or not kpi.part_field:
        return None
    obj = record
    for name in kpi.part_field.split("__"):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _open_ncr(alarm, rule, kpi, record, title, actor) -> str:
    from nonconformance.services import ncr_open

    part = _part_of(record, kpi)
    if part is None:
        raise MonitoringError(_("No record in the window names a part, so no NCR was opened."))
    stage = getattr(record, "stage", "")
    source = {"IQC": "iqc", "IPQC": "ipqc", "FQC": "fqc", "FAI": "fai"}.get(stage, "other")
    ncr = ncr_open(
        site=rule.site,
        source=source,
        part=part,
        title=title,
        user=actor,
        description=_("Opened by alarm rule “%(rule)s”: %(kpi)s %(cmp)s %(limit)s breached.")
        % {"rule": rule.name, "kpi": kpi.label, "cmp": rule.comparator, "limit": f"{rule.threshold:g}"},
        source_reference=alarm.code,
        supplier=getattr(record, "supplier", None),
    )
    return ncr.code


def _open_capa(alarm, rule, title, actor) -> str:
    from capa.services import capa_create

    managers = users_with_role(site=rule.site, roles=[Role.QUALITY_MANAGER])
    if not managers:
        raise MonitoringError(_("The site has no quality manager to own the CAPA."))
    capa = capa_create(
        site=rule.site, title=title, owner=managers[0], user=actor, source="alarm", source_reference=alarm.code
    )
    return capa.code


def _load_open(alarm: Alarm) -> Alarm:
    locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if locked.status == AlarmStatus.RESOLVED:
        raise MonitoringError(_("Alarm %(c)s is already resolved.") % {"c": locked.code})
    return locked


def alarm_acknowledge(*, alarm: Alarm, user, comment: str = "") -> Alarm:
    policy.check(user, "alarms.acknowledge", alarm.site)
    with transaction.atomic(), audit_context(user=user, reason=comment or _("alarm acknowledged")):
        locked = _load_open(alarm)
        if locked.status == AlarmStatus.ACKNOWLEDGED:
            raise MonitoringError(
                _("Alarm %(c)s was already acknowledged by %(who)s.")
                % {"c": locked.code, "who": locked.acknowledged_by}
            )
        locked.status = AlarmStatus.ACKNOWLEDGED
        locked.acknowledged_by, locked.acknowledged_at, locked.ack_comment = user, timezone.now(), comment.strip()
        locked.save()
    return locked


def alarm_resolve(*, alarm: Alarm, user, reason: str) -> Alarm:
    policy.check(user, "alarms.acknowledge", alarm.site)
    if not reason.strip():
        raise MonitoringError(_("Say why the alarm is resolved (what was done)."), field="reason")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = _load_open(alarm)
        locked.status = AlarmStatus.RESOLVED
        locked.resolved_by, locked.resolved_at, locked.resolution = user, timezone.now(), reason.strip()
        locked.save()
    return locked


def alarm_auto_resolve(*, alarm: Alarm, value) -> Alarm | None:
    actor = system_actor()
    with transaction.atomic(), audit_context(user=actor, reason=_("back in range"), source="job"):
        try:
            locked = _load_open(alarm)
        except MonitoringError:
            return None
        locked.status = AlarmStatus.RESOLVED
        locked.resolved_by, locked.resolved_at, locked.auto_resolved = actor, timezone.now(), True
        locked.last_value = value
        locked.resolution = _("Back in range (%(v)s).") % {"v": "—" if value is None else f"{value:.4g}"}
        locked.save()
    return locked
