from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def capa_action_reminders() -> int:
    from .services import capa_action_reminders_send

    return capa_action_reminders_send()


@shared_task(base=QmsTask)
def effectiveness_checks_due() -> int:
    from .services import effectiveness_checks_due_send

    return effectiveness_checks_due_send()


@shared_task(base=QmsTask)
def scar_reminders() -> int:
    from .services import scar_reminders_send

    return scar_reminders_send()
