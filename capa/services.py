"""Every write of the capa app: CAPA / 8D, actions, effectiveness checks, SCARs, reminders."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.effectiveness import effectiveness_input, effectiveness_sign
from compliance.signatures import credential_check_owner, signature_record
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import create_with_code
from qms.core.errors import DomainError, PermissionRefused
from qms.core.i18n import LazyFormat
from qms.core.models import Industry, Role
from qms.core.reminders import DueWork, due_work_remind
from qms.core.selectors import users_with_role
from qms.core.services import notification_send
from qms.core.services import require_transition as _require

from .models import (
    FISHBONE_KEYS,
    ActionKind,
    ActionStatus,
    Capa,
    CapaAction,
    CapaFormat,
    CapaSource,
    CapaStatus,
    CapaTeamMember,
    CheckResult,
    EffectivenessCheck,
    Scar,
    ScarStatus,
    TeamRole,
)

REMIND_DAYS_BEFORE = 3
SCAR_DEFAULT_DAYS = 14


def capa_url(capa) -> str:
    return reverse("capa:capa_detail", args=[capa.code])


def scar_url(scar) -> str:
    return reverse("capa:scar_detail", args=[scar.code])


def _may_edit(user, capa: Capa) -> None:
    if user.pk == capa.owner_id and policy.can(user, "capa.view", capa.site) and not policy.is_read_only(user):
        return
    policy.check(user, "capa.manage", capa.site)


# --- CAPA ------------------------------------------------------------------------------------------


def capa_create(
    *,
    site,
    title: str,
    owner,
    user,
    kind: str = "corrective",
    source: str = CapaSource.OTHER,
    source_reference: str = "",
    form: str | None = None,
    ncr=None,
    complaint=None,
    scar=None,
    problem_statement: str = "",
    due_on=None,
    effectiveness_days: int | None = None,
) -> Capa:
    """Raise a CAPA (8D by default on automotive sites, the simple form elsewhere)."""
    policy.check(user, "capa.manage", site)
    if not title.strip():
        raise DomainError(_("Give the CAPA a short title."))
    if not policy.can(owner, "capa.view", site) or policy.is_read_only(owner):
        raise DomainError(_("%(user)s cannot own a CAPA at this site.") % {"user": owner})
    for record in (ncr, complaint, scar):
        if record is not None and record.site_id != site.pk:
            raise DomainError(_("%(code)s belongs to another site.") % {"code": record.code})
    if form is None:
        form = CapaFormat.EIGHT_D if site.industry == Industry.AUTOMOTIVE else CapaFormat.SIMPLE
    if ncr is not None and source == CapaSource.OTHER:
        source = CapaSource.NCR
    if complaint is not None and source == CapaSource.OTHER:
        source = CapaSource.COMPLAINT
    if scar is not None and source == CapaSource.OTHER:
        source = CapaSource.SCAR
    reference = source_reference or getattr(ncr or complaint or scar, "code", "")
    with transaction.atomic(), audit_context(user=user, reason=_("CAPA raised")):
        capa = create_with_code(
            Capa,
            "CAPA",
            site=site,
            title=title.strip()[:200],
            owner=owner,
            kind=kind,
            source=source,
            source_reference=reference,
            form=form,
            ncr=ncr,
            complaint=complaint,
            scar=scar,
            problem_statement=problem_statement or getattr(ncr or complaint, "description", "") or "",
            due_on=due_on,
            effectiveness_days=effectiveness_days or 30,
            created_by=user,
        )
        CapaTeamMember.objects.create(capa=capa, user=owner, role=TeamRole.LEADER)
        transaction.on_commit(
            lambda: notification_send(
                recipients=[owner],
                subject=LazyFormat(gettext_lazy("You own CAPA %(code)s: %(title)s"), code=capa.code, title=capa.title),
                link=capa_url(capa),
                dedup_key=f"capa-owner:{capa.pk}:{owner.pk}",
                site=site,
            )
        )
    return capa


CAPA_TEXT_FIELDS = {
    "title",
    "due_on",
    "effectiveness_days",
    "d0_emergency_response",
    "problem_statement",
    "what",
    "where",
    "when",
    "who",
    "why",
    "how",
    "how_many",
    "d3_containment",
    "root_cause",
    "escape_point",
    "d5_chosen_actions",
    "d6_validation",
    "d7_prevention",
    "d7_documents_updated",
    "d7_fmea_updated",
    "d7_control_plan_updated",
    "d8_recognition",
}


def capa_update(*, capa: Capa, user, reason: str = "", five_whys=None, fishbone=None, **fields) -> Capa:
    """Record the 8D / CAPA content (problem, 5W2H, root cause with 5 whys and fishbone, D5-D8)."""
    _may_edit(user, capa)
    if capa.status in (CapaStatus.CLOSED, CapaStatus.CANCELLED):
        raise DomainError(_("A closed or cancelled CAPA cannot be changed."))
    unknown = set(fields) - CAPA_TEXT_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    reason = reason or _("8D / CAPA content updated")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        if five_whys is not None:
            locked.five_whys = [str(w).strip() for w in five_whys if str(w).strip()][:10]
        if fishbone is not None:
            locked.fishbone = {k: str(fishbone.get(k, "")).strip() for k in FISHBONE_KEYS if fishbone.get(k)}
        if locked.effectiveness_days < 1:
            raise DomainError(_("The effectiveness check needs at least one day."))
        if locked.status == CapaStatus.OPEN and (locked.root_cause or locked.five_whys):
            locked.start()
        locked.save(reason=reason)
    return locked


def capa_team_add(*, capa: Capa, member, user, role: str = TeamRole.MEMBER, department: str = "") -> CapaTeamMember:
    _may_edit(user, capa)
    if capa.team.filter(user=member).exists():
        raise DomainError(_("%(user)s is already on the team.") % {"user": member})
    with audit_context(user=user, reason=_("team member added")):
        return CapaTeamMember.objects.create(capa=capa, user=member, role=role, department=department)


def capa_action_add(*, capa: Capa, description: str, owner, due_on, user, kind: str = ActionKind.CORRECTIVE):
    _may_edit(user, capa)
    capa.refresh_from_db()
    if capa.status not in (CapaStatus.OPEN, CapaStatus.IN_PROGRESS):
        raise DomainError(_("Actions can be added while the CAPA is open or in progress."))
    if not description.strip():
        raise DomainError(_("Describe the action."))
    if not policy.can(owner, "capa.view", capa.site) or policy.is_read_only(owner):
        raise DomainError(_("%(user)s cannot own actions at this site.") % {"user": owner})
    with transaction.atomic(), audit_context(user=user, reason=_("action added")):
        action = CapaAction.objects.create(capa=capa, description=description, owner=owner, due_on=due_on, kind=kind)
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        if locked.status == CapaStatus.OPEN:
            locked.start()
            locked.save(reason=_("first action planned"))
        transaction.on_commit(
            lambda: notification_send(
                recipients=[owner],
                subject=LazyFormat(
                    gettext_lazy("CAPA %(code)s: action for you, due %(due)s"), code=capa.code, due=due_on.isoformat()
                ),
                body=description,
                link=capa_url(capa),
                dedup_key=f"capa-action-new:{action.pk}",
                site=capa.site,
            )
        )
    return action


def capa_action_complete(*, action: CapaAction, user, evidence: str) -> CapaAction:
    if user.pk != action.owner_id:
        _may_edit(user, action.capa)
    if action.status != ActionStatus.OPEN:
        raise DomainError(_("This action is not open."))
    if not evidence.strip():
        raise DomainError(_("Record the evidence that the action was done."))
    with transaction.atomic(), audit_context(user=user, reason=_("action done")):
        locked = CapaAction.objects.select_for_update().get(pk=action.pk)
        locked.status = ActionStatus.DONE
        locked.done_at = timezone.now()
        locked.evidence = evidence
        locked.save(reason=_("action done"))
    return locked


def capa_action_cancel(*, action: CapaAction, user, reason: str) -> CapaAction:
    _may_edit(user, action.capa)
    if action.status != ActionStatus.OPEN:
        raise DomainError(_("This action is not open."))
    if not reason.strip():
        raise DomainError(_("Give the reason for cancelling the action."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = CapaAction.objects.select_for_update().get(pk=action.pk)
        locked.status = ActionStatus.CANCELLED
        locked.save(reason=reason)
    return locked


def capa_readiness(capa: Capa) -> list[str]:
    """What stops closing the actions and scheduling the effectiveness check (empty when ready)."""
    problems = []
    actions = list(capa.actions.all())
    if not any(a.status == ActionStatus.DONE and a.kind != ActionKind.CONTAINMENT for a in actions):
        problems.append(_("At least one corrective or preventive action must be done."))
    open_actions = [a for a in actions if a.status == ActionStatus.OPEN]
    if open_actions:
        problems.append(_("%(n)s action(s) are still open.") % {"n": len(open_actions)})
    if not capa.root_cause.strip():
        problems.append(_("Record the root cause (D4)."))
    if capa.is_8d:
        if not capa.problem_statement.strip() and not capa.what.strip():
            problems.append(_("Describe the problem (D2, 5W2H)."))
        if not capa.five_whys and not capa.fishbone:
            problems.append(_("Record the root cause analysis: 5 whys or the 5M1E fishbone (D4)."))
    return problems


def capa_actions_close(*, capa: Capa, user, criteria: str = "", check_due_on=None) -> EffectivenessCheck:
    """All actions done: schedule the effectiveness check (default `effectiveness_days` later)."""
    _may_edit(user, capa)
    capa.refresh_from_db()
    _require(capa, "await_effectiveness", _("Only a CAPA with actions in progress can go to the effectiveness check."))
    problems = capa_readiness(capa)
    if problems:
        raise DomainError(" ".join(str(p) for p in problems))
    due = check_due_on or timezone.localdate() + timedelta(days=capa.effectiveness_days)
    with transaction.atomic(), audit_context(user=user, reason=_("actions closed, effectiveness check scheduled")):
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        _require(
            locked, "await_effectiveness", _("Only a CAPA with actions in progress can go to the effectiveness check.")
        )
        locked.await_effectiveness()
        locked.save(reason=_("actions closed, effectiveness check scheduled"))
        check = EffectivenessCheck.objects.create(capa=locked, due_on=due, criteria=criteria)
    return check


@policy.door("capa.verify")
def effectiveness_check_record(
    *, check: EffectivenessCheck, result: str, evidence: str, user, credential, today=None
) -> EffectivenessCheck:
    """Record the check, e-signed by someone other than the CAPA owner. "Not effective" reopens the CAPA."""
    capa = check.capa
    credential_check_owner(user=user, credential=credential)
    if user.pk == capa.owner_id:
        raise PermissionRefused(_("The CAPA owner cannot judge its effectiveness: someone else must sign."))
    policy.check_decide(user, "capa.verify", capa.site, involved={"executed": capa.owner_id}, what=capa.code)
    evidence = effectiveness_input(result=result, evidence=evidence, due_on=check.due_on, today=today)
    with transaction.atomic(), audit_context(user=user, reason=evidence):
        locked = EffectivenessCheck.objects.select_for_update().get(pk=check.pk)
        capa_locked = Capa.objects.select_for_update().get(pk=capa.pk)
        effectiveness_sign(
            locked=locked,
            result=result,
            evidence=evidence,
            user=user,
            credential=credential,
            still_due=capa_locked.status == CapaStatus.EFFECTIVENESS,
        )
        if result == CheckResult.NOT_EFFECTIVE:
            capa_locked.reopen()
            capa_locked.save(reason=_("effectiveness check: not effective, CAPA reopened"))
            transaction.on_commit(
                lambda: notification_send(
                    recipients=[capa.owner],
                    subject=LazyFormat(gettext_lazy("CAPA %(code)s was not effective and is reopened"), code=capa.code),
                    body=evidence,
                    link=capa_url(capa),
                    dedup_key=f"capa-reopened:{locked.pk}",
                    site=capa.site,
                    level="warning",
                )
            )
    return locked


@policy.door("capa.close")
def capa_close(*, capa: Capa, user, reason: str = "") -> Capa:
    """Close: only after the latest effectiveness check was recorded as effective; by someone with the
    site's authority for this decision (policy.DECISIONS "capa.close")."""
    policy.check_decide(user, "capa.close", capa.site, what=capa.code)
    capa.refresh_from_db()
    _require(capa, "close", _("Only a CAPA awaiting its effectiveness check can be closed."))
    last = capa.effectiveness_checks.order_by("-scheduled_at", "-pk").first()
    if last is None or last.result != CheckResult.EFFECTIVE:
        raise DomainError(_("The CAPA can be closed only after its effectiveness check is recorded as effective."))
    with transaction.atomic(), audit_context(user=user, reason=reason or _("CAPA closed")):
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        _require(locked, "close", _("Only a CAPA awaiting its effectiveness check can be closed."))
        locked.close()
        locked.save(reason=reason or _("CAPA closed"))
    return locked


@policy.door("capa.cancel")
def capa_cancel(*, capa: Capa, user, credential, reason: str) -> Capa:
    policy.check_decide(user, "capa.cancel", capa.site)
    credential_check_owner(user=user, credential=credential)
    if not reason.strip():
        raise DomainError(_("Give the reason for cancelling the CAPA."))
    _require(capa, "cancel", _("Only an open CAPA can be cancelled."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Capa.objects.select_for_update().get(pk=capa.pk)
        _require(locked, "cancel", _("Only an open CAPA can be cancelled."))
        locked.cancel(reason=reason)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="rejected", reason=reason)
    return locked


# --- reminders -------------------------------------------------------------------------------------


def capa_action_reminders_send(*, today=None) -> int:
    """Remind owners `REMIND_DAYS_BEFORE` days before an action is due; when overdue, tell the owner and
    escalate to the site's quality managers. Each message is sent once (dedup key per action and due date)."""
    today = today or timezone.localdate()
    actions = CapaAction.objects.filter(
        status=ActionStatus.OPEN,
        due_on__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
        capa__status__in=[CapaStatus.OPEN, CapaStatus.IN_PROGRESS],
    ).select_related("capa", "capa__site", "owner")
    return due_work_remind(
        (
            DueWork(
                key="capa-action",
                pk=action.pk,
                code=action.capa.code,
                owner=action.owner,
                due_on=action.due_on,
                site=action.capa.site,
                link=capa_url(action.capa),
                body=action.description,
                due=gettext_lazy("CAPA %(code)s: your action is due on %(due)s"),
                overdue=gettext_lazy("CAPA %(code)s: your action is overdue since %(due)s"),
                escalation=gettext_lazy("Escalation: CAPA %(code)s action of %(owner)s overdue since %(due)s"),
            )
            for action in actions
        ),
        today=today,
    )


def effectiveness_checks_due_send(*, today=None) -> int:
    """Tell the people who may verify (not the owner) that an effectiveness check is due. Once per check."""
    today = today or timezone.localdate()
    sent = 0
    checks = EffectivenessCheck.objects.filter(
        result=CheckResult.PENDING, due_on__lte=today, capa__status=CapaStatus.EFFECTIVENESS
    ).select_related("capa", "capa__site")
    for check in checks:
        capa = check.capa
        verifiers = [
            u for u in users_with_role(site=capa.site, roles=policy.PERMISSIONS["capa.verify"]) if u.pk != capa.owner_id
        ]
        sent += len(
            notification_send(
                recipients=verifiers,
                subject=LazyFormat(
                    gettext_lazy("CAPA %(code)s: effectiveness check due on %(due)s"),
                    code=capa.code,
                    due=check.due_on.isoformat(),
                ),
                body=check.criteria,
                link=capa_url(capa),
                dedup_key=f"capa-effectiveness-due:{check.pk}",
                site=capa.site,
                level="warning",
            )
        )
    return sent


# --- SCAR ------------------------------------------------------------------------------------------


def _scorecard(scar: Scar) -> None:
    from suppliers.services import supplier_scar_record

    supplier_scar_record(
        supplier=scar.supplier,
        site=scar.site,
        scar_code=scar.code,
        issued_on=scar.issued_on,
        due_on=scar.due_on,
        responded_on=scar.responded_on,
    )


def scar_create(*, site, supplier, title: str, user, description: str = "", ncr=None, contact_email: str = "") -> Scar:
    policy.check(user, "scar.manage", site)
    if ncr is not None and ncr.site_id != site.pk:
        raise DomainError(_("%(code)s belongs to another site.") % {"code": ncr.code})
    with transaction.atomic(), audit_context(user=user, reason=_("SCAR raised")):
        return create_with_code(
            Scar,
            "SCAR",
            site=site,
            supplier=supplier,
            ncr=ncr,
            title=title.strip()[:200],
            description=description,
            contact_email=contact_email or getattr(supplier, "contact_email", "") or "",
            created_by=user,
        )


def scar_open_from_return(*, line, ncr, user) -> Scar | None:
    """Listener body: a "return to supplier" disposition was executed; open a SCAR (once per NCR)."""
    if ncr.supplier_id is None:
        return None
    existing = Scar.objects.filter(ncr=ncr).exclude(status=ScarStatus.CANCELLED).first()
    if existing is not None:
        return existing
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Returned material: %(ncr)s") % {"ncr": ncr.title}
        description = _("%(qty)s returned under %(ncr)s (shipment %(ref)s). %(desc)s") % {
            "qty": line.executed_quantity,
            "ncr": ncr.code,
            "ref": line.return_reference,
            "desc": ncr.description,
        }
    with transaction.atomic(), audit_context(user=user, reason=_("SCAR opened from return to supplier")):
        scar = create_with_code(
            Scar,
            "SCAR",
            site=ncr.site,
            supplier=ncr.supplier,
            ncr=ncr,
            title=title[:200],
            description=description,
            contact_email=getattr(ncr.supplier, "contact_email", "") or "",
            created_by=user,
        )
        recipients = users_with_role(site=ncr.site, roles=[Role.SUPPLIER_QUALITY_ENGINEER, Role.QUALITY_MANAGER])
        transaction.on_commit(
            lambda: notification_send(
                recipients=recipients,
                subject=LazyFormat(gettext_lazy("SCAR %(code)s opened: send it to the supplier"), code=scar.code),
                link=scar_url(scar),
                dedup_key=f"scar-opened:{scar.pk}",
                site=ncr.site,
            )
        )
    return scar


def scar_send(*, scar: Scar, user, due_on=None) -> Scar:
    """Send the SCAR to the supplier contact with a response deadline."""
    policy.check(user, "scar.manage", scar.site)
    _require(scar, "send", _("Only a draft SCAR can be sent."))
    email = scar.contact_email or getattr(scar.supplier, "contact_email", "")
    if not email:
        raise DomainError(_("Record the supplier contact e-mail before sending the SCAR."))
    today = timezone.localdate()
    due_on = due_on or today + timedelta(days=SCAR_DEFAULT_DAYS)
    if due_on <= today:
        raise DomainError(_("The response deadline must be in the future."))
    with transaction.atomic(), audit_context(user=user, reason=_("SCAR sent to the supplier")):
        locked = Scar.objects.select_for_update().get(pk=scar.pk)
        _require(locked, "send", _("Only a draft SCAR can be sent."))
        locked.contact_email = email
        locked.send(issued_on=today, due_on=due_on)
        locked.save(reason=_("SCAR sent to the supplier"))
        _scorecard(locked)
        transaction.on_commit(lambda: _scar_mail(locked.pk))
    return locked


def _scar_mail(scar_id: int) -> None:
    scar = Scar.objects.select_related("supplier", "site").get(pk=scar_id)
    subject = _("Supplier corrective action request %(code)s: %(title)s") % {"code": scar.code, "title": scar.title}
    body = _(
        "Dear supplier,\n\nplease investigate the problem below and send your 8D response "
        "(containment, root cause, corrective and preventive actions) by %(due)s.\n\n%(desc)s\n\n%(site)s quality"
    ) % {"due": scar.due_on, "desc": scar.description, "site": scar.site.name}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [scar.contact_email], fail_silently=True)


def scar_record_response(
    *,
    scar: Scar,
    user,
    containment: str,
    root_cause: str,
    corrective_action: str,
    preventive_action: str = "",
    responded_on=None,
) -> Scar:
    """Record the supplier's 8D answer; its response time goes to the supplier scorecard."""
    policy.check(user, "scar.manage", scar.site)
    _require(scar, "record_response", _("Only a SCAR sent to the supplier can receive a response."))
    if not root_cause.strip() or not corrective_action.strip():
        raise DomainError(_("The supplier's response needs at least the root cause and the corrective actions."))
    responded_on = responded_on or timezone.localdate()
    if scar.issued_on and responded_on < scar.issued_on:
        raise DomainError(_("The response date is before the SCAR was sent."))
    with transaction.atomic(), audit_context(user=user, reason=_("supplier response recorded")):
        locked = Scar.objects.select_for_update().get(pk=scar.pk)
        _require(locked, "record_response", _("Only a SCAR sent to the supplier can receive a response."))
        locked.response_containment = containment
        locked.response_root_cause = root_cause
        locked.response_corrective_action = corrective_action
        locked.response_preventive_action = preventive_action
        locked.record_response(responded_on=responded_on)
        locked.save(reason=_("supplier response recorded"))
        _scorecard(locked)
    return locked


def scar_accept(*, scar: Scar, user, credential, comment: str = "") -> Scar:
    policy.check(user, "scar.manage", scar.site)
    credential_check_owner(user=user, credential=credential)
    _require(scar, "accept", _("Only a SCAR with a response can be accepted."))
    with transaction.atomic(), audit_context(user=user, reason=comment or _("supplier response accepted")):
        locked = Scar.objects.select_for_update().get(pk=scar.pk)
        _require(locked, "accept", _("Only a SCAR with a response can be accepted."))
        locked.accept(comment=comment)
        locked.save(reason=comment or _("supplier response accepted"))
        signature_record(credential=credential, instance=locked, meaning="approved", reason=comment)
    return locked


def scar_reject_response(*, scar: Scar, user, comment: str, due_on) -> Scar:
    policy.check(user, "scar.manage", scar.site)
    _require(scar, "reject_response", _("Only a SCAR with a response can be sent back."))
    if not comment.strip():
        raise DomainError(_("Tell the supplier what is missing in the response."))
    if due_on <= timezone.localdate():
        raise DomainError(_("The response deadline must be in the future."))
    with transaction.atomic(), audit_context(user=user, reason=comment):
        locked = Scar.objects.select_for_update().get(pk=scar.pk)
        _require(locked, "reject_response", _("Only a SCAR with a response can be sent back."))
        locked.reject_response(comment=comment, due_on=due_on)
        locked.save(reason=comment)
        transaction.on_commit(lambda: _scar_mail(locked.pk))
    return locked


def scar_cancel(*, scar: Scar, user, reason: str) -> Scar:
    policy.check(user, "scar.manage", scar.site)
    if not reason.strip():
        raise DomainError(_("Give the reason for cancelling the SCAR."))
    _require(scar, "cancel", _("Only a draft or sent SCAR can be cancelled."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Scar.objects.select_for_update().get(pk=scar.pk)
        locked.cancel(reason=reason)
        locked.save(reason=reason)
    return locked


def scar_reminders_send(*, today=None) -> int:
    """Overdue supplier responses: tell the SQEs once per SCAR and deadline."""
    today = today or timezone.localdate()
    sent = 0
    for scar in Scar.objects.filter(status=ScarStatus.SENT, due_on__lt=today).select_related("site", "supplier"):
        sent += len(
            notification_send(
                recipients=users_with_role(site=scar.site, roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
                subject=LazyFormat(
                    gettext_lazy("SCAR %(code)s: supplier response overdue since %(due)s"),
                    code=scar.code,
                    due=scar.due_on.isoformat(),
                ),
                link=scar_url(scar),
                dedup_key=f"scar-overdue:{scar.pk}:{scar.due_on}",
                site=scar.site,
                level="warning",
            )
        )
    return sent
