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


@shared_task(base=QmsTask)
def mail_send(subject: str, body: str, to: list[str]) -> None:
    from django.conf import settings
    from django.core.mail import send_mail

    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
