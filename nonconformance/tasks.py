from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def complaint_reminders() -> int:
    from .services import complaint_reminders_send

    return complaint_reminders_send()
