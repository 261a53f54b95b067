from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask, name="inspection.tasks.ipqc_due")
def ipqc_due():
    from .services import ipqc_due_run

    return ipqc_due_run()
