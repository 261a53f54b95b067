"""Background jobs: every task is retried, and a task that fails for good is recorded and reported to
administrators, never silently dropped."""

from __future__ import annotations

import logging
import traceback

from celery import Task
from django.utils import timezone

log = logging.getLogger(__name__)


class QmsTask(Task):
    autoretry_for = (Exception,)
    max_retries = 3
    retry_backoff = 10
    retry_backoff_max = 600
    retry_jitter = True

    def __call__(self, *args, **kwargs):
        # A job acts for the system across sites; a job acting for a user narrows itself with
        # `site_scope(<the user's sites>)` around its work.
        from .scoping import system_scope

        with system_scope():
            return super().__call__(*args, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_failed(name=self.name, error="".join(traceback.format_exception(exc)), attempts=self.request.retries + 1)


def job_failed(*, name: str, error: str, attempts: int = 1) -> None:
    from django.utils.translation import gettext_lazy as _

    from .models import JobRun, Role, User
    from .services import notification_send

    log.error("job %s failed for good after %s attempt(s): %s", name, attempts, error.splitlines()[-1:])
    run = JobRun.objects.create(
        name=name, ok=False, attempts=attempts, error=error[-10000:], finished_at=timezone.now()
    )
    admins = User.objects.filter(
        is_active=True, memberships__role=Role.ADMINISTRATOR, memberships__is_active=True
    ).distinct()
    notification_send(
        recipients=list(admins),
        subject=_("Background job failed: %(name)s") % {"name": name},
        body=error[-2000:],
        dedup_key=f"jobfail:{run.pk}",
        level="error",
    )


def run_job_now(name: str) -> bool:
    """Run a registered periodic job in this process (cron, the quick start loop, tests).
    Retries like the worker would; returns True on success."""
    from celery import current_app
    from django.utils.module_loading import import_string

    from .models import JobRun
    from .registries import registry

    job = registry.periodic_jobs[name]
    # Outside a worker Celery has not imported the apps' tasks modules yet: import the task by its path.
    task = current_app.tasks.get(job.task) or import_string(job.task)
    last_error = ""
    from .scoping import system_scope

    for attempt in range(1, task.max_retries + 2):
        started = timezone.now()
        try:
            with system_scope():
                task.run()
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            last_error = "".join(traceback.format_exception(exc))
            log.warning("job %s attempt %s failed: %s", name, attempt, exc)
            continue
        JobRun.objects.create(name=name, ok=True, attempts=attempt, started_at=started, finished_at=timezone.now())
        return True
    job_failed(name=name, error=last_error, attempts=task.max_retries + 1)
    return False
