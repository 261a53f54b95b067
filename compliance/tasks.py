from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def audit_chain_verify() -> bool:
    from .audit_trail import audit_chain_check_and_alert

    return audit_chain_check_and_alert().ok
