"""Every write of the audits app: programmes, audit plans and checklists, performing, findings (a major or
minor finding opens an NCR or a CAPA through their own services), closing (e-signed by the lead auditor),
reminders."""

from __future__ import annotations

import datetime
from datetime import timedelta

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
from qms.core.models import Role
from qms.core.selectors import users_with_role
from qms.core.services import clean_text as _text
from qms.core.services import notification_send
from qms.core.services import require_transition as _require

from . import clauses as clause_library
from .models import (
    NEEDS_ACTION,
    Audit,
    AuditProgramme,
    AuditStatus,
    AuditTeamMember,
    ChecklistItem,
    Classification,
    Finding,
    FindingStatus,
    ItemResult,
    Standard,
)

REMIND_DAYS_BEFORE = 7
FINDING_DEFAULT_DAYS = {Classification.MAJOR: 30, Classification.MINOR: 60}
ESCALATE_TO = ("ncr", "capa")


def audit_url(audit) -> str:
    return reverse("audits:audit_detail", args=[audit.code])


def _may_audit(user, site) -> bool:
    return policy.can(user, "audits.perform", site) and not policy.is_read_only(user)


def team_ids(audit: Audit) -> set[int]:
    return {audit.lead_auditor_id, *AuditTeamMember.objects.filter(audit=audit).values_list("user_id", flat=True)}


def _check_on_team(user, audit: Audit) -> None:
    if user.pk not in team_ids(audit):
        raise PermissionRefused(_("Only the auditors of %(code)s record its results.") % {"code": audit.code})
    policy.check(user, "audits.perform", audit.site)


# --- programme and plan ----------------------------------------------------------------------------


def programme_create(*, site, year: int, title: str, user) -> AuditProgramme:
    policy.check(user, "audits.plan", site)
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(_("Give the programme year, e.g. %(y)s.") % {"y": timezone.localdate().year})
    title = _text(title, 200) or _("Internal audit programme %(year)s") % {"year": year}
    if AuditProgramme.objects.filter(site=site, year=year).exists():
        raise DomainError(_("Site %(site)s already has a programme for %(year)s.") % {"site": site.code, "year": year})
    with transaction.atomic(), audit_context(user=user, reason=_("audit programme created")):
        return AuditProgramme.objects.create(site=site, year=year, title=title, created_by=user)


def audit_plan(
    *,
    programme: AuditProgramme,
    title: str,
    standard: str,
    area: str,
    area_owner,
    lead_auditor,
    planned_start: datetime.date,
    planned_end: datetime.date,
    user,
    auditors=(),
    scope: str = "",
    chapters=(),
) -> Audit:
    """Plan an audit in the programme with its team; the checklist is built from the standard's clauses
    (optionally narrowed to chapters, e.g. ["8", "9"]). Nobody audits their own area."""
    site = programme.site
    policy.check(user, "audits.plan", site)
    title, area = _text(title, 200), _text(area, 200)
    if not title or not area:
        raise DomainError(_("Give the audit a title and the area or process audited."))
    if standard not in Standard.values:
        raise DomainError(_("Unknown standard “%(s)s”.") % {"s": _text(standard, 40)})
    if planned_end < planned_start:
        raise DomainError(_("The audit cannot end before it starts."))
    if planned_start.year != programme.year:
        raise DomainError(
            _("The audit belongs to the %(year)s programme: plan it in that year.") % {"year": programme.year}
        )
    team = {u.pk: u for u in [lead_auditor, *auditors] if u is not None}
    for person in team.values():
        if not _may_audit(person, site):
            raise DomainError(_("%(user)s cannot audit at site %(site)s.") % {"user": person, "site": site.code})
    if area_owner.pk in team:
        raise DomainError(
            _("%(user)s owns the audited area and cannot audit it: auditors must be independent of the area.")
            % {"user": area_owner}
        )
    if not policy.can(area_owner, "audits.view", site):
        raise DomainError(_("%(user)s does not work at site %(site)s.") % {"user": area_owner, "site": site.code})
    rows = clause_library.clauses(standard, list(chapters))
    if not rows:
        raise DomainError(_("No clause of the standard matches the chapters given."))
    with transaction.atomic(), audit_context(user=user, reason=_("audit planned")):
        audit = create_with_code(
            Audit,
            "AUD",
            programme=programme,
            site=site,
            title=title,
            standard=standard,
            area=area,
            area_owner=area_owner,
            scope=_text(scope),
            planned_start=planned_start,
            planned_end=planned_end,
            lead_auditor=lead_auditor,
            created_by=user,
        )
        for person in team.values():
            if person.pk != lead_auditor.pk:
                AuditTeamMember.objects.create(audit=audit, user=person)
        ChecklistItem.objects.bulk_create(
            [
                ChecklistItem(audit=audit, sequence=i, clause=c.ref, title_en=c.en, title_zh=c.zh)
                for i, c in enumerate(rows, start=1)
            ]
        )
        recipients = list(team.values()) + [area_owner]
        transaction.on_commit(
            lambda: notification_send(
                recipients=recipients,
                subject=LazyFormat(
                    gettext_lazy("Internal audit %(code)s planned %(start)s: %(title)s"),
                    code=audit.code,
                    start=planned_start.isoformat(),
                    title=audit.title,
                ),
                link=audit_url(audit),
                dedup_key=f"audit-planned:{audit.pk}",
                site=site,
            )
        )
    return audit


def checklist_item_add(*, audit: Audit, clause: str, title: str, user, question: str = "") -> ChecklistItem:
    """An extra checklist question (the auditor's own, beyond the clause library)."""
    if user.pk != audit.lead_auditor_id:
        policy.check(user, "audits.plan", audit.site)
    if audit.status not in (AuditStatus.PLANNED, AuditStatus.IN_PROGRESS):
        raise DomainError(_("Checklist items can be added before the audit is performed."))
    title = _text(title, 200)
    if not title:
        raise DomainError(_("Give the checklist item a title."))
    with transaction.atomic(), audit_context(user=user, reason=_("checklist item added")):
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        last = ChecklistItem.objects.filter(audit=locked).order_by("-sequence").values_list("sequence", flat=True)
        return ChecklistItem.objects.create(
            audit=locked,
            sequence=(last.first() or 0) + 1,
            clause=_text(clause, 30),
            title_en=title,
            title_zh=title,
            question=_text(question),
        )


def audit_start(*, audit: Audit, user) -> Audit:
    _check_on_team(user, audit)
    _require(audit, "start", _("Only a planned audit can be started."))
    with transaction.atomic(), audit_context(user=user, reason=_("audit started")):
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _require(locked, "start", _("Only a planned audit can be started."))
        locked.start()
        locked.save(reason=_("audit started"))
    return locked


def item_record(*, item: ChecklistItem, result: str, evidence: str, user) -> ChecklistItem:
    """Record a checklist item: conforming, finding, observation or not applicable, with evidence notes."""
    audit = item.audit
    _check_on_team(user, audit)
    if result not in ItemResult.values or result == ItemResult.PENDING:
        raise DomainError(_("Choose conforming, finding, observation or not applicable."))
    evidence = _text(evidence)
    if result != ItemResult.NOT_APPLICABLE and not evidence:
        raise DomainError(_("Record the evidence you saw (documents, records, interviews)."))
    with transaction.atomic(), audit_context(user=user, reason=_("checklist item recorded")):
        locked_audit = Audit.objects.select_for_update().get(pk=audit.pk)
        if locked_audit.status == AuditStatus.PLANNED:
            locked_audit.start()
            locked_audit.save(reason=_("audit started"))
        if locked_audit.status != AuditStatus.IN_PROGRESS:
            raise DomainError(_("Results are recorded while the audit is in progress."))
        locked = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        locked.result = result
        locked.evidence = evidence
        locked.recorded_by = user
        locked.recorded_at = timezone.now()
        locked.save(reason=_("checklist item recorded"))
    return locked


# --- findings ----------------------------------------------------------------------------------------


def _check_owner(owner, site) -> None:
    if owner is not None and (not policy.can(owner, "audits.view", site) or policy.is_read_only(owner)):
        raise DomainError(_("%(user)s cannot own a finding at this site.") % {"user": owner})


def finding_raise(
    *,
    audit: Audit,
    classification: str,
    description: str,
    user,
    evidence: str = "",
    item: ChecklistItem | None = None,
    owner=None,
    due_on=None,
    opens: str = "capa",
    part=None,
) -> Finding:
    """Raise a finding. A major or minor nonconformity with an owner opens its NCR (with the part) or
    CAPA at once through `finding_escalate`; without an owner it does when the owner is assigned."""
    _check_on_team(user, audit)
    if classification not in Classification.values:
        raise DomainError(_("Classify the finding: major, minor, observation or opportunity for improvement."))
    description = _text(description)
    if not description:
        raise DomainError(_("Describe the finding."))
    if item is not None and item.audit_id != audit.pk:
        raise DomainError(_("The checklist item belongs to another audit."))
    if opens not in ESCALATE_TO:
        raise DomainError(_("A nonconformity opens an NCR or a CAPA."))
    _check_owner(owner, audit.site)
    if classification in NEEDS_ACTION and opens == "ncr" and part is None:
        raise DomainError(_("An NCR is about a part: choose the part, or open a CAPA instead."))
    if due_on is None and classification in NEEDS_ACTION:
        due_on = timezone.localdate() + timedelta(days=FINDING_DEFAULT_DAYS[classification])
    with transaction.atomic(), audit_context(user=user, reason=_("audit finding raised")):
        locked_audit = Audit.objects.select_for_update().get(pk=audit.pk)
        if locked_audit.status not in (AuditStatus.IN_PROGRESS, AuditStatus.REPORTING):
            raise DomainError(_("Findings are raised while the audit is performed or reported."))
        finding = create_with_code(
            Finding,
            "FND",
            audit=locked_audit,
            item=item,
            clause=_text(item.clause if item else "", 30),
            classification=classification,
            description=description,
            evidence=_text(evidence),
            owner=owner,
            due_on=due_on,
            created_by=user,
        )
        if owner is not None and classification in NEEDS_ACTION:
            finding_escalate(finding=finding, user=user, opens=opens, part=part)
        if owner is not None:
            _notify_owner(finding)
    finding.refresh_from_db()
    return finding


def _notify_owner(finding: Finding) -> None:
    audit = finding.audit
    transaction.on_commit(
        lambda: notification_send(
            recipients=[finding.owner],
            subject=LazyFormat(
                gettext_lazy("Audit finding %(code)s (%(audit)s) is yours: respond by %(due)s"),
                code=finding.code,
                audit=audit.code,
                due=finding.due_on.isoformat() if finding.due_on else "—",
            ),
            body=finding.description,
            link=audit_url(audit),
            dedup_key=f"finding-owner:{finding.pk}:{finding.owner_id}",
            site=audit.site,
        )
    )


@policy.door("audit.finding_escalate")
def finding_escalate(*, finding: Finding, user, opens: str = "capa", part=None) -> Finding:
    """The one door from a major or minor finding to its NCR or CAPA: opened through the nonconformance or
    capa service, once (the finding row is locked and re-checked), linked on the finding."""
    audit = finding.audit
    policy.check_decide(user, "audit.finding_escalate", audit.site)
    if opens not in ESCALATE_TO:
        raise DomainError(_("A nonconformity opens an NCR or a CAPA."))
    with transaction.atomic(), audit_context(user=user, reason=_("finding escalated")):
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.classification not in NEEDS_ACTION:
            raise DomainError(_("Only a major or minor nonconformity opens an NCR or a CAPA."))
        if locked.ncr_id or locked.capa_id:
            raise DomainError(
                _("Finding %(code)s already opened %(ref)s.") % {"code": locked.code, "ref": locked.linked.code}
            )
        if locked.owner_id is None:
            raise DomainError(_("Assign the finding an owner first: the owner carries the NCR or CAPA."))
        title = f"{audit.code} §{locked.clause or '-'}: {locked.description}"[:200]
        text = locked.description + ("\n\n" + locked.evidence if locked.evidence else "")
        if opens == "ncr":
            from nonconformance.services import ncr_open

            if part is None:
                raise DomainError(_("An NCR is about a part: choose the part, or open a CAPA instead."))
            locked.ncr = ncr_open(
                site=audit.site,
                source="audit",
                part=part,
                title=title,
                user=user,
                description=text,
                severity="major" if locked.classification == Classification.MAJOR else "minor",
                source_reference=locked.code,
            )
        else:
            from capa.services import capa_create

            locked.capa = capa_create(
                site=audit.site,
                title=title,
                owner=locked.owner,
                user=user,
                source="audit",
                source_reference=locked.code,
                problem_statement=text,
                due_on=locked.due_on,
            )
        locked.save(reason=_("finding escalated"))
    return locked


def finding_assign(*, finding: Finding, owner, user, due_on=None, opens: str = "capa", part=None) -> Finding:
    """Give the finding its owner (and due date); a major or minor one then opens its NCR or CAPA."""
    audit = finding.audit
    if user.pk != audit.lead_auditor_id:
        policy.check(user, "audits.plan", audit.site)
    _check_owner(owner, audit.site)
    if owner is None:
        raise DomainError(_("Choose the owner of the finding."))
    if finding.status != FindingStatus.OPEN:
        raise DomainError(_("This finding is closed."))
    with transaction.atomic(), audit_context(user=user, reason=_("finding owner assigned")):
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise DomainError(_("This finding is closed."))
        locked.owner = owner
        if due_on is not None:
            locked.due_on = due_on
        locked.save(reason=_("finding owner assigned"))
        if locked.needs_action and not (locked.ncr_id or locked.capa_id):
            locked = finding_escalate(finding=locked, user=user, opens=opens, part=part)
        _notify_owner(locked)
    return locked


def _linked_done(finding: Finding) -> bool:
    if finding.ncr_id:
        return finding.ncr.status in ("closed", "cancelled")
    if finding.capa_id:
        return finding.capa.status in ("closed", "cancelled")
    return True


def finding_close(*, finding: Finding, user, note: str) -> Finding:
    """Close a finding: by its owner or an audit planner; a linked NCR or CAPA must be closed first."""
    audit = finding.audit
    if user.pk != finding.owner_id:
        policy.check(user, "audits.plan", audit.site)
    elif policy.is_read_only(user):
        raise PermissionRefused(_("A read-only user cannot close findings."))
    note = _text(note)
    if not note:
        raise DomainError(_("Record how the finding was addressed."))
    with transaction.atomic(), audit_context(user=user, reason=note):
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise DomainError(_("This finding is closed."))
        if not _linked_done(locked):
            raise DomainError(_("%(ref)s is still open: close it before the finding.") % {"ref": locked.linked.code})
        locked.status = FindingStatus.CLOSED
        locked.closure_note = note
        locked.closed_at = timezone.now()
        locked.save(reason=note)
    return locked


# --- completing and closing ------------------------------------------------------------------------


def audit_perform_complete(*, audit: Audit, user, summary: str = "") -> Audit:
    """The lead auditor ends the fieldwork: every checklist item has a result."""
    if user.pk != audit.lead_auditor_id:
        raise PermissionRefused(_("Only the lead auditor ends the audit's fieldwork."))
    policy.check(user, "audits.perform", audit.site)
    with transaction.atomic(), audit_context(user=user, reason=_("audit performed")):
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _require(locked, "perform_done", _("Only an audit in progress can be completed."))
        pending = ChecklistItem.objects.filter(audit=locked, result=ItemResult.PENDING).count()
        if pending:
            raise DomainError(_("%(n)s checklist item(s) have no result yet.") % {"n": pending})
        locked.summary = _text(summary)
        locked.perform_done()
        locked.save(reason=_("audit performed"))
    return locked


def audit_close_problems(audit: Audit) -> list[str]:
    """What stops the lead auditor from closing the audit (empty when it can be closed)."""
    problems = []
    findings = list(Finding.objects.filter(audit=audit))
    no_owner = [f.code for f in findings if f.owner_id is None]
    if no_owner:
        problems.append(_("Findings without an owner: %(codes)s.") % {"codes": ", ".join(no_owner)})
    unlinked = [f.code for f in findings if f.needs_action and not (f.ncr_id or f.capa_id)]
    if unlinked:
        problems.append(_("Nonconformities without an NCR or CAPA: %(codes)s.") % {"codes": ", ".join(unlinked)})
    return problems


def _lead_may_close(audit: Audit) -> bool:
    lead = audit.lead_auditor
    return lead is not None and policy.can_decide(lead, "audit.close", audit.site)


def _only_the_lead(audit: Audit) -> str:
    message = _("Only the lead auditor signs the audit's closure.")
    if _lead_may_close(audit):
        message += " " + _("Who can act: %(names)s.") % {"names": audit.lead_auditor.printed_name}
    return message


def audit_close_offer(user, audit: Audit) -> dict:
    """What the audit's pages show for closing it: the site's authority for `audit.close`
    (policy.decision_offer) narrowed to the lead auditor, the one person who signs the closure. A refusal
    names the lead auditor when they hold that authority, and nobody when they do not (nobody can close)."""
    offer = policy.decision_offer(user, "audit.close", audit.site, what=audit.code)
    if user.pk != audit.lead_auditor_id:
        lead_may = _lead_may_close(audit)
        return {
            "decision": "audit.close",
            "may": False,
            "why": _only_the_lead(audit),
            "who": [audit.lead_auditor.printed_name] if lead_may else [],
        }
    if not offer["may"]:  # the lead without the authority: those holding it are not the lead either
        offer = {
            **offer,
            "why": _(
                "You do not hold the authority to close audits at this site, and only the lead auditor signs "
                "the closure: ask your administrator."
            ),
            "who": [],
        }
    return offer


@policy.door("audit.close")
def audit_close(*, audit: Audit, user, credential, reason: str = "") -> Audit:
    """Close the audit, e-signed by its lead auditor, once every finding has an owner (and every major or
    minor one its NCR or CAPA). The findings' own follow-up continues in their NCR / CAPA."""
    credential_check_owner(user=user, credential=credential)
    policy.check_decide(user, "audit.close", audit.site)
    if user.pk != audit.lead_auditor_id:
        raise PermissionRefused(_only_the_lead(audit))
    reason = _text(reason) or _("audit closed")
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _require(locked, "close", _("Only a performed audit can be closed."))
        problems = audit_close_problems(locked)
        if problems:
            raise DomainError(" ".join(str(p) for p in problems))
        locked.close()
        locked.save(reason=reason)
        signature_record(credential=credential, instance=locked, meaning="approved", reason=reason)
    return locked


def audit_cancel(*, audit: Audit, user, reason: str) -> Audit:
    policy.check(user, "audits.plan", audit.site)
    reason = _text(reason)
    if not reason:
        raise DomainError(_("Give the reason for cancelling the audit."))
    with transaction.atomic(), audit_context(user=user, reason=reason):
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _require(locked, "cancel", _("Only a planned audit or one in progress can be cancelled."))
        locked.cancel(reason=reason)
        locked.save(reason=reason)
    return locked


# --- reminders -------------------------------------------------------------------------------------


def audit_reminders_send(*, today=None) -> int:
    """Audits starting within a week remind their team; overdue audits remind the lead auditor and the
    site's quality managers; overdue findings remind their owner and escalate to the quality managers.
    Each message once (dedup key per record and date)."""
    today = today or timezone.localdate()
    sent = 0
    soon = Audit.objects.filter(
        status=AuditStatus.PLANNED,
        planned_start__gte=today,
        planned_start__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
    ).select_related("site", "lead_auditor")
    for audit in soon:
        team = [audit.lead_auditor, *[m.user for m in audit.team.select_related("user")]]
        sent += len(
            notification_send(
                recipients=team,
                subject=LazyFormat(
                    gettext_lazy("Internal audit %(code)s starts on %(start)s"),
                    code=audit.code,
                    start=audit.planned_start.isoformat(),
                ),
                link=audit_url(audit),
                dedup_key=f"audit-due:{audit.pk}:{audit.planned_start}",
                site=audit.site,
            )
        )
    overdue = Audit.objects.filter(
        status__in=[AuditStatus.PLANNED, AuditStatus.IN_PROGRESS], planned_end__lt=today
    ).select_related("site", "lead_auditor")
    for audit in overdue:
        managers = users_with_role(site=audit.site, roles=[Role.QUALITY_MANAGER])
        sent += len(
            notification_send(
                recipients=[audit.lead_auditor, *managers],
                subject=LazyFormat(
                    gettext_lazy("Internal audit %(code)s is overdue: planned to end on %(end)s"),
                    code=audit.code,
                    end=audit.planned_end.isoformat(),
                ),
                link=audit_url(audit),
                dedup_key=f"audit-overdue:{audit.pk}:{audit.planned_end}",
                site=audit.site,
                level="warning",
            )
        )
    findings = Finding.objects.filter(status=FindingStatus.OPEN, due_on__lt=today, owner__isnull=False).select_related(
        "audit", "audit__site", "owner"
    )
    for finding in findings:
        audit = finding.audit
        sent += len(
            notification_send(
                recipients=[finding.owner],
                subject=LazyFormat(
                    gettext_lazy("Audit finding %(code)s is overdue since %(due)s"),
                    code=finding.code,
                    due=finding.due_on.isoformat(),
                ),
                body=finding.description,
                link=audit_url(audit),
                dedup_key=f"finding-overdue:{finding.pk}:{finding.due_on}",
                site=audit.site,
                level="warning",
            )
        )
        managers = [
            u for u in users_with_role(site=audit.site, roles=[Role.QUALITY_MANAGER]) if u.pk != finding.owner_id
        ]
        sent += len(
            notification_send(
                recipients=managers,
                subject=LazyFormat(
                    gettext_lazy("Escalation: audit finding %(code)s of %(owner)s overdue since %(due)s"),
                    code=finding.code,
                    owner=finding.owner.printed_name,
                    due=finding.due_on.isoformat(),
                ),
                body=finding.description,
                link=audit_url(audit),
                dedup_key=f"finding-escalated:{finding.pk}:{finding.due_on}",
                site=audit.site,
                level="error",
            )
        )
    return sent
