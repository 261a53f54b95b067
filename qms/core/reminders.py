"""Reminders for work with an owner and a due date (a CAPA action, a change task): due soon, the owner is
reminded; overdue, the owner is told and the site's quality managers get the escalation. Each message is
sent once per item and due date (a moved due date reminds again). The apps say what the work is called."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .i18n import LazyFormat
from .models import Role
from .selectors import users_with_role
from .services import notification_send


@dataclass
class DueWork:
    key: str  # e.g. "capa-action": the dedup keys are "<key>-due|overdue|escalated:<pk>:<due date>"
    pk: int
    code: str  # the record it belongs to (CAPA, change), for the subjects
    owner: object
    due_on: object
    site: object
    link: str
    body: str
    # Lazy subjects with %(code)s, %(due)s and (escalation) %(owner)s, rendered in each reader's language:
    due: object  # to the owner, due soon
    overdue: object  # to the owner, overdue
    escalation: object  # to the quality managers, overdue


def due_work_remind(works: Iterable[DueWork], *, today) -> int:
    """Send what each work calls for today; returns the number of messages sent. The quality managers are
    read once per site."""
    managers: dict[int, list] = {}
    sent = 0
    for work in works:
        params = {"code": work.code, "due": work.due_on.isoformat()}
        common = {"body": work.body, "link": work.link, "site": work.site}
        stamp = f"{work.pk}:{work.due_on}"
        if work.due_on >= today:
            sent += len(
                notification_send(
                    recipients=[work.owner],
                    subject=LazyFormat(work.due, **params),
                    dedup_key=f"{work.key}-due:{stamp}",
                    **common,
                )
            )
            continue
        sent += len(
            notification_send(
                recipients=[work.owner],
                subject=LazyFormat(work.overdue, **params),
                dedup_key=f"{work.key}-overdue:{stamp}",
                level="warning",
                **common,
            )
        )
        if work.site.pk not in managers:
            managers[work.site.pk] = users_with_role(site=work.site, roles=[Role.QUALITY_MANAGER])
        qms = managers[work.site.pk]
        sent += len(
            notification_send(
                recipients=[u for u in qms if u.pk != work.owner.pk] or qms,
                subject=LazyFormat(work.escalation, owner=work.owner.printed_name, **params),
                dedup_key=f"{work.key}-escalated:{stamp}",
                level="error",
                **common,
            )
        )
    return sent
