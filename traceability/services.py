"""Every write of traceability goes through these services (DESIGN.md conventions 1-3).

A transition service checks the state (raising DomainError with a readable message), then in one
transaction locks the row, calls the model's transition, saves with the reason; side effects run after
commit.
"""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance import audit_trail
from compliance.models import GeneratedReport
from compliance.signatures import signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import clean_code, random_code
from qms.core.errors import DomainError
from qms.core.numbers import NumberError, parse_decimal
from qms.core.verdict import Verdict

from . import gates, selectors, signals
from .models import (
    IN_STOCK,
    HoldSource,
    LinkKind,
    Lot,
    LotHold,
    LotLink,
    LotStatus,
    Operation,
    OperationStatus,
    ProcessParameter,
    ProductionRecord,
    PublicTraceProfile,
    Recall,
    RecallCustomer,
    RecallLot,
    RecallSource,
    RecallStatus,
    Serial,
    Shipment,
    WorkOrder,
    WorkOrderStatus,
)


class TraceabilityError(DomainError):
    pass


def _refuse(reasons: list[str], lead: str):
    error = TraceabilityError(lead + " " + " ".join(str(r) for r in reasons))
    error.reasons = [str(r) for r in reasons]  # each reason on its own, for integrations (the API)
    raise error


def _quantity(value) -> Decimal:
    try:
        return parse_decimal(value, label=_("quantity"), max_digits=14, decimal_places=3, positive=True)
    except NumberError as exc:
        raise TraceabilityError(exc.message) from None


# ------------------------------------------------------------------------------------------- holds


def _cause_text(hold) -> str:
    return f"{hold.get_source_display()} {hold.reference}".strip()


@policy.door("lot.hold")
def lot_hold_place(*, lot, source: str, reference: str = "", reason: str, user) -> LotHold:
    """Put a hold on a lot (NCR, recall, expiry, inspection, manual). Idempotent per (source, reference):
    an active hold from the same source and reference is returned as is. A manual hold needs the hold
    authority at the lot's site; the other sources are placed by their cause's own service."""
    if not reason:
        raise TraceabilityError(_("Give the reason for the hold."))
    if source not in HoldSource.values:
        raise TraceabilityError(_("Unknown hold source “%(s)s”.") % {"s": source})
    if source == HoldSource.MANUAL:
        policy.check_decide(user, "lot.hold", lot.site)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        Lot.objects.select_for_update().get(pk=lot.pk)
        existing = LotHold.objects.filter(lot=lot, source=source, reference=reference, lifted_at__isnull=True).first()
        if existing:
            return existing
        hold = LotHold.objects.create(
            lot=lot,
            source=source,
            reference=reference[:60],
            reason=reason,
            placed_by=user if getattr(user, "pk", None) else None,
        )
        audit_trail.record(lot, action="hold", changes={"hold": [None, f"{source} {reference}".strip()]}, reason=reason)
        transaction.on_commit(lambda: signals.lot_hold_placed.send(sender=LotHold, hold=hold))
    return hold


@policy.door("lot.hold_lift")
def lot_hold_lift(*, hold, reason: str, user, cause: str = "") -> LotHold:
    """Lift a hold. A hold follows its cause: one placed by an NCR, an inspection, a recall or expiry is
    lifted only by its cause's service (which passes `cause`, the hold's source) when the cause is settled;
    by hand (pages, admin, imports) only a manual hold, by someone with the hold authority at the site."""
    if not reason:
        raise TraceabilityError(_("Give the reason for lifting the hold."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        hold = LotHold.objects.select_for_update().select_related("lot__site").get(pk=hold.pk)
        if hold.lifted_at is not None:
            raise TraceabilityError(_("This hold was already lifted."))
        if hold.source != HoldSource.MANUAL and cause != hold.source:
            raise TraceabilityError(
                _(
                    "The hold %(cause)s follows its cause: it is lifted when that is settled "
                    "(the NCR closed, the rejection decided by the MRB, the recall closed), not by hand."
                )
                % {"cause": _cause_text(hold)}
            )
        if not cause:
            policy.check_decide(user, "lot.hold_lift", hold.lot.site)
        hold.lifted_at = timezone.now()
        hold.lifted_by = user if getattr(user, "pk", None) else None
        hold.lift_reason = reason
        hold.save()
        audit_trail.record(
            hold.lot,
            action="hold_lift",
            changes={"hold": [f"{hold.source} {hold.reference}".strip(), None]},
            reason=reason,
        )
        transaction.on_commit(lambda: signals.lot_hold_lifted.send(sender=LotHold, hold=hold))
    return hold


# ------------------------------------------------------------------------------------------- lots


def _expiry_for(part, made_on):
    if part.shelf_life_days and made_on:
        return made_on + datetime.timedelta(days=part.shelf_life_days)
    return None


def lot_receive(
    *,
    site,
    part,
    supplier,
    supplier_lot_code: str,
    quantity,
    user,
    code: str | None = None,
    received_on=None,
    expires_on=None,
) -> Lot:
    """Receive a purchased lot into quarantine. Asks suppliers (may this supplier supply this part?)
    and every registered receipt check; refuses with their reasons."""
    from suppliers.services import supplier_can_supply

    if supplier is None:
        raise TraceabilityError(_("A purchased lot needs its supplier."))
    if not (supplier_lot_code or "").strip():
        raise TraceabilityError(_("Enter the supplier's lot number printed on the delivery."))
    supplier_lot_code = clean_code(supplier_lot_code, label=_("supplier's lot number"), max_length=60)
    if (code or "").strip():
        code = clean_code(code, label=_("lot code"), max_length=60)
    qty = _quantity(quantity)
    verdict = supplier_can_supply(supplier=supplier, part=part, on=received_on)
    reasons = list(verdict.reasons) if not verdict.ok else []
    reasons += gates.receipt_reasons(site=site, part=part, supplier=supplier)
    if reasons:
        _refuse(reasons, _("This lot cannot be received:"))
    received_on = received_on or timezone.localdate()
    code = (code or "").strip() or random_code(Lot, "L")
    with transaction.atomic(), audit_context(user=user, reason=_("lot received")):
        if Lot._base_manager.filter(code=code).exists():  # unique across sites, seen or not
            raise TraceabilityError(_("Lot code %(c)s is already used. Each lot code is unique.") % {"c": code})
        lot = Lot.objects.create(
            code=code,
            part=part,
            site=site,
            supplier=supplier,
            supplier_lot_code=supplier_lot_code.strip(),
            quantity=qty,
            unit=part.unit,
            received_on=received_on,
            expires_on=expires_on or _expiry_for(part, received_on),
            created_by=user if getattr(user, "pk", None) else None,
        )
        transaction.on_commit(lambda: signals.lot_received.send(sender=Lot, lot=lot))
    return lot


def lot_produce(*, work_order, quantity, user, code: str | None = None, produced_on=None, expires_on=None) -> Lot:
    """Create an output lot of a running work order, in quarantine."""
    qty = _quantity(quantity)
    if (code or "").strip():
        code = clean_code(code, label=_("lot code"), max_length=60)
    if work_order.status not in (WorkOrderStatus.RUNNING, WorkOrderStatus.COMPLETED):
        raise TraceabilityError(
            _("Work order %(wo)s is %(st)s; output lots are recorded while it runs.")
            % {"wo": work_order.code, "st": work_order.get_status_display()}
        )
    produced_on = produced_on or timezone.localdate()
    code = (code or "").strip() or random_code(Lot, "P")
    with transaction.atomic(), audit_context(user=user, reason=_("lot produced")):
        if Lot._base_manager.filter(code=code).exists():  # unique across sites, seen or not
            raise TraceabilityError(_("Lot code %(c)s is already used. Each lot code is unique.") % {"c": code})
        lot = Lot.objects.create(
            code=code,
            part=work_order.part,
            site=work_order.site,
            work_order=work_order,
            quantity=qty,
            unit=work_order.part.unit,
            produced_on=produced_on,
            expires_on=expires_on or _expiry_for(work_order.part, produced_on),
            created_by=user if getattr(user, "pk", None) else None,
        )
    return lot


def lot_release_reasons(lot) -> list[str]:
    reasons = []
    if lot.status != LotStatus.QUARANTINE:
        reasons.append(
            _("Lot %(lot)s is %(st)s; only a lot in quarantine can be released.")
            % {"lot": lot.code, "st": lot.get_status_display()}
        )
    for hold in lot.active_holds():
        reasons.append(
            _("Lot %(lot)s is on hold (%(src)s %(ref)s): %(why)s")
            % {"lot": lot.code, "src": hold.get_source_display(), "ref": hold.reference, "why": hold.reason}
        )
    if lot.is_expired():
        reasons.append(_("Lot %(lot)s expired on %(d)s.") % {"lot": lot.code, "d": lot.expires_on})
    reasons += gates.release_reasons(lot)
    return reasons


def lot_status_release(*, lot, user, reason: str, signature) -> Lot:
    """The lot's move from quarantine to released: one step inside the release door
    (`inspection.services.lot_release_sign`, or `lot_release_auto` where the site allows it), never a door
    itself. It refuses without the release's evidence: the releaser's own signature meaning "released", or
    for the system actor the accepting inspection's signature at a site that permits automatic release."""
    from qms.core.services import is_system_actor

    if signature is None or getattr(signature, "pk", None) is None:
        raise TraceabilityError(_("A lot is released only with an e-signed release."))
    if is_system_actor(user):
        if signature.meaning != "approved" or not lot.site.allows_auto_release:
            raise TraceabilityError(
                _("Site %(s)s does not permit automatic release; a person must sign the release.")
                % {"s": lot.site.code}
            )
    elif user is None or signature.meaning != "released" or signature.signer_id != user.pk:
        raise TraceabilityError(_("A lot is released only with the releaser's own signature meaning “released”."))
    with transaction.atomic(), audit_context(user=user, reason=reason or _("released")):
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        if lot.status == LotStatus.RELEASED:
            raise TraceabilityError(_("Lot %(lot)s is already released.") % {"lot": lot.code})
        reasons = lot_release_reasons(lot)
        if reasons:
            _refuse(reasons, _("The lot cannot be released:"))
        lot.release()
        lot.save()
        audit_trail.record(lot, action="release", changes={"status": ["quarantine", "released"]}, reason=reason)
        transaction.on_commit(lambda: signals.lot_released.send(sender=Lot, lot=lot))
    return lot


@policy.door("lot.reject")
def lot_reject(*, lot, user, reason: str, cause: str = "") -> Lot:
    """Reject a lot in stock (it leaves stock for good). By hand with the release authority at the site;
    a signed MRB scrap or return to supplier rejects through its own service (`cause`)."""
    if not cause:
        policy.check_decide(user, "lot.reject", lot.site)
    if not reason:
        raise TraceabilityError(_("Give the reason for rejecting the lot."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        if lot.status not in IN_STOCK:
            raise TraceabilityError(
                _("Lot %(lot)s is %(st)s and can no longer be rejected.")
                % {"lot": lot.code, "st": lot.get_status_display()}
            )
        lot.reject()
        lot.save()
        audit_trail.record(lot, action="reject", changes={"status": [None, "rejected"]}, reason=reason)
        transaction.on_commit(lambda: signals.lot_rejected.send(sender=Lot, lot=lot))
    return lot


def lot_expire_due(*, on=None, user=None) -> int:
    """Periodic: lots past their expiry date get the status expired and an expiry hold. Idempotent."""
    on = on or timezone.localdate()
    count = 0
    due = Lot.objects.filter(expires_on__lt=on, status__in=IN_STOCK).only("pk")
    for lot_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic(), audit_context(user=user, reason=_("shelf life ended"), source="job"):
            lot = Lot.objects.select_for_update().get(pk=lot_id)
            if lot.status not in IN_STOCK:
                continue
            lot.expire()
            lot.save()
            lot_hold_place(
                lot=lot,
                source=HoldSource.EXPIRY,
                reference=str(lot.expires_on),
                reason=_("Shelf life ended on %(d)s.") % {"d": lot.expires_on},
                user=user,
            )
            count += 1
    return count


def serials_create(*, lot, serials: list[str], user) -> list[Serial]:
    clean = [s.strip() for s in serials if s and s.strip()]
    if not clean:
        raise TraceabilityError(_("Enter at least one serial number."))
    clean = [clean_code(s, label=_("serial number"), max_length=80) for s in clean]
    if len(set(clean)) != len(clean):
        raise TraceabilityError(_("A serial number appears twice in the list."))
    taken = set(Serial._base_manager.filter(serial__in=clean).values_list("serial", flat=True))
    if taken:
        raise TraceabilityError(_("Serial numbers already used: %(s)s.") % {"s": ", ".join(sorted(taken))})
    with transaction.atomic(), audit_context(user=user, reason=_("serial numbers assigned")):
        return Serial.objects.bulk_create([Serial(lot=lot, serial=s) for s in clean])


def lot_public_enable(*, lot, user) -> Lot:
    """Give a finished lot its consumer QR token (unguessable, not the id). Idempotent."""
    if lot.public_token:
        return lot
    with transaction.atomic(), audit_context(user=user, reason=_("consumer QR code issued")):
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        if not lot.public_token:
            lot.public_token = secrets.token_urlsafe(24)
            lot.save()
        PublicTraceProfile.objects.get_or_create(site=lot.site)
    return lot


def _split_code(lot: Lot) -> str:
    base = lot.code[:54]
    taken = set(Lot.objects.filter(code__startswith=f"{base}-S").values_list("code", flat=True))
    n = 1
    while f"{base}-S{n}" in taken:
        n += 1
    return f"{base}-S{n}"


def lot_split(*, lot, quantity, user, reason: str) -> Lot:
    """Split `quantity` off `lot` into a new lot "<code>-S<n>" (same part, site, supplier, supplier lot,
    dates, status). The quantity moves from the parent to the child; a genealogy link parent → child
    (kind "split") keeps both traces whole. Every active hold of the parent is copied onto the child,
    so nothing escapes a hold by being split off."""
    if not (reason or "").strip():
        raise TraceabilityError(_("Give the reason for splitting the lot."))
    qty = _quantity(quantity)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        parent = Lot.objects.select_for_update().get(pk=lot.pk)
        if parent.status not in IN_STOCK:
            raise TraceabilityError(
                _("Lot %(lot)s is %(st)s; only a lot in stock (quarantine or released) can be split.")
                % {"lot": parent.code, "st": parent.get_status_display()}
            )
        remaining = selectors.lot_remaining(parent)
        if qty >= remaining:
            raise TraceabilityError(
                _(
                    "Split off less than the %(r)s %(u)s that remain of lot %(lot)s; "
                    "to take the whole lot, use the lot itself."
                )
                % {"r": format(remaining.normalize(), "f"), "u": parent.unit, "lot": parent.code}
            )
        child = Lot.objects.create(
            code=_split_code(parent),
            part=parent.part,
            site=parent.site,
            supplier=parent.supplier,
            supplier_lot_code=parent.supplier_lot_code,
            work_order=parent.work_order,
            quantity=qty,
            unit=parent.unit,
            received_on=parent.received_on,
            produced_on=parent.produced_on,
            expires_on=parent.expires_on,
            status=parent.status,
            created_by=user if getattr(user, "pk", None) else None,
        )
        before = parent.quantity
        parent.quantity = before - qty
        parent.save(reason=reason)
        LotLink.objects.create(parent=parent, child=child, quantity=qty, kind=LinkKind.SPLIT)
        holds = list(parent.holds.filter(lifted_at__isnull=True).order_by("placed_at", "pk"))
        LotHold.objects.bulk_create(
            [
                LotHold(
                    lot=child,
                    source=h.source,
                    reference=h.reference,
                    reason=h.reason,
                    placed_by=h.placed_by,
                    placed_at=h.placed_at,
                )
                for h in holds
            ]
        )
        audit_trail.record(
            parent,
            action="split",
            changes={"quantity": [str(before), str(parent.quantity)], "split_into": [None, child.code]},
            reason=reason,
        )
        audit_trail.record(
            child,
            action="split",
            changes={"split_from": [None, parent.code], "quantity": [None, str(qty)]},
            reason=reason,
        )
    lot.refresh_from_db()
    return child


# ------------------------------------------------------------------------------------- genealogy


def consume_reasons(*, lot, into, quantity=None, on=None) -> list[str]:
    """Why `lot` may not be consumed into `into` (empty list = it may)."""
    reasons = []
    on = on or timezone.localdate()
    if lot.status != LotStatus.RELEASED:
        reasons.append(
            _("Lot %(lot)s is %(st)s; only a released lot can be consumed.")
            % {"lot": lot.code, "st": lot.get_status_display()}
        )
    for hold in lot.active_holds():
        reasons.append(
            _("Lot %(lot)s is on hold (%(src)s %(ref)s): %(why)s")
            % {"lot": lot.code, "src": hold.get_source_display(), "ref": hold.reference, "why": hold.reason}
        )
    if lot.expires_on is not None and lot.expires_on < on and lot.status != LotStatus.EXPIRED:
        reasons.append(_("Lot %(lot)s expired on %(d)s.") % {"lot": lot.code, "d": lot.expires_on})
    if lot.site_id != into.site_id:
        reasons.append(
            _("Lot %(lot)s belongs to site %(a)s, not to %(b)s where it would be consumed.")
            % {"lot": lot.code, "a": lot.site.code, "b": into.site.code}
        )
    if quantity is not None:
        remaining = selectors.lot_remaining(lot)
        if Decimal(str(quantity)) > remaining:
            reasons.append(
                _("Only %(r)s %(u)s of lot %(lot)s remain.") % {"r": remaining, "u": lot.unit, "lot": lot.code}
            )
    return reasons


def _link_create(*, parent: Lot, child: Lot, quantity, work_order=None) -> LotLink:
    if parent.pk == child.pk or selectors.is_ancestor(ancestor_id=child.pk, of_id=parent.pk):
        raise TraceabilityError(
            _("Linking %(p)s into %(c)s would make a cycle: %(c)s is already among the ancestors of %(p)s.")
            % {"p": parent.code, "c": child.code}
        )
    try:
        with transaction.atomic():
            return LotLink.objects.create(parent=parent, child=child, quantity=quantity, work_order=work_order)
    except IntegrityError:
        raise TraceabilityError(
            _("Lot %(p)s is already recorded as consumed into %(c)s.") % {"p": parent.code, "c": child.code}
        ) from None


def link_create(*, parent, child, quantity, user, reason: str = "") -> LotLink:
    """Record a genealogy link without the stock gates (corrections, history). Cycles are refused."""
    qty = _quantity(quantity)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("genealogy link recorded")):
        return _link_create(parent=parent, child=child, quantity=qty)


def lot_consume(*, lot, into, quantity, user, work_order=None) -> LotLink:
    """Consume `quantity` of `lot` into the produced lot `into`. Refused when the lot is on hold,
    unreleased, expired or from another site, when not enough remains, or when it would make a cycle."""
    qty = _quantity(quantity)
    work_order = work_order or into.work_order
    with transaction.atomic(), audit_context(user=user, reason=_("material consumed")):
        lot = Lot.objects.select_for_update().select_related("site").get(pk=lot.pk)
        reasons = consume_reasons(lot=lot, into=into, quantity=qty)
        if reasons:
            _refuse(reasons, _("This lot cannot be consumed:"))
        link = _link_create(parent=lot, child=into, quantity=qty, work_order=work_order)
        if selectors.lot_remaining(lot) <= 0:
            lot.mark_consumed()
            lot.save(reason=_("fully consumed"))
    return link


# ------------------------------------------------------------------------------------- shipments


def lot_can_ship(*, lot) -> Verdict:
    """May this lot ship? Only a released lot with no hold, not expired, and every registered ship check
    satisfied. Reasons are for the UI and integrations."""
    reasons = []
    if lot.status != LotStatus.RELEASED:
        reasons.append(
            _("Lot %(lot)s is %(st)s; only a released lot ships.") % {"lot": lot.code, "st": lot.get_status_display()}
        )
    for hold in lot.active_holds():
        reasons.append(
            _("Lot %(lot)s is on hold (%(src)s %(ref)s): %(why)s")
            % {"lot": lot.code, "src": hold.get_source_display(), "ref": hold.reference, "why": hold.reason}
        )
    if lot.expires_on is not None and lot.expires_on < timezone.localdate() and lot.status != LotStatus.EXPIRED:
        reasons.append(_("Lot %(lot)s expired on %(d)s.") % {"lot": lot.code, "d": lot.expires_on})
    reasons += gates.ship_reasons(lot)
    return Verdict.from_reasons(reasons)


def shipment_create(
    *, lot, customer, quantity, user, shipped_on=None, delivery_note: str = "", serials: list[str] | None = None
) -> Shipment:
    qty = _quantity(quantity)
    with transaction.atomic(), audit_context(user=user, reason=_("shipped")):
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        verdict = lot_can_ship(lot=lot)
        if not verdict.ok:
            _refuse(verdict.reasons, _("This lot cannot ship:"))
        remaining = selectors.lot_remaining(lot)
        if qty > remaining:
            raise TraceabilityError(
                _("Only %(r)s %(u)s of lot %(lot)s remain.") % {"r": remaining, "u": lot.unit, "lot": lot.code}
            )
        shipment = Shipment.objects.create(
            lot=lot,
            customer=customer,
            quantity=qty,
            shipped_on=shipped_on or timezone.localdate(),
            delivery_note=delivery_note,
            created_by=user if getattr(user, "pk", None) else None,
        )
        if serials:
            found = list(Serial.objects.select_for_update().filter(lot=lot, serial__in=serials, shipment__isnull=True))
            if len(found) != len(set(serials)):
                missing = set(serials) - {s.serial for s in found}
                raise TraceabilityError(
                    _("Serial numbers not in stock in lot %(lot)s: %(s)s.")
                    % {"lot": lot.code, "s": ", ".join(sorted(missing))}
                )
            for s in found:
                s.shipment = shipment
                s.save()
        if remaining - qty <= 0:
            lot.mark_shipped()
            lot.save(reason=_("fully shipped"))
    return shipment


# ------------------------------------------------------------------------------------ work orders

_STEPS = {
    "setup": "to_setup",
    "run": "to_running",
    "complete": "to_completed",
    "cancel": "to_cancelled",
}


def work_order_create(*, site, part, code: str = "", line=None, quantity_planned=0, operations=(), user) -> WorkOrder:
    code = clean_code(code, label=_("work order / batch"), max_length=40) if (code or "").strip() else ""
    code = code or random_code(WorkOrder, "WO")
    with transaction.atomic(), audit_context(user=user, reason=_("work order created")):
        if WorkOrder._base_manager.filter(code=code).exists():  # unique across sites
            raise TraceabilityError(_("Work order %(c)s already exists.") % {"c": code})
        wo = WorkOrder.objects.create(
            code=code,
            site=site,
            part=part,
            line=line,
            quantity_planned=quantity_planned or 0,
            created_by=user if getattr(user, "pk", None) else None,
        )
        for seq, name in enumerate(operations, start=1):
            Operation.objects.create(work_order=wo, sequence=seq * 10, name=name)
    return wo


def work_order_advance(*, work_order, step: str, user, reason: str = "") -> WorkOrder:
    """Move a work order: setup, run, complete, cancel. Registered work-order checks (e.g. first article
    passed before "run") may refuse with reasons."""
    if step not in _STEPS:
        raise TraceabilityError(
            _("Unknown step “%(s)s”. Use one of: %(known)s.") % {"s": step, "known": ", ".join(_STEPS)}
        )
    with transaction.atomic(), audit_context(user=user, reason=reason or step):
        wo = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        method = getattr(wo, _STEPS[step])
        from django_fsm import can_proceed

        if not can_proceed(method):
            raise TraceabilityError(
                _("Work order %(wo)s is %(st)s; the step “%(step)s” is not possible now.")
                % {"wo": wo.code, "st": wo.get_status_display(), "step": step}
            )
        reasons = []
        if step == "complete" and wo.operations.exclude(status=OperationStatus.DONE).exists():
            reasons.append(_("Every operation must be done before the work order completes."))
        reasons += gates.work_order_reasons(wo, step)
        if reasons:
            _refuse(reasons, _("The work order cannot move on:"))
        method()
        wo.save()
    return wo


def operation_start(*, operation, user) -> Operation:
    """Start an operation of a running work order: earlier operations must be done, and every
    registered operation-start check (inspection of the previous operation, IPQC stop) must agree."""
    with transaction.atomic(), audit_context(user=user, reason=_("operation started")):
        op = Operation.objects.select_for_update().select_related("work_order").get(pk=operation.pk)
        reasons = []
        if op.status != OperationStatus.PENDING:
            reasons.append(_("Operation %(op)s is already %(st)s.") % {"op": op.name, "st": op.get_status_display()})
        if op.work_order.status != WorkOrderStatus.RUNNING:
            reasons.append(
                _("Work order %(wo)s is %(st)s; operations start while it runs.")
                % {"wo": op.work_order.code, "st": op.work_order.get_status_display()}
            )
        earlier = op.work_order.operations.filter(sequence__lt=op.sequence).exclude(status=OperationStatus.DONE)
        for prev in earlier:
            reasons.append(_("Operation %(n)s %(op)s is not done yet.") % {"n": prev.sequence, "op": prev.name})
        reasons += gates.operation_start_reasons(op)
        if reasons:
            _refuse(reasons, _("The operation cannot start:"))
        op.start()
        op.save()
    return op


def operation_complete(*, operation, user) -> Operation:
    with transaction.atomic(), audit_context(user=user, reason=_("operation done")):
        op = Operation.objects.select_for_update().get(pk=operation.pk)
        if op.status != OperationStatus.RUNNING:
            raise TraceabilityError(_("Operation %(op)s is not running.") % {"op": op.name})
        op.finish()
        op.save()
    return op


def production_record_create(
    *,
    work_order,
    user,
    started_at,
    ended_at=None,
    operation=None,
    shift: str = "",
    operators=(),
    equipment=None,
    parameters=(),
    notes: str = "",
) -> ProductionRecord:
    """5M1E of a run. `parameters`: iterable of dicts name, value, unit, lower_limit, upper_limit."""
    if ended_at and ended_at < started_at:
        raise TraceabilityError(_("The end is before the start."))
    with transaction.atomic(), audit_context(user=user, reason=_("production record")):
        rec = ProductionRecord.objects.create(
            work_order=work_order,
            operation=operation,
            shift=shift,
            equipment=equipment,
            started_at=started_at,
            ended_at=ended_at,
            notes=notes,
            created_by=user if getattr(user, "pk", None) else None,
        )
        if operators:
            rec.operators.set(operators)
        ProcessParameter.objects.bulk_create(
            [
                ProcessParameter(
                    record=rec,
                    name=p["name"],
                    value=Decimal(str(p["value"])),
                    unit=p.get("unit", ""),
                    lower_limit=p.get("lower_limit"),
                    upper_limit=p.get("upper_limit"),
                )
                for p in parameters
            ]
        )
    return rec


# ---------------------------------------------------------------------------------------- recalls


def _recall_freeze_scope(recall: Recall, start_lots: list[Lot], user) -> dict:
    """(Re)compute the scope: RecallLot rows for every lot reached, holds on lots still in stock,
    shipped quantities per customer."""
    scope = selectors.recall_scope(start_lots[0], extra_lots=start_lots[1:])
    start_ids = {x.pk for x in start_lots}
    existing = {rl.lot_id: rl for rl in recall.scope_lots.all()}
    new_rows = []
    held = {}
    hold_reason = _("Recall %(code)s: %(why)s") % {"code": recall.code, "why": recall.reason}
    for row in scope["in_stock"]:
        lot = Lot.objects.get(pk=row["lot_id"])
        held[row["lot_id"]] = lot_hold_place(
            lot=lot, source=HoldSource.RECALL, reference=recall.code, reason=hold_reason, user=user
        )
    for row in scope["lots"]:
        if row["lot_id"] in existing:
            continue
        new_rows.append(
            RecallLot(
                recall=recall,
                lot_id=row["lot_id"],
                depth=0 if row["lot_id"] in start_ids else row["depth"],
                status_at_scope=row["status"],
                in_stock=row["status"] in IN_STOCK,
                hold=held.get(row["lot_id"]),
            )
        )
    RecallLot.objects.bulk_create(new_rows, batch_size=2000)
    have = {rc.customer_id: rc for rc in recall.customers.all()}
    for entry in scope["customers"]:
        rc = have.get(entry["customer_id"])
        lots_text = ", ".join(entry["lots"])
        if rc is None:
            RecallCustomer.objects.create(
                recall=recall, customer=entry["customer"], quantity_shipped=entry["quantity"], lots=lots_text
            )
        elif rc.quantity_shipped != entry["quantity"] or rc.lots != lots_text:
            rc.quantity_shipped, rc.lots = entry["quantity"], lots_text
            rc.save(reason=_("scope recomputed"))
    recall.scope_computed_at = timezone.now()
    recall.save(reason=_("scope computed"))
    return scope


def recall_start(
    *,
    lot=None,
    user,
    reason: str,
    source: str = "",
    reference: str = "",
    lots=None,
    is_mock: bool = False,
) -> Recall:
    """Start a recall (or a mock recall) from a suspect lot, a supplier lot (all our lots of it, pass
    `lots`) or a complaint. The forward trace gives the scope at once; lots in stock get a hold."""
    start_lots = [x for x in ([lot] if lot is not None else []) + list(lots or []) if x is not None]
    start_lots = list({x.pk: x for x in start_lots}.values())
    if not start_lots:
        raise TraceabilityError(_("Choose the suspect lot the recall starts from."))
    if not (reason or "").strip():
        raise TraceabilityError(_("Give the reason for the recall."))
    if user is not None:
        policy.check(user, "recall.manage", start_lots[0].site)
    source = source or (RecallSource.SUPPLIER_LOT if len(start_lots) > 1 else RecallSource.LOT)
    if source not in RecallSource.values:
        raise TraceabilityError(_("Unknown recall source “%(s)s”.") % {"s": source})
    with transaction.atomic(), audit_context(user=user, reason=reason):
        recall = Recall.objects.create(
            code=random_code(Recall, "MR" if is_mock else "RC"),
            site=start_lots[0].site,
            source=source,
            reference=reference or ", ".join(x.code for x in start_lots)[:80],
            reason=reason,
            is_mock=is_mock,
            created_by=user if getattr(user, "pk", None) else None,
        )
        _recall_freeze_scope(recall, start_lots, user)
    return recall


def recall_start_for_supplier_lot(*, supplier, supplier_lot_code: str, user, reason: str, is_mock=False) -> Recall:
    lots = list(Lot.objects.filter(supplier=supplier, supplier_lot_code=supplier_lot_code).select_related("site"))
    if not lots:
        raise TraceabilityError(
            _("No lot of supplier %(s)s has the supplier lot number %(l)s.")
            % {"s": supplier.code, "l": supplier_lot_code}
        )
    return recall_start(
        lots=lots,
        user=user,
        reason=reason,
        source=RecallSource.SUPPLIER_LOT,
        reference=f"{supplier.code} {supplier_lot_code}",
        is_mock=is_mock,
    )


def recall_refresh_scope(*, recall, user) -> Recall:
    """Recompute the scope of a draft recall (new consumption or shipments since it started)."""
    if recall.is_frozen:
        raise TraceabilityError(_("The scope of recall %(c)s was frozen when it was approved.") % {"c": recall.code})
    with transaction.atomic(), audit_context(user=user, reason=_("scope recomputed")):
        recall = Recall.objects.select_for_update().get(pk=recall.pk)
        starts = [rl.lot for rl in recall.scope_lots.filter(depth=0).select_related("lot")]
        _recall_freeze_scope(recall, starts, user)
    return recall


@policy.door("recall.approve")
def recall_approve(*, recall, user, credential, reason: str = "") -> Recall:
    """Approve (e-signed) and freeze the scope: someone with the recall approval authority at the site
    (per site, e.g. a QA head's deputy) who did not start the recall."""
    from compliance.signatures import credential_check_owner

    credential_check_owner(user=user, credential=credential)
    policy.check_decide(
        user, "recall.approve", recall.site, involved={"authored": recall.created_by_id}, what=_("this recall")
    )
    with transaction.atomic(), audit_context(user=user, reason=reason or _("recall approved")):
        recall = Recall.objects.select_for_update().get(pk=recall.pk)
        if recall.status != RecallStatus.DRAFT:
            raise TraceabilityError(
                _("Recall %(c)s is already %(st)s.") % {"c": recall.code, "st": recall.get_status_display()}
            )
        starts = [rl.lot for rl in recall.scope_lots.filter(depth=0).select_related("lot")]
        _recall_freeze_scope(recall, starts, user)
        recall.approve()
        recall.save()
        signature_record(
            credential=credential, instance=recall, meaning="approved", reason=reason, role="quality_manager"
        )
        transaction.on_commit(lambda: signals.recall_approved.send(sender=Recall, recall=recall))
    return recall


def recall_notify(*, recall, user) -> Recall:
    """Approved → notifying; the letters and e-mails go out after commit (task), each customer once."""
    with transaction.atomic(), audit_context(user=user, reason=_("customer notification started")):
        recall = Recall.objects.select_for_update().get(pk=recall.pk)
        if recall.status != RecallStatus.APPROVED:
            raise TraceabilityError(_("Customers are notified once the recall is approved."))
        recall.start_notifying()
        recall.save()
        rid = recall.pk

        def _enqueue():
            from .tasks import recall_send_notifications

            recall_send_notifications.delay(rid)

        transaction.on_commit(_enqueue)
    return recall


def recall_letter_store(*, recall_customer) -> GeneratedReport:
    """The customer's recall letter as a stored generated report (PDF in the customer's language, its
    SHA-256 kept): generated once, findable from the recall, the same file e-mailed and downloaded."""
    from compliance.pdf import render_report_pdf

    rc = recall_customer
    if rc.letter_id:
        return rc.letter
    _pdf, stored = render_report_pdf(
        key="traceability.recall_letter",
        params={"recall": rc.recall.code, "customer": rc.customer.code},
        language=rc.customer.language or "en",
    )
    with transaction.atomic(), audit_context(reason=_("recall letter generated"), source="job"):
        locked = RecallCustomer.objects.select_for_update().get(pk=rc.pk)
        if locked.letter_id is None:  # a concurrent run stored one first: keep that one
            locked.letter = stored
            locked.save()
        rc.letter = locked.letter
    return rc.letter


def recall_notifications_send(*, recall_id: int) -> int:
    """Send each customer not yet notified its letter (stored as a generated report, in the customer's
    language) by e-mail. Idempotent: notified customers are skipped, a letter is generated once. When all
    are done, the recall is in progress."""
    from django.conf import settings
    from django.core.mail import EmailMessage
    from django.utils import translation

    recall = Recall.objects.get(pk=recall_id)
    sent = 0
    for rc in recall.customers.filter(notified_at__isnull=True).select_related("customer", "recall", "letter"):
        lang = rc.customer.language or "en"
        letter = recall_letter_store(recall_customer=rc)
        with translation.override(lang):
            subject = _("Recall notice %(code)s") % {"code": recall.code}
            if recall.is_mock:
                subject = _("[Drill] ") + subject
            body = _(
                "Dear customer,\n\nPlease find attached our recall notice %(code)s for the lots listed in it. "
                "Stop using them, put them on hold and tell us the quantity you still hold.\n"
            ) % {"code": recall.code}
        to = [rc.customer.email] if rc.customer.email else []
        if to:
            with letter.file.open("rb") as fh:
                pdf = fh.read()
            msg = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to)
            msg.attach(f"{recall.code}-{rc.customer.code}.pdf", pdf, "application/pdf")
            msg.send()
        with transaction.atomic(), audit_context(reason=_("customer notified"), source="job"):
            rc = RecallCustomer.objects.select_for_update().get(pk=rc.pk)
            if rc.notified_at is None:
                rc.notified_at = timezone.now()
                rc.save()
                sent += 1
    with transaction.atomic(), audit_context(reason=_("all customers notified"), source="job"):
        recall = Recall.objects.select_for_update().get(pk=recall_id)
        if recall.status == RecallStatus.NOTIFYING and not recall.customers.filter(notified_at__isnull=True).exists():
            recall.notifications_done()
            recall.save()
    return sent


def recall_record_recovery(*, recall_customer, quantity, user, reason: str = "") -> RecallCustomer:
    qty = Decimal(str(quantity))
    if qty < 0:
        raise TraceabilityError(_("The recovered quantity cannot be negative."))
    with transaction.atomic(), audit_context(user=user, reason=reason or _("recovered quantity recorded")):
        rc = RecallCustomer.objects.select_for_update().select_related("recall").get(pk=recall_customer.pk)
        if rc.recall.status not in (RecallStatus.NOTIFYING, RecallStatus.IN_PROGRESS):
            raise TraceabilityError(_("Recovered quantities are recorded after the customers were notified."))
        if qty > rc.quantity_shipped:
            raise TraceabilityError(
                _("%(q)s is more than the %(s)s shipped to this customer.") % {"q": qty, "s": rc.quantity_shipped}
            )
        rc.quantity_recovered = qty
        rc.save()
    return rc


@policy.door("recall.close")
def recall_close(*, recall, user, reason: str) -> Recall:
    policy.check_decide(user, "recall.close", recall.site)
    if not reason:
        raise TraceabilityError(_("Give the reason for closing (e.g. effectiveness reached)."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        recall = Recall.objects.select_for_update().get(pk=recall.pk)
        if recall.status != RecallStatus.IN_PROGRESS:
            raise TraceabilityError(_("Only a recall in progress can be closed."))
        recall.close()
        recall.save()
    return recall


def recall_effectiveness(recall) -> dict:
    agg = recall.customers.aggregate(s=Sum("quantity_shipped"), r=Sum("quantity_recovered"))
    shipped, recovered = agg["s"] or Decimal(0), agg["r"] or Decimal(0)
    pct = round(float(recovered) * 100 / float(shipped), 1) if shipped else None

    def minutes(later):
        return round((later - recall.started_at).total_seconds() / 60, 1) if later else None

    return {
        "shipped": shipped,
        "recovered": recovered,
        "percent": pct,
        "minutes_to_scope": minutes(recall.scope_computed_at),
        "seconds_to_scope": round((recall.scope_computed_at - recall.started_at).total_seconds(), 2)
        if recall.scope_computed_at
        else None,
        "minutes_to_notification": minutes(recall.notified_at),
    }
