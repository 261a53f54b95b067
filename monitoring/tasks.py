"""Celery tasks: ids in, idempotent, retried (qms.core.jobs.QmsTask). Each is also a periodic job that
`manage.py run_jobs` can run where there is no beat."""

from celery import shared_task

from qms.core.jobs import QmsTask


@shared_task(base=QmsTask)
def kpi_rollup(days: int = 3) -> int:
    from .engine import rollup_recent

    return rollup_recent(days=days)


@shared_task(base=QmsTask)
def kpi_rollup_day(site_id: int, day: str, kpi_keys: list[str]) -> int:
    import datetime

    from qms.core.models import Site

    from .engine import rollup_recent

    site = Site.objects.get(pk=site_id)
    return rollup_recent(days=1, sites=[site], kpi_keys=set(kpi_keys), today=datetime.date.fromisoformat(day))


@shared_task(base=QmsTask)
def alarm_rules_evaluate() -> dict:
    from .services import alarm_rules_evaluate as run

    return run()


@shared_task(base=QmsTask)
def alarm_rules_evaluate_event(site_id: int, kpi_keys: list[str]) -> dict:
    from .services import alarm_rules_evaluate as run

    return run(site_ids=[site_id], kpi_keys=set(kpi_keys), on_event=True)


@shared_task(base=QmsTask)
def objective_reminders() -> int:
    from .services import objective_reminders_send

    return objective_reminders_send()
