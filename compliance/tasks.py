from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def audit_chain_verify() -> bool:
    from .audit_trail import audit_chain_check_and_alert

    return audit_chain_check_and_alert().ok


@shared_task(base=QmsTask)
def audit_checkpoint() -> int:
    from .anchors import checkpoint_create

    cp = checkpoint_create()
    return cp.seq if cp else 0
