from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask, name="traceability.tasks.lots_expire")
def lots_expire():
    """Periodic: lots past their expiry date become expired and get an expiry hold (idempotent)."""
    from .services import lot_expire_due

    return lot_expire_due()


@shared_task(base=QmsTask, name="traceability.tasks.recall_send_notifications")
def recall_send_notifications(recall_id: int):
    """Send the recall letters of customers not yet notified (idempotent)."""
    from .services import recall_notifications_send

    return recall_notifications_send(recall_id=recall_id)
