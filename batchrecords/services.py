"""Every write of the batchrecords app: master batch records, executed batch records (steps, values,
dispensing, yield), deviations and the review by exception. One door per decision (`@policy.door`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.signatures import credential_check_owner, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import clean_code, create_with_code
from qms.core.errors import DomainError
from qms.core.i18n import LazyFormat
from qms.core.numbers import parse_decimal
from qms.core.selectors import users_with_role
from qms.core.services import clean_text as _text
from qms.core.services import notification_send, require_transition

from .models import (
    BLOCKING_CLASSES,
    DEVIATION_OPEN,
    Deviation,
    DeviationClass,
    DeviationLot,
    DeviationSource,
    DeviationStatus,
    EbrDispense,
    EbrStatus,
    EbrStep,
    EbrValue,
    ExecutedBatchRecord,
    LotImpact,
    MasterBatchRecord,
    MbrMaterial,
    MbrParameter,
    MbrStatus,
    MbrStep,
    ParameterKind,
    StepStatus,
    in_limits,
    late_entry_minutes,
)


class BatchRecordError(DomainError):
    pass


def _require(obj, method_name: str, message) -> None:
    require_transition(obj, method_name, message, error=BatchRecordError)


def mbr_url(mbr) -> str:
    return reverse("batchrecords:mbr_detail", args=[mbr.code])


def ebr_url(ebr) -> str:
    return reverse("batchrecords:ebr_detail", args=[ebr.code])


def deviation_url(dev) -> str:
    return reverse("batchrecords:deviation_detail", args=[dev.code])


def _limit(raw, label):
    if raw in (None, ""):
        return None
    return parse_decimal(raw, label=label, max_digits=16, decimal_places=6)


def _check_limits(low, high) -> None:
    if low is not None and high is not None and low > high:
        raise BatchRecordError(_("The lower limit is above the upper limit."))


# ------------------------------------------------------------------------------------ master batch record


def effective_mbr(*, site, part) -> MasterBatchRecord | None:
    return MasterBatchRecord.objects.filter(site=site, part=part, status=MbrStatus.EFFECTIVE).first()


def mbr_create(
    *,
    site,
    part,
    title: str,
    theoretical_yield,
    user,
    batch_size=None,
    unit: str = "",
    yield_min_percent="95",
    yield_max_percent="102",
    notes: str = "",
    document=None,
) -> MasterBatchRecord:
    """A new master batch record for `part` at `site`, in draft; its version follows the product's last.
    `document`: the controlled document (batch manufacturing instruction) it implements, of the same site."""
    policy.check(user, "batch.mbr_edit", site)
    if document is not None and document.site_id != site.pk:
        raise BatchRecordError(_("The controlled document belongs to another site."))
    title = _text(title, 200)
    if not title:
        raise BatchRecordError(_("Give the master batch record a title."))
    theoretical = parse_decimal(theoretical_yield, label=_("theoretical yield"), positive=True)
    low = parse_decimal(yield_min_percent, label=_("lowest acceptable yield (%)"), max_digits=6, decimal_places=2)
    high = parse_decimal(yield_max_percent, label=_("highest acceptable yield (%)"), max_digits=6, decimal_places=2)
    if low < 0 or low > high:
        raise BatchRecordError(_("The yield limits must satisfy 0 ≤ lowest ≤ highest."))
    size = parse_decimal(batch_size, label=_("batch size"), minimum=0) if batch_size not in (None, "") else theoretical
    with transaction.atomic(), audit_context(user=user, reason=_("master batch record created")):
        last = MasterBatchRecord._base_manager.filter(site=site, part=part).aggregate(v=Max("version"))["v"] or 0
        if MasterBatchRecord._base_manager.filter(site=site, part=part, status=MbrStatus.DRAFT).exists():
            raise BatchRecordError(
                _("Product %(part)s already has a draft master batch record: finish or approve it first.")
                % {"part": part.number}
            )
        return create_with_code(
            MasterBatchRecord,
            "MBR",
            site=site,
            part=part,
            version=last + 1,
            title=title,
            batch_size=size,
            unit=_text(unit, 20) or part.unit,
            theoretical_yield=theoretical,
            yield_min_percent=low,
            yield_max_percent=high,
            notes=notes or "",
            document=document,
            created_by=user,
            previous=effective_mbr(site=site, part=part),
        )


def _editable(mbr: MasterBatchRecord, user) -> MasterBatchRecord:
    policy.check(user, "batch.mbr_edit", mbr.site)
    locked = MasterBatchRecord.objects.select_for_update().get(pk=mbr.pk)
    if locked.status != MbrStatus.DRAFT:
        raise BatchRecordError(
            _("Master batch record %(code)s is %(st)s: only a draft can be changed. Start a new version.")
            % {"code": locked.code, "st": locked.get_status_display()}
        )
    return locked


def mbr_step_add(*, mbr, title: str, user, instructions: str = "", is_critical: bool = False) -> MbrStep:
    title = _text(title, 200)
    if not title:
        raise BatchRecordError(_("Give the step a title."))
    with transaction.atomic(), audit_context(user=user, reason=_("step added")):
        locked = _editable(mbr, user)
        seq = (locked.steps.aggregate(s=Max("sequence"))["s"] or 0) + 10
        return MbrStep.objects.create(
            mbr=locked, sequence=seq, title=title, instructions=instructions or "", is_critical=bool(is_critical)
        )


def mbr_parameter_add(
    *,
    step,
    name: str,
    user,
    kind: str = ParameterKind.PARAMETER,
    unit: str = "",
    lower_limit=None,
    upper_limit=None,
    characteristic=None,
) -> MbrParameter:
    """A process parameter or an in-process control (IPC) of a step, with its limits. An IPC may follow an
    inspection characteristic of the same product: its limits and unit are taken when none are given."""
    name = _text(name, 120)
    if kind not in ParameterKind.values:
        raise BatchRecordError(_("Unknown kind of parameter."))
    low = _limit(lower_limit, _("lower limit"))
    high = _limit(upper_limit, _("upper limit"))
    if characteristic is not None:
        if characteristic.plan.site_id != step.mbr.site_id:
            raise BatchRecordError(_("The characteristic belongs to another site's inspection plan."))
        name = name or characteristic.name[:120]
        unit = unit or characteristic.unit
        if low is None and high is None:
            low, high = characteristic.lower_limit, characteristic.upper_limit
    if not name:
        raise BatchRecordError(_("Name the parameter."))
    if low is None and high is None:
        raise BatchRecordError(_("Give at least one limit: a value is judged against its limits as it is entered."))
    _check_limits(low, high)
    with transaction.atomic(), audit_context(user=user, reason=_("parameter added")):
        mbr = _editable(step.mbr, user)
        return MbrParameter.objects.create(
            mbr=mbr,
            step=step,
            name=name,
            kind=kind,
            unit=_text(unit, 20),
            lower_limit=low,
            upper_limit=high,
            characteristic=characteristic,
        )


def mbr_material_add(*, mbr, part, quantity, user, tolerance_percent="0", unit: str = "", step=None) -> MbrMaterial:
    qty = parse_decimal(quantity, label=_("quantity"), positive=True)
    tol = parse_decimal(tolerance_percent or "0", label=_("tolerance (± %)"), max_digits=6, decimal_places=2)
    if tol < 0 or tol > 100:
        raise BatchRecordError(_("The tolerance is a percentage between 0 and 100."))
    if part.pk == mbr.part_id:
        raise BatchRecordError(_("A product cannot be a material of its own batch."))
    if step is not None and step.mbr_id != mbr.pk:
        raise BatchRecordError(_("The step belongs to another master batch record."))
    with transaction.atomic(), audit_context(user=user, reason=_("material added")):
        locked = _editable(mbr, user)
        return MbrMaterial.objects.create(
            mbr=locked, part=part, quantity=qty, tolerance_percent=tol, unit=_text(unit, 20) or part.unit, step=step
        )


def mbr_new_version(*, mbr, user) -> MasterBatchRecord:
    """A new draft copied from `mbr` (steps, parameters, materials); approving it supersedes `mbr`."""
    policy.check(user, "batch.mbr_edit", mbr.site)
    if mbr.status == MbrStatus.DRAFT:
        raise BatchRecordError(_("This version is still a draft: change it directly."))
    with transaction.atomic(), audit_context(user=user, reason=_("new version of the master batch record")):
        new = mbr_create(
            site=mbr.site,
            part=mbr.part,
            title=mbr.title,
            theoretical_yield=mbr.theoretical_yield,
            user=user,
            batch_size=mbr.batch_size,
            unit=mbr.unit,
            yield_min_percent=mbr.yield_min_percent,
            yield_max_percent=mbr.yield_max_percent,
            notes=mbr.notes,
            document=mbr.document,
        )
        steps = {}
        for step in mbr.steps.order_by("sequence"):
            steps[step.pk] = MbrStep.objects.create(
                mbr=new,
                sequence=step.sequence,
                title=step.title,
                instructions=step.instructions,
                is_critical=step.is_critical,
            )
        for p in mbr.parameters.order_by("pk"):
            MbrParameter.objects.create(
                mbr=new,
                step=steps[p.step_id],
                name=p.name,
                kind=p.kind,
                unit=p.unit,
                lower_limit=p.lower_limit,
                upper_limit=p.upper_limit,
                characteristic_id=p.characteristic_id,
            )
        for m in mbr.materials.order_by("pk"):
            MbrMaterial.objects.create(
                mbr=new,
                part_id=m.part_id,
                quantity=m.quantity,
                unit=m.unit,
                tolerance_percent=m.tolerance_percent,
                step=steps.get(m.step_id),
            )
    return new


@policy.door("mbr.approve")
def mbr_approve(*, mbr, user, credential, reason: str = "") -> MasterBatchRecord:
    """E-signed approval (meaning "approved") by someone with the authority who did not author the master
    batch record. It becomes the product's effective version; the one in force is superseded."""
    credential_check_owner(user=user, credential=credential)
    reason = reason or _("master batch record approved")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = MasterBatchRecord.objects.select_for_update().select_related("site", "part").get(pk=mbr.pk)
        policy.check_decide(
            user,
            "mbr.approve",
            locked.site,
            involved={"authored": locked.created_by_id},
            what=_("master batch record %(code)s") % {"code": locked.code},
        )
        _require(locked, "approve", _("Only a draft master batch record can be approved."))
        if not locked.steps.exists():
            raise BatchRecordError(_("Add at least one step before approving the master batch record."))
        current = (
            MasterBatchRecord.objects.select_for_update()
            .filter(site=locked.site, part=locked.part, status=MbrStatus.EFFECTIVE)
            .first()
        )
        if current is not None:
            current.supersede()
            current.save(reason=_("superseded by %(code)s") % {"code": locked.code})
        locked.approve(user=user)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="approved", reason=reason, role="QA")
    return locked


# ---------------------------------------------------------------------------------- executed batch record


def ebr_create(*, work_order, user, mbr=None, lot_code: str = "", lot_quantity=None) -> ExecutedBatchRecord:
    """The batch record of a running work order, from the product's effective master batch record: its
    steps are copied and the batch lot (in quarantine) is recorded so materials can be dispensed into it."""
    from traceability.models import WorkOrder, WorkOrderStatus
    from traceability.services import lot_produce

    policy.check(user, "batch.execute", work_order.site)
    lot_code = clean_code(lot_code, label=_("batch lot"), max_length=60) if _text(lot_code) else ""
    with transaction.atomic(), audit_context(user=user, reason=_("batch record started")):
        wo = WorkOrder.objects.select_for_update().select_related("site", "part").get(pk=work_order.pk)
        if ExecutedBatchRecord._base_manager.filter(work_order=wo).exists():
            raise BatchRecordError(_("Work order %(wo)s already has its batch record.") % {"wo": wo.code})
        if wo.status != WorkOrderStatus.RUNNING:
            raise BatchRecordError(
                _("Work order %(wo)s is %(st)s; its batch record starts when it runs.")
                % {"wo": wo.code, "st": wo.get_status_display()}
            )
        mbr = mbr or effective_mbr(site=wo.site, part=wo.part)
        if mbr is None or mbr.status != MbrStatus.EFFECTIVE:
            raise BatchRecordError(
                _("Product %(part)s has no effective master batch record at this site: approve one first.")
                % {"part": wo.part.number}
            )
        if mbr.site_id != wo.site_id or mbr.part_id != wo.part_id:
            raise BatchRecordError(_("The master batch record is for another product or site."))
        qty = (
            parse_decimal(lot_quantity, label=_("batch quantity"), positive=True)
            if lot_quantity not in (None, "")
            else (wo.quantity_planned or mbr.theoretical_yield)
        )
        lot = lot_produce(work_order=wo, quantity=qty, user=user, code=lot_code or None)
        ebr = create_with_code(
            ExecutedBatchRecord, "EBR", site=wo.site, mbr=mbr, work_order=wo, lot=lot, created_by=user
        )
        EbrStep.objects.bulk_create(
            [
                EbrStep(
                    ebr=ebr,
                    mbr_step=s,
                    sequence=s.sequence,
                    title=s.title,
                    instructions=s.instructions,
                    is_critical=s.is_critical,
                )
                for s in mbr.steps.order_by("sequence")
            ]
        )
    return ebr


def ebr_create_for_work_order(*, work_order_id: int) -> ExecutedBatchRecord | None:
    """After a work order starts: its batch record, when the product has an effective master batch record
    and the order has none yet. Recorded under the system actor; never raises (the run has started)."""
    from qms.core.services import system_actor
    from traceability.models import WorkOrder

    wo = WorkOrder.objects.select_related("site", "part").filter(pk=work_order_id).first()
    if wo is None or ExecutedBatchRecord._base_manager.filter(work_order=wo).exists():
        return None
    if effective_mbr(site=wo.site, part=wo.part) is None:
        return None
    try:
        return ebr_create(work_order=wo, user=system_actor())
    except DomainError:
        return None


def _lock_ebr(ebr) -> ExecutedBatchRecord:
    locked = (
        ExecutedBatchRecord.objects.select_for_update(of=("self",)).select_related("site", "mbr", "lot").get(pk=ebr.pk)
    )
    if locked.status != EbrStatus.IN_PROGRESS:
        raise BatchRecordError(
            _("Batch record %(code)s is %(st)s: entries are closed.")
            % {"code": locked.code, "st": locked.get_status_display()}
        )
    return locked


def _late(performed_at, now, late_reason: str):
    """(is_late, reason) for an entry claiming `performed_at`; refuses a future time and a late entry
    without its reason."""
    if performed_at > now + timedelta(minutes=1):
        raise BatchRecordError(_("The time performed is in the future. Enter the time the step was really done."))
    late = now - performed_at > timedelta(minutes=late_entry_minutes())
    if late and not late_reason:
        raise BatchRecordError(
            _(
                "This entry is late (more than %(n)s minutes after the time performed, or back-dated): "
                "give the reason for the late entry."
            )
            % {"n": late_entry_minutes()}
        )
    return late, late_reason if late else ""


def ebr_step_perform(
    *,
    step,
    user,
    credential,
    values: dict | None = None,
    performed_at=None,
    late_reason: str = "",
    comment: str = "",
) -> EbrStep:
    """The operator records a step with its parameter and IPC values and e-signs it (meaning "authored").
    Every value is judged against its limits as it is entered; out-of-limit values are flagged and a
    deviation is raised on the batch at once. An entry more than N minutes after the time performed (or
    back-dated) is a late entry and needs its reason. Earlier steps must be performed first."""
    credential_check_owner(user=user, credential=credential)
    now = timezone.now()
    performed_at = performed_at or now
    late, late_reason = _late(performed_at, now, _text(late_reason))
    values = values or {}
    with transaction.atomic(), audit_context(user=user, reason=_("step performed")):
        locked = EbrStep.objects.select_for_update().get(pk=step.pk)
        ebr = _lock_ebr(locked.ebr)
        policy.check(user, "batch.execute", ebr.site)
        _require(locked, "perform", _("Step %(n)s is already performed.") % {"n": locked.sequence})
        pending = ebr.steps.filter(sequence__lt=locked.sequence, status=StepStatus.PENDING).order_by("sequence")
        if pending.exists():
            first = pending.first()
            raise BatchRecordError(
                _("Step %(n)s %(t)s is not performed yet: steps are recorded in order.")
                % {"n": first.sequence, "t": first.title}
            )
        if performed_at < ebr.created_at - timedelta(minutes=late_entry_minutes()) and not late_reason:
            raise BatchRecordError(_("The time performed is before the batch record started."))
        params = list(MbrParameter.objects.filter(step_id=locked.mbr_step_id).order_by("pk"))
        rows, missing, out = [], [], []
        for p in params:
            raw = values.get(p.pk, values.get(str(p.pk)))
            if raw in (None, ""):
                missing.append(p.name)
                continue
            value = parse_decimal(raw, label=p.name, max_digits=16, decimal_places=6)
            ok = in_limits(value, p.lower_limit, p.upper_limit)
            row = EbrValue(
                ebr=ebr,
                step=locked,
                parameter=p,
                name=p.name,
                kind=p.kind,
                unit=p.unit,
                lower_limit=p.lower_limit,
                upper_limit=p.upper_limit,
                value=value,
                in_limits=ok,
                late_reason=late_reason,
                entered_by=user,
                entered_at=now,
            )
            rows.append(row)
            if not ok:
                out.append(row)
        if missing:
            raise BatchRecordError(_("Enter every value of the step: %(names)s.") % {"names": ", ".join(missing)})
        locked.perform(user=user, performed_at=performed_at, late=late, late_reason=late_reason, comment=_text(comment))
        locked.save(reason=late_reason or _("step performed"))
        for row in rows:
            row.save()
        if out:
            dev = _deviation_for_values(ebr=ebr, step=locked, rows=out, user=user)
            for row in out:
                row.deviation = dev
                row.save(reason=_("deviation %(code)s raised") % {"code": dev.code})
        signature_record(
            credential=credential,
            instance=locked,
            meaning="authored",
            reason=late_reason or comment or "",
            role=_("operator"),
        )
    return locked


def _deviation_for_values(*, ebr, step, rows, user) -> Deviation:
    ipc = any(r.kind == ParameterKind.IPC for r in rows)
    text = "; ".join(f"{r.name} = {r.value_text} {r.unit} ({_('limits')} {r.limits_text()})".strip() for r in rows)
    return deviation_raise(
        site=ebr.site,
        title=(_("Out of limits in %(ebr)s step %(n)s: %(names)s") % {
            "ebr": ebr.code, "n": step.sequence, "names": ", ".join(r.name for r in rows)
        })[:200],
        description=text,
        source=DeviationSource.IPC if ipc else DeviationSource.PARAMETER,
        source_reference=f"{ebr.code}/{step.sequence}",
        ebr=ebr,
        lots=[ebr.lot] if ebr.lot_id else [],
        user=user,
        automatic=True,
    )  # fmt: skip


def step_involvement(step) -> dict:
    return {"executed": {step.performed_by_id} - {None}}


@policy.door("ebr.step_verify")
def ebr_step_verify(*, step, user, credential, reason: str = "") -> EbrStep:
    """Second-person verification of a critical step (meaning "verified"), never by its performer."""
    credential_check_owner(user=user, credential=credential)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("critical step verified")):
        locked = EbrStep.objects.select_for_update().get(pk=step.pk)
        ebr = _lock_ebr(locked.ebr)
        policy.check_decide(
            user,
            "ebr.step_verify",
            ebr.site,
            involved=step_involvement(locked),
            what=_("step %(n)s of %(code)s") % {"n": locked.sequence, "code": ebr.code},
        )
        if not locked.is_critical:
            raise BatchRecordError(
                _("Step %(n)s is not a critical step: it needs no verification.") % {"n": locked.sequence}
            )
        _require(locked, "verify", _("Step %(n)s must be performed, and not yet verified.") % {"n": locked.sequence})
        locked.verify(user=user)
        locked.save(reason=reason or _("critical step verified"))
        signature_record(
            credential=credential, instance=locked, meaning="verified", reason=reason, role=_("second person")
        )
    return locked


def _dispensed_total(ebr, material) -> Decimal:
    return EbrDispense.objects.filter(ebr=ebr, material=material).aggregate(t=Sum("quantity"))["t"] or Decimal(0)


def ebr_dispense(*, ebr, material, lot_code: str, quantity, user) -> EbrDispense:
    """Dispense a material by scanning its lot: the lot must be of the material's part and pass the
    consumption gates (released, not on hold, not expired, this site, enough left); the genealogy link
    into the batch lot is recorded. A total above the master's quantity + tolerance is flagged and raises
    a deviation."""
    from traceability.models import Lot
    from traceability.services import lot_consume

    code = clean_code(lot_code, label=_("lot"), max_length=60)
    qty = parse_decimal(quantity, label=_("quantity"), positive=True)
    with transaction.atomic(), audit_context(user=user, reason=_("material dispensed")):
        locked = _lock_ebr(ebr)
        policy.check(user, "batch.execute", locked.site)
        if material.mbr_id != locked.mbr_id:
            raise BatchRecordError(_("This material is not in the batch record's master."))
        if locked.lot_id is None:
            raise BatchRecordError(_("The batch lot is not recorded yet."))
        lot = Lot.objects.filter(code=code, site=locked.site).select_related("part", "site").first()
        if lot is None:
            raise BatchRecordError(_("No lot %(code)s at this site. Scan the label of the lot again.") % {"code": code})
        if lot.part_id != material.part_id:
            raise BatchRecordError(
                _("Lot %(lot)s is %(part)s, not the material %(mat)s: wrong material, nothing was dispensed.")
                % {"lot": lot.code, "part": lot.part.number, "mat": material.part.number}
            )
        total = _dispensed_total(locked, material) + qty
        ok = total <= material.high
        link = lot_consume(lot=lot, into=locked.lot, quantity=qty, user=user, work_order=locked.work_order)
        row = EbrDispense.objects.create(
            ebr=locked, material=material, lot=lot, quantity=qty, in_tolerance=ok, link=link, dispensed_by=user
        )
        if not ok:
            dev = _deviation_for_material(ebr=locked, material=material, total=total, user=user)
            row.deviation = dev
            row.save(reason=_("deviation %(code)s raised") % {"code": dev.code})
    return row


def _deviation_for_material(*, ebr, material, total, user) -> Deviation:
    return deviation_raise(
        site=ebr.site,
        title=(_("Dispensed quantity out of tolerance in %(ebr)s: %(mat)s") % {
            "ebr": ebr.code, "mat": material.part.number
        })[:200],
        description=_("%(total)s %(unit)s dispensed; the master asks %(qty)s %(unit)s ± %(tol)s %% (%(low)s – %(high)s).")
        % {
            "total": total, "unit": material.unit, "qty": material.quantity, "tol": material.tolerance_percent,
            "low": material.low, "high": material.high,
        },
        source=DeviationSource.MATERIAL,
        source_reference=f"{ebr.code}/{material.part.number}",
        ebr=ebr,
        lots=[ebr.lot] if ebr.lot_id else [],
        user=user,
        automatic=True,
    )  # fmt: skip


def ebr_yield_record(*, ebr, actual_yield, user, note: str = "") -> ExecutedBatchRecord:
    """Yield reconciliation: the actual yield against the theoretical yield and its limits. Out of limits it
    is flagged and raises a deviation."""
    actual = parse_decimal(actual_yield, label=_("actual yield"), minimum=0)
    with transaction.atomic(), audit_context(user=user, reason=_("yield reconciled")):
        locked = _lock_ebr(ebr)
        policy.check(user, "batch.execute", locked.site)
        if locked.actual_yield is not None:
            raise BatchRecordError(_("The yield of %(code)s is already reconciled.") % {"code": locked.code})
        mbr = locked.mbr
        percent = (actual * Decimal(100) / mbr.theoretical_yield).quantize(Decimal("0.01"))
        ok = mbr.yield_min_percent <= percent <= mbr.yield_max_percent
        if not ok and not _text(note):
            raise BatchRecordError(
                _("The yield %(p)s %% is outside %(low)s – %(high)s %%: explain it in the reconciliation note.")
                % {"p": percent, "low": mbr.yield_min_percent, "high": mbr.yield_max_percent}
            )
        locked.actual_yield = actual
        locked.yield_percent = percent
        locked.yield_in_limits = ok
        locked.yield_note = _text(note)
        locked.yield_by = user
        locked.yield_at = timezone.now()
        locked.save(reason=_("yield reconciled"))
        if not ok:
            deviation_raise(
                site=locked.site,
                title=(_("Yield out of limits in %(ebr)s: %(p)s %%") % {"ebr": locked.code, "p": percent})[:200],
                description=_("Actual %(a)s of theoretical %(t)s %(u)s (limits %(low)s – %(high)s %%). %(note)s")
                % {
                    "a": actual,
                    "t": mbr.theoretical_yield,
                    "u": mbr.unit,
                    "low": mbr.yield_min_percent,
                    "high": mbr.yield_max_percent,
                    "note": locked.yield_note,
                },
                source=DeviationSource.YIELD,
                source_reference=locked.code,
                ebr=locked,
                lots=[locked.lot] if locked.lot_id else [],
                user=user,
                automatic=True,
            )
    return locked


def ebr_completion_problems(ebr) -> list[str]:
    problems = []
    for step in ebr.steps.order_by("sequence"):
        if step.status == StepStatus.PENDING:
            problems.append(_("Step %(n)s %(t)s is not performed.") % {"n": step.sequence, "t": step.title})
        elif step.needs_verification:
            problems.append(
                _("Critical step %(n)s %(t)s is not verified by a second person.")
                % {"n": step.sequence, "t": step.title}
            )
    for material in ebr.mbr.materials.select_related("part"):
        if _dispensed_total(ebr, material) <= 0:
            problems.append(_("Material %(m)s is not dispensed.") % {"m": material.part.number})
    if ebr.actual_yield is None:
        problems.append(_("The yield is not reconciled."))
    return problems


def ebr_complete(*, ebr, user) -> ExecutedBatchRecord:
    """Close the entries: every step performed (critical ones verified), every material dispensed, the yield
    reconciled. A dispensed total below its tolerance raises its deviation now. QA is told to review."""
    with transaction.atomic(), audit_context(user=user, reason=_("batch record completed")):
        locked = _lock_ebr(ebr)
        policy.check(user, "batch.execute", locked.site)
        problems = ebr_completion_problems(locked)
        if problems:
            raise BatchRecordError(_("The batch record cannot be completed:") + " " + " ".join(problems))
        for material in locked.mbr.materials.select_related("part"):
            total = _dispensed_total(locked, material)
            if (
                total < material.low
                and not EbrDispense.objects.filter(ebr=locked, material=material, deviation__isnull=False).exists()
            ):
                dev = _deviation_for_material(ebr=locked, material=material, total=total, user=user)
                last = EbrDispense.objects.filter(ebr=locked, material=material).order_by("-pk").first()
                last.in_tolerance = False
                last.deviation = dev
                last.save(reason=_("deviation %(code)s raised") % {"code": dev.code})
        locked.complete()
        locked.save(reason=_("batch record completed"))
        reviewers = [
            u
            for u in users_with_role(site=locked.site, roles=policy.decision_roles("ebr.review", locked.site))
            if u.pk not in review_involvement(locked)["executed"]
        ]
        code, site, url = locked.code, locked.site, ebr_url(locked)
        transaction.on_commit(
            lambda: notification_send(
                recipients=reviewers,
                subject=LazyFormat(gettext_lazy("Batch record %(code)s awaits your review"), code=code),
                link=url,
                dedup_key=f"ebr-review:{code}",
                site=site,
            )
        )
    return locked


def review_involvement(ebr) -> dict:
    """Everyone who performed, verified or dispensed in the batch record, or entered its yield."""
    executed = set(ebr.steps.exclude(performed_by=None).values_list("performed_by_id", flat=True))
    executed |= set(ebr.steps.exclude(verified_by=None).values_list("verified_by_id", flat=True))
    executed |= set(EbrDispense.objects.filter(ebr=ebr).values_list("dispensed_by_id", flat=True))
    if ebr.yield_by_id:
        executed.add(ebr.yield_by_id)
    return {"executed": executed - {None}}


@policy.door("ebr.review")
def ebr_review_sign(*, ebr, user, credential, comment: str = "") -> ExecutedBatchRecord:
    """Review by exception: QA signs (meaning "reviewed") the completed batch record after seeing its
    exceptions; never someone who executed it; every deviation raised on it must be approved first."""
    credential_check_owner(user=user, credential=credential)
    reason = comment or _("batch record reviewed by exception")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = ExecutedBatchRecord.objects.select_for_update().select_related("site").get(pk=ebr.pk)
        policy.check_decide(
            user,
            "ebr.review",
            locked.site,
            involved=review_involvement(locked),
            what=_("batch record %(code)s") % {"code": locked.code},
        )
        _require(locked, "review", _("Only a completed batch record awaiting review can be reviewed."))
        open_devs = list(locked.deviations.filter(status__in=DEVIATION_OPEN).values_list("code", flat=True))
        if open_devs:
            raise BatchRecordError(
                _("Deviations %(codes)s of this batch record are not approved yet.") % {"codes": ", ".join(open_devs)}
            )
        locked.review(user=user, comment=_text(comment))
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="reviewed", reason=reason, role="QA")
    return locked


# --------------------------------------------------------------------------------------------- deviations


def deviation_raise(
    *,
    site,
    title: str,
    user,
    description: str = "",
    classification: str = DeviationClass.MINOR,
    source: str = DeviationSource.MANUAL,
    source_reference: str = "",
    ebr=None,
    lots=(),
    immediate_action: str = "",
    automatic: bool = False,
) -> Deviation:
    """Raise a deviation (by hand, or automatically from an out-of-limit entry) with the lots it may affect."""
    if not automatic:
        policy.check(user, "deviation.raise", site)
    title = _text(title, 200)
    if not title:
        raise BatchRecordError(_("Give the deviation a short title."))
    if classification not in DeviationClass.values:
        raise BatchRecordError(_("Classify the deviation as minor, major or critical."))
    if source not in DeviationSource.values:
        raise BatchRecordError(_("Unknown source of the deviation."))
    if ebr is not None and ebr.site_id != site.pk:
        raise BatchRecordError(_("%(code)s belongs to another site.") % {"code": ebr.code})
    lots = [lot for lot in lots if lot is not None]
    for lot in lots:
        if lot.site_id != site.pk:
            raise BatchRecordError(_("Lot %(lot)s belongs to another site.") % {"lot": lot.code})
    with transaction.atomic(), audit_context(user=user, reason=_("deviation raised")):
        dev = create_with_code(
            Deviation,
            "DEV",
            site=site,
            title=title,
            description=_text(description),
            classification=classification,
            source=source,
            source_reference=_text(source_reference, 200),
            ebr=ebr,
            immediate_action=_text(immediate_action),
            raised_by=user,
        )
        seen = set()
        for lot in lots:
            if lot.pk not in seen:
                seen.add(lot.pk)
                DeviationLot.objects.create(deviation=dev, lot=lot)
        recipients = [u for u in users_with_role(site=site, roles=policy.PERMISSIONS["deviation.manage"]) if u != user]
        code, url = dev.code, deviation_url(dev)
        transaction.on_commit(
            lambda: notification_send(
                recipients=recipients,
                subject=LazyFormat(gettext_lazy("Deviation %(code)s raised: %(title)s"), code=code, title=title),
                link=url,
                dedup_key=f"deviation-raised:{code}",
                site=site,
                level="warning",
            )
        )
    return dev


def _editable_deviation(deviation, user) -> Deviation:
    policy.check(user, "deviation.manage", deviation.site)
    locked = Deviation.objects.select_for_update().select_related("site").get(pk=deviation.pk)
    if locked.status not in DEVIATION_OPEN:
        raise BatchRecordError(
            _("Deviation %(code)s is %(st)s and can no longer be changed.")
            % {"code": locked.code, "st": locked.get_status_display()}
        )
    return locked


def deviation_lot_add(*, deviation, lot, user, impact: str = LotImpact.SUSPECTED, note: str = "") -> DeviationLot:
    if impact not in LotImpact.values:
        raise BatchRecordError(_("Unknown impact."))
    with transaction.atomic(), audit_context(user=user, reason=_("affected lot added")):
        locked = _editable_deviation(deviation, user)
        if lot.site_id != locked.site_id:
            raise BatchRecordError(_("Lot %(lot)s belongs to another site.") % {"lot": lot.code})
        if locked.affected_lots.filter(lot=lot).exists():
            raise BatchRecordError(_("Lot %(lot)s is already listed.") % {"lot": lot.code})
        return DeviationLot.objects.create(deviation=locked, lot=lot, impact=impact, note=_text(note, 300))


def deviation_assess(
    *,
    deviation,
    user,
    classification: str,
    impact_assessment: str,
    root_cause: str = "",
    lot_impacts: dict | None = None,
    capa_not_needed_reason: str = "",
    reason: str = "",
) -> Deviation:
    """Classify the deviation and record its impact assessment, lot by lot (affected / not affected)."""
    if classification not in DeviationClass.values:
        raise BatchRecordError(_("Classify the deviation as minor, major or critical."))
    if not _text(impact_assessment):
        raise BatchRecordError(_("Describe the impact on product quality and the affected lots."))
    lot_impacts = lot_impacts or {}
    with transaction.atomic(), audit_context(user=user, reason=reason or _("impact assessed")):
        locked = _editable_deviation(deviation, user)
        rows = {row.pk: row for row in locked.affected_lots.select_for_update()}
        for row_id, (impact, note) in lot_impacts.items():
            row = rows.get(int(row_id))
            if row is None:
                raise BatchRecordError(_("That lot is not listed on this deviation."))
            if impact not in LotImpact.values:
                raise BatchRecordError(_("Unknown impact."))
            if row.impact != impact or row.note != _text(note, 300):
                row.impact, row.note = impact, _text(note, 300)
                row.save(reason=reason or _("impact assessed"))
        locked.classification = classification
        locked.impact_assessment = _text(impact_assessment)
        locked.root_cause = _text(root_cause)
        locked.capa_not_needed_reason = _text(capa_not_needed_reason)
        locked.assess(user=user)
        locked.save(reason=reason or _("impact assessed"))
    return locked


def deviation_capa_open(*, deviation, user, owner=None, title: str = "") -> Deviation:
    """Open a CAPA for the deviation through the CAPA service and link it."""
    from capa.models import CapaSource
    from capa.services import capa_create

    if deviation.capa_id:
        raise BatchRecordError(_("Deviation %(code)s already has a CAPA.") % {"code": deviation.code})
    with transaction.atomic(), audit_context(user=user, reason=_("CAPA opened for the deviation")):
        locked = _editable_deviation(deviation, user)
        if locked.capa_id:
            raise BatchRecordError(_("Deviation %(code)s already has a CAPA.") % {"code": locked.code})
        capa = capa_create(
            site=locked.site,
            title=_text(title, 200) or locked.title,
            owner=owner or user,
            user=user,
            source=CapaSource.OTHER,
            source_reference=locked.code,
            problem_statement=locked.description,
        )
        locked.capa = capa
        locked.save(reason=_("CAPA %(code)s linked") % {"code": capa.code})
    return locked


def deviation_capa_link(*, deviation, capa, user) -> Deviation:
    with transaction.atomic(), audit_context(user=user, reason=_("CAPA linked")):
        locked = _editable_deviation(deviation, user)
        if capa.site_id != locked.site_id:
            raise BatchRecordError(_("%(code)s belongs to another site.") % {"code": capa.code})
        locked.capa = capa
        locked.save(reason=_("CAPA %(code)s linked") % {"code": capa.code})
    return locked


def deviation_approval_problems(dev) -> list[str]:
    problems = []
    if dev.status == DeviationStatus.OPEN:
        problems.append(_("Record the impact assessment first."))
    suspected = [row.lot.code for row in dev.affected_lots.select_related("lot") if row.impact == LotImpact.SUSPECTED]
    if suspected:
        problems.append(
            _("Decide for each lot whether it is affected: %(lots)s.") % {"lots": ", ".join(sorted(suspected))}
        )
    if dev.classification in BLOCKING_CLASSES and not dev.capa_id and not dev.capa_not_needed_reason:
        problems.append(_("A major or critical deviation needs a CAPA, or the reason none is needed."))
    return problems


@policy.door("deviation.approve")
def deviation_approve(*, deviation, user, credential, reason: str = "") -> Deviation:
    """QA approval of the deviation (meaning "approved"), not by whoever raised it. It closes the deviation:
    a major or critical one no longer blocks the release of its lots."""
    credential_check_owner(user=user, credential=credential)
    reason = reason or _("deviation approved")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Deviation.objects.select_for_update().select_related("site").get(pk=deviation.pk)
        policy.check_decide(
            user,
            "deviation.approve",
            locked.site,
            involved={"authored": locked.raised_by_id},
            what=_("deviation %(code)s") % {"code": locked.code},
        )
        if locked.status == DeviationStatus.APPROVED:
            raise BatchRecordError(_("Deviation %(code)s is already approved.") % {"code": locked.code})
        problems = deviation_approval_problems(locked)
        if problems:
            raise BatchRecordError(" ".join(problems))
        locked.approve(user=user)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="approved", reason=reason, role="QA")
    return locked
