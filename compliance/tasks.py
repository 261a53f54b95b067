from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def audit_chain_verify() -> bool:
    from .audit_trail import audit_chain_check_and_alert

    return audit_chain_check_and_alert().ok


@shared_task(base=QmsTask)
def export_job_run(job_id: int) -> str:
    """Make the file of one export job (ids only; safe to run twice: a job that is not queued is left)."""
    from .exports import export_job_run_now

    job = export_job_run_now(job_id=job_id)
    return job.status if job is not None else "missing"


@shared_task(base=QmsTask)
def audit_checkpoint() -> int:
    from .anchors import checkpoint_create

    cp = checkpoint_create()
    return cp.seq if cp else 0
