from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def audit_reminders() -> int:
    from .services import audit_reminders_send

    return audit_reminders_send()
