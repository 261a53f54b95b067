"""Every write of the nonconformance app: NCRs, containment, MRB dispositions and signatures, complaints.

Services are keyword-only; each checks the state (raising a readable DomainError), then changes the
record inside `transaction.atomic()` with the row locked, under `audit_context` with the reason.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.signatures import credential_check_owner, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import create_with_code
from qms.core.errors import DomainError, PermissionRefused
from qms.core.i18n import LazyFormat
from qms.core.models import Industry, Role
from qms.core.selectors import users_with_role
from qms.core.services import notification_send
from qms.core.services import require_transition as _require
from qms.core.uploads import check_upload

from . import signals
from .models import (
    DEFAULT_MRB_RULES,
    MRB_ROLE_HOLDERS,
    Attachment,
    Complaint,
    ComplaintStatus,
    ContainmentAction,
    DefectCode,
    Disposition,
    DispositionLine,
    DispositionStatus,
    DispositionType,
    MrbDecision,
    MrbRole,
    MrbRule,
    MrbVote,
    Ncr,
    NcrLot,
    NcrSource,
    NcrStatus,
    Severity,
)

ZERO = Decimal("0")


# --- helpers ---------------------------------------------------------------------------------------


def fmt_qty(value) -> str:
    """1E+1 -> "10", 2.500 -> "2.5"."""
    return format(Decimal(value).normalize(), "f")


def _status_label(obj) -> str:
    return str(obj.get_status_display())


def _notify(*, recipients, subject, link="", key="", site=None, level="info", body=""):
    transaction.on_commit(
        lambda: notification_send(
            recipients=recipients, subject=subject, body=body, link=link, dedup_key=key, site=site, level=level
        )
    )


def ncr_url(ncr) -> str:
    return reverse("nonconformance:ncr_detail", args=[ncr.code])


def complaint_url(complaint) -> str:
    return reverse("nonconformance:complaint_detail", args=[complaint.code])


# --- defect catalogue ------------------------------------------------------------------------------


def defect_code_create(*, code: str, name: str, category: str, user) -> DefectCode:
    policy.check(user, "ncr.manage")
    code = code.strip().upper()
    if DefectCode.objects.filter(code=code).exists():
        raise DomainError(_("The defect code %(code)s exists already.") % {"code": code})
    with audit_context(user=user):
        return DefectCode.objects.create(code=code, name=name, category=category)


# --- NCR -------------------------------------------------------------------------------------------


def _lot_and_quantity(item):
    if isinstance(item, (tuple, list)):
        lot, qty = item
        return lot, Decimal(str(qty if qty is not None else lot.quantity))
    return item, Decimal(str(item.quantity))


def _place_hold(*, ncr: Ncr, lot, quantity: Decimal, user) -> NcrLot:
    from traceability.services import lot_hold_place

    hold = lot_hold_place(
        lot=lot,
        source="ncr",
        reference=ncr.code,
        reason=_("Held by %(ncr)s: %(title)s") % {"ncr": ncr.code, "title": ncr.title},
        user=user,
    )
    return NcrLot.objects.create(ncr=ncr, lot=lot, quantity_suspect=quantity, hold=hold)


def ncr_open(
    *,
    site,
    source: str,
    part,
    title: str,
    user,
    description: str = "",
    lots=(),
    quantity_suspect=None,
    quantity_confirmed=None,
    severity: str = Severity.MAJOR,
    defect_codes=(),
    supplier=None,
    customer=None,
    complaint=None,
    source_reference: str = "",
    failing_values=None,
    serials: str = "",
    unit_value=None,
    check_permission: bool = True,
) -> Ncr:
    """Open an NCR and place a hold on every affected lot."""
    if check_permission:
        policy.check(user, "ncr.create", site)
    if source not in NcrSource.values:
        raise DomainError(_("Unknown NCR source “%(s)s”.") % {"s": source})
    if not title.strip():
        raise DomainError(_("Give the NCR a short title describing the defect."))
    lot_items = [_lot_and_quantity(item) for item in lots]
    for lot, _qty in lot_items:
        if lot.site_id != site.pk:
            raise DomainError(_("Lot %(lot)s belongs to another site.") % {"lot": lot.code})
        if lot.part_id != part.pk:
            raise DomainError(_("Lot %(lot)s is not of part %(part)s.") % {"lot": lot.code, "part": part.number})
    suspect = Decimal(str(quantity_suspect)) if quantity_suspect is not None else sum((q for _l, q in lot_items), ZERO)
    if suspect < 0:
        raise DomainError(_("The suspect quantity cannot be negative."))
    if supplier is None:
        suppliers = {lot.supplier_id for lot, _q in lot_items if lot.supplier_id}
        if len(suppliers) == 1:
            supplier = lot_items[0][0].supplier
    with transaction.atomic(), audit_context(user=user, reason=_("NCR opened")):
        ncr = create_with_code(
            Ncr,
            "NCR",
            site=site,
            source=source,
            source_reference=source_reference,
            title=title.strip()[:200],
            description=description,
            part=part,
            serials=serials,
            quantity_suspect=suspect,
            quantity_confirmed=Decimal(str(quantity_confirmed)) if quantity_confirmed is not None else ZERO,
            unit_value=Decimal(str(unit_value)) if unit_value is not None else ZERO,
            severity=severity,
            failing_values=failing_values or [],
            supplier=supplier,
            customer=customer or getattr(complaint, "customer", None),
            complaint=complaint,
            created_by=user,
        )
        if defect_codes:
            ncr.defect_codes.set(list(defect_codes))
        for lot, qty in lot_items:
            _place_hold(ncr=ncr, lot=lot, quantity=qty, user=user)
        if supplier is not None:
            _supplier_ncr_record(ncr)
        transaction.on_commit(lambda: signals.ncr_opened.send(sender=Ncr, ncr=ncr))
        _notify(
            recipients=users_with_role(site=site, roles=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER]),
            subject=LazyFormat(gettext_lazy("NCR %(code)s opened: %(title)s"), code=ncr.code, title=ncr.title),
            link=ncr_url(ncr),
            key=f"ncr-opened:{ncr.pk}",
            site=site,
            level="warning",
        )
    return ncr


def _supplier_ncr_record(ncr: Ncr) -> None:
    from suppliers.services import supplier_ncr_record

    supplier_ncr_record(supplier=ncr.supplier, site=ncr.site, ncr_code=ncr.code, on=ncr.created_at.date())


def ncr_add_lot(*, ncr: Ncr, lot, user, quantity=None, reason: str = "") -> NcrLot:
    """Add a suspect lot (e.g. found by the suspect-stock search) and hold it."""
    policy.check(user, "ncr.manage", ncr.site)
    if ncr.status not in (NcrStatus.OPEN, NcrStatus.CONTAINMENT, NcrStatus.MRB_REVIEW):
        raise DomainError(_("Lots can be added only while the NCR is open, in containment or in MRB review."))
    if ncr.ncr_lots.filter(lot=lot).exists():
        raise DomainError(_("Lot %(lot)s is already on this NCR.") % {"lot": lot.code})
    if lot.site_id != ncr.site_id:
        raise DomainError(_("Lot %(lot)s belongs to another site.") % {"lot": lot.code})
    qty = Decimal(str(quantity)) if quantity is not None else Decimal(str(lot.quantity))
    with transaction.atomic(), audit_context(user=user, reason=reason or _("suspect lot added")):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        link = _place_hold(ncr=locked, lot=lot, quantity=qty, user=user)
        locked.quantity_suspect = locked.quantity_suspect + qty
        locked.save(reason=reason or _("suspect lot %(lot)s added") % {"lot": lot.code})
    ncr.refresh_from_db()
    return link


EDITABLE_NCR_FIELDS = {
    "title",
    "description",
    "severity",
    "quantity_suspect",
    "quantity_confirmed",
    "unit_value",
    "serials",
    "supplier",
}


def ncr_update(*, ncr: Ncr, user, reason: str, defect_codes=None, **fields) -> Ncr:
    policy.check(user, "ncr.manage", ncr.site)
    if ncr.status not in (NcrStatus.OPEN, NcrStatus.CONTAINMENT, NcrStatus.MRB_REVIEW):
        raise DomainError(_("The NCR can no longer be edited in status %(s)s.") % {"s": _status_label(ncr)})
    unknown = set(fields) - EDITABLE_NCR_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if not reason.strip():
        raise DomainError(_("Give a reason for the change."))
    if ncr.status == NcrStatus.MRB_REVIEW and hasattr(ncr, "mrb") and ncr.mrb.status != DispositionStatus.DRAFT:
        if {"quantity_confirmed", "quantity_suspect", "unit_value"} & set(fields):
            raise DomainError(
                _("The disposition is being signed: quantities and value cannot change. Have it sent back first.")
            )
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        for name, value in fields.items():
            if name in {"quantity_suspect", "quantity_confirmed", "unit_value"}:
                value = Decimal(str(value or 0))
                if value < 0:
                    raise DomainError(_("Quantities and values cannot be negative."))
            setattr(locked, name, value)
        old_supplier = ncr.supplier_id
        locked.save(reason=reason)
        if defect_codes is not None:
            locked.defect_codes.set(list(defect_codes))
        if locked.supplier_id and locked.supplier_id != old_supplier:
            _supplier_ncr_record(locked)
    return locked


def ncr_start_containment(*, ncr: Ncr, user, reason: str = "") -> Ncr:
    policy.check(user, "ncr.manage", ncr.site)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("containment started")):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        _require(locked, "start_containment", _("Containment can start only on an open NCR."))
        locked.start_containment()
        locked.save(reason=reason or _("containment started"))
    return locked


def containment_action_add(
    *, ncr: Ncr, kind: str, owner, user, description: str = "", due_on=None
) -> ContainmentAction:
    policy.check(user, "ncr.manage", ncr.site)
    if ncr.status not in (NcrStatus.OPEN, NcrStatus.CONTAINMENT, NcrStatus.MRB_REVIEW):
        raise DomainError(_("Containment actions can be added only while the NCR is open."))
    if not policy.can(owner, "ncr.create", ncr.site):
        raise DomainError(
            _("%(user)s cannot act on NCRs at this site (read-only or not a member); choose another owner.")
            % {"user": owner}
        )
    with transaction.atomic(), audit_context(user=user, reason=_("containment action added")):
        action = ContainmentAction.objects.create(
            ncr=ncr, kind=kind, owner=owner, description=description, due_on=due_on
        )
        _notify(
            recipients=[owner],
            subject=LazyFormat(
                gettext_lazy("Containment action for %(code)s: %(kind)s"),
                code=ncr.code,
                kind=action.get_kind_display(),
            ),
            link=ncr_url(ncr),
            key=f"containment:{action.pk}",
            site=ncr.site,
        )
    return action


def containment_action_complete(
    *, action: ContainmentAction, user, result: str, quantity_found=None
) -> ContainmentAction:
    if user.pk != action.owner_id and not policy.can(user, "ncr.manage", action.ncr.site):
        raise PermissionRefused(_("Only the owner or a quality engineer can complete this action."))
    if action.is_done:
        raise DomainError(_("This containment action is done already."))
    if not result.strip():
        raise DomainError(_("Record what was done and found."))
    with transaction.atomic(), audit_context(user=user, reason=_("containment action done")):
        locked = ContainmentAction.objects.select_for_update().get(pk=action.pk)
        locked.done_at = timezone.now()
        locked.result = result
        locked.quantity_found = Decimal(str(quantity_found)) if quantity_found not in (None, "") else None
        locked.save(reason=_("containment action done"))
    return locked


def attachment_add(*, user, file, ncr: Ncr | None = None, complaint: Complaint | None = None, caption: str = ""):
    record = ncr or complaint
    perm = "ncr.create" if ncr is not None else "complaints.manage"
    policy.check(user, perm, record.site)
    checked = check_upload(file, use="attachment")  # content sniffed, size limited
    with transaction.atomic(), audit_context(user=user, reason=_("attachment added")):
        return Attachment.objects.create(
            ncr=ncr,
            complaint=complaint,
            file=checked.content_file(),
            file_name=checked.name,
            file_type=checked.content_type,
            file_sha256=checked.sha256,
            caption=caption[:200],
            uploaded_by=user,
        )


def ncr_submit_to_mrb(*, ncr: Ncr, user, reason: str = "") -> Disposition:
    policy.check(user, "ncr.manage", ncr.site)
    if ncr.nonconforming_quantity <= 0:
        raise DomainError(_("Record the nonconforming quantity before the MRB review."))
    with transaction.atomic(), audit_context(user=user, reason=reason or _("submitted to MRB")):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        _require(locked, "submit_to_mrb", _("Only an open NCR or one in containment can go to MRB review."))
        locked.submit_to_mrb()
        locked.save(reason=reason or _("submitted to MRB"))
        disposition = Disposition.objects.filter(ncr=locked).first()
        if disposition is None:
            disposition = Disposition.objects.create(ncr=locked, proposed_by=user)
    ncr.refresh_from_db()
    return disposition


@policy.door("ncr.cancel")
def ncr_cancel(*, ncr: Ncr, user, credential, reason: str) -> Ncr:
    """Cancel (e.g. raised in error): e-signed, with a reason; lifts the NCR's holds."""
    policy.check_decide(user, "ncr.cancel", ncr.site)
    credential_check_owner(user=user, credential=credential)
    if not reason.strip():
        raise DomainError(_("Give the reason for cancelling the NCR."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        _require(locked, "cancel", _("An NCR can be cancelled only before its disposition is decided."))
        locked.cancel(reason=reason)
        locked.save(reason=reason)
        _lift_holds(locked, user=user, reason=_("NCR %(code)s cancelled: %(r)s") % {"code": locked.code, "r": reason})
        signature_record(credential=credential, instance=locked, meaning="rejected", reason=reason, role="")
        transaction.on_commit(lambda: signals.ncr_closed.send(sender=Ncr, ncr=locked))
    return locked


def _lift_holds(ncr: Ncr, *, user, reason: str) -> int:
    from traceability.models import LotHold
    from traceability.services import lot_hold_lift

    lifted = 0
    for link in ncr.ncr_lots.select_related("hold").filter(hold__isnull=False, hold__lifted_at__isnull=True):
        lot_hold_lift(hold=link.hold, reason=reason, user=user, cause="ncr")
        lifted += 1
    # holds copied onto lots split off a held lot carry the NCR's reference too
    for hold in LotHold.objects.filter(source="ncr", reference=ncr.code, lifted_at__isnull=True):
        lot_hold_lift(hold=hold, reason=reason, user=user, cause="ncr")
        lifted += 1
    return lifted


# --- MRB -------------------------------------------------------------------------------------------


def mrb_rules_for_site(site) -> list[tuple[str, str, Decimal | None]]:
    rules = [(r.disposition_type, r.mrb_role, r.min_value) for r in MrbRule.objects.filter(site=site, is_active=True)]
    return rules or list(DEFAULT_MRB_RULES)


def mrb_rules_seed_defaults(*, site, user=None) -> int:
    """Copy the default rule table to a site (so it can be adjusted per site in the admin)."""
    created = 0
    with audit_context(user=user, reason="default MRB rules"):
        for kind, role, min_value in DEFAULT_MRB_RULES:
            _obj, made = MrbRule.objects.get_or_create(
                site=site, disposition_type=kind, mrb_role=role, defaults={"min_value": min_value}
            )
            created += made
    return created


def mrb_required_roles(*, site, lines, unit_value) -> list[str]:
    """MRB roles that must sign a disposition made of `lines` (value thresholds per disposition type)."""
    value_by_kind: dict[str, Decimal] = {}
    for line in lines:
        value_by_kind[line.kind] = value_by_kind.get(line.kind, ZERO) + Decimal(line.quantity) * (unit_value or ZERO)
    needed = {
        role
        for kind, role, min_value in mrb_rules_for_site(site)
        if kind in value_by_kind and (min_value is None or value_by_kind[kind] >= min_value)
    }
    needed = needed or {MrbRole.QUALITY}
    return [r for r in MrbRole.values if r in needed]


def disposition_active_lines(disposition: Disposition):
    return [line for line in disposition.lines.all() if not line.voided]


def lines_digest(disposition: Disposition) -> str:
    lines = [
        [
            line.kind,
            str(line.quantity),
            line.lot_id,
            str(line.concession_expires_on or ""),
            str(line.concession_quantity_limit or ""),
            line.customer_approval_reference,
            line.instructions,
        ]
        for line in disposition_active_lines(disposition)
    ]
    payload = json.dumps([disposition.ncr.code, str(disposition.ncr.nonconforming_quantity), lines], sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _disposition_for_edit(ncr: Ncr, user) -> Disposition:
    policy.check(user, "ncr.manage", ncr.site)
    if Ncr.objects.filter(pk=ncr.pk).values_list("status", flat=True).first() != NcrStatus.MRB_REVIEW:
        raise DomainError(_("Dispositions are proposed during the MRB review."))
    disposition = Disposition.objects.filter(ncr=ncr).first()
    if disposition is None or disposition.status != DispositionStatus.DRAFT:
        raise DomainError(_("The disposition is awaiting signatures: it can be changed only after it is sent back."))
    return disposition


def disposition_line_add(
    *,
    ncr: Ncr,
    kind: str,
    quantity,
    user,
    lot=None,
    instructions: str = "",
    concession_expires_on=None,
    concession_quantity_limit=None,
    customer_approval_reference: str = "",
) -> DispositionLine:
    disposition = _disposition_for_edit(ncr, user)
    if kind not in DispositionType.values:
        raise DomainError(_("Unknown disposition “%(k)s”.") % {"k": kind})
    quantity = Decimal(str(quantity))
    if quantity <= 0:
        raise DomainError(_("Each disposition line needs a quantity above zero."))
    if lot is not None and not ncr.ncr_lots.filter(lot=lot).exists():
        raise DomainError(_("Lot %(lot)s is not on this NCR.") % {"lot": lot.code})
    with transaction.atomic(), audit_context(user=user, reason=_("disposition line added")):
        return DispositionLine.objects.create(
            disposition=disposition,
            kind=kind,
            quantity=quantity,
            lot=lot,
            instructions=instructions,
            concession_expires_on=concession_expires_on,
            concession_quantity_limit=(
                Decimal(str(concession_quantity_limit)) if concession_quantity_limit not in (None, "") else None
            ),
            customer_approval_reference=customer_approval_reference,
        )


def disposition_line_void(*, line: DispositionLine, user, reason: str = "") -> DispositionLine:
    _disposition_for_edit(line.disposition.ncr, user)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("disposition line removed")):
        locked = DispositionLine.objects.select_for_update().get(pk=line.pk)
        locked.voided = True
        locked.save(reason=reason or _("disposition line removed"))
    return locked


def _customer_approval_needed(ncr: Ncr) -> bool:
    return ncr.site.industry == Industry.AUTOMOTIVE or bool(ncr.customer_id and ncr.customer.is_automotive)


def disposition_validate(disposition: Disposition) -> list[str]:
    """Readable problems that stop a disposition from going to signature (empty when fine)."""
    ncr = disposition.ncr
    problems: list[str] = []
    lines = disposition_active_lines(disposition)
    if not lines:
        return [_("Add at least one disposition line.")]
    total = sum((line.quantity for line in lines), ZERO)
    if total != ncr.nonconforming_quantity:
        problems.append(
            _(
                "The split adds up to %(total)s but the nonconforming quantity is %(qty)s: every piece needs one decision."
            )
            % {"total": fmt_qty(total), "qty": fmt_qty(ncr.nonconforming_quantity)}
        )
    for line in lines:
        if line.kind == DispositionType.CONCESSION:
            if not line.concession_expires_on and not line.concession_quantity_limit:
                problems.append(_("A concession needs an expiry date or a quantity limit."))
            if line.concession_quantity_limit and line.quantity > line.concession_quantity_limit:
                problems.append(_("The conceded quantity is above the concession's quantity limit."))
            if line.concession_expires_on and line.concession_expires_on < timezone.localdate():
                problems.append(_("The concession's expiry date is in the past."))
            if _customer_approval_needed(ncr) and not line.customer_approval_reference.strip():
                problems.append(
                    _("Automotive parts: record the customer's concession approval reference before signing.")
                )
        if line.kind == DispositionType.RETURN_TO_SUPPLIER and not ncr.supplier_id:
            problems.append(_("Return to supplier needs the NCR's supplier."))
    return problems


def disposition_submit(*, ncr: Ncr, user, reason: str = "") -> Disposition:
    disposition = _disposition_for_edit(ncr, user)
    problems = disposition_validate(disposition)
    if problems:
        raise DomainError(" ".join(dict.fromkeys(str(p) for p in problems)))
    roles = mrb_required_roles(site=ncr.site, lines=disposition_active_lines(disposition), unit_value=ncr.unit_value)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("disposition submitted for signatures")):
        locked = Disposition.objects.select_for_update().get(pk=disposition.pk)
        _require(locked, "submit", _("The disposition is not a draft."))
        locked.submit(required_roles=roles)
        locked.save(reason=reason or _("disposition submitted for signatures"))
        holders = set().union(*(MRB_ROLE_HOLDERS[r] for r in roles))
        _notify(
            recipients=[u for u in users_with_role(site=ncr.site, roles=holders) if u.pk != ncr.created_by_id],
            subject=LazyFormat(gettext_lazy("MRB: %(code)s awaits your signature"), code=ncr.code),
            link=ncr_url(ncr),
            key=f"mrb-sign:{locked.pk}:{locked.round}",
            site=ncr.site,
        )
    return locked


def mrb_roles_user_may_sign(user, disposition: Disposition) -> list[str]:
    """MRB roles still open in this round that this user could sign (for the page)."""
    ncr = disposition.ncr
    if disposition.status != DispositionStatus.IN_REVIEW:
        return []
    if not policy.can_decide(user, "mrb.sign", ncr.site, involved={"authored": ncr.created_by_id}):
        return []
    decided = {d.mrb_role: d for d in disposition.decisions.all() if d.round == disposition.round}
    if any(d.reviewer_id == user.pk for d in decided.values()):
        return []
    held = policy.roles(user, ncr.site)
    return [r for r in disposition.required_roles if r not in decided and held & MRB_ROLE_HOLDERS[r]]


@policy.door("mrb.sign")
def mrb_decide(
    *, disposition: Disposition, mrb_role: str, vote: str, user, credential, comment: str = ""
) -> MrbDecision:
    """One reviewer's e-signed decision for one MRB role. The disposition takes effect when every required
    role has approved; a rejection sends it back to draft with the reason."""
    disposition = Disposition.objects.select_related("ncr__site", "ncr__created_by").get(pk=disposition.pk)
    ncr = disposition.ncr
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(user, "mrb.sign", ncr.site, involved={"authored": ncr.created_by_id}, what=ncr.code)
    if vote not in MrbVote.values:
        raise DomainError(_("Choose approve or reject."))
    if vote == MrbVote.REJECT and not comment.strip():
        raise DomainError(_("A rejection needs a reason: it goes back to the proposer."))
    role_label = MrbRole(mrb_role).label if mrb_role in MrbRole.values else mrb_role
    if not policy.roles(user, ncr.site) & MRB_ROLE_HOLDERS.get(mrb_role, set()):
        raise PermissionRefused(
            _("You do not hold a role that may sign for %(role)s on the MRB.") % {"role": role_label}
        )
    with transaction.atomic(), audit_context(user=user, reason=comment or _("MRB decision")):
        locked = Disposition.objects.select_for_update().get(pk=disposition.pk)
        if locked.status != DispositionStatus.IN_REVIEW:
            raise DomainError(_("This disposition is not awaiting signatures."))
        if mrb_role not in locked.required_roles:
            raise DomainError(_("%(role)s does not need to sign this disposition.") % {"role": role_label})
        this_round = list(locked.decisions.filter(round=locked.round).select_related("reviewer"))
        for d in this_round:
            if d.reviewer_id == user.pk:
                raise PermissionRefused(
                    _("You already signed for %(role)s on this disposition: one person cannot sign for two roles.")
                    % {"role": d.get_mrb_role_display()}
                )
            if d.mrb_role == mrb_role:
                raise DomainError(
                    _("%(role)s has already been signed by %(who)s.") % {"role": role_label, "who": d.reviewer}
                )
        decision = MrbDecision.objects.create(
            disposition=locked,
            round=locked.round,
            mrb_role=mrb_role,
            reviewer=user,
            vote=vote,
            comment=comment,
            lines_digest=lines_digest(locked),
        )
        signature_record(
            credential=credential,
            instance=decision,
            meaning="approved" if vote == MrbVote.APPROVE else "rejected",
            reason=comment,
            role=mrb_role,
        )
        if vote == MrbVote.REJECT:
            locked.send_back(reason=comment)
            locked.save(reason=comment)
            _notify(
                recipients=[locked.proposed_by],
                subject=LazyFormat(
                    gettext_lazy("MRB: %(code)s disposition sent back: %(reason)s"), code=ncr.code, reason=comment
                ),
                link=ncr_url(ncr),
                key=f"mrb-reject:{decision.pk}",
                site=ncr.site,
                level="warning",
            )
        else:
            approved = {d.mrb_role for d in this_round if d.vote == MrbVote.APPROVE} | {mrb_role}
            if set(locked.required_roles) <= approved:
                locked.approve()
                locked.save(reason=_("all required MRB signatures recorded"))
                ncr_locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
                ncr_locked.disposition()
                ncr_locked.save(reason=_("MRB disposition signed by all required roles"))
                _notify(
                    recipients=[locked.proposed_by],
                    subject=LazyFormat(gettext_lazy("MRB: %(code)s disposition approved"), code=ncr.code),
                    link=ncr_url(ncr),
                    key=f"mrb-approved:{locked.pk}",
                    site=ncr.site,
                )
    return decision


@policy.door("disposition.execute")
def disposition_line_execute(
    *,
    line: DispositionLine,
    user,
    note: str = "",
    quantity=None,
    return_reference: str = "",
    returned_on=None,
) -> DispositionLine:
    """Carry out one approved disposition line, once: the line is locked and its state re-checked on the
    locked row, so the same line sent by concurrent requests takes effect once.

    What each decision does to the lot (holds follow their cause):
    - use as is, regrade, concession: the decided quantity becomes releasable: the rejection is settled for
      it as data (inspection.rejection_decide); when less than the lot remains, that quantity is split off
      and the NCR's hold lifted on the split-off lot; a whole lot waits for the NCR to close. The release
      itself is the signed release.
    - rework, repair: a re-inspection is created; when it is accepted the rejection's hold is lifted.
    - scrap, return to supplier: the decided quantity leaves stock (the lot, or the part split off, is rejected).
    """
    line = DispositionLine.objects.select_related("disposition__ncr__site", "lot").get(pk=line.pk)
    ncr = line.disposition.ncr
    policy.check_decide(user, "disposition.execute", ncr.site)
    if line.kind == DispositionType.RETURN_TO_SUPPLIER and not return_reference.strip():
        raise DomainError(_("Record the return shipment reference (delivery note or RMA number)."))
    with transaction.atomic(), audit_context(user=user, reason=note or _("disposition executed")):
        locked = DispositionLine.objects.select_for_update().select_related("disposition").get(pk=line.pk)
        disposition = locked.disposition
        ncr = Ncr.objects.select_related("site").get(pk=disposition.ncr_id)
        if disposition.status != DispositionStatus.APPROVED or ncr.status != NcrStatus.DISPOSITIONED:
            raise DomainError(_("The disposition takes effect only when all required signatures are in."))
        if locked.voided:
            raise DomainError(_("This line was removed from the disposition."))
        if locked.is_executed:
            raise DomainError(
                _("This disposition line was carried out already by %(who)s.") % {"who": locked.executed_by}
            )
        qty = Decimal(str(quantity)) if quantity not in (None, "") else locked.quantity
        if qty <= 0 or qty > locked.quantity:
            raise DomainError(
                _("The executed quantity must be above zero and at most %(q)s.") % {"q": fmt_qty(locked.quantity)}
            )
        if locked.kind == DispositionType.CONCESSION and locked.concession_expires_on:
            if locked.concession_expires_on < timezone.localdate():
                raise DomainError(_("The concession expired on %(d)s.") % {"d": locked.concession_expires_on})
        first = ncr.ncr_lots.select_related("lot").first()
        lot = locked.lot or (first.lot if first else None)
        locked.executed_at = timezone.now()
        locked.executed_by = user
        locked.executed_quantity = qty
        locked.execution_note = note
        if locked.kind in (DispositionType.REWORK, DispositionType.REPAIR) and lot is not None:
            locked.reinspection_reference = _create_reinspection(lot=lot, ncr=ncr, user=user)
        if locked.kind == DispositionType.RETURN_TO_SUPPLIER:
            locked.return_reference = return_reference.strip()
            locked.returned_on = returned_on or timezone.localdate()
        if locked.kind in RELEASABLE_KINDS and lot is not None:
            locked.released_lot = _make_releasable(ncr=ncr, line=locked, lot=lot, quantity=qty, user=user)
        if locked.kind in ENDING_KINDS and lot is not None:
            _end_quantity(ncr=ncr, line=locked, lot=lot, quantity=qty, user=user)
        locked.save(reason=note or _("disposition executed"))
        if locked.kind == DispositionType.RETURN_TO_SUPPLIER:
            signals.supplier_return_executed.send(sender=DispositionLine, line=locked, ncr=ncr, user=user)
    return locked


RELEASABLE_KINDS = (DispositionType.USE_AS_IS, DispositionType.REGRADE, DispositionType.CONCESSION)
ENDING_KINDS = (DispositionType.SCRAP, DispositionType.RETURN_TO_SUPPLIER)


def _part_for(*, ncr: Ncr, line: DispositionLine, lot, quantity: Decimal, user):
    """The lot that carries this line's quantity: the lot itself when the line covers what remains of it,
    else that quantity split off (the split-off lot inherits every hold)."""
    from traceability.selectors import lot_remaining
    from traceability.services import lot_split

    if quantity >= lot_remaining(lot):
        return lot, False
    reason = _("%(kind)s %(ncr)s") % {"kind": line.get_kind_display(), "ncr": ncr.code}
    return lot_split(lot=lot, quantity=quantity, user=user, reason=reason), True


def _make_releasable(*, ncr: Ncr, line: DispositionLine, lot, quantity: Decimal, user):
    """Use as is, regrade, concession (特采): the signed MRB decision settles the rejection for the decided
    quantity, passed down as data; the part split off loses this NCR's hold (its decision is carried out),
    a whole lot keeps it until the NCR closes. Returns the lot that became releasable."""
    from inspection.services import rejection_decide
    from traceability.models import LotHold
    from traceability.services import lot_hold_lift

    part, split = _part_for(ncr=ncr, line=line, lot=lot, quantity=quantity, user=user)
    text = _("Released under %(kind)s %(ncr)s") % {"kind": line.get_kind_display(), "ncr": ncr.code}
    rejection_decide(
        lot=part, kind=line.kind, quantity=quantity, reference=f"{ncr.code}/{line.pk}", text=text, user=user
    )
    if split:
        for hold in LotHold.objects.filter(lot=part, source="ncr", reference=ncr.code, lifted_at=None):
            lot_hold_lift(hold=hold, reason=text, user=user, cause="ncr")
    return part


def _end_quantity(*, ncr: Ncr, line: DispositionLine, lot, quantity: Decimal, user) -> None:
    """Scrap, return to supplier: the decided quantity leaves stock for good."""
    from traceability.services import lot_reject

    part, _split = _part_for(ncr=ncr, line=line, lot=lot, quantity=quantity, user=user)
    lot_reject(
        lot=part,
        user=user,
        reason=_("%(kind)s %(ncr)s") % {"kind": line.get_kind_display(), "ncr": ncr.code},
        cause="ncr",
    )


def _create_reinspection(*, lot, ncr: Ncr, user) -> str:
    from inspection.services import inspection_create_reinspection

    inspection = inspection_create_reinspection(
        lot=lot, reason=_("Re-inspection after rework (%(ncr)s)") % {"ncr": ncr.code}, user=user
    )
    return getattr(inspection, "code", None) or str(inspection.pk)


def ncr_involvement(ncr: Ncr) -> dict:
    """The parts people played in the NCR (policy.check_segregation): who raised it, who carried out one of
    its disposition lines. Each decision's barred parts (policy.DECISIONS) pick what bars a person."""
    executed = set(
        DispositionLine.objects.filter(disposition__ncr=ncr, executed_by__isnull=False).values_list(
            "executed_by_id", flat=True
        )
    )
    return {"authored": ncr.created_by_id, "executed": executed}


def ncr_decision_offer(user, decision: str, ncr: Ncr, *, involved: dict | None = None) -> dict:
    """What the NCR's pages show for `decision`: the form only to someone its door would let take it."""
    return policy.decision_offer(
        user, decision, ncr.site, involved=ncr_involvement(ncr) if involved is None else involved, what=ncr.code
    )


@policy.door("ncr.verify")
def ncr_verify(*, ncr: Ncr, user, credential, reason: str = "") -> Ncr:
    """Verify the disposition was carried out (e-signed), by someone who neither raised the NCR nor
    carried out any of its disposition lines."""
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(user, "ncr.verify", ncr.site, involved=ncr_involvement(ncr), what=ncr.code)
    disposition = Disposition.objects.filter(ncr=ncr).first()
    if disposition is None:
        raise DomainError(_("Only a dispositioned NCR can be verified."))
    pending = [line for line in disposition_active_lines(disposition) if not line.is_executed]
    if pending:
        raise DomainError(
            _("Carry out every disposition line before verifying: %(lines)s open.")
            % {"lines": ", ".join(str(line) for line in pending)}
        )
    with transaction.atomic(), audit_context(user=user, reason=reason or _("disposition verified")):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        _require(locked, "verify", _("Only a dispositioned NCR can be verified."))
        locked.verify(user=user)
        locked.save(reason=reason or _("disposition verified"))
        signature_record(credential=credential, instance=locked, meaning="verified", reason=reason, role="")
    return locked


@policy.door("ncr.close")
def ncr_close(*, ncr: Ncr, user, reason: str = "") -> Ncr:
    """Close a verified NCR and lift its holds (they follow the NCR), not by whoever carried out its
    disposition."""
    policy.check_decide(user, "ncr.close", ncr.site, involved=ncr_involvement(ncr), what=ncr.code)
    with transaction.atomic(), audit_context(user=user, reason=reason or _("NCR closed")):
        locked = Ncr.objects.select_for_update().get(pk=ncr.pk)
        _require(locked, "close", _("Only a verified NCR can be closed."))
        locked.close()
        locked.save(reason=reason or _("NCR closed"))
        _lift_holds(locked, user=user, reason=_("NCR %(code)s closed") % {"code": locked.code})
        transaction.on_commit(lambda: signals.ncr_closed.send(sender=Ncr, ncr=locked))
    return locked


def ncr_open_from_inspection(*, inspection) -> Ncr | None:
    """Listener body for inspection_rejected: one NCR per rejected inspection, with the failing values."""
    reference = getattr(inspection, "code", "") or f"INSP-{inspection.pk}"
    existing = Ncr.objects.filter(source_reference=reference).first()
    if existing is not None:
        return existing
    lot = getattr(inspection, "lot", None)
    if lot is None:
        return None
    stage = str(getattr(inspection, "stage", "") or "").lower()
    source = stage if stage in {"iqc", "fai", "ipqc", "fqc"} else NcrSource.OTHER
    failing = _failing_values(inspection)
    user = (
        getattr(inspection, "completed_by", None)
        or getattr(inspection, "inspector", None)
        or getattr(inspection, "created_by", None)
    )
    defective = getattr(inspection, "nonconforming", None) or getattr(inspection, "quantity_defective", None)
    title = _("%(stage)s reject of lot %(lot)s") % {"stage": stage.upper() or _("Inspection"), "lot": lot.code}
    return ncr_open(
        site=lot.site,
        source=source,
        part=lot.part,
        title=title,
        user=user,
        description=_("Opened automatically from inspection %(code)s.") % {"code": reference}
        + (" " + _("%(n)s nonconforming piece(s) in the sample.") % {"n": defective} if defective else ""),
        lots=[lot],
        # A lot rejected on a sample is nonconforming as a whole until it is sorted: the MRB decides on the
        # whole lot. After a 100% sort the quality engineer records the confirmed quantity.
        quantity_suspect=lot.quantity,
        quantity_confirmed=None,
        supplier=getattr(lot, "supplier", None),
        source_reference=reference,
        failing_values=failing,
        check_permission=False,
    )


def _failing_values(inspection) -> list[dict]:
    """The out-of-limit values of a rejected inspection, printed as the inspector entered them and the
    limits with the characteristic's decimals (inspection's `display_value` / `format`)."""
    rows: list[dict] = []
    measurements = getattr(inspection, "measurements", None)
    if measurements is None:
        return rows
    qs = measurements.all()
    if hasattr(qs, "select_related"):
        qs = qs.select_related("characteristic").order_by("sample_no", "characteristic__sequence")
    for m in qs:
        if getattr(m, "ok", None) is not False:  # conforming or not judged
            continue
        char = m.characteristic
        value = getattr(m, "display_value", None)
        if value is None:
            value = str(m.value) if m.value is not None else ""
        fmt = getattr(char, "format", str)
        lower, upper = getattr(char, "lower_limit", None), getattr(char, "upper_limit", None)
        count = getattr(m, "count", None)
        rows.append(
            {
                "characteristic": str(getattr(char, "name", char) or ""),
                "value": value,
                "result": str(getattr(m, "text", "") or (count if count is not None else "") or ""),
                "lower": fmt(lower) if lower is not None else "",
                "upper": fmt(upper) if upper is not None else "",
            }
        )
    return rows


# --- complaints ------------------------------------------------------------------------------------


def complaint_create(
    *,
    site,
    customer,
    part,
    title: str,
    description: str,
    response_due_on,
    user,
    lot=None,
    serial: str = "",
    received_on=None,
    severity: str = Severity.MAJOR,
    quantity_affected=0,
    customer_reference: str = "",
) -> Complaint:
    policy.check(user, "complaints.manage", site)
    received_on = received_on or timezone.localdate()
    if response_due_on < received_on:
        raise DomainError(_("The requested response date is before the date the complaint was received."))
    if lot is not None and lot.part_id != part.pk:
        raise DomainError(_("Lot %(lot)s is not of product %(part)s.") % {"lot": lot.code, "part": part.number})
    with transaction.atomic(), audit_context(user=user, reason=_("complaint recorded")):
        complaint = create_with_code(
            Complaint,
            "CC",
            site=site,
            customer=customer,
            part=part,
            lot=lot,
            serial=serial,
            received_on=received_on,
            title=title,
            description=description,
            severity=severity,
            quantity_affected=Decimal(str(quantity_affected or 0)),
            response_due_on=response_due_on,
            customer_reference=customer_reference,
            created_by=user,
        )
        _notify(
            recipients=users_with_role(site=site, roles=[Role.QUALITY_MANAGER, Role.QUALITY_ENGINEER]),
            subject=LazyFormat(
                gettext_lazy("Customer complaint %(code)s from %(customer)s, response due %(due)s"),
                code=complaint.code,
                customer=customer.name,
                due=response_due_on.isoformat(),
            ),
            link=complaint_url(complaint),
            key=f"complaint:{complaint.pk}",
            site=site,
            level="warning",
        )
    return complaint


def _complaint_transition(complaint: Complaint, user, method: str, message, reason: str, **kwargs) -> Complaint:
    policy.check(user, "complaints.manage", complaint.site)
    _require(complaint, method, message)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _require(locked, method, message)
        getattr(locked, method)(**kwargs)
        locked.save(reason=reason)
    return locked


def complaint_investigate(*, complaint: Complaint, user, reason: str = "") -> Complaint:
    return _complaint_transition(
        complaint,
        user,
        "investigate",
        _("Only an open complaint can go to investigation."),
        reason or _("investigating"),
    )


def complaint_respond(*, complaint: Complaint, user, response: str, on=None) -> Complaint:
    if not response.strip():
        raise DomainError(_("Write the response sent to the customer."))
    return _complaint_transition(
        complaint,
        user,
        "respond",
        _("Only an open complaint can be answered."),
        _("response sent to the customer"),
        response=response,
        on=on or timezone.localdate(),
    )


def complaint_close(*, complaint: Complaint, user, reason: str = "") -> Complaint:
    return _complaint_transition(
        complaint, user, "close", _("Answer the customer before closing the complaint."), reason or _("closed")
    )


@policy.door("complaint.cancel")
def complaint_cancel(*, complaint: Complaint, user, reason: str, credential) -> Complaint:
    """Cancel a complaint raised in error: with a reason, e-signed by the person deciding."""
    credential_check_owner(user=user, credential=credential)
    if not reason.strip():
        raise DomainError(_("Give the reason for cancelling the complaint."))
    policy.check_decide(user, "complaint.cancel", complaint.site)
    message = _("Only an open complaint can be cancelled.")
    _require(complaint, "cancel", message)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        _require(locked, "cancel", message)
        locked.cancel(reason=reason)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="rejected", reason=reason)
    return locked


def complaint_open_ncr(*, complaint: Complaint, user, title: str = "", lots=None) -> Ncr:
    """Open an NCR from a complaint: the complained lot (and any extra lots) are held."""
    policy.check(user, "ncr.create", complaint.site)
    if lots is None:
        lots = [complaint.lot] if complaint.lot_id else []
    ncr = ncr_open(
        site=complaint.site,
        source=NcrSource.COMPLAINT,
        part=complaint.part,
        title=title or complaint.title,
        user=user,
        description=complaint.description,
        lots=lots,
        quantity_suspect=complaint.quantity_affected if not lots else None,
        severity=complaint.severity,
        customer=complaint.customer,
        complaint=complaint,
        source_reference=complaint.code,
        serials=complaint.serial,
    )
    if complaint.status == ComplaintStatus.OPEN:
        complaint_investigate(complaint=complaint, user=user, reason=_("NCR %(code)s opened") % {"code": ncr.code})
    return ncr


def complaint_recall_start(*, complaint: Complaint, user, reason: str):
    """Start a recall of the complained lot (traceability owns recalls)."""
    policy.check(user, "recall.manage", complaint.site)
    if not complaint.lot_id:
        raise DomainError(_("Record the complained lot before starting a recall."))
    from traceability.services import recall_start

    return recall_start(lot=complaint.lot, user=user, reason=reason, source="complaint", reference=complaint.code)


def complaint_reminders_send(*, today=None) -> int:
    """Remind the site's quality people of complaint responses due within 2 days, and escalate overdue ones
    to the quality managers. Each reminder is sent once (dedup key per complaint and stage)."""
    today = today or timezone.localdate()
    sent = 0
    due = Complaint.objects.filter(
        status__in=[ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING], response_due_on__lte=today + timedelta(days=2)
    ).select_related("site", "customer")
    for complaint in due:
        overdue = complaint.response_due_on < today
        if overdue:
            recipients = users_with_role(site=complaint.site, roles=[Role.QUALITY_MANAGER])
            subject = LazyFormat(
                gettext_lazy("Complaint %(code)s: response to %(customer)s overdue since %(due)s"),
                code=complaint.code,
                customer=complaint.customer.name,
                due=complaint.response_due_on.isoformat(),
            )
        else:
            recipients = users_with_role(site=complaint.site, roles=[Role.QUALITY_ENGINEER, Role.QUALITY_MANAGER])
            subject = LazyFormat(
                gettext_lazy("Complaint %(code)s: response to %(customer)s due on %(due)s"),
                code=complaint.code,
                customer=complaint.customer.name,
                due=complaint.response_due_on.isoformat(),
            )
        sent += len(
            notification_send(
                recipients=recipients,
                subject=subject,
                link=complaint_url(complaint),
                dedup_key=f"complaint-{'overdue' if overdue else 'due'}:{complaint.pk}:{complaint.response_due_on}",
                site=complaint.site,
                level="error" if overdue else "warning",
            )
        )
    return sent
