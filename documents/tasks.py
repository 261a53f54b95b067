from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def versions_effective_due() -> int:
    from .services import versions_effective_due as run

    return run()


@shared_task(base=QmsTask)
def review_reminders() -> int:
    from .services import review_reminders_send

    return review_reminders_send()


@shared_task(base=QmsTask)
def training_reminders() -> int:
    from .services import training_reminders_send

    return training_reminders_send()
