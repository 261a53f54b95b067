from celery import shared_task

from .jobs import QmsTask


@shared_task(base=QmsTask)
def notification_email(notification_id: int) -> None:
    from .services import notification_email_deliver

    notification_email_deliver(notification_id=notification_id)


@shared_task(base=QmsTask)
def calibration_reminders() -> int:
    from .services import calibration_reminders_send

    return calibration_reminders_send()
