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


@shared_task(name="qms.core.tasks.outbox_deliver", acks_late=True)
def outbox_deliver(job_id: int) -> bool:
    """The one task the broker carries: run outbox job `job_id` once (retries are the outbox's)."""
    from .jobs import outbox_job_deliver

    return outbox_job_deliver(job_id=job_id)


@shared_task(base=QmsTask, name="qms.core.tasks.outbox_drain")
def outbox_drain() -> int:
    from .jobs import outbox_drain as drain

    return drain()
