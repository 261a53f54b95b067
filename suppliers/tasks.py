"""Periodic jobs of the suppliers app (Celery beat, or `manage.py run_jobs NAME`). Idempotent."""

from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def certificate_reminders() -> int:
    from .services import certificate_reminders_send

    return certificate_reminders_send()


@shared_task(base=QmsTask)
def certificate_expiry() -> dict:
    from .services import certificate_expiry_process

    return certificate_expiry_process()


@shared_task(base=QmsTask)
def scorecards() -> int:
    from .services import scorecards_compute

    return scorecards_compute()
