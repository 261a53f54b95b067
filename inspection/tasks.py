from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask, name="inspection.tasks.ipqc_due")
def ipqc_due():
    from .services import ipqc_due_run

    return ipqc_due_run()


@shared_task(base=QmsTask, name="inspection.tasks.spc_evaluate")
def spc_evaluate(inspection_id: int):
    from .spc_services import spc_evaluate_inspection

    return len(spc_evaluate_inspection(inspection_id=inspection_id))
