"""Every write of change control: requests, impact assessment, the change board's signed votes,
implementation tasks (PPAP re-submission on automotive parts), effectiveness check, outputs, closure,
reminders and escalation."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
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
from qms.core.services import clean_text as _text
from qms.core.services import notification_send
from qms.core.services import require_transition as _require

from . import selectors
from .models import (
    BoardVote,
    ChangeEffectivenessCheck,
    ChangeOutput,
    ChangeRequest,
    ChangeStatus,
    ChangeTask,
    ChangeType,
    CheckResult,
    ImpactItem,
    ImpactKind,
    ImpactSource,
    OutputKind,
    TaskKind,
    TaskStatus,
    Urgency,
    Vote,
)

REMIND_DAYS_BEFORE = 3
PPAP_TASK_DAYS = 30
DEFAULT_CHECK_DAYS = 30
S = ChangeStatus


def change_url(change) -> str:
    return reverse("changes:change_detail", args=[change.code])


def _check_task_owner(person, site) -> None:
    if person is None or not policy.can(person, "changes.view", site) or policy.is_read_only(person):
        raise DomainError(_("%(user)s cannot own tasks at this site.") % {"user": person})


def needs_ppap(change: ChangeRequest) -> bool:
    """A supplier or process change on a part at an automotive site needs a PPAP re-submission."""
    return (
        change.site.industry == Industry.AUTOMOTIVE
        and change.change_type in (ChangeType.SUPPLIER, ChangeType.PROCESS)
        and change.part_id is not None
    )


# --- request ---------------------------------------------------------------------------------------


def change_request_create(
    *,
    site,
    title: str,
    reason: str,
    change_type: str,
    user,
    description: str = "",
    urgency: str = Urgency.ROUTINE,
    part=None,
    supplier=None,
    equipment=None,
) -> ChangeRequest:
    policy.check(user, "changes.request", site)
    title, reason = _text(title, 200), _text(reason)
    if not title or not reason:
        raise DomainError(_("Say what changes and why."))
    if change_type not in ChangeType.values:
        raise DomainError(_("Choose the type of change."))
    if urgency not in Urgency.values:
        raise DomainError(_("Choose the urgency."))
    if change_type == ChangeType.SUPPLIER and supplier is None:
        raise DomainError(_("A supplier change names the supplier."))
    if supplier is not None and not supplier.sites.filter(pk=site.pk).exists():
        raise DomainError(_("%(s)s does not supply site %(site)s.") % {"s": supplier.code, "site": site.code})
    if equipment is not None and equipment.site_id != site.pk:
        raise DomainError(_("%(e)s belongs to another site.") % {"e": equipment.code})
    with transaction.atomic(), audit_context(user=user, reason=_("change requested")):
        return create_with_code(
            ChangeRequest,
            "CHG",
            site=site,
            title=title,
            reason=reason,
            description=_text(description),
            change_type=change_type,
            urgency=urgency,
            part=part,
            supplier=supplier,
            equipment=equipment,
            requested_by=user,
        )


def _may_edit(user, change: ChangeRequest) -> None:
    if user.pk == change.requested_by_id and not policy.is_read_only(user):
        policy.check(user, "changes.request", change.site)
        return
    policy.check(user, "changes.assess", change.site)


def change_submit(*, change: ChangeRequest, user) -> ChangeRequest:
    """Send the request to impact assessment; the computed suggestions are listed at once."""
    _may_edit(user, change)
    with transaction.atomic(), audit_context(user=user, reason=_("change submitted for assessment")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        _require(locked, "submit", _("Only a draft change can be submitted."))
        locked.submit()
        locked.save(reason=_("change submitted for assessment"))
        _suggest(locked)
        assessors = users_with_role(site=locked.site, roles=list(policy.PERMISSIONS["changes.assess"]))
        transaction.on_commit(
            lambda: notification_send(
                recipients=[u for u in assessors if u.pk != locked.requested_by_id],
                subject=LazyFormat(
                    gettext_lazy("Change %(code)s needs its impact assessment: %(title)s"),
                    code=locked.code,
                    title=locked.title,
                ),
                link=change_url(locked),
                dedup_key=f"change-assess:{locked.pk}",
                site=locked.site,
            )
        )
    return locked


def _suggest(change: ChangeRequest) -> int:
    existing = set(ImpactItem.objects.filter(change=change).values_list("kind", "reference"))
    new = [
        ImpactItem(change=change, source=ImpactSource.SUGGESTED, **row)
        for row in selectors.impact_suggestions(change)
        if (row["kind"], row["reference"]) not in existing
    ]
    ImpactItem.objects.bulk_create(new)
    return len(new)


def impact_suggest(*, change: ChangeRequest, user) -> int:
    """Recompute the suggestions (new open lots, a new plan version...): adds what is not listed yet."""
    policy.check(user, "changes.assess", change.site)
    with transaction.atomic(), audit_context(user=user, reason=_("impact suggestions refreshed")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status != S.ASSESSMENT:
            raise DomainError(_("The impact is assessed before the change goes to the board."))
        return _suggest(locked)


def impact_add(*, change: ChangeRequest, kind: str, reference: str, user, note: str = "") -> ImpactItem:
    policy.check(user, "changes.assess", change.site)
    if kind not in ImpactKind.values:
        raise DomainError(_("Choose what is affected."))
    reference = _text(reference, 200)
    if not reference:
        raise DomainError(_("Name the affected record."))
    row = selectors.resolve_reference(change, kind, reference)
    if row is None:
        raise DomainError(
            _("No %(kind)s “%(ref)s” at site %(site)s.")
            % {"kind": ImpactKind(kind).label, "ref": reference[:60], "site": change.site.code}
        )
    with transaction.atomic(), audit_context(user=user, reason=_("impact added")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status != S.ASSESSMENT:
            raise DomainError(_("The impact is assessed before the change goes to the board."))
        if ImpactItem.objects.filter(change=locked, kind=kind, reference=row["reference"]).exists():
            raise DomainError(_("%(ref)s is listed already.") % {"ref": row["reference"]})
        return ImpactItem.objects.create(change=locked, source=ImpactSource.MANUAL, note=_text(note), **row)


def impact_set(*, item: ImpactItem, included: bool, user, note: str = "") -> ImpactItem:
    """Keep or drop a suggestion (with the assessor's note)."""
    policy.check(user, "changes.assess", item.change.site)
    reason = _text(note) or (_("impact confirmed") if included else _("impact dismissed"))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        change = ChangeRequest.objects.select_for_update().get(pk=item.change_id)
        if change.status != S.ASSESSMENT:
            raise DomainError(_("The impact is assessed before the change goes to the board."))
        locked = ImpactItem.objects.select_for_update().get(pk=item.pk)
        locked.included = bool(included)
        locked.note = _text(note) or locked.note
        locked.save(reason=reason)
    return locked


def assessment_complete(*, change: ChangeRequest, user, summary: str, risk: str = "") -> ChangeRequest:
    """The assessor sends the change with its assessed impact to the change board."""
    policy.check(user, "changes.assess", change.site)
    summary = _text(summary)
    if not summary:
        raise DomainError(_("Summarise the impact for the change board."))
    with transaction.atomic(), audit_context(user=user, reason=_("impact assessed")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        _require(locked, "to_board", _("Only a change in impact assessment goes to the board."))
        if not ImpactItem.objects.filter(change=locked, included=True).exists():
            raise DomainError(_("Confirm at least one affected record, or add one."))
        locked.assessment_summary = summary
        locked.risk = _text(risk)
        locked.assessed_by = user
        locked.to_board()
        locked.save(reason=_("impact assessed"))
        roles = selectors.board_roles(locked.site)
        members = users_with_role(site=locked.site, roles=roles)
        transaction.on_commit(
            lambda: notification_send(
                recipients=[u for u in members if u.pk != locked.requested_by_id],
                subject=LazyFormat(gettext_lazy("Change board: %(code)s waits for your signature"), code=locked.code),
                body=locked.title,
                link=change_url(locked),
                dedup_key=f"change-board:{locked.pk}",
                site=locked.site,
            )
        )
    return locked


# --- the change board ------------------------------------------------------------------------------


def board_state(change: ChangeRequest) -> dict:
    """{role: vote or None} for the site's board, in the current round."""
    votes = {v.role: v for v in BoardVote.objects.filter(change=change).select_related("member")}
    return {role: votes.get(role) for role in selectors.board_roles(change.site)}


def roles_user_may_sign(user, change: ChangeRequest) -> list[str]:
    if user.pk == change.requested_by_id:
        return []
    voted = BoardVote.objects.filter(change=change)
    if voted.filter(member=user).exists():
        return []
    taken = set(voted.values_list("role", flat=True))
    mine = policy.roles(user, change.site)
    return [r for r in selectors.board_roles(change.site) if r in mine and r not in taken]


def board_offer(user, change: ChangeRequest) -> dict:
    """What the change's pages show for the board vote: policy.decision_offer (the site's authority, not the
    requester), narrowed to someone holding a board role of the site still waiting for a signature; when
    none of theirs waits, the refusal names those whose role does."""
    involved = {"authored": change.requested_by_id}
    offer = policy.decision_offer(user, "change.board_sign", change.site, involved=involved, what=change.code)
    if offer["may"] and roles_user_may_sign(user, change):
        return offer
    who = [
        u.printed_name
        for u in policy.eligible_users("change.board_sign", change.site, involved=involved)
        if roles_user_may_sign(u, change)
    ]
    if not offer["may"]:
        # The site's refusal (the requester, no authority) named everyone with the authority: name only those
        # whose board role still waits.
        said = _("Who can act: %(names)s.") % {"names": ", ".join(offer["who"])}
        now = _("Who can act: %(names)s.") % {"names": ", ".join(who)} if who else ""
        return {**offer, "why": offer["why"].replace(said, now).strip() if offer["who"] else offer["why"], "who": who}
    why = _("No board role you hold is waiting for a signature.")
    if who:
        why += " " + _("Who can act: %(names)s.") % {"names": ", ".join(who)}
    return {**offer, "may": False, "why": why, "who": who}


@policy.door("change.board_sign")
def change_board_sign(
    *, change: ChangeRequest, user, credential, vote: str, role: str | None = None, comment: str = ""
) -> BoardVote:
    """One board member's e-signed vote for one board role. Not the requester; one person signs one role.
    All roles approved: the change is approved (and an automotive supplier or process change gets its PPAP
    re-submission task). One rejection rejects it."""
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(
        user, "change.board_sign", change.site, involved={"authored": change.requested_by_id}, what=change.code
    )
    if vote not in Vote.values:
        raise DomainError(_("Vote approve or reject."))
    comment = _text(comment)
    if vote == Vote.REJECT and not comment:
        raise DomainError(_("Give the reason for rejecting the change."))
    reason = comment or (_("change approved") if vote == Vote.APPROVE else _("change rejected"))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status != S.BOARD:
            raise DomainError(_("The change board has decided this change already."))
        open_roles = roles_user_may_sign(user, locked)
        if role is None:
            role = open_roles[0] if open_roles else None
        if role not in open_roles:
            raise PermissionRefused(
                _("You hold no board role of this site that is still waiting for a signature on %(code)s.")
                % {"code": locked.code}
            )
        try:
            with transaction.atomic():
                ballot = BoardVote.objects.create(change=locked, role=role, member=user, vote=vote, comment=comment)
        except IntegrityError:
            raise DomainError(_("This board role has signed already.")) from None
        signature_record(
            credential=credential,
            instance=locked,
            meaning="approved" if vote == Vote.APPROVE else "rejected",
            reason=reason,
            role=role,
        )
        if vote == Vote.REJECT:
            locked.reject()
            locked.save(reason=reason)
            _tell_requester(locked, gettext_lazy("Change %(code)s was rejected by the change board"))
        elif all(v is not None and v.vote == Vote.APPROVE for v in board_state(locked).values()):
            locked.approve()
            locked.save(reason=_("approved by the change board"))
            if needs_ppap(locked):
                _ppap_task(locked)
            _tell_requester(locked, gettext_lazy("Change %(code)s was approved: implementation starts"))
    return ballot


def _tell_requester(change, subject) -> None:
    transaction.on_commit(
        lambda: notification_send(
            recipients=[change.requested_by],
            subject=LazyFormat(subject, code=change.code),
            link=change_url(change),
            dedup_key=f"change-decided:{change.pk}:{change.status}",
            site=change.site,
        )
    )


def _ppap_task(change: ChangeRequest) -> ChangeTask:
    owners = users_with_role(site=change.site, roles=[Role.SUPPLIER_QUALITY_ENGINEER]) or users_with_role(
        site=change.site, roles=[Role.QUALITY_MANAGER]
    )
    owner = owners[0] if owners else change.requested_by
    part = change.part
    if change.supplier_id:
        text = _("PPAP re-submission of %(part)s by supplier %(supplier)s after change %(code)s.") % {
            "part": part.number,
            "supplier": change.supplier.code,
            "code": change.code,
        }
    else:
        text = _("PPAP re-submission of %(part)s to the customer after process change %(code)s.") % {
            "part": part.number,
            "code": change.code,
        }
    task = ChangeTask.objects.create(
        change=change,
        kind=TaskKind.PPAP,
        description=text,
        owner=owner,
        due_on=timezone.localdate() + timedelta(days=PPAP_TASK_DAYS),
    )
    _task_notify(task)
    return task


# --- implementation --------------------------------------------------------------------------------


def _task_notify(task: ChangeTask) -> None:
    change = task.change
    transaction.on_commit(
        lambda: notification_send(
            recipients=[task.owner],
            subject=LazyFormat(
                gettext_lazy("Change %(code)s: task for you, due %(due)s"),
                code=change.code,
                due=task.due_on.isoformat(),
            ),
            body=task.description,
            link=change_url(change),
            dedup_key=f"change-task-new:{task.pk}",
            site=change.site,
        )
    )


def task_add(*, change: ChangeRequest, description: str, owner, due_on, user) -> ChangeTask:
    policy.check(user, "changes.assess", change.site)
    description = _text(description)
    if not description:
        raise DomainError(_("Describe the task."))
    _check_task_owner(owner, change.site)
    if due_on is None:
        raise DomainError(_("Give the task a due date."))
    with transaction.atomic(), audit_context(user=user, reason=_("task added")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status not in (S.ASSESSMENT, S.BOARD, S.IMPLEMENTATION):
            raise DomainError(_("Tasks are planned until the change is implemented."))
        task = ChangeTask.objects.create(change=locked, description=description, owner=owner, due_on=due_on)
        _task_notify(task)
    return task


def task_ppap_request(*, task: ChangeTask, user, level: int = 3) -> ChangeTask:
    """Ask the supplier for the PPAP re-submission: a PPAP submission through the suppliers services,
    linked to the task (an open one for the part is linked instead of a second)."""
    from suppliers.models import PpapReason, PpapStatus, PpapSubmission
    from suppliers.services import ppap_create

    change = task.change
    if task.kind != TaskKind.PPAP or task.status != TaskStatus.OPEN:
        raise DomainError(_("Only an open PPAP task requests a PPAP."))
    if task.ppap_id:
        raise DomainError(_("The PPAP %(code)s is requested already.") % {"code": task.ppap.code})
    if change.supplier_id is None:
        raise DomainError(_("A process change is re-submitted to the customer: record the evidence on the task."))
    reason = PpapReason.SUBCONTRACTOR if change.change_type == ChangeType.SUPPLIER else PpapReason.ENGINEERING_CHANGE
    with transaction.atomic(), audit_context(user=user, reason=_("PPAP requested for the change")):
        locked = ChangeTask.objects.select_for_update().get(pk=task.pk)
        if locked.ppap_id:
            raise DomainError(_("The PPAP is requested already."))
        existing = PpapSubmission.objects.filter(
            supplier=change.supplier, part=change.part, status__in=[PpapStatus.OPEN, PpapStatus.IN_REVIEW]
        ).first()
        locked.ppap = existing or ppap_create(
            supplier=change.supplier, part=change.part, level=level, reason=reason, user=user
        )
        locked.save(reason=_("PPAP requested for the change"))
    return locked


def task_complete(*, task: ChangeTask, user, evidence: str) -> ChangeTask:
    change = task.change
    if user.pk != task.owner_id or policy.is_read_only(user):
        policy.check(user, "changes.assess", change.site)
    evidence = _text(evidence)
    if not evidence:
        raise DomainError(_("Record the evidence that the task was done."))
    if task.kind == TaskKind.PPAP and change.supplier_id:
        from suppliers.models import PpapStatus

        if task.ppap_id is None or task.ppap.status not in (PpapStatus.APPROVED, PpapStatus.INTERIM):
            raise DomainError(_("The PPAP re-submission task is done when the supplier's PPAP is approved."))
    with transaction.atomic(), audit_context(user=user, reason=_("task done")):
        locked = ChangeTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != TaskStatus.OPEN:
            raise DomainError(_("This task is not open."))
        if ChangeRequest.objects.filter(pk=change.pk).values_list("status", flat=True).first() != S.IMPLEMENTATION:
            raise DomainError(_("Tasks are done once the change board approved the change."))
        locked.status = TaskStatus.DONE
        locked.evidence = evidence
        locked.done_by = user
        locked.done_at = timezone.now()
        locked.save(reason=_("task done"))
    return locked


def task_cancel(*, task: ChangeTask, user, reason: str) -> ChangeTask:
    policy.check(user, "changes.assess", task.change.site)
    reason = _text(reason)
    if not reason:
        raise DomainError(_("Give the reason for cancelling the task."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = ChangeTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != TaskStatus.OPEN:
            raise DomainError(_("This task is not open."))
        if locked.kind == TaskKind.PPAP:
            raise DomainError(_("The PPAP re-submission of an automotive part cannot be cancelled."))
        locked.status = TaskStatus.CANCELLED
        locked.save(reason=reason)
    return locked


def implementation_problems(change: ChangeRequest) -> list[str]:
    tasks = list(ChangeTask.objects.filter(change=change))
    problems = []
    if not any(t.status == TaskStatus.DONE for t in tasks):
        problems.append(_("At least one implementation task must be done."))
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    if open_tasks:
        problems.append(_("%(n)s task(s) are still open.") % {"n": len(open_tasks)})
    return problems


def implementation_complete(*, change: ChangeRequest, user, criteria: str = "", check_due_on=None):
    """Every task done: schedule the effectiveness check."""
    policy.check(user, "changes.assess", change.site)
    due = check_due_on or timezone.localdate() + timedelta(days=DEFAULT_CHECK_DAYS)
    with transaction.atomic(), audit_context(user=user, reason=_("change implemented")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        _require(locked, "implemented", _("Only a change in implementation can be completed."))
        problems = implementation_problems(locked)
        if problems:
            raise DomainError(" ".join(str(p) for p in problems))
        locked.implemented()
        locked.save(reason=_("change implemented"))
        return ChangeEffectivenessCheck.objects.create(change=locked, due_on=due, criteria=_text(criteria))


@policy.door("change.verify")
def change_effectiveness_record(
    *, check: ChangeEffectivenessCheck, result: str, evidence: str, user, credential, today=None
) -> ChangeEffectivenessCheck:
    """E-signed, not by anyone who owned or carried out an implementation task. Not effective: back to
    implementation."""
    change = check.change
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(
        user, "change.verify", change.site, involved={"executed": selectors.implementers(change)}, what=change.code
    )
    evidence = effectiveness_input(result=result, evidence=evidence, due_on=check.due_on, today=today)
    with transaction.atomic(), audit_context(user=user, reason=evidence):
        locked_change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        locked = ChangeEffectivenessCheck.objects.select_for_update().get(pk=check.pk)
        effectiveness_sign(
            locked=locked,
            result=result,
            evidence=evidence,
            user=user,
            credential=credential,
            still_due=locked_change.status == S.EFFECTIVENESS,
        )
        if result == CheckResult.EFFECTIVE:
            locked_change.verified()
        else:
            locked_change.reopen()
        locked_change.save(reason=evidence)
    return locked


# --- outputs, closure, cancellation ----------------------------------------------------------------


def _site_id_of(obj):
    for path in ("site_id", "document.site_id", "plan.site_id"):
        value = obj
        for hop in path.split("."):
            value = getattr(value, hop, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def change_output_link(*, change: ChangeRequest, user, plan=None, document_version=None) -> ChangeOutput:
    """Link a new version the change produced: an inspection plan version or a controlled document version."""
    if user.pk != change.requested_by_id:
        policy.check(user, "changes.assess", change.site)
    else:
        policy.check(user, "changes.request", change.site)
    target = plan if plan is not None else document_version
    if target is None or (plan is not None and document_version is not None):
        raise DomainError(_("Link one new version: an inspection plan version or a document version."))
    if _site_id_of(target) not in (None, change.site_id):
        raise DomainError(_("%(v)s belongs to another site.") % {"v": target})
    if plan is not None:
        kind, reference = OutputKind.PLAN_VERSION, f"{plan.part.number} {plan.stage} v{plan.version}"
    else:
        kind, reference = OutputKind.DOCUMENT_VERSION, str(document_version)[:200]
    with transaction.atomic(), audit_context(user=user, reason=_("new version linked to the change")):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.status not in (S.IMPLEMENTATION, S.EFFECTIVENESS, S.VERIFIED):
            raise DomainError(_("New versions are linked while the change is implemented."))
        try:
            with transaction.atomic():
                return ChangeOutput.objects.create(
                    change=locked,
                    kind=kind,
                    plan=plan,
                    model=target._meta.label_lower,
                    object_id=target.pk,
                    reference=reference,
                    linked_by=user,
                )
        except IntegrityError:
            raise DomainError(_("%(v)s is linked already.") % {"v": reference}) from None


@policy.door("change.close")
def change_close(*, change: ChangeRequest, user, reason: str = "") -> ChangeRequest:
    """Close a change verified effective; a document change names the document version it produced."""
    policy.check_decide(user, "change.close", change.site)
    reason = _text(reason) or _("change closed")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        _require(locked, "close", _("Only a change verified effective can be closed."))
        if locked.change_type == ChangeType.DOCUMENT and not ChangeOutput.objects.filter(change=locked).exists():
            raise DomainError(_("Link the new document version the change produced before closing it."))
        locked.close()
        locked.save(reason=reason)
    return locked


@policy.door("change.cancel")
def change_cancel(*, change: ChangeRequest, user, credential, reason: str) -> ChangeRequest:
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(user, "change.cancel", change.site)
    reason = _text(reason)
    if not reason:
        raise DomainError(_("Give the reason for cancelling the change."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
        _require(locked, "cancel", _("This change can no longer be cancelled."))
        locked.cancel(reason=reason)
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="rejected", reason=reason)
    return locked


# --- reminders and escalation ----------------------------------------------------------------------


def change_reminders_send(*, today=None) -> int:
    """Tasks due within `REMIND_DAYS_BEFORE` days remind their owner; overdue tasks tell the owner and
    escalate to the site's quality managers; due effectiveness checks tell those who may verify (not the
    implementers). Each message once per task and due date."""
    today = today or timezone.localdate()
    sent = 0
    tasks = ChangeTask.objects.filter(
        status=TaskStatus.OPEN,
        due_on__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
        change__status__in=[S.IMPLEMENTATION, S.BOARD, S.ASSESSMENT],
    ).select_related("change", "change__site", "owner")
    sent += due_work_remind(
        (
            DueWork(
                key="change-task",
                pk=task.pk,
                code=task.change.code,
                owner=task.owner,
                due_on=task.due_on,
                site=task.change.site,
                link=change_url(task.change),
                body=task.description,
                due=gettext_lazy("Change %(code)s: your task is due on %(due)s"),
                overdue=gettext_lazy("Change %(code)s: your task is overdue since %(due)s"),
                escalation=gettext_lazy("Escalation: change %(code)s task of %(owner)s overdue since %(due)s"),
            )
            for task in tasks
        ),
        today=today,
    )
    checks = ChangeEffectivenessCheck.objects.filter(
        result=CheckResult.PENDING, due_on__lte=today, change__status=S.EFFECTIVENESS
    ).select_related("change", "change__site")
    for check in checks:
        change = check.change
        barred = selectors.implementers(change)
        verifiers = [
            u
            for u in users_with_role(site=change.site, roles=list(policy.decision_roles("change.verify", change.site)))
            if u.pk not in barred
        ]
        sent += len(
            notification_send(
                recipients=verifiers,
                subject=LazyFormat(
                    gettext_lazy("Change %(code)s: effectiveness check due on %(due)s"),
                    code=change.code,
                    due=check.due_on.isoformat(),
                ),
                body=check.criteria,
                link=change_url(change),
                dedup_key=f"change-effectiveness-due:{check.pk}",
                site=change.site,
                level="warning",
            )
        )
    return sent
