"""Every write of the inspection app (DESIGN.md conventions 1-3)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance import audit_trail
from compliance.signatures import signature_record, signature_record_many
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import random_code
from qms.core.errors import DomainError
from qms.core.i18n import LazyFormat
from qms.core.models import Role
from qms.core.numbers import NumberError, parse_decimal
from qms.core.selectors import users_with_role
from qms.core.services import notification_send
from qms.core.uploads import UploadRefused, check_upload

from . import sampling, signals
from .models import (
    Characteristic,
    Inspection,
    InspectionPlan,
    InspectionStatus,
    IpqcSchedule,
    Kind,
    LineStop,
    LotRelease,
    Measurement,
    PlanStatus,
    Scheme,
    Stage,
    Station,
    Submission,
    SupplierSwitching,
    SwitchingEvent,
)


class InspectionError(DomainError):
    pass


# ---------------------------------------------------------------------------------------------------------
# Plans


def plan_create(
    *,
    site,
    part,
    stage: str,
    title: str,
    user,
    scheme: str = Scheme.ISO2859,
    aql: str = "1.0",
    level: str = "II",
    fixed_sample_size: int | None = None,
    aql_critical: str = "",
    aql_major: str = "",
    aql_minor: str = "",
    operation_name: str = "",
    notes: str = "",
) -> InspectionPlan:
    policy.check(user, "inspection.plan_edit", site)
    try:
        if scheme == Scheme.ISO2859:
            aql = sampling.normalise_aql(aql)
        for value in (aql_major, aql_minor, aql_critical):
            if value:
                sampling.normalise_aql(value)
    except sampling.SamplingError as exc:
        # The sampling tables name the standard AQLs: the user reads them in the form, not a traceback.
        raise InspectionError(str(exc)) from None
    if scheme == Scheme.FIXED and not fixed_sample_size:
        raise InspectionError(_("A fixed sampling scheme needs its sample size."))
    with transaction.atomic(), audit_context(user=user, reason=_("inspection plan created")):
        last = InspectionPlan.objects.filter(site=site, part=part, stage=stage).aggregate(v=Max("version"))["v"] or 0
        return InspectionPlan.objects.create(
            site=site,
            part=part,
            stage=stage,
            version=last + 1,
            title=title,
            scheme=scheme,
            aql=aql or "",
            level=level,
            fixed_sample_size=fixed_sample_size,
            aql_critical=aql_critical,
            aql_major=aql_major,
            aql_minor=aql_minor,
            operation_name=operation_name,
            notes=notes,
            created_by=user,
        )


def _decimal(value, name):
    if value in (None, ""):
        return None
    try:
        # Limits and nominal are stored as numeric(16, 6).
        return parse_decimal(value, label=name, max_digits=16, decimal_places=6)
    except NumberError as exc:
        raise InspectionError(exc.message) from None


def characteristic_add(
    *,
    plan,
    name: str,
    user,
    kind: str = Kind.VARIABLE,
    nominal=None,
    tolerance=None,
    lower_limit=None,
    upper_limit=None,
    unit: str = "",
    decimals: int = 2,
    defect_class: str = "major",
    special: str = "",
    gauge=None,
    method: str = "",
    is_lab_test: bool = False,
    sequence: int | None = None,
) -> Characteristic:
    """Add a characteristic to a draft plan. Limits as lower/upper or nominal ± tolerance (inclusive)."""
    policy.check(user, "inspection.plan_edit", plan.site)
    if plan.status != PlanStatus.DRAFT:
        raise InspectionError(
            _("Plan %(p)s is %(s)s; make a new version to change it.") % {"p": plan, "s": plan.get_status_display()}
        )
    nominal, tolerance = _decimal(nominal, _("Nominal")), _decimal(tolerance, _("Tolerance"))
    lower_limit, upper_limit = _decimal(lower_limit, _("Lower limit")), _decimal(upper_limit, _("Upper limit"))
    if tolerance is not None:
        if nominal is None:
            raise InspectionError(_("A tolerance needs the nominal value."))
        lower_limit, upper_limit = nominal - tolerance, nominal + tolerance
    if kind == Kind.VARIABLE and lower_limit is None and upper_limit is None:
        raise InspectionError(
            _("A measured characteristic needs a lower limit, an upper limit or nominal ± tolerance.")
        )
    if lower_limit is not None and upper_limit is not None and lower_limit > upper_limit:
        raise InspectionError(_("The lower limit is above the upper limit."))
    with transaction.atomic(), audit_context(user=user, reason=_("characteristic added")):
        if sequence is None:
            sequence = (plan.characteristics.aggregate(m=Max("sequence"))["m"] or 0) + 10
        return Characteristic.objects.create(
            plan=plan,
            sequence=sequence,
            name=name,
            kind=kind,
            nominal=nominal,
            lower_limit=lower_limit,
            upper_limit=upper_limit,
            unit=unit,
            decimals=decimals,
            defect_class=defect_class,
            special=special,
            gauge=gauge,
            method=method,
            is_lab_test=is_lab_test,
        )


@policy.door("plan.approve")
def plan_approve(*, plan, user, credential, reason: str = "") -> InspectionPlan:
    """Approve a draft (e-signed, not by its author); the previous approved version becomes obsolete."""
    from compliance.signatures import credential_check_owner

    credential_check_owner(user=user, credential=credential)
    policy.check_decide(
        user, "plan.approve", plan.site, involved={"authored": plan.created_by_id}, what=_("this inspection plan")
    )
    with transaction.atomic(), audit_context(user=user, reason=reason or _("plan approved")):
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.DRAFT:
            raise InspectionError(
                _("Plan %(p)s is %(s)s; only a draft can be approved.") % {"p": plan, "s": plan.get_status_display()}
            )
        if not plan.characteristics.exists():
            raise InspectionError(_("Add at least one characteristic before approving the plan."))
        for old in InspectionPlan.objects.select_for_update().filter(
            site=plan.site, part=plan.part, stage=plan.stage, status=PlanStatus.APPROVED
        ):
            old.make_obsolete()
            old.save(reason=_("superseded by version %(v)s") % {"v": plan.version})
        plan.approve()
        plan.approved_by, plan.approved_at = user, timezone.now()
        plan.save()
        signature_record(credential=credential, instance=plan, meaning="approved", reason=reason, role="plan approver")
    return plan


def plan_new_version(*, plan, user) -> InspectionPlan:
    """Copy a plan and its characteristics into a new draft version."""
    new = plan_create(
        site=plan.site,
        part=plan.part,
        stage=plan.stage,
        title=plan.title,
        user=user,
        scheme=plan.scheme,
        aql=plan.aql,
        level=plan.level,
        fixed_sample_size=plan.fixed_sample_size,
        aql_critical=plan.aql_critical,
        aql_major=plan.aql_major,
        aql_minor=plan.aql_minor,
        operation_name=plan.operation_name,
        notes=plan.notes,
    )
    with transaction.atomic(), audit_context(user=user, reason=_("new plan version")):
        Characteristic.objects.bulk_create(
            [
                Characteristic(
                    plan=new,
                    sequence=c.sequence,
                    name=c.name,
                    kind=c.kind,
                    nominal=c.nominal,
                    lower_limit=c.lower_limit,
                    upper_limit=c.upper_limit,
                    unit=c.unit,
                    decimals=c.decimals,
                    defect_class=c.defect_class,
                    special=c.special,
                    gauge_id=c.gauge_id,
                    method=c.method,
                    is_lab_test=c.is_lab_test,
                )
                for c in plan.characteristics.all()
            ]
        )
        if plan.document_id:
            new.document_id = plan.document_id
            new.save(reason=_("new plan version"))
    return new


def plan_document_link(*, plan, document, user, reason: str = "") -> InspectionPlan:
    """Point a plan at the controlled document (procedure, work instruction, specification) it implements,
    or clear the link (`document=None`). Bookkeeping: not part of the approved, signed content."""
    policy.check(user, "inspection.plan_edit", plan.site)
    if document is not None:
        if document.site_id != plan.site_id:
            raise DomainError(_("%(n)s belongs to another site.") % {"n": document.number})
        if document.status != "active":
            raise DomainError(_("%(n)s is obsolete: link the document that replaced it.") % {"n": document.number})
    reason = reason or _("controlled document linked")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        locked.document = document
        locked.save(reason=reason)
    return locked


def plan_obsolete(*, plan, user, reason: str) -> InspectionPlan:
    policy.check(user, "inspection.plan_approve", plan.site)
    if not reason:
        raise InspectionError(_("Give the reason for making the plan obsolete."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.APPROVED:
            raise InspectionError(_("Only an approved plan can be made obsolete."))
        plan.make_obsolete()
        plan.save()
    return plan


def approved_plan(*, site, part, stage) -> InspectionPlan | None:
    return InspectionPlan.objects.filter(site=site, part=part, stage=stage, status=PlanStatus.APPROVED).first()


# ---------------------------------------------------------------------------------------------------------
# Sampling and switching


def resolve_sampling(
    plan: InspectionPlan, lot_size: int, severity: str = "normal"
) -> tuple[sampling.SamplingPlan, dict]:
    """The sampling plan for a lot under a plan's scheme (and per-class plans for the class scheme)."""
    lot_size = max(int(lot_size or 1), 1)
    sev = severity if severity in sampling.SEVERITIES else "tightened"  # discontinued sources never get here
    if plan.scheme == Scheme.FULL:
        return sampling.hundred_percent_plan(lot_size), {}
    if plan.scheme == Scheme.FIXED:
        return sampling.fixed_sampling_plan(lot_size, plan.fixed_sample_size or 1), {}
    if plan.scheme == Scheme.CLASS_AQL:
        aqls = {
            "critical": plan.aql_critical or None,
            "major": plan.aql_major or "0.65",
            "minor": plan.aql_minor or "2.5",
        }
        plans = sampling.class_sampling_plans(lot_size, aqls, plan.level, sev)
        n = max(p.sample_size for p in plans.values())
        major = plans["major"]
        overall = sampling.SamplingPlan(
            lot_size=lot_size,
            sample_size=n,
            accept=major.accept,
            reject=major.reject,
            code_letter=major.code_letter,
            plan_code_letter=major.plan_code_letter,
            aql=major.aql,
            level=plan.level,
            severity=sev,
            scheme="class",
            hundred_percent=n >= lot_size,
        )
        return overall, {
            k: {"n": p.sample_size, "ac": p.accept, "re": p.reject, "aql": p.aql} for k, p in plans.items()
        }
    return sampling.single_sampling_plan(lot_size, plan.aql or "1.0", plan.level, sev), {}


def switching_for(*, site, supplier, part, lock: bool = False) -> SupplierSwitching:
    qs = SupplierSwitching.objects.select_for_update() if lock else SupplierSwitching.objects
    found = qs.filter(site=site, supplier=supplier, part=part).first()
    if found:
        return found
    try:
        with transaction.atomic(), audit_context(reason=_("switching state opened")):
            SupplierSwitching.objects.create(site=site, supplier=supplier, part=part)
    except IntegrityError:
        pass
    return qs.get(site=site, supplier=supplier, part=part)


def _state_of(sw: SupplierSwitching) -> sampling.SwitchingState:
    return sampling.SwitchingState(
        severity=sw.severity,
        normal_history=tuple(c == "A" for c in sw.normal_history),
        switching_score=sw.switching_score,
        tightened_accepted_run=sw.tightened_accepted_run,
        tightened_not_accepted=sw.tightened_not_accepted,
        reduced_eligible=sw.reduced_eligible,
        lots=sw.lots,
    )


def _apply_state(sw: SupplierSwitching, state: sampling.SwitchingState, *, inspection=None, user=None) -> None:
    before = sw.severity
    sw.severity = state.severity
    sw.normal_history = "".join("A" if ok else "R" for ok in state.normal_history)
    sw.switching_score = state.switching_score
    sw.tightened_accepted_run = state.tightened_accepted_run
    sw.tightened_not_accepted = state.tightened_not_accepted
    sw.reduced_eligible = state.reduced_eligible
    sw.lots = state.lots
    cause = sampling.CAUSES.get(state.cause, state.cause)
    sw.save(reason=cause if state.changed else _("lot result recorded"))
    if state.changed:
        SwitchingEvent.objects.create(
            switching=sw,
            from_severity=before,
            to_severity=state.severity,
            cause=state.cause,
            inspection=inspection,
            by=user,
        )
        audit_trail.record(sw, action="switch", changes={"severity": [before, state.severity]}, reason=cause)


def switching_reduced_approve(*, switching, user, reason: str = "") -> SupplierSwitching:
    """The responsible authority (quality manager) approves reduced inspection for this source."""
    policy.check(user, "inspection.switching_authority", switching.site)
    with (
        transaction.atomic(),
        audit_context(user=user, reason=reason or _("reduced inspection approved by the authority")),
    ):
        sw = SupplierSwitching.objects.select_for_update().get(pk=switching.pk)
        sw.reduced_approved_by, sw.reduced_approved_at = user, timezone.now()
        sw.save()
        _apply_state(sw, sampling.reduced_approve(_state_of(sw)), user=user)
    return sw


def switching_restore(*, switching, user, reason: str) -> SupplierSwitching:
    """Resume a discontinued source after corrective action (on tightened inspection)."""
    policy.check(user, "inspection.switching_authority", switching.site)
    if not reason:
        raise InspectionError(_("Give the corrective action that justifies resuming inspection."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        sw = SupplierSwitching.objects.select_for_update().get(pk=switching.pk)
        if sw.severity != sampling.DISCONTINUED:
            raise InspectionError(_("Inspection of this source is not discontinued."))
        _apply_state(sw, sampling.switching_restore(_state_of(sw)), user=user)
    return sw


def switching_request_normal(*, switching, user, reason: str) -> SupplierSwitching:
    """Authority decision: leave reduced inspection (clause 9.3.4 d)."""
    policy.check(user, "inspection.switching_authority", switching.site)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("authority decision")):
        sw = SupplierSwitching.objects.select_for_update().get(pk=switching.pk)
        if sw.severity != sampling.REDUCED:
            raise InspectionError(_("This source is not on reduced inspection."))
        state = sampling.next_switching_state(
            _state_of(sw), sampling.LotResult(accepted=True, authority_requests_normal=True)
        )
        sw.reduced_approved_by, sw.reduced_approved_at = None, None
        _apply_state(sw, state, user=user)
    return sw


# ---------------------------------------------------------------------------------------------------------
# Creating inspections


def _station_for(site, stage: str, line=None):
    stations = [s for s in Station.objects.filter(site=site) if stage in {x.strip() for x in s.stages.split(",")}]
    if line is not None:
        on_line = [s for s in stations if s.line_id == getattr(line, "pk", line)]
        if on_line:
            return on_line[0]
    return stations[0] if stations else None


def inspection_due_at(stage: str, lot=None, now=None):
    """When a new inspection becomes overdue: the lot's receipt (IQC) or now, plus the stage's hours
    (settings.QMS_INSPECTION_DUE_HOURS). A lot received long ago is inspected late, and shows so."""
    from django.conf import settings

    now = now or timezone.now()
    hours = settings.QMS_INSPECTION_DUE_HOURS.get(stage, 24)
    start = getattr(lot, "created_at", None) if stage == Stage.IQC and lot is not None else None
    return (start or now) + datetime.timedelta(hours=hours)


def inspection_create(
    *,
    stage: str,
    plan: InspectionPlan,
    user=None,
    lot=None,
    work_order=None,
    operation=None,
    lot_size: int | None = None,
    severity: str = "normal",
    supplier=None,
    station=None,
    schedule=None,
    due_at=None,
    sample_size: int | None = None,
    is_reinspection: bool = False,
    reason: str = "",
) -> Inspection:
    if plan.status != PlanStatus.APPROVED:
        raise InspectionError(_("Plan %(p)s is not approved; inspections use approved plans only.") % {"p": plan})
    size = lot_size if lot_size is not None else int(lot.quantity) if lot is not None else 1
    sp, class_plans = resolve_sampling(plan, size, severity)
    n = sample_size or sp.sample_size
    line = getattr(work_order, "line", None) or getattr(schedule, "line", None)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("inspection created")):
        return Inspection.objects.create(
            code=random_code(Inspection, stage),
            stage=stage,
            site=plan.site,
            part=plan.part,
            plan=plan,
            lot=lot,
            work_order=work_order,
            operation=operation,
            supplier=supplier,
            station=station or _station_for(plan.site, stage, line),
            schedule=schedule,
            lot_size=size,
            severity=severity,
            code_letter=sp.code_letter,
            sample_size=min(n, max(size, 1)),
            accept_number=sp.accept,
            reject_number=sp.reject,
            class_plans=class_plans,
            due_at=due_at or inspection_due_at(stage, lot),
            is_reinspection=is_reinspection,
            reason=reason,
        )


def iqc_create_for_lot(*, lot) -> Inspection | None:
    """Listener of traceability.lot_received: the pending IQC from the approved plan (idempotent)."""
    if lot.supplier_id is None:
        return None
    existing = Inspection.objects.filter(lot=lot, stage=Stage.IQC).first()
    if existing:
        return existing
    plan = approved_plan(site=lot.site, part=lot.part, stage=Stage.IQC)
    if plan is None:
        return None
    sw = switching_for(site=lot.site, supplier=lot.supplier, part=lot.part)
    return inspection_create(
        stage=Stage.IQC,
        plan=plan,
        lot=lot,
        supplier=lot.supplier,
        severity=sw.severity,
        user=lot.created_by,
        reason=_("lot received"),
    )


def inspection_create_fai(*, work_order, user) -> Inspection:
    policy.check(user, "inspection.perform", work_order.site)
    plan = approved_plan(site=work_order.site, part=work_order.part, stage=Stage.FAI)
    if plan is None:
        raise InspectionError(_("There is no approved first article plan for %(p)s.") % {"p": work_order.part})
    open_fai = Inspection.objects.filter(
        work_order=work_order, stage=Stage.FAI, status__in=["pending", "in_progress"]
    ).first()
    if open_fai:
        return open_fai
    return inspection_create(
        stage=Stage.FAI, plan=plan, work_order=work_order, user=user, lot_size=1, reason=_("first article of the run")
    )


def inspection_create_fqc(*, lot, user) -> Inspection:
    policy.check(user, "inspection.perform", lot.site)
    plan = approved_plan(site=lot.site, part=lot.part, stage=Stage.FQC)
    if plan is None:
        raise InspectionError(_("There is no approved final inspection plan for %(p)s.") % {"p": lot.part})
    open_one = Inspection.objects.filter(lot=lot, stage=Stage.FQC, status__in=["pending", "in_progress"]).first()
    return open_one or inspection_create(
        stage=Stage.FQC, plan=plan, lot=lot, work_order=lot.work_order, user=user, reason=_("finished lot")
    )


def inspection_create_reinspection(*, lot, reason: str, user) -> Inspection:
    """Re-inspection after rework: the same stage as the last rejected inspection, on the current plan."""
    policy.check(user, "inspection.perform", lot.site)
    if not reason:
        raise InspectionError(_("Give the reason for the re-inspection (e.g. the rework done)."))
    last = Inspection.objects.filter(lot=lot).order_by("-created_at").first()
    stage = last.stage if last else (Stage.IQC if lot.supplier_id else Stage.FQC)
    plan = approved_plan(site=lot.site, part=lot.part, stage=stage)
    if plan is None:
        raise InspectionError(_("There is no approved %(stage)s plan for %(p)s.") % {"stage": stage, "p": lot.part})
    return inspection_create(
        stage=stage,
        plan=plan,
        lot=lot,
        supplier=lot.supplier,
        user=user,
        severity=last.severity if last else "normal",
        is_reinspection=True,
        reason=reason,
    )


# ---------------------------------------------------------------------------------------------------------
# Recording values


def parse_value(characteristic: Characteristic, raw) -> dict:
    """Turn what the inspector typed into measurement fields; raise InspectionError when unreadable."""
    raw = "" if raw is None else str(raw).strip()
    if characteristic.kind == Kind.VARIABLE:
        try:
            value = parse_decimal(raw, label=characteristic.name, max_digits=16, decimal_places=6)
        except NumberError as exc:
            raise InspectionError(exc.message) from None
        # The resolution entered (12.00 stays 12.00 on screens and certificates); the column keeps 6 places.
        exponent = value.as_tuple().exponent
        places = min(6, max(0, -exponent)) if isinstance(exponent, int) else 0
        return {"value": value, "decimals": places}
    if characteristic.kind == Kind.ATTRIBUTE:
        if raw.lower() in ("1", "true", "pass", "ok", "yes"):
            return {"passed": True}
        if raw.lower() in ("0", "false", "fail", "ng", "no"):
            return {"passed": False}
        raise InspectionError(_("Choose pass or fail."))
    if characteristic.kind == Kind.COUNT:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise InspectionError(_("Enter the number of defects (0 or more)."))
        return {"count": int(raw)}
    return {"text": raw}


def judge(characteristic: Characteristic, fields: dict) -> bool | None:
    return characteristic.judge(
        number=fields.get("value"), passed=fields.get("passed"), count=fields.get("count"), text=fields.get("text", "")
    )


def gauge_problems(characteristics, on=None) -> dict[int, str]:
    """Characteristic id -> why its gauge may not be used (past its calibration due date)."""
    on = on or timezone.localdate()
    out: dict[int, str] = {}
    for c in characteristics:
        g = c.gauge
        if g is not None and g.calibration_overdue(on):
            out[c.pk] = _(
                "Gauge %(g)s for “%(c)s” is past its calibration due date (due %(d)s); it cannot be used for a measurement (IATF 16949 7.1.5)."
            ) % {"g": f"{g.code} {g.name}", "c": c.name, "d": g.calibration_due}
    return out


@dataclass(frozen=True)
class Recorded:
    """What one submission recorded, and the characteristics whose values were refused (id -> why)."""

    recorded: int
    refused: dict[int, str] = field(default_factory=dict)


def measurements_record(*, inspection, values: list[dict], submission_key, user) -> Recorded:
    """Record one submission of values: [{"characteristic": id, "sample_no": n, "raw": "10.01", "photo": file?}].

    Idempotent by `submission_key` (UUID from the form): a resubmitted form records nothing twice. All
    values of one submission are written with one bulk insert (each is audited). Values measured with a
    gauge past its calibration are not recorded (IATF 16949 7.1.5) and are returned in `refused`; the other
    values of the submission are recorded. An unreadable value refuses the whole submission.
    """
    policy.check(user, "inspection.perform", inspection.site)
    try:
        key = uuid.UUID(str(submission_key))
    except (ValueError, TypeError):
        raise InspectionError(_("The form has no valid submission key; reload the page.")) from None
    chars = {c.pk: c for c in inspection.plan.characteristics.select_related("gauge")}
    problems = gauge_problems(chars.values())
    refused: dict[int, str] = {}
    rows, errors = [], []
    now = timezone.now()
    for v in values:
        c = chars.get(v.get("characteristic"))
        if c is None:
            raise InspectionError(_("That characteristic is not part of plan %(p)s.") % {"p": inspection.plan})
        try:
            n = int(v.get("sample_no") or 0)
        except (TypeError, ValueError):
            n = 0
        if not 1 <= n <= inspection.sample_size:
            raise InspectionError(_("Sample %(n)s is outside 1 … %(max)s.") % {"n": n, "max": inspection.sample_size})
        if v.get("raw") in (None, "") and not v.get("photo"):
            continue
        if c.pk in problems:
            refused[c.pk] = problems[c.pk]
            continue
        try:
            fields = parse_value(c, v.get("raw"))
            # A photo goes through the one upload path: an image by its content, size limited.
            photo = check_upload(v["photo"], use="photo").content_file() if v.get("photo") else ""
        except (InspectionError, UploadRefused) as exc:
            errors.append(f"{c.name} #{n}: {exc.message}")
            continue
        rows.append(
            Measurement(
                inspection=inspection,
                characteristic=c,
                sample_no=n,
                ok=judge(c, fields),
                gauge=c.gauge,
                submission=key,
                recorded_by=user,
                recorded_at=now,
                photo=photo,
                **fields,
            )
        )
    if errors:
        raise InspectionError(" ".join(errors))
    if not rows and refused:
        return Recorded(0, refused)
    with transaction.atomic(), audit_context(user=user, reason=_("measurements recorded")):
        insp = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if not insp.is_open:
            raise InspectionError(
                _("Inspection %(c)s is already %(s)s.") % {"c": insp.code, "s": insp.get_status_display()}
            )
        _sub, created = Submission.objects.get_or_create(
            key=key, defaults={"inspection": insp, "user": user, "values": len(rows)}
        )
        if not created:
            return Recorded(0, refused)
        taken = set(
            Measurement.objects.filter(inspection=insp, sample_no__in={r.sample_no for r in rows}).values_list(
                "characteristic_id", "sample_no"
            )
        )
        dupes = [r for r in rows if (r.characteristic_id, r.sample_no) in taken]
        if dupes:
            raise InspectionError(
                _("%(c)s sample %(n)s is already recorded; recorded values are not overwritten.")
                % {"c": chars[dupes[0].characteristic_id].name, "n": dupes[0].sample_no}
            )
        for r in rows:
            if r.photo:
                r.save()
        Measurement.objects.bulk_create([r for r in rows if not r.photo])
        if insp.status == InspectionStatus.PENDING:
            insp.start()
            insp.inspector = user
            insp.save(reason=_("inspection started"))
    return Recorded(len(rows), refused)


def inspection_summary(inspection) -> dict:
    """Progress and the nonconforming count from the recorded values (one query)."""
    chars = [c for c in inspection.plan.characteristics.all() if c.kind != Kind.TEXT]
    rows = list(Measurement.objects.filter(inspection=inspection).values_list("characteristic_id", "sample_no", "ok"))
    have = {(c, n) for c, n, _ok in rows}
    bad_samples = {n for _c, n, ok in rows if ok is False}
    by_class: dict[str, set] = {}
    cls = {c.pk: c.defect_class for c in chars}
    for c, n, ok in rows:
        if ok is False and c in cls:
            by_class.setdefault(cls[c], set()).add(n)
    names = {c.pk: c.name for c in chars}
    failing: dict[str, list[int]] = {}
    for c, n, ok in sorted(rows, key=lambda r: r[1]):
        if ok is False and c in names:
            failing.setdefault(names[c], []).append(n)
    missing = [(c, n) for n in range(1, inspection.sample_size + 1) for c in chars if (c.pk, n) not in have]
    done_samples = sum(1 for n in range(1, inspection.sample_size + 1) if all((c.pk, n) in have for c in chars))
    return {
        "required": len(chars) * inspection.sample_size,
        "recorded": len(have),
        "missing": missing,
        "nonconforming": len(bad_samples),
        "by_class": {k: len(v) for k, v in by_class.items()},
        "samples_done": done_samples,
        "failing": failing,
    }


def _failing_text(summary) -> str:
    parts = [
        _("%(c)s (sample %(n)s)") % {"c": name, "n": ", ".join(str(n) for n in samples[:10])}
        for name, samples in summary["failing"].items()
    ]
    return (" " + _("Out of limits: %(list)s.") % {"list": "; ".join(parts)}) if parts else ""


def _decide(inspection, summary) -> tuple[bool, str]:
    if inspection.class_plans:
        for cls_name, p in inspection.class_plans.items():
            bad = summary["by_class"].get(cls_name, 0)
            if bad >= p["re"]:
                return False, _("%(cls)s: %(bad)s nonconforming pieces, rejection number %(re)s.") % {
                    "cls": cls_name,
                    "bad": bad,
                    "re": p["re"],
                } + _failing_text(summary)
        return True, ""
    bad = summary["nonconforming"]
    if bad >= inspection.reject_number:
        return False, _("%(bad)s nonconforming pieces in %(n)s; rejection number %(re)s.") % {
            "bad": bad,
            "n": inspection.sample_size,
            "re": inspection.reject_number,
        } + _failing_text(summary)
    return True, ""


def inspection_complete(*, inspection, user, credential, reason: str = "") -> Inspection:
    """Judge the inspection from its values (objective), sign it, and apply the consequences."""
    policy.check(user, "inspection.perform", inspection.site)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("inspection completed")):
        insp = (
            Inspection.objects.select_for_update(of=("self",))
            .select_related("plan", "site", "lot")
            .get(pk=inspection.pk)
        )
        if not insp.is_open:
            raise InspectionError(
                _("Inspection %(c)s is already %(s)s.") % {"c": insp.code, "s": insp.get_status_display()}
            )
        summary = inspection_summary(insp)
        accepted, why = _decide(insp, summary)
        if accepted and summary["missing"]:
            raise InspectionError(
                _("%(n)s values are still missing (every value is recorded before the result).")
                % {"n": len(summary["missing"])}
            )
        insp.nonconforming = summary["nonconforming"]
        insp.inspector = insp.inspector or user
        insp.result_note = why
        (insp.accept if accepted else insp.reject)()
        insp.save()
        signature_record(
            credential=credential,
            instance=insp,
            meaning="approved" if accepted else "rejected",
            reason=reason or why,
            role="inspector",
        )
        _consequences(insp, accepted, why, user)
    return insp


def _consequences(insp: Inspection, accepted: bool, why: str, user) -> None:
    from traceability.services import lot_hold_place

    verdict = (
        "accept_reinstate_normal"
        if (insp.severity == "reduced" and insp.accept_number < insp.nonconforming < insp.reject_number)
        else ""
    )
    if insp.stage == Stage.IQC and insp.supplier_id and not insp.is_reinspection:
        sw = switching_for(site=insp.site, supplier=insp.supplier, part=insp.part, lock=True)
        ac = insp.accept_number
        tighter_ok = None
        if ac >= 2 and insp.plan.aql:
            tighter_ac = sampling.accept_number_at_tighter_aql(insp.lot_size, insp.plan.aql, insp.plan.level)
            tighter_ok = tighter_ac is not None and insp.nonconforming <= tighter_ac
        result = sampling.LotResult(
            accepted=accepted,
            acceptance_number=ac,
            accepted_at_tighter_aql=tighter_ok,
            reinstate_normal=bool(verdict),
            reduced_approved=sw.reduced_approved_by_id is not None,
        )
        _apply_state(sw, sampling.next_switching_state(_state_of(sw), result), inspection=insp, user=user)
        from suppliers.services import supplier_receipt_record

        supplier_receipt_record(
            supplier=insp.supplier,
            part=insp.part,
            site=insp.site,
            lot_code=insp.lot.code,
            accepted=accepted,
            quantity_inspected=insp.sample_size,
            quantity_defective=insp.nonconforming,
        )
    lot = insp.lot
    if lot is not None and insp.stage in (Stage.IQC, Stage.FQC):
        if not accepted:
            lot_hold_place(
                lot=lot, source="inspection", reference=insp.code, reason=why or _("inspection rejected"), user=user
            )
        else:
            _settle_earlier_rejections(insp, user)
            if insp.stage == Stage.IQC and insp.site.allows_auto_release and lot.status == "quarantine":
                transaction.on_commit(lambda: _auto_release(insp.pk, user.pk))
    if insp.stage == Stage.IPQC:
        if not accepted:
            LineStop.objects.create(
                site=insp.site,
                line=getattr(insp.schedule, "line", None) or getattr(insp.work_order, "line", None),
                operation=insp.operation,
                work_order=insp.work_order,
                inspection=insp,
            )
            supervisors = users_with_role(site=insp.site, roles=[Role.PRODUCTION_SUPERVISOR, Role.QUALITY_MANAGER])
            notification_send(
                recipients=supervisors,
                site=insp.site,
                level="alarm",
                subject=LazyFormat(gettext_lazy("LINE STOP: patrol check %(c)s failed"), c=insp.code),
                body=str(why),
                link=reverse("inspection:line_stops"),
                dedup_key=f"insp-linestop-{insp.pk}",
            )
        else:
            for stop in LineStop.objects.select_for_update().filter(recheck=insp, cleared_at__isnull=True):
                stop.cleared_at = timezone.now()
                stop.save(reason=_("re-check passed"))
    signal = signals.inspection_accepted if accepted else signals.inspection_rejected
    transaction.on_commit(lambda: signal.send(sender=Inspection, inspection=insp))


def _settle_earlier_rejections(insp: Inspection, user) -> None:
    """An accepted (re-)inspection settles the earlier rejections of the same stage on the same lot: the
    holds they placed follow their cause and are lifted. Holds of other causes (the NCR) stay."""
    from traceability.models import LotHold
    from traceability.services import lot_hold_lift

    earlier = set(
        Inspection.objects.filter(lot=insp.lot, stage=insp.stage, status=InspectionStatus.REJECTED)
        .exclude(pk=insp.pk)
        .values_list("code", flat=True)
    )
    if not earlier:
        return
    reason = _("%(c)s accepted after re-inspection") % {"c": insp.code}
    for hold in LotHold.objects.filter(lot=insp.lot, source="inspection", reference__in=earlier, lifted_at=None):
        lot_hold_lift(hold=hold, reason=reason, user=user, cause="inspection")


def _auto_release(inspection_id: int, user_id: int) -> None:
    """After commit of an accepted IQC at a site that permits automatic release; when something else
    still blocks the lot, the inspector is told why and the lot waits for a signed release."""
    from qms.core.models import User

    insp = Inspection.objects.select_related("lot", "site").get(pk=inspection_id)
    try:
        lot_release_auto(inspection=insp)
    except DomainError as exc:
        notification_send(
            recipients=[User.objects.get(pk=user_id)],
            site=insp.site,
            level="warn",
            subject=LazyFormat(gettext_lazy("Lot %(lot)s accepted but not released"), lot=insp.lot.code),
            body=exc.message,
            dedup_key=f"insp-autorelease-{insp.pk}",
        )


# ---------------------------------------------------------------------------------------------------------
# Release: one door for people (`lot_release_sign`), one for the system where the site permits it


def release_involvement(lot) -> dict:
    """Who played a part in the lot's inspections (segregation of duties for its release): everyone who
    inspected it (recorded values, completed or signed an inspection) and the authors of the plans used.
    A lot split off another was inspected as part of its origin."""
    from compliance.models import Signature

    from .checks import _inspected_lot

    inspected_lot = _inspected_lot(lot)
    insps = Inspection.objects.filter(lot_id__in={lot.pk, inspected_lot.pk})
    inspected = set(insps.exclude(inspector=None).values_list("inspector_id", flat=True))
    inspected |= set(
        Measurement.objects.filter(inspection__in=insps).values_list("recorded_by_id", flat=True).distinct()
    )
    inspected |= set(
        Signature.objects.filter(
            model=Inspection._meta.label_lower, object_id__in=[str(pk) for pk in insps.values_list("pk", flat=True)]
        ).values_list("signer_id", flat=True)
    )
    authored = set(
        InspectionPlan.objects.filter(pk__in=insps.values("plan_id"))
        .exclude(created_by=None)
        .values_list("created_by_id", flat=True)
    )
    return {"inspected": inspected - {None}, "authored": authored - {None}}


def _already_released(lot, existing) -> InspectionError:
    return InspectionError(
        _("Lot %(lot)s was already released by %(who)s at %(when)s (%(note)s).")
        % {
            "lot": lot.code,
            "who": existing.released_by,
            "when": timezone.localtime(existing.released_at).strftime("%Y-%m-%d %H:%M"),
            "note": existing.note_number,
        }
    )


@policy.door("lot.release")
def lot_release_sign(*, lot, user, credential, reason: str = "") -> LotRelease:
    """The one door for releasing a lot: e-signed (meaning "released") by someone with release authority at
    the lot's site who did not inspect the lot or author its plan; every required inspection passed or was
    settled by a signed MRB decision, no active hold. The lot row is locked and the state re-checked: two
    people releasing at once end with one release, and a released lot cannot be released again."""
    from compliance.signatures import credential_check_owner
    from traceability.models import Lot
    from traceability.services import lot_status_release

    credential_check_owner(user=user, credential=credential)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("lot released")):
        lot = Lot.objects.select_for_update().select_related("site").get(pk=lot.pk)
        policy.check_decide(
            user, "lot.release", lot.site, involved=release_involvement(lot), what=_("lot %(lot)s") % {"lot": lot.code}
        )
        existing = LotRelease.objects.filter(lot=lot).select_related("released_by").first()
        if existing:
            raise _already_released(lot, existing)
        if lot.status != "quarantine":
            raise InspectionError(
                _("Lot %(lot)s is %(st)s; only a lot in quarantine can be released.")
                % {"lot": lot.code, "st": lot.get_status_display()}
            )
        release = LotRelease.objects.create(
            lot=lot, note_number=random_code(LotRelease, "REL", field="note_number"), released_by=user, reason=reason
        )
        signature = signature_record(
            credential=credential, instance=release, meaning="released", reason=reason, role="QA release"
        )
        lot_status_release(
            lot=lot, user=user, reason=reason or _("QA release %(n)s") % {"n": release.note_number}, signature=signature
        )
    return release


@policy.door("lot.release_history")
def lot_release_history(*, lots, user, credential, reason: str = "") -> list[LotRelease]:
    """History import: lots released in the system the portal replaces are imported as released. One
    door, e-signed (meaning "released") by the importer, who needs the history-release authority at the
    site of every lot; each lot gets its release record marked as a history import, with the signature on
    it. Only lots in quarantine with no inspection and no release in the portal (just imported): a lot
    inspected here is released on its release page (`lot.release`), so nobody releases what they
    inspected. All or nothing: the lots are locked, every one is checked, then every one released."""
    from compliance.signatures import credential_check_owner
    from traceability.models import Lot
    from traceability.services import lot_status_release

    from .checks import releasing_history

    credential_check_owner(user=user, credential=credential)
    reason = reason or _("history import")
    ids = sorted({lot.pk for lot in lots})
    with transaction.atomic(), audit_context(user=user, reason=reason, source="import"):
        locked = list(Lot.objects.select_for_update().select_related("site").filter(pk__in=ids).order_by("pk"))
        for site in {lot.site for lot in locked}:
            policy.check_decide(user, "lot.release_history", site, involved={}, what=_("history import"))
        inspected = set(Inspection.objects.filter(lot_id__in=ids).values_list("lot_id", flat=True))
        released = set(LotRelease.objects.filter(lot_id__in=ids).values_list("lot_id", flat=True))
        problems = []
        for lot in locked:
            if lot.pk in released or lot.status != "quarantine":
                problems.append(
                    _("Lot %(lot)s is %(st)s; a history import releases only lots it brings in, in quarantine.")
                    % {"lot": lot.code, "st": lot.get_status_display()}
                )
            elif lot.pk in inspected:
                problems.append(
                    _("Lot %(lot)s has inspections in the portal: release it on its release page.") % {"lot": lot.code}
                )
        if problems:
            raise InspectionError(" ".join(problems))
        # In bulk: the release records, and one signature on each (one re-authentication, one audit append);
        # then each lot through the release step, which re-checks it and records its release.
        now = timezone.now()
        numbers = _release_numbers(len(locked))
        releases = LotRelease.objects.bulk_create(
            [
                LotRelease(
                    lot=lot, note_number=number, released_by=user, released_at=now, reason=reason, history_import=True
                )
                for lot, number in zip(locked, numbers, strict=True)
            ],
            batch_size=2000,
        )
        signatures = signature_record_many(
            credential=credential, instances=releases, meaning="released", reason=reason, role="history import"
        )
        with releasing_history():
            for lot, signature in zip(locked, signatures, strict=True):
                lot_status_release(lot=lot, user=user, reason=reason, signature=signature)
    return releases


def _release_numbers(n: int) -> list[str]:
    """n unused release note numbers (REL-YYMMDD-XXXXXX), checked free in one query per round."""
    import secrets

    stamp = timezone.now().strftime("%y%m%d")
    numbers: set[str] = set()
    for _attempt in range(20):
        candidates = {f"REL-{stamp}-{secrets.token_hex(3).upper()}" for _i in range(n - len(numbers))} - numbers
        taken = set(
            LotRelease._base_manager.filter(note_number__in=list(candidates)).values_list("note_number", flat=True)
        )
        numbers |= candidates - taken
        if len(numbers) >= n:
            return sorted(numbers)[:n]
    raise InspectionError(_("Could not allocate release note numbers; try again."))


@policy.door("lot.release_auto")
def lot_release_auto(*, inspection) -> LotRelease:
    """Automatic release after an accepted IQC, only where the site permits it (never GMP): recorded under
    the system actor, with the accepting inspection's signature as its evidence."""
    from compliance.signatures import signatures_for
    from qms.core.services import system_actor
    from traceability.models import Lot
    from traceability.services import lot_status_release

    actor = system_actor()
    why = _("IQC %(c)s accepted") % {"c": inspection.code}
    with transaction.atomic(), audit_context(user=actor, reason=why, source="system"):
        insp = Inspection.objects.select_related("site").get(pk=inspection.pk)
        if insp.lot_id is None or insp.stage != Stage.IQC or insp.status != InspectionStatus.ACCEPTED:
            raise InspectionError(_("Only an accepted incoming inspection of a lot can release it automatically."))
        lot = Lot.objects.select_for_update().select_related("site").get(pk=insp.lot_id)
        if not lot.site.allows_auto_release:
            raise InspectionError(
                _("Site %(s)s does not permit automatic release: lot %(lot)s waits for a signed release.")
                % {"s": lot.site.code, "lot": lot.code}
            )
        existing = LotRelease.objects.filter(lot=lot).select_related("released_by").first()
        if existing:
            raise _already_released(lot, existing)
        evidence = [sg for sg in signatures_for(insp) if sg.meaning == "approved"]
        if not evidence:
            raise InspectionError(_("Inspection %(c)s has no acceptance signature.") % {"c": insp.code})
        release = LotRelease.objects.create(
            lot=lot,
            note_number=random_code(LotRelease, "REL", field="note_number"),
            released_by=actor,
            reason=why,
            automatic=True,
            evidence=evidence[-1],
        )
        lot_status_release(lot=lot, user=actor, reason=why, signature=evidence[-1])
    return release


# ---------------------------------------------------------------------------------------------------------
# Decisions on rejections (passed down as data by the MRB)


def rejection_decide(*, lot, kind: str, quantity, reference: str, text: str, user) -> list:
    """Record that a signed decision (`reference`, e.g. an NCR's MRB disposition: use as is, regrade,
    concession) settles the rejected inspections of `lot` (or of the lot it was split off) for this lot,
    and lift the holds those rejections placed on it. The lot becomes releasable for its quantity; the
    release itself is still the signed release. Idempotent per (inspection, lot, reference)."""
    from traceability.models import LotHold
    from traceability.services import lot_hold_lift

    from .checks import _inspected_lot, _latest_by_stage
    from .models import RejectionDecision

    inspected = _inspected_lot(lot)
    rejected = [
        i
        for i in _latest_by_stage(Inspection.objects.filter(lot=inspected)).values()
        if i.status == InspectionStatus.REJECTED
    ]
    decided = []
    with transaction.atomic(), audit_context(user=user, reason=text or reference):
        for insp in rejected:
            row, _created = RejectionDecision.objects.get_or_create(
                inspection=insp,
                lot=lot,
                reference=reference[:80],
                defaults={"kind": kind, "quantity": Decimal(str(quantity)), "text": text[:300], "decided_by": user},
            )
            decided.append(row)
        codes = set(
            Inspection.objects.filter(lot_id__in={lot.pk, inspected.pk}, status=InspectionStatus.REJECTED).values_list(
                "code", flat=True
            )
        )
        for hold in LotHold.objects.filter(lot=lot, source="inspection", reference__in=codes, lifted_at=None):
            lot_hold_lift(hold=hold, reason=text or reference, user=user, cause="inspection")
    return decided


# ---------------------------------------------------------------------------------------------------------
# IPQC: schedules, reminders, line stops


def running_operation_on_line(schedule):
    """(work order, operation) running on the schedule's line now, or (None, None): the work order of the
    schedule's part first; its running operation (the one the schedule names when several run), else the
    next one to start. The patrol check names it, so a failed check stops that operation."""
    from traceability.models import Operation, OperationStatus, WorkOrder, WorkOrderStatus

    orders = WorkOrder.objects.filter(
        site_id=schedule.site_id, line_id=schedule.line_id, status=WorkOrderStatus.RUNNING
    ).order_by("-started_at", "-pk")
    wo = orders.filter(part_id=schedule.plan.part_id).first() or orders.first()
    if wo is None:
        return None, None
    ops = list(Operation.objects.filter(work_order=wo).exclude(status=OperationStatus.DONE).order_by("sequence"))
    running = [o for o in ops if o.status == OperationStatus.RUNNING]
    named = [o for o in running if schedule.operation_name and o.name == schedule.operation_name]
    op = (named or running or ops or [None])[0]
    return wo, op


def ipqc_due_run(*, now=None) -> dict:
    """Periodic: create the checks that fell due, remind inspectors of due checks and supervisors of
    overdue ones. Idempotent (one check per schedule and due time; reminders have dedup keys)."""
    now = now or timezone.now()
    created = 0
    for sched in IpqcSchedule.objects.filter(is_active=True, next_due_at__lte=now).select_related(
        "plan", "line", "site"
    ):
        with transaction.atomic(), audit_context(reason=_("IPQC check due"), source="job"):
            s = IpqcSchedule.objects.select_for_update().get(pk=sched.pk)
            while s.next_due_at <= now:
                due = s.next_due_at
                if (
                    not Inspection.objects.filter(schedule=s, due_at=due).exists()
                    and s.plan.status == PlanStatus.APPROVED
                ):
                    work_order, operation = running_operation_on_line(s)
                    inspection_create(
                        stage=Stage.IPQC,
                        plan=s.plan,
                        schedule=s,
                        station=s.station,
                        work_order=work_order,
                        operation=operation,
                        due_at=due,
                        lot_size=s.pieces,
                        sample_size=s.pieces,
                        reason=_("patrol check due"),
                    )
                    created += 1
                s.next_due_at = due + datetime.timedelta(minutes=s.every_minutes)
            s.save()
    reminded = overdue = 0
    open_checks = Inspection.objects.filter(stage=Stage.IPQC, status__in=["pending", "in_progress"], due_at__lte=now)
    for insp in open_checks.select_related("station", "schedule", "site"):
        link = reverse("inspection:detail", args=[insp.code])
        inspectors = list(insp.station.inspectors.all()) if insp.station else []
        inspectors = inspectors or users_with_role(site=insp.site, roles=[Role.INSPECTOR])
        reminded += len(
            notification_send(
                recipients=inspectors,
                site=insp.site,
                link=link,
                dedup_key=f"insp-due-{insp.pk}",
                subject=LazyFormat(gettext_lazy("Patrol check %(c)s is due"), c=insp.code),
            )
        )
        grace = insp.schedule.grace_minutes if insp.schedule else 30
        if insp.due_at + datetime.timedelta(minutes=grace) < now:
            overdue += len(
                notification_send(
                    recipients=users_with_role(site=insp.site, roles=[Role.PRODUCTION_SUPERVISOR]),
                    site=insp.site,
                    link=link,
                    level="warn",
                    dedup_key=f"insp-overdue-{insp.pk}",
                    subject=LazyFormat(gettext_lazy("Patrol check %(c)s is overdue"), c=insp.code),
                )
            )
    return {"created": created, "reminded": reminded, "overdue": overdue}


def line_stop_correct(*, stop, correction: str, user) -> LineStop:
    """The supervisor records the correction; a re-check is created and must pass to clear the stop."""
    policy.check(user, "inspection.line_correction", stop.site)
    if not correction.strip():
        raise InspectionError(_("Describe the correction made before the re-check."))
    with transaction.atomic(), audit_context(user=user, reason=_("line stop correction")):
        stop = LineStop.objects.select_for_update().select_related("inspection__plan").get(pk=stop.pk)
        if stop.cleared_at:
            raise InspectionError(_("This line stop is already cleared."))
        if stop.recheck_id and stop.recheck.is_open:
            raise InspectionError(_("The re-check %(c)s is already waiting.") % {"c": stop.recheck.code})
        failed = stop.inspection
        recheck = inspection_create(
            stage=Stage.IPQC,
            plan=failed.plan,
            operation=failed.operation,
            work_order=failed.work_order,
            schedule=failed.schedule,
            station=failed.station,
            lot_size=failed.sample_size,
            sample_size=failed.sample_size,
            user=user,
            reason=_("re-check after correction"),
        )
        stop.correction, stop.corrected_by, stop.corrected_at, stop.recheck = correction, user, timezone.now(), recheck
        stop.save()
    return stop


# ---------------------------------------------------------------------------------------------------------
# Stations and IPQC schedules (set-up pages and the admin go through these)

_STATION_FIELDS = ("code", "name", "stages", "line")
_SCHEDULE_FIELDS = (
    "plan",
    "line",
    "operation_name",
    "station",
    "every_minutes",
    "pieces",
    "grace_minutes",
    "is_active",
)


def _normalise_stages(stages) -> str:
    if isinstance(stages, str):
        stages = stages.split(",")
    values = [str(s).strip().upper() for s in stages if str(s).strip()]
    unknown = [s for s in values if s not in Stage.values]
    if not values or unknown:
        raise InspectionError(
            _("Stages must be among %(known)s (comma separated).") % {"known": ", ".join(Stage.values)},
            field="stages",
        )
    return ",".join(dict.fromkeys(values))


def _check_line(site, line) -> None:
    from qms.core.models import EquipmentKind

    if line is not None and (line.site_id != site.pk or line.kind != EquipmentKind.LINE):
        raise InspectionError(
            _("%(line)s is not a production line of site %(site)s.") % {"line": line, "site": site.code}, field="line"
        )


def _check_station(site, *, code, name, stages, line, inspectors, exclude_pk=None) -> str:
    if not (code or "").strip() or not (name or "").strip():
        raise InspectionError(_("Give the station a code and a name."), field="code")
    # codes are unique across sites: look past the site scope (the message names only the code)
    if Station._base_manager.filter(code=code.strip()).exclude(pk=exclude_pk).exists():
        raise InspectionError(_("Station code %(c)s is already used.") % {"c": code.strip()}, field="code")
    _check_line(site, line)
    from qms.core.models import Membership

    if inspectors:
        allowed = set(
            Membership.objects.filter(
                site=site, is_active=True, role__in=policy.PERMISSIONS["inspection.perform"]
            ).values_list("user_id", flat=True)
        )
        strangers = [u for u in inspectors if u.pk not in allowed]
        if strangers:
            raise InspectionError(
                _("%(names)s may not inspect at site %(site)s.")
                % {"names": ", ".join(u.printed_name for u in strangers), "site": site.code},
                field="inspectors",
            )
    return _normalise_stages(stages)


def station_create(*, site, code: str, name: str, stages, user, line=None, inspectors=(), reason: str = "") -> Station:
    policy.check(user, "inspection.plan_edit", site)
    stages = _check_station(site, code=code, name=name, stages=stages, line=line, inspectors=inspectors)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("inspection station created")):
        station = Station.objects.create(site=site, code=code.strip(), name=name.strip(), stages=stages, line=line)
        station.inspectors.set(inspectors)
    return station


def station_update(*, station, user, reason: str, inspectors=None, **changes) -> Station:
    """Change a station (code, name, stages, line, inspectors) with the reason for the change."""
    policy.check(user, "inspection.plan_edit", station.site)
    unknown = set(changes) - set(_STATION_FIELDS)
    if unknown:
        raise InspectionError(_("A station has no field %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if not (reason or "").strip():
        raise InspectionError(_("Give the reason for this change; it goes into the audit trail."), field="reason")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Station.objects.select_for_update().get(pk=station.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.stages = _check_station(
            locked.site,
            code=locked.code,
            name=locked.name,
            stages=locked.stages,
            line=locked.line,
            inspectors=list(inspectors) if inspectors is not None else [],
            exclude_pk=locked.pk,
        )
        locked.code, locked.name = locked.code.strip(), locked.name.strip()
        locked.save(reason=reason)
        if inspectors is not None:
            locked.inspectors.set(inspectors)
    return locked


def _check_schedule(site, *, plan, line, station, every_minutes, pieces, grace_minutes) -> None:
    if plan is None or plan.site_id != site.pk or plan.stage != Stage.IPQC:
        raise InspectionError(_("Choose an IPQC plan of site %(site)s.") % {"site": site.code}, field="plan")
    if plan.status == PlanStatus.OBSOLETE:
        raise InspectionError(_("Plan %(p)s is obsolete; choose its current version.") % {"p": plan}, field="plan")
    if line is None:
        raise InspectionError(_("Choose the production line of the patrol."), field="line")
    _check_line(site, line)
    if station is not None and (station.site_id != site.pk or Stage.IPQC not in station.stages.split(",")):
        raise InspectionError(
            _("Station %(s)s is not an IPQC station of site %(site)s.") % {"s": station.code, "site": site.code},
            field="station",
        )
    if not 5 <= int(every_minutes or 0) <= 7 * 24 * 60:
        raise InspectionError(_("A patrol check is due every 5 minutes to 7 days."), field="every_minutes")
    if not 1 <= int(pieces or 0) <= 1000:
        raise InspectionError(_("A patrol check takes 1 to 1000 pieces."), field="pieces")
    if not 0 <= int(grace_minutes if grace_minutes is not None else -1) <= int(every_minutes):
        raise InspectionError(
            _("The check becomes overdue between 0 minutes and its interval after it is due."), field="grace_minutes"
        )


def ipqc_schedule_create(
    *,
    site,
    plan,
    line,
    user,
    operation_name: str = "",
    station=None,
    every_minutes: int = 120,
    pieces: int = 5,
    grace_minutes: int = 30,
    first_due_at=None,
    reason: str = "",
) -> IpqcSchedule:
    """ "Every N minutes, M pieces" on one line / operation; the first check falls due at `first_due_at`."""
    policy.check(user, "inspection.plan_edit", site)
    _check_schedule(
        site, plan=plan, line=line, station=station, every_minutes=every_minutes, pieces=pieces,
        grace_minutes=grace_minutes,
    )  # fmt: skip
    with transaction.atomic(), audit_context(user=user, reason=reason or _("IPQC schedule created")):
        return IpqcSchedule.objects.create(
            site=site,
            plan=plan,
            line=line,
            operation_name=(operation_name or "").strip(),
            station=station,
            every_minutes=every_minutes,
            pieces=pieces,
            grace_minutes=grace_minutes,
            next_due_at=first_due_at or timezone.now() + datetime.timedelta(minutes=every_minutes),
        )


def ipqc_schedule_update(*, schedule, user, reason: str, **changes) -> IpqcSchedule:
    """Change a schedule (plan, line, operation, station, interval, pieces, grace, active) with a reason.
    A shorter interval brings the next check forward; it is never pushed later than one new interval."""
    policy.check(user, "inspection.plan_edit", schedule.site)
    unknown = set(changes) - set(_SCHEDULE_FIELDS)
    if unknown:
        raise InspectionError(_("An IPQC schedule has no field %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if not (reason or "").strip():
        raise InspectionError(_("Give the reason for this change; it goes into the audit trail."), field="reason")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = IpqcSchedule.objects.select_for_update().get(pk=schedule.pk)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.operation_name = (locked.operation_name or "").strip()
        _check_schedule(
            locked.site, plan=locked.plan, line=locked.line, station=locked.station,
            every_minutes=locked.every_minutes, pieces=locked.pieces, grace_minutes=locked.grace_minutes,
        )  # fmt: skip
        latest = timezone.now() + datetime.timedelta(minutes=locked.every_minutes)
        if locked.next_due_at > latest:
            locked.next_due_at = latest
        locked.save(reason=reason)
    return locked


def line_stop_request(*, site, line_code: str, reason: str, user) -> LineStop:
    """Stop a line on request (an alarm rule: the line's yield fell): the stop cites the line's latest
    failed patrol check (else its latest check) and is cleared like any other, by a correction and a
    passing re-check. A line already stopped is not stopped twice."""
    from qms.core.models import Equipment

    line = Equipment.objects.filter(site=site, code=line_code).first()
    if line is None:
        raise InspectionError(_("There is no line %(line)s at this site.") % {"line": line_code})
    with transaction.atomic(), audit_context(user=user, reason=reason):
        open_stop = LineStop.objects.select_for_update().filter(line=line, cleared_at__isnull=True).first()
        if open_stop is not None:
            return open_stop
        checks = (
            Inspection.objects.filter(site=site, stage=Stage.IPQC)
            .filter(Q(schedule__line=line) | Q(schedule=None, work_order__line=line))
            .exclude(completed_at=None)
        )
        check = (
            checks.filter(status=InspectionStatus.REJECTED).order_by("-completed_at").first()
            or checks.order_by("-completed_at").first()
        )
        if check is None:
            raise InspectionError(
                _("Line %(line)s has no patrol check to cite; stop it by hand.") % {"line": line_code}
            )
        stop = LineStop.objects.create(
            site=site, line=line, operation=check.operation, work_order=check.work_order, inspection=check
        )
        notification_send(
            recipients=users_with_role(site=site, roles=[Role.PRODUCTION_SUPERVISOR, Role.QUALITY_MANAGER]),
            site=site,
            level="alarm",
            subject=LazyFormat(gettext_lazy("LINE STOP requested on %(line)s: %(why)s"), line=line_code, why=reason),
            link=reverse("inspection:line_stops"),
            dedup_key=f"insp-linestop-request-{stop.pk}",
        )
    return stop
