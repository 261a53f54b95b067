"""Celery tasks of the API app: ids in, idempotent (a delivered or failed delivery is skipped)."""

from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def webhook_deliver(delivery_id: int) -> str:
    from .webhooks import delivery_attempt

    return delivery_attempt(delivery_id=delivery_id)


@shared_task(base=QmsTask)
def webhook_retry_due() -> int:
    """Periodic: attempt again every pending delivery whose back-off has passed (exponential)."""
    from .webhooks import deliveries_due, delivery_attempt

    n = 0
    for delivery_id in deliveries_due():
        delivery_attempt(delivery_id=delivery_id)
        n += 1
    return n
