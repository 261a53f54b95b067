from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def change_reminders() -> int:
    from .services import change_reminders_send

    return change_reminders_send()
