"""Every write of the suppliers app, and the one question the rest of the plant asks:
`supplier_can_supply(supplier=..., part=...)`.

Each state change is a service `<entity>_<verb>`: check the state and the right (readable DomainError),
then in one transaction lock the row, call the transition declared on the model, save with the reason,
sign where the decision is signed. Side effects (mail) go after commit through notification_send.
"""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from compliance import audit_trail
from compliance.signatures import SignatureCredential, SignatureRefused, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import clean_code
from qms.core.errors import DomainError
from qms.core.i18n import LazyFormat
from qms.core.models import Role, Site
from qms.core.selectors import users_with_role
from qms.core.services import notification_send
from qms.core.uploads import check_upload
from qms.core.verdict import Verdict

from . import ppap as ppap_rules
from . import scoring
from .models import (
    SUPPLYING_STATUSES,
    AslEntry,
    AslStatus,
    AslSuspension,
    Certificate,
    CertificateReminder,
    CertificateStatus,
    CertificateType,
    CertificateTypePolicy,
    ElementStatus,
    NcrRecord,
    PpapAttachment,
    PpapElement,
    PpapStatus,
    PpapSubmission,
    ReceiptRecord,
    ScarRecord,
    Scorecard,
    ScorecardPolicy,
    Supplier,
    SupplierAudit,
    SupplierStatus,
    SupplierStatusChange,
)
from .qualification import build_checklist, cert_compliance_on, mandatory_cert_types, requirements_for

log = logging.getLogger(__name__)

DEFAULT_REMINDER_DAYS = (90, 30, 7)
NON_SUSPENDING_BY_DEFAULT = {CertificateType.OTHER, CertificateType.ISO_14001}


# ---------------------------------------------------------------------------------------------------
# helpers


def _today(on=None) -> datetime.date:
    return on or timezone.localdate()


def _site_ids(supplier) -> list[int]:
    return [s.pk for s in supplier.sites.all()]


def _industries(supplier) -> set[str]:
    return {s.industry for s in supplier.sites.all()}


def check_supplier_perm(user, perm: str, supplier) -> None:
    """The user must hold `perm` at one of the sites the supplier delivers to."""
    site_ids = _site_ids(supplier)
    if any(policy.can(user, perm, sid) for sid in site_ids):
        return
    policy.check(user, perm, site_ids[0] if site_ids else -1)


def decision_site(user, decision: str, supplier):
    """The plant a decision on a supplier is taken at (a supplier serves several): the first of its sites
    where `user` holds the authority for `decision` (the site's own table, qms.core.policy), else its first
    site, whose refusal then names who can act. Pages and doors ask this one function, so they agree."""
    sites = list(supplier.sites.all())
    for s in sites:
        if policy.can_decide(user, decision, s):
            return s
    return sites[0] if sites else None


def decision_offer(user, decision: str, supplier, *, involved: dict | None = None, what: str = "") -> dict:
    """What a supplier page shows for `decision` (policy.decision_offer at the decision's site)."""
    return policy.decision_offer(
        user, decision, decision_site(user, decision, supplier), involved=involved or {}, what=what
    )


def supplier_involvement(supplier, action: str) -> dict:
    """The parts played that bar a person from this supplier decision: approving, approving conditionally
    or reinstating is not for whoever created the supplier; suspending or disqualifying is for anyone."""
    return {"authored": supplier.created_by_id} if action in SUPPLIER_SEGREGATED_ACTIONS else {}


def _signing_role(user, decision: str, site) -> str:
    """The role(s) in which `user` signs `decision` at the decision's site: those the site's authority for
    it names (a deputy signs as the role the site made a deputy, not as a holder of the default permission)."""
    held = policy.roles(user, site) & policy.decision_roles(decision, site)
    return ", ".join(sorted(str(Role(r).label) for r in held)) if held else ""


def _check_credential(credential, user) -> None:
    if not isinstance(credential, SignatureCredential) or credential.user.pk != user.pk:
        raise SignatureRefused(
            _("The signature must be made by the person deciding. Enter your password and sign again.")
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for this decision; it is kept in the record's history."), field="reason")
    return reason


def supplier_checklist(supplier, on=None):
    """The qualification checklist of a supplier (two or three queries)."""
    return build_checklist(
        supplier=supplier,
        industries=_industries(supplier),
        certificates=list(supplier.certificates.all()),
        audits=list(supplier.audits.all()),
        on=_today(on),
    )


# ---------------------------------------------------------------------------------------------------
# Supplier records


SUPPLIER_FIELDS = (
    "name",
    "category",
    "risk_level",
    "address",
    "country",
    "contact_name",
    "contact_email",
    "contact_phone",
    "quality_agreement_on_file",
    "quality_agreement_signed_on",
    "sqe",
    "notes",
)


def supplier_create(*, user, code: str, name: str, category: str, sites, **fields) -> Supplier:
    try:
        code = clean_code(code, label=_("supplier code"), max_length=30).upper()
    except DomainError as exc:
        raise DomainError(exc.message, field="code") from None
    sites = list(sites)
    if not sites:
        raise DomainError(_("Choose at least one site the supplier delivers to."), field="sites")
    for site in sites:
        policy.check(user, "suppliers.change", site)
    if Supplier._base_manager.filter(code__iexact=code).exists():  # also one serving none of the user's sites
        raise DomainError(_("A supplier with the code %(code)s already exists.") % {"code": code}, field="code")
    unknown = set(fields) - set(SUPPLIER_FIELDS)
    if unknown:
        raise TypeError(f"unknown supplier fields {unknown}")
    with transaction.atomic(), audit_context(user=user):
        supplier = Supplier(code=code, name=name, category=category, created_by=user, **fields)
        supplier.save()
        supplier.sites.set(sites)
        audit_trail.record(
            supplier, action="update", changes={"sites": [[], sorted(s.code for s in sites)]}, reason="sites supplied"
        )
    return supplier


def supplier_update(*, supplier, user, reason: str, sites=None, **fields) -> Supplier:
    check_supplier_perm(user, "suppliers.change", supplier)
    reason = _require_reason(reason)
    unknown = set(fields) - set(SUPPLIER_FIELDS)
    if unknown:
        raise TypeError(f"unknown supplier fields {unknown}")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Supplier.objects.select_for_update().get(pk=supplier.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save()
        if sites is not None:
            sites = list(sites)
            if not sites:
                raise DomainError(_("Choose at least one site the supplier delivers to."), field="sites")
            # A user speaks only for the sites they may change suppliers at: the others stay as they are
            # (the form does not even offer them), so a FOOD user cannot drop BRG from a shared supplier.
            may_change = set(policy.sites_for(user, "suppliers.change"))
            sites += [s for s in locked.sites.all() if s.pk not in may_change and s not in sites]
            before = sorted(s.code for s in locked.sites.all())
            after = sorted(s.code for s in sites)
            if before != after:
                for site in set(sites):
                    policy.check(user, "suppliers.change", site)
                locked.sites.set(sites)
                audit_trail.record(locked, action="update", changes={"sites": [before, after]}, reason=reason)
    return locked


# Status decisions: (transition method, signature meaning, past participle for messages)
SUPPLIER_DECISIONS = {
    "start_evaluation": ("reviewed", gettext_lazy("put under evaluation")),
    "approve": ("approved", gettext_lazy("approved")),
    "approve_conditionally": ("approved", gettext_lazy("approved conditionally")),
    "suspend": ("rejected", gettext_lazy("suspended")),
    "reinstate": ("approved", gettext_lazy("reinstated")),
    "disqualify": ("rejected", gettext_lazy("disqualified")),
    "requalify": ("reviewed", gettext_lazy("put under evaluation again")),
}

# Decisions not taken by whoever created the supplier (segregation of duties, DECISIONS "supplier.decide").
SUPPLIER_SEGREGATED_ACTIONS = ("approve", "approve_conditionally", "reinstate")

# Button labels of the decisions (imperative).
SUPPLIER_DECISION_BUTTONS = {
    "start_evaluation": gettext_lazy("Start evaluation"),
    "approve": gettext_lazy("Approve"),
    "approve_conditionally": gettext_lazy("Approve conditionally"),
    "suspend": gettext_lazy("Suspend"),
    "reinstate": gettext_lazy("Reinstate"),
    "disqualify": gettext_lazy("Disqualify"),
    "requalify": gettext_lazy("Re-evaluate"),
}


def supplier_available_decisions(supplier) -> list[str]:
    return [t.name for t in supplier.get_available_status_transitions()]


@policy.door("supplier.decide")
def _supplier_decide(
    *, supplier, action: str, user, credential, reason: str, on=None, **kwargs
) -> SupplierStatusChange:
    meaning, verb = SUPPLIER_DECISIONS[action]
    reason = _require_reason(reason)
    site = decision_site(user, "supplier.decide", supplier)
    policy.check_decide(user, "supplier.decide", site)
    _check_credential(credential, user)
    if action not in supplier_available_decisions(supplier):
        raise DomainError(
            _("%(supplier)s is %(status)s, so it cannot be %(verb)s. Possible decisions now: %(allowed)s.")
            % {
                "supplier": supplier.code,
                "status": str(supplier.get_status_display()).lower(),
                "verb": verb,
                "allowed": ", ".join(str(SUPPLIER_DECISIONS[a][1]) for a in supplier_available_decisions(supplier))
                or "-",
            }
        )
    if action in ("approve", "reinstate", "approve_conditionally"):
        checklist = supplier_checklist(supplier, on)
        missing = checklist.messages(conditional=action == "approve_conditionally")
        if missing:
            raise DomainError(
                _(
                    "%(supplier)s cannot be %(verb)s while mandatory qualification items are missing or expired: %(items)s."
                )
                % {"supplier": supplier.code, "verb": verb, "items": "; ".join(missing)}
            )
    if action == "approve_conditionally":
        until = kwargs.get("until")
        if until is None or until <= _today(on):
            raise DomainError(_("A conditional approval needs an end date in the future."), field="until")
        if until > _today(on) + datetime.timedelta(days=366):
            raise DomainError(_("A conditional approval may last at most one year."), field="until")
    # Segregation of duties: whoever created the supplier does not approve (or reinstate) it.
    if action in SUPPLIER_SEGREGATED_ACTIONS:
        policy.check_segregation(
            user,
            decision="supplier.decide",
            involved=supplier_involvement(supplier, action),
            what=_("supplier %(c)s") % {"c": supplier.code},
            site=site,
        )
    role = _signing_role(user, "supplier.decide", site)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Supplier.objects.select_for_update().get(pk=supplier.pk)
        method = getattr(locked, action)
        if not can_proceed(method):
            raise DomainError(_("The supplier's status changed meanwhile; reload the page and decide again."))
        before = locked.status
        method(**kwargs)
        locked.save()
        change = SupplierStatusChange.objects.create(
            supplier=locked,
            action=action,
            from_status=before,
            to_status=locked.status,
            conditional_until=locked.conditional_until,
            reason=reason,
            decided_by=user,
        )
        signature_record(credential=credential, instance=change, meaning=meaning, reason=reason, role=role)
    supplier.refresh_from_db()
    return change


def supplier_start_evaluation(*, supplier, user, credential, reason):
    return _supplier_decide(
        supplier=supplier, action="start_evaluation", user=user, credential=credential, reason=reason
    )


def supplier_approve(*, supplier, user, credential, reason, on=None):
    return _supplier_decide(supplier=supplier, action="approve", user=user, credential=credential, reason=reason, on=on)


def supplier_approve_conditionally(*, supplier, user, credential, reason, until, on=None):
    return _supplier_decide(
        supplier=supplier,
        action="approve_conditionally",
        user=user,
        credential=credential,
        reason=reason,
        until=until,
        on=on,
    )


def supplier_suspend(*, supplier, user, credential, reason):
    return _supplier_decide(supplier=supplier, action="suspend", user=user, credential=credential, reason=reason)


def supplier_reinstate(*, supplier, user, credential, reason, on=None):
    return _supplier_decide(
        supplier=supplier, action="reinstate", user=user, credential=credential, reason=reason, on=on
    )


def supplier_disqualify(*, supplier, user, credential, reason):
    return _supplier_decide(supplier=supplier, action="disqualify", user=user, credential=credential, reason=reason)


def supplier_requalify(*, supplier, user, credential, reason):
    return _supplier_decide(supplier=supplier, action="requalify", user=user, credential=credential, reason=reason)


SUPPLIER_DECISION_SERVICES = {
    "start_evaluation": supplier_start_evaluation,
    "approve": supplier_approve,
    "approve_conditionally": supplier_approve_conditionally,
    "suspend": supplier_suspend,
    "reinstate": supplier_reinstate,
    "disqualify": supplier_disqualify,
    "requalify": supplier_requalify,
}


def supplier_audit_record(
    *, supplier, user, audited_on, auditor: str, result: str, score=None, findings: str = ""
) -> SupplierAudit:
    check_supplier_perm(user, "suppliers.change", supplier)
    if audited_on > timezone.localdate():
        raise DomainError(_("The audit date cannot be in the future."), field="audited_on")
    with transaction.atomic(), audit_context(user=user):
        return SupplierAudit.objects.create(
            supplier=supplier,
            audited_on=audited_on,
            auditor=auditor,
            result=result,
            score=score,
            findings=findings,
            recorded_by=user,
        )


# ---------------------------------------------------------------------------------------------------
# Certificates


def certificate_upload(
    *,
    supplier,
    user,
    cert_type: str,
    number: str,
    issuer: str = "",
    scope: str = "",
    issued_on=None,
    valid_until=None,
    upload=None,
    parts=(),
) -> Certificate:
    """Register a certificate (with its file): it awaits review before it counts."""
    check_supplier_perm(user, "suppliers.certificates", supplier)
    if issued_on and valid_until and valid_until < issued_on:
        raise DomainError(_("“Valid until” is before “issued on”; check the dates."), field="valid_until")
    checked = check_upload(upload, use="certificate") if upload is not None else None
    with transaction.atomic(), audit_context(user=user):
        cert = Certificate(
            supplier=supplier,
            cert_type=cert_type,
            number=number.strip(),
            issuer=issuer,
            scope=scope,
            issued_on=issued_on,
            valid_until=valid_until,
            uploaded_by=user,
        )
        if checked:
            cert.file_name = checked.name
            cert.file_type = checked.content_type
            cert.file_sha256 = checked.sha256
            cert.file_size = checked.size
            cert.file.save(checked.name, checked.content_file(), save=False)
        cert.save()
        if parts:
            cert.parts.set(parts)
    return cert


@policy.door("certificate.accept")
def certificate_accept(*, certificate, user, comment: str = "", on=None) -> Certificate:
    """The reviewer confirms the certificate is genuine and fits; it then counts in the checklist, older
    certificates of the same type are superseded, and an automatic suspension it cures is lifted.
    Not by whoever uploaded it."""
    policy.check_decide(
        user,
        "certificate.accept",
        decision_site(user, "certificate.accept", certificate.supplier),
        involved={"uploaded": certificate.uploaded_by_id},
        what=_("certificate %(n)s") % {"n": certificate.number},
    )
    if certificate.status != CertificateStatus.PENDING_REVIEW:
        raise DomainError(_("Only a certificate awaiting review can be accepted."))
    today = _today(on)
    if certificate.is_expired(today):
        raise DomainError(_("This certificate has already expired; ask the supplier for the renewed one."))
    with transaction.atomic(), audit_context(user=user, reason=comment or _("certificate reviewed and accepted")):
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        locked.accept(by=user, comment=comment)
        locked.save()
        older = Certificate.objects.select_for_update().filter(
            supplier_id=locked.supplier_id, cert_type=locked.cert_type, status=CertificateStatus.VALID
        )
        for old in older.exclude(pk=locked.pk):
            if old.valid_until is not None and (locked.valid_until is None or old.valid_until <= locked.valid_until):
                old.supersede()
                old.save(reason=_("superseded by certificate %(n)s") % {"n": locked.number})
        _lift_cured_suspensions(supplier=locked.supplier, today=today)
    return locked


def certificate_reject(*, certificate, user, comment: str) -> Certificate:
    """The other outcome of the certificate's review: the same authority as accepting it (the site's own for
    certificate.accept, a deputy included); rejecting one's own upload is not barred."""
    site = decision_site(user, "certificate.accept", certificate.supplier)
    policy.check_decide(user, "certificate.accept", site, what=_("certificate %(n)s") % {"n": certificate.number})
    comment = _require_reason(comment)
    if certificate.status != CertificateStatus.PENDING_REVIEW:
        raise DomainError(_("Only a certificate awaiting review can be rejected."))
    with transaction.atomic(), audit_context(user=user, reason=comment):
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        locked.reject(by=user, comment=comment)
        locked.save()
    return locked


def certificate_void(*, certificate, user, reason: str) -> Certificate:
    check_supplier_perm(user, "suppliers.certificates", certificate.supplier)
    reason = _require_reason(reason)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if not can_proceed(locked.void):
            raise DomainError(_("A %(status)s certificate cannot be voided.") % {"status": locked.get_status_display()})
        locked.void()
        locked.save()
    return locked


def _type_policies() -> dict[str, CertificateTypePolicy]:
    return {p.cert_type: p for p in CertificateTypePolicy.objects.all()}


def reminder_days(cert_type: str, policies: dict) -> list[int]:
    pol = policies.get(cert_type)
    if pol is None:
        return list(DEFAULT_REMINDER_DAYS)
    days = []
    for part in pol.reminder_days.replace(";", ",").split(","):
        part = part.strip()
        if part.isdigit():
            days.append(int(part))
    return sorted(set(days), reverse=True) or list(DEFAULT_REMINDER_DAYS)


def suspends_on_expiry(cert_type: str, policies: dict) -> bool:
    pol = policies.get(cert_type)
    return pol.suspends_on_expiry if pol is not None else cert_type not in NON_SUSPENDING_BY_DEFAULT


def reminder_stage(days_left: int, thresholds: list[int]) -> str | None:
    """Which reminder is due: the tightest threshold reached, or "expired" after the last valid day."""
    if days_left < 0:
        return "expired"
    reached = [t for t in thresholds if days_left <= t]
    return str(min(reached)) if reached else None


def _reminder_recipients(supplier) -> list:
    if supplier.sqe_id and supplier.sqe.is_active:
        return [supplier.sqe]
    people = {}
    for site in supplier.sites.all():
        for u in users_with_role(site=site, roles=[Role.SUPPLIER_QUALITY_ENGINEER]) or users_with_role(
            site=site, roles=[Role.QUALITY_MANAGER]
        ):
            people[u.pk] = u
    return list(people.values())


def certificate_reminders_send(*, today=None) -> int:
    """Remind the responsible SQE (inbox and e-mail) before a certificate expires (default 90, 30 and
    7 days) and when it has expired. Each reminder is sent once per certificate, expiry date and stage."""
    today = _today(today)
    policies = _type_policies()
    horizon = max([max(reminder_days(t, policies)) for t in CertificateType.values] + [0])
    certs = (
        Certificate.objects.filter(
            status=CertificateStatus.VALID,
            valid_until__isnull=False,
            valid_until__lte=today + datetime.timedelta(days=horizon),
        )
        .exclude(supplier__status__in=[SupplierStatus.DISQUALIFIED])
        .select_related("supplier", "supplier__sqe")
        .prefetch_related("supplier__sites")
    )
    sent = 0
    for cert in certs:
        days_left = cert.days_left(today)
        stage = reminder_stage(days_left, reminder_days(cert.cert_type, policies))
        if stage is None:
            continue
        try:
            with transaction.atomic():
                reminder, created = CertificateReminder.objects.get_or_create(
                    certificate=cert, valid_until=cert.valid_until, stage=stage
                )
        except IntegrityError:
            continue
        if not created:
            continue
        if stage == "expired":
            subject = LazyFormat(
                gettext_lazy("Certificate expired: %(type)s %(number)s of %(supplier)s (last valid day %(date)s)"),
                type=CertificateType(cert.cert_type).label,
                number=cert.number,
                supplier=str(cert.supplier),
                date=cert.valid_until.isoformat(),
            )
            level = "error"
        else:
            subject = LazyFormat(
                gettext_lazy(
                    "Certificate expires in %(days)s days: %(type)s %(number)s of %(supplier)s (valid until %(date)s)"
                ),
                days=days_left,
                type=CertificateType(cert.cert_type).label,
                number=cert.number,
                supplier=str(cert.supplier),
                date=cert.valid_until.isoformat(),
            )
            level = "warning"
        body = LazyFormat(
            gettext_lazy("Ask %(supplier)s for the renewed certificate and upload it in the certificate register."),
            supplier=str(cert.supplier),
        )
        site = next(iter(cert.supplier.sites.all()), None)
        notes = notification_send(
            recipients=_reminder_recipients(cert.supplier),
            subject=subject,
            body=body,
            link=reverse("suppliers:detail", args=[cert.supplier_id]) + "#certificates",
            dedup_key=f"suppcert:{cert.pk}:{cert.valid_until}:{stage}",
            site=site,
            level=level,
        )
        reminder.recipients = len(notes)
        reminder.save(update_fields=["recipients"])
        sent += len(notes)
    return sent


def _covers(cert, part_ids: set[int], part_id: int) -> bool:
    return not part_ids or part_id in part_ids


def certificate_expiry_process(*, today=None) -> dict:
    """Suspend the ASL entries of suppliers whose mandatory certificate expired (per type policy) and
    lift the suspensions that a renewed certificate cures. Idempotent."""
    today = _today(today)
    policies = _type_policies()
    lifted = 0
    suspended = 0
    expired = (
        Certificate.objects.filter(status=CertificateStatus.VALID, valid_until__lt=today)
        .exclude(supplier__status__in=[SupplierStatus.DISQUALIFIED])
        .values_list("supplier_id", flat=True)
        .distinct()
    )
    open_susp = AslSuspension.objects.filter(lifted_at__isnull=True).values_list("asl_entry__supplier_id", flat=True)
    supplier_ids = set(expired) | set(open_susp)
    suppliers = Supplier.objects.filter(pk__in=supplier_ids).prefetch_related(
        "sites", "certificates__parts", "asl_entries__part"
    )
    for supplier in suppliers:
        lifted += _lift_cured_suspensions(supplier=supplier, today=today)
        suspended += _suspend_for_expired(supplier=supplier, today=today, policies=policies)
    return {"suspended": suspended, "lifted": lifted}


def _current_cover(certs, types, part_id, today) -> Certificate | None:
    for c in certs:
        if c.cert_type in types and c.is_current(today) and _covers(c, {p.pk for p in c.parts.all()}, part_id):
            return c
    return None


def _type_groups(supplier) -> dict[str, tuple[str, ...]]:
    groups = {}
    for req in requirements_for(_industries(supplier), supplier.risk_level):
        for t in req.cert_types:
            groups[t] = req.cert_types
    return groups


def _suspend_for_expired(*, supplier, today, policies) -> int:
    certs = list(supplier.certificates.all())
    mandatory = mandatory_cert_types(_industries(supplier), supplier.risk_level)
    groups = _type_groups(supplier)
    count = 0
    entries = list(supplier.asl_entries.all())
    for cert in certs:
        if cert.status != CertificateStatus.VALID or not cert.is_expired(today):
            continue
        if cert.cert_type not in mandatory or not suspends_on_expiry(cert.cert_type, policies):
            continue
        part_ids = {p.pk for p in cert.parts.all()}
        for entry in entries:
            if entry.status == AslStatus.BLOCKED or not _covers(cert, part_ids, entry.part_id):
                continue
            if _current_cover(certs, groups.get(cert.cert_type, (cert.cert_type,)), entry.part_id, today):
                continue
            if asl_suspend(entry=entry, certificate=cert):
                count += 1
    return count


def _lift_cured_suspensions(*, supplier, today) -> int:
    certs = list(Certificate.objects.filter(supplier=supplier).prefetch_related("parts"))
    groups = _type_groups(supplier)
    count = 0
    for susp in AslSuspension.objects.filter(asl_entry__supplier=supplier, lifted_at__isnull=True).select_related(
        "asl_entry", "asl_entry__part", "asl_entry__supplier"
    ):
        cover = _current_cover(certs, groups.get(susp.cert_type, (susp.cert_type,)), susp.asl_entry.part_id, today)
        if cover is not None:
            asl_reinstate(suspension=susp, certificate=cover)
            count += 1
    return count


# ---------------------------------------------------------------------------------------------------
# Approved supplier list


def asl_entry_create(*, supplier, part, user) -> AslEntry:
    check_supplier_perm(user, "suppliers.change", supplier)
    if supplier.status == SupplierStatus.DISQUALIFIED:
        raise DomainError(_("%(s)s is disqualified; requalify it before listing parts.") % {"s": supplier.code})
    existing = AslEntry.objects.filter(supplier=supplier, part=part).first()
    if existing is not None:
        raise DomainError(
            _("%(part)s is already on the approved supplier list for %(s)s.")
            % {"part": part.number, "s": supplier.code}
        )
    with transaction.atomic(), audit_context(user=user):
        return AslEntry.objects.create(supplier=supplier, part=part)


@policy.door("asl.decide")
def _asl_decide(*, entry, action, user, credential, reason, meaning, on=None, **kwargs) -> AslEntry:
    reason = _require_reason(reason)
    site = decision_site(user, "asl.decide", entry.supplier)
    policy.check_decide(user, "asl.decide", site)
    _check_credential(credential, user)
    if entry.supplier.status == SupplierStatus.DISQUALIFIED and action != "block":
        raise DomainError(_("%(s)s is disqualified; no part can be approved for it.") % {"s": entry.supplier.code})
    if action in ("approve", "approve_conditionally") and not (
        kwargs.get("evidence") or kwargs.get("ppap") or entry.ppap_id
    ):
        raise DomainError(
            _("Name the evidence behind the approval (PPAP, first article, qualification report)."), field="evidence"
        )
    if action == "approve_conditionally":
        until = kwargs.get("until")
        if until is None or until <= _today(on):
            raise DomainError(_("A conditional approval needs an end date in the future."), field="until")
    role = _signing_role(user, "asl.decide", site)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = AslEntry.objects.select_for_update().get(pk=entry.pk)
        method = getattr(locked, action)
        if not can_proceed(method):
            raise DomainError(
                _("This part is %(status)s on the list; that decision is not possible from there.")
                % {"status": locked.get_status_display()}
            )
        method(by=user, **kwargs)
        locked.save()
        signature_record(credential=credential, instance=locked, meaning=meaning, reason=reason, role=role)
    return locked


def asl_approve(*, entry, user, credential, reason, evidence="", ppap=None) -> AslEntry:
    return _asl_decide(
        entry=entry, action="approve", user=user, credential=credential, reason=reason, meaning="approved",
        evidence=evidence, ppap=ppap,
    )  # fmt: skip


def asl_approve_conditionally(*, entry, user, credential, reason, until, evidence="", ppap=None, on=None) -> AslEntry:
    return _asl_decide(
        entry=entry, action="approve_conditionally", user=user, credential=credential, reason=reason,
        meaning="approved", until=until, evidence=evidence, ppap=ppap, on=on,
    )  # fmt: skip


def asl_block(*, entry, user, credential, reason) -> AslEntry:
    return _asl_decide(entry=entry, action="block", user=user, credential=credential, reason=reason, meaning="rejected")


ASL_DECISION_SERVICES = {"approve": asl_approve, "approve_conditionally": asl_approve_conditionally, "block": asl_block}


def asl_suspend(*, entry, certificate) -> AslSuspension | None:
    """Automatic: a mandatory certificate expired. Recorded in the audit trail; None if already suspended."""
    reason = _("%(type)s %(number)s expired on %(date)s: approval suspended automatically until it is renewed") % {
        "type": CertificateType(certificate.cert_type).label,
        "number": certificate.number,
        "date": certificate.valid_until.isoformat(),
    }
    try:
        with transaction.atomic(), audit_context(reason=reason, source="job"):
            AslEntry.objects.select_for_update().filter(pk=entry.pk).first()
            if AslSuspension.objects.filter(
                asl_entry=entry, cert_type=certificate.cert_type, lifted_at__isnull=True
            ).exists():
                return None
            susp = AslSuspension.objects.create(
                asl_entry=entry, certificate=certificate, cert_type=certificate.cert_type, reason=reason
            )
            audit_trail.record(entry, action="suspend", changes={"suspended": [False, True]}, reason=reason)
    except IntegrityError:
        return None
    log.info("ASL %s suspended: %s", entry, reason)
    return susp


def asl_reinstate(*, suspension, certificate) -> AslSuspension:
    """Automatic: the renewed certificate lifts the suspension."""
    reason = _("renewed %(type)s %(number)s valid until %(date)s: automatic suspension lifted") % {
        "type": CertificateType(certificate.cert_type).label,
        "number": certificate.number,
        "date": certificate.valid_until.isoformat() if certificate.valid_until else "-",
    }
    with transaction.atomic(), audit_context(reason=reason):
        locked = AslSuspension.objects.select_for_update().get(pk=suspension.pk)
        if locked.lifted_at is not None:
            return locked
        locked.lifted_at = timezone.now()
        locked.lifted_by_certificate = certificate
        locked.save()
        audit_trail.record(
            suspension.asl_entry, action="reinstate", changes={"suspended": [True, False]}, reason=reason
        )
    return locked


# ---------------------------------------------------------------------------------------------------
# The gate


def supplier_can_supply(*, supplier, part, on=None) -> Verdict:
    """May material of `part` be received from `supplier`? Yes, or no with the reasons, for the
    receiving screen (traceability asks on every purchased receipt)."""
    if supplier is None:
        return Verdict(ok=False, reasons=[_("No supplier given: a purchased receipt needs its supplier.")])
    entry = AslEntry.objects.filter(supplier=supplier, part=part).prefetch_related("suspensions").first()
    supplier = Supplier.objects.prefetch_related("sites", "certificates__parts").get(pk=supplier.pk)
    return supply_verdict(supplier=supplier, part=part, entry=entry, policies=_type_policies(), on=on)


def supply_verdict(*, supplier, part, entry, policies, on=None) -> Verdict:
    """The gate over already-loaded rows: `supplier` with sites and certificates (with parts)
    prefetched, `entry` the ASL entry (or None) with its suspensions prefetched."""
    today = _today(on)
    reasons: list[str] = []
    name = supplier.code
    if supplier.status not in SUPPLYING_STATUSES:
        reasons.append(
            _("Supplier %(s)s is %(status)s, not approved: nothing may be received from it.")
            % {"s": name, "status": str(supplier.get_status_display()).lower()}
        )
    elif (
        supplier.status == SupplierStatus.CONDITIONAL
        and supplier.conditional_until
        and supplier.conditional_until < today
    ):
        reasons.append(
            _("The conditional approval of supplier %(s)s ended on %(d)s.")
            % {"s": name, "d": supplier.conditional_until.isoformat()}
        )
    suspended_types: set[str] = set()
    if entry is None:
        reasons.append(_("Part %(p)s is not on the approved supplier list for %(s)s.") % {"p": part.number, "s": name})
    else:
        if entry.status == AslStatus.PENDING:
            reasons.append(
                _("Part %(p)s from %(s)s is still awaiting qualification (PPAP or first article).")
                % {"p": part.number, "s": name}
            )
        elif entry.status == AslStatus.BLOCKED:
            reasons.append(
                _("Part %(p)s from %(s)s is blocked on the approved supplier list.") % {"p": part.number, "s": name}
            )
        elif entry.status == AslStatus.CONDITIONAL and entry.conditional_until and entry.conditional_until < today:
            reasons.append(
                _("The conditional approval of part %(p)s from %(s)s ended on %(d)s.")
                % {"p": part.number, "s": name, "d": entry.conditional_until.isoformat()}
            )
        for susp in entry.suspensions.all():
            if susp.lifted_at is None:
                suspended_types.add(susp.cert_type)
                reasons.append(
                    _("Part %(p)s from %(s)s is suspended: %(why)s.")
                    % {"p": part.number, "s": name, "why": susp.reason}
                )
    # Expired mandatory certificates, even before the periodic job has suspended anything.
    if supplier.status in SUPPLYING_STATUSES:
        mandatory = mandatory_cert_types(_industries(supplier), supplier.risk_level)
        groups = _type_groups(supplier)
        certs = list(supplier.certificates.all())
        for cert in certs:
            if (
                cert.status == CertificateStatus.VALID
                and cert.is_expired(today)
                and cert.cert_type in mandatory
                and cert.cert_type not in suspended_types
                and suspends_on_expiry(cert.cert_type, policies)
                and _covers(cert, {p.pk for p in cert.parts.all()}, part.pk)
                and _current_cover(certs, groups.get(cert.cert_type, (cert.cert_type,)), part.pk, today) is None
            ):
                suspended_types.add(cert.cert_type)
                reasons.append(
                    _("The %(type)s of %(s)s expired on %(d)s.")
                    % {"type": CertificateType(cert.cert_type).label, "s": name, "d": cert.valid_until.isoformat()}
                )
    return Verdict.from_reasons(reasons)


# ---------------------------------------------------------------------------------------------------
# PPAP


def _next_ppap_code() -> str:
    year = timezone.localdate().year
    prefix = f"PPAP-{year}-"
    last = (
        PpapSubmission._base_manager.filter(code__startswith=prefix)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    n = int(last.rsplit("-", 1)[-1]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def ppap_create(*, supplier, part, level: int, reason: str, user) -> PpapSubmission:
    check_supplier_perm(user, "suppliers.change", supplier)
    if level not in range(1, 6):
        raise DomainError(_("The PPAP submission level is 1 to 5."), field="level")
    if supplier.status == SupplierStatus.DISQUALIFIED:
        raise DomainError(_("%(s)s is disqualified; requalify it before a PPAP.") % {"s": supplier.code})
    if PpapSubmission.objects.filter(
        supplier=supplier, part=part, status__in=[PpapStatus.OPEN, PpapStatus.IN_REVIEW]
    ).exists():
        raise DomainError(_("A PPAP for this part is already open; finish it first."))
    required = ppap_rules.required_elements(level)
    with transaction.atomic(), audit_context(user=user):
        sub = PpapSubmission.objects.create(
            code=_next_ppap_code(), supplier=supplier, part=part, level=level, reason=reason, created_by=user
        )
        PpapElement.objects.bulk_create(
            [PpapElement(submission=sub, number=n, required=n in required) for n in ppap_rules.ELEMENTS]
        )
        if not AslEntry.objects.filter(supplier=supplier, part=part).exists():
            AslEntry.objects.create(supplier=supplier, part=part)
    return sub


def ppap_attachment_add(*, element, upload, user) -> PpapAttachment:
    sub = element.submission
    check_supplier_perm(user, "suppliers.change", sub.supplier)
    if sub.status not in (PpapStatus.OPEN, PpapStatus.IN_REVIEW):
        raise DomainError(_("This PPAP is decided; documents can no longer be added."))
    checked = check_upload(upload, use="ppap")
    with transaction.atomic(), audit_context(user=user):
        att = PpapAttachment(
            element=element,
            file_name=checked.name,
            file_type=checked.content_type,
            file_sha256=checked.sha256,
            file_size=checked.size,
            uploaded_by=user,
        )
        att.file.save(checked.name, checked.content_file(), save=False)
        att.save()
    return att


def ppap_submit(*, submission, user) -> PpapSubmission:
    """The documents are complete: hand the package to review."""
    check_supplier_perm(user, "suppliers.change", submission.supplier)
    if submission.status != PpapStatus.OPEN:
        raise DomainError(_("Only a PPAP that is collecting documents can be submitted."))
    elements = list(submission.elements.prefetch_related("attachments"))
    missing = [
        f"{e.number} {e.name}"
        for e in elements
        if e.required
        and e.number not in ppap_rules.PHYSICAL
        and e.status != ElementStatus.NOT_APPLICABLE
        and not e.attachments.all()
    ]
    if missing:
        raise DomainError(
            _("Attach the documents of every required element first. Missing: %(items)s.")
            % {"items": "; ".join(missing)}
        )
    with transaction.atomic(), audit_context(user=user, reason=_("PPAP submitted for review")):
        locked = PpapSubmission.objects.select_for_update().get(pk=submission.pk)
        locked.submit(by=user)
        locked.save()
    return locked


def ppap_element_review(*, element, user, status: str, comment: str = "") -> PpapElement:
    sub = element.submission
    check_supplier_perm(user, "suppliers.ppap_review", sub.supplier)
    if sub.status != PpapStatus.IN_REVIEW:
        raise DomainError(_("Elements are reviewed once the PPAP is submitted and before the PSW decision."))
    if status not in ElementStatus.values or status == ElementStatus.PENDING:
        raise DomainError(_("Choose accepted, rejected or not applicable."))
    if status == ElementStatus.NOT_APPLICABLE and element.number == ppap_rules.PSW:
        raise DomainError(_("The part submission warrant is always required."))
    if status in (ElementStatus.REJECTED, ElementStatus.NOT_APPLICABLE) and not comment.strip():
        raise DomainError(_("Say why the element is rejected or not applicable."), field="comment")
    with transaction.atomic(), audit_context(user=user, reason=comment or _("PPAP element reviewed")):
        locked = PpapElement.objects.select_for_update().get(pk=element.pk)
        locked.status = status
        locked.comment = comment
        locked.reviewed_by = user
        locked.reviewed_at = timezone.now()
        locked.save()
    return locked


def ppap_return(*, submission, user, reason: str) -> PpapSubmission:
    """Send the package back to the supplier for corrections (rejected elements)."""
    check_supplier_perm(user, "suppliers.ppap_review", submission.supplier)
    reason = _require_reason(reason)
    if submission.status != PpapStatus.IN_REVIEW:
        raise DomainError(_("Only a PPAP in review can be returned for corrections."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = PpapSubmission.objects.select_for_update().get(pk=submission.pk)
        locked.return_to_supplier()
        locked.save()
    return locked


@policy.door("ppap.decide")
def _ppap_decide(*, submission, action, user, credential, reason, meaning, asl_action=None, **kwargs):
    site = decision_site(user, "ppap.decide", submission.supplier)
    policy.check_decide(user, "ppap.decide", site)
    _check_credential(credential, user)
    method_check = getattr(submission, action)
    if not can_proceed(method_check):
        raise DomainError(
            _("This PPAP is %(status)s; that decision is not possible.") % {"status": submission.get_status_display()}
        )
    # Segregation of duties: the warrant is not approved by whoever submitted the package.
    policy.check_segregation(
        user,
        decision="ppap.decide",
        involved={"submitted": submission.submitted_by_id},
        what=_("the PPAP submission %(c)s") % {"c": submission.code},
        site=site,
    )
    elements = list(submission.elements.all())
    if action in ("approve", "approve_interim"):
        psw = next(e for e in elements if e.number == ppap_rules.PSW)
        if psw.status != ElementStatus.ACCEPTED:
            raise DomainError(_("Review and accept the part submission warrant (element 18) first."))
    if action == "approve":
        open_items = [
            f"{e.number} {e.name}"
            for e in elements
            if e.required and e.status not in (ElementStatus.ACCEPTED, ElementStatus.NOT_APPLICABLE)
        ]
        if open_items:
            raise DomainError(
                _("Every required element must be accepted (or not applicable) before full approval. Open: %(items)s. "
                  "Consider an interim approval with an end date.")
                % {"items": "; ".join(open_items)}
            )  # fmt: skip
    role = _signing_role(user, "ppap.decide", site)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = PpapSubmission.objects.select_for_update().select_related("supplier", "part").get(pk=submission.pk)
        getattr(locked, action)(by=user, reason=reason, **kwargs)
        locked.save()
        signature_record(credential=credential, instance=locked, meaning=meaning, reason=reason, role=role)
        if asl_action:
            entry, _created = AslEntry.objects.get_or_create(supplier=locked.supplier, part=locked.part)
            entry = AslEntry.objects.select_for_update().get(pk=entry.pk)
            asl_method = getattr(entry, asl_action)
            if (
                can_proceed(asl_method)
                or entry.status == AslStatus.CONDITIONAL
                and asl_action == "approve_conditionally"
            ):
                if asl_action == "approve":
                    entry.approve(by=user, evidence=_("PPAP %(c)s approved") % {"c": locked.code}, ppap=locked)
                else:
                    entry.conditional_until = kwargs["until"]
                    entry.evidence = _("PPAP %(c)s interim approval") % {"c": locked.code}
                    entry.ppap = locked
                    entry.decided_by, entry.decided_at = user, timezone.now()
                    entry.status = AslStatus.CONDITIONAL
                entry.save()
                audit_trail.record(
                    entry, action="update", changes={"ppap": [None, locked.code]}, reason=_("set by PPAP decision")
                )
    return locked


def ppap_approve(*, submission, user, credential, reason: str = "") -> PpapSubmission:
    """Approve the PSW (e-signed): the ASL entry becomes approved with the PPAP as its evidence."""
    return _ppap_decide(
        submission=submission, action="approve", user=user, credential=credential,
        reason=reason or _("PSW approved"), meaning="approved", asl_action="approve",
    )  # fmt: skip


def ppap_approve_interim(*, submission, user, credential, reason: str, until) -> PpapSubmission:
    reason = _require_reason(reason)
    if until is None or until <= timezone.localdate():
        raise DomainError(_("An interim approval needs an end date in the future."), field="until")
    return _ppap_decide(
        submission=submission, action="approve_interim", user=user, credential=credential,
        reason=reason, meaning="approved", asl_action="approve_conditionally", until=until,
    )  # fmt: skip


def ppap_reject(*, submission, user, credential, reason: str) -> PpapSubmission:
    reason = _require_reason(reason)
    return _ppap_decide(
        submission=submission, action="reject", user=user, credential=credential, reason=reason, meaning="rejected"
    )


PPAP_DECISION_SERVICES = {"approve": ppap_approve, "approve_interim": ppap_approve_interim, "reject": ppap_reject}


# ---------------------------------------------------------------------------------------------------
# Scorecard inputs (called down by inspection, nonconformance and capa)


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def supplier_receipt_record(
    *,
    supplier,
    part,
    site,
    lot_code: str,
    accepted: bool,
    quantity_inspected: int,
    quantity_defective: int,
    on=None,
) -> ReceiptRecord:
    """Record (or correct) the incoming-inspection outcome of one lot. Idempotent per supplier, site and lot."""
    on = _today(on)
    if quantity_defective > quantity_inspected:
        raise DomainError(_("More defective pieces than inspected pieces; check the quantities."))
    with transaction.atomic(), audit_context(reason=_("incoming inspection outcome updated")):
        rec = ReceiptRecord.objects.select_for_update().filter(supplier=supplier, site=site, lot_code=lot_code).first()
        if rec is None:
            rec = ReceiptRecord.objects.create(
                supplier=supplier,
                part=part,
                site=site,
                lot_code=lot_code,
                received_on=on,
                accepted=accepted,
                quantity_inspected=quantity_inspected,
                quantity_defective=quantity_defective,
            )
        else:
            old_month = _month_start(rec.received_on)
            rec.part, rec.accepted = part, accepted
            rec.quantity_inspected, rec.quantity_defective = quantity_inspected, quantity_defective
            rec.save()
            if old_month != _month_start(rec.received_on):
                scorecard_compute(supplier=supplier, site=site, month=old_month)
        scorecard_compute(supplier=supplier, site=site, month=_month_start(rec.received_on))
    return rec


def supplier_ncr_record(*, supplier, site, ncr_code: str, on=None) -> NcrRecord:
    on = _today(on)
    with transaction.atomic():
        rec, created = NcrRecord.objects.get_or_create(
            ncr_code=ncr_code, defaults={"supplier": supplier, "site": site, "raised_on": on}
        )
        if created:
            scorecard_compute(supplier=supplier, site=site, month=_month_start(on))
    return rec


def supplier_scar_record(*, supplier, site, scar_code: str, issued_on, due_on, responded_on=None) -> ScarRecord:
    """Idempotent by scar_code: call again when the supplier answered."""
    with transaction.atomic(), audit_context(reason=_("SCAR response recorded")):
        rec = ScarRecord.objects.select_for_update().filter(scar_code=scar_code).first()
        months = {_month_start(issued_on), _month_start(due_on)}
        if rec is None:
            rec = ScarRecord.objects.create(
                supplier=supplier, site=site, scar_code=scar_code, issued_on=issued_on, due_on=due_on,
                responded_on=responded_on,
            )  # fmt: skip
        else:
            months |= {_month_start(rec.issued_on), _month_start(rec.due_on)}
            rec.issued_on, rec.due_on, rec.responded_on = issued_on, due_on, responded_on
            rec.save()
        if responded_on:
            months.add(_month_start(responded_on))
        for month in sorted(months):
            if month <= timezone.localdate():
                scorecard_compute(supplier=supplier, site=site, month=month)
    return rec


def scorecard_compute(*, supplier, site, month, today=None) -> Scorecard:
    """Compute one monthly scorecard from the recorded inputs (see suppliers.scoring for the formulas)."""
    today = _today(today)
    start = _month_start(month)
    end = _next_month(start)
    agg = ReceiptRecord.objects.filter(
        supplier=supplier, site=site, received_on__gte=start, received_on__lt=end
    ).aggregate(
        n=Count("pk"),
        acc=Count("pk", filter=Q(accepted=True)),
        insp=Sum("quantity_inspected"),
        defective=Sum("quantity_defective"),
    )
    ncrs = NcrRecord.objects.filter(supplier=supplier, site=site, raised_on__gte=start, raised_on__lt=end).count()
    scars = list(
        ScarRecord.objects.filter(supplier=supplier, site=site).filter(
            Q(issued_on__gte=start, issued_on__lt=end)
            | Q(due_on__gte=start, due_on__lt=end)
            | Q(responded_on__gte=start, responded_on__lt=end)
        )
    )
    on_time = late = 0
    response_days = []
    for s in scars:
        if start <= s.due_on < end:
            if s.responded_on is not None:
                if s.responded_on <= s.due_on:
                    on_time += 1
                else:
                    late += 1
            elif s.due_on < today:
                late += 1
        if s.responded_on is not None and start <= s.responded_on < end:
            response_days.append((s.responded_on - s.issued_on).days)
    scar_count = sum(1 for s in scars if start <= s.issued_on < end)
    day = min(end - datetime.timedelta(days=1), today)
    site_industry = {site.industry}
    certs = list(supplier.certificates.all())
    compliance = cert_compliance_on(
        industries=site_industry, risk_level=supplier.risk_level, certificates=certs, day=day
    )
    rules = scoring.Rules.from_policy(ScorecardPolicy.objects.filter(site=site).first())
    result = scoring.compute(
        lots_received=agg["n"],
        lots_accepted=agg["acc"],
        quantity_inspected=agg["insp"] or 0,
        quantity_defective=agg["defective"] or 0,
        scar_on_time=on_time,
        scar_late=late,
        cert_compliance=compliance,
        rules=rules,
    )
    card, _created = Scorecard.objects.update_or_create(
        supplier=supplier,
        site=site,
        month=start,
        defaults={
            "lots_received": agg["n"],
            "lots_accepted": agg["acc"],
            "lots_rejected": agg["n"] - agg["acc"],
            "quantity_inspected": agg["insp"] or 0,
            "quantity_defective": agg["defective"] or 0,
            "ncr_count": ncrs,
            "scar_count": scar_count,
            "scar_on_time": on_time,
            "scar_late": late,
            "scar_avg_days": (scoring._r(sum(response_days) / len(response_days)) if response_days else None),
            "lar": result.lar,
            "ppm": result.ppm,
            "scar_score": result.scar_score,
            "cert_compliance": result.cert_compliance,
            "score": result.score,
            "grade": result.grade,
            "computed_at": timezone.now(),
        },
    )
    return card


def scorecards_compute(*, month=None, today=None) -> int:
    """Recompute this month's and last month's scorecards for every supplier and site (periodic job)."""
    today = _today(today)
    months = (
        [_month_start(month)]
        if month
        else [_month_start(today), _month_start(_month_start(today) - datetime.timedelta(days=1))]
    )
    count = 0
    suppliers = Supplier.objects.exclude(status=SupplierStatus.PROSPECTIVE).prefetch_related("sites", "certificates")
    for supplier in suppliers:
        for site in supplier.sites.all():
            for m in months:
                scorecard_compute(supplier=supplier, site=site, month=m, today=today)
                count += 1
    return count


def scorecard_policy_for(site: Site) -> scoring.Rules:
    return scoring.Rules.from_policy(ScorecardPolicy.objects.filter(site=site).first())
