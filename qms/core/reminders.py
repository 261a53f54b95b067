"""Reminders for work with an owner and a due date (a CAPA action, a change task): due soon, the owner is
reminded; overdue, the owner is told and the site's quality managers get the escalation. Each message is
sent once per item and due date (a moved due date reminds again). The apps say what the work is called."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import LazyFormat
from .models import Role
from .selectors import users_with_role
from .services import notification_send


@dataclass
class DueWork:
    key: str  # e.g. "capa-action": the dedup keys are "<key>-due|overdue|escalated:<pk>:<due date>"
    pk: int
    owner: object
    due_on: object
    site: object
    link: str
    body: str
    due: LazyFormat  # to the owner, due soon
    overdue: LazyFormat  # to the owner, overdue
    escalation: LazyFormat  # to the quality managers, overdue


def due_work_remind(work: DueWork, *, today) -> int:
    """Send what `work` calls for today; returns the number of messages sent."""
    common = {"body": work.body, "link": work.link, "site": work.site}
    stamp = f"{work.pk}:{work.due_on}"
    if work.due_on >= today:
        return len(
            notification_send(recipients=[work.owner], subject=work.due, dedup_key=f"{work.key}-due:{stamp}", **common)
        )
    sent = len(
        notification_send(
            recipients=[work.owner],
            subject=work.overdue,
            dedup_key=f"{work.key}-overdue:{stamp}",
            level="warning",
            **common,
        )
    )
    managers = users_with_role(site=work.site, roles=[Role.QUALITY_MANAGER])
    return sent + len(
        notification_send(
            recipients=[u for u in managers if u.pk != work.owner.pk] or managers,
            subject=work.escalation,
            dedup_key=f"{work.key}-escalated:{stamp}",
            level="error",
            **common,
        )
    )
