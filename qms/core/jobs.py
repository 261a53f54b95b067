"""Background jobs: every task is retried, and a task that fails for good is recorded and reported to
administrators, never silently dropped.

Enqueueing goes through a transactional outbox: `task.delay(...)` (every app's one way to ask for a job)
writes an `OutboxJob` row in the caller's transaction, and after commit publishes the row's id to the broker.
When the broker is away the row simply waits; the drain (`run_jobs`, the beat task `core.outbox_drain`,
`manage.py drain_outbox`) publishes it later. The worker runs the job and marks the row delivered in one
transaction under a row lock, so a job published twice still runs once. Nothing here raises to the user.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from celery import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


class QmsTask(Task):
    autoretry_for = (Exception,)
    max_retries = 3
    retry_backoff = 10
    retry_backoff_max = 600
    retry_jitter = True

    def delay(self, *args, **kwargs):
        """Enqueue through the outbox (same signature as Celery's): returns the OutboxJob."""
        return enqueue(self, *args, **kwargs)

    def __call__(self, *args, **kwargs):
        # A job acts for the system across sites; a job acting for a user narrows itself with
        # `site_scope(<the user's sites>)` around its work.
        from .scoping import system_scope

        with system_scope():
            return super().__call__(*args, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        job_failed(name=self.name, error="".join(traceback.format_exception(exc)), attempts=self.request.retries + 1)


# ------------------------------------------------------------------------------------ outbox


def enqueue(task, *args, **kwargs):
    """Write the job into the outbox in the current transaction; publish it once that commits.
    Arguments must be JSON (ids, strings, numbers), as for Celery itself."""
    from .models import OutboxJob

    name = task if isinstance(task, str) else task.name
    job = OutboxJob.objects.create(task=name, args=list(args), kwargs=kwargs)
    if _eager():
        # In-process mode (no REDIS_URL; tests): run now, as Celery's eager mode did; a failure stays queued.
        outbox_job_deliver(job_id=job.pk)
    else:
        transaction.on_commit(lambda: outbox_publish(job_ids=[job.pk]), robust=True)
    return job


def _eager() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


_broker_down_until = 0.0  # this process saw the broker fail: leave publishing to the drain until then


def _broker_reachable() -> bool:
    """A fast look before publishing: the Redis client retries a refused connection for seconds, which a
    web request must not spend. A closed port, or a failure in the last few seconds, means "not now"."""
    import socket
    import time
    from urllib.parse import urlsplit

    from celery import current_app

    if time.monotonic() < _broker_down_until:
        return False
    url = urlsplit(str(current_app.conf.broker_url or ""))
    if url.scheme not in ("redis", "rediss") or not url.hostname:
        return True
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=1):
            return True
    except OSError:
        _broker_failed()
        return False


def _broker_failed() -> None:
    import time

    global _broker_down_until
    _broker_down_until = time.monotonic() + settings.OUTBOX_BROKER_PAUSE_SECONDS


def outbox_publish(*, job_ids=None, limit: int = 500) -> int:
    """Publish due outbox rows (all, or `job_ids`) to the broker; in-process mode runs them here instead.
    Rows another drainer holds are skipped. Returns how many were handed over. Never raises."""
    from .models import OutboxJob

    now = timezone.now()
    handed = []
    try:
        with transaction.atomic():
            due = OutboxJob.objects.select_for_update(skip_locked=True).filter(
                delivered_at__isnull=True, failed_at__isnull=True, next_try__lte=now
            )
            if job_ids is not None:
                due = due.filter(pk__in=job_ids)
            ids = list(due.order_by("next_try", "pk").values_list("pk", flat=True)[:limit])
            if not ids or _eager():
                handed = ids
            elif not _broker_reachable():
                log.warning("broker unavailable, %s job(s) stay in the outbox", len(ids))
            else:
                from .tasks import outbox_deliver

                for pk in ids:
                    try:
                        outbox_deliver.apply_async(args=[pk], retry=False)
                    except Exception as exc:  # noqa: BLE001 - broker away: the rows wait for the next drain
                        _broker_failed()
                        log.warning("broker unavailable, %s job(s) stay in the outbox: %s", len(ids) - len(handed), exc)
                        break
                    handed.append(pk)
                republish = now + timedelta(seconds=settings.OUTBOX_REPUBLISH_SECONDS)
                OutboxJob.objects.filter(pk__in=handed).update(published_at=now, next_try=republish)
    except Exception as exc:  # noqa: BLE001 - e.g. the database went away after the commit: the drain retries
        log.warning("outbox publish failed: %s", exc)
        return 0
    if _eager():
        for pk in handed:
            outbox_job_deliver(job_id=pk)
    return len(handed)


def _resolve(name: str):
    from celery import current_app
    from django.utils.module_loading import import_string

    # Outside a worker Celery has not imported the apps' tasks modules yet: import the task by its path.
    return current_app.tasks.get(name) or import_string(name)


def outbox_job_deliver(*, job_id: int) -> bool:
    """Run one outbox job and mark it delivered, in one transaction holding the row: a second delivery of
    the same id (published twice) finds it delivered, or locked by the first, and does nothing.
    A failure rolls the job's own writes back and schedules another try (backoff); after the task's
    max_retries the job is recorded as failed and administrators are told."""
    from .models import OutboxJob

    with transaction.atomic():
        job = OutboxJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.delivered_at or job.failed_at:
            return False
        now = timezone.now()
        job.attempts += 1
        task = None
        try:
            task = _resolve(job.task)
            from .scoping import system_scope

            # savepoint: a failing job undoes only its own writes; system scope as QmsTask.__call__ gives
            with transaction.atomic(), system_scope():
                task.run(*job.args, **job.kwargs)
        except Exception as exc:  # noqa: BLE001 - recorded on the row, retried by the drain
            job.last_error = "".join(traceback.format_exception(exc))[-10000:]
            if job.attempts > (getattr(task, "max_retries", None) or 3):
                job.failed_at = now
                job_failed(name=job.task, error=job.last_error, attempts=job.attempts)
            else:
                job.next_try = now + timedelta(seconds=min(10 * 2 ** (job.attempts - 1), 600))
            job.save(update_fields=["attempts", "last_error", "failed_at", "next_try"])
            log.warning("job %s (outbox %s) attempt %s failed: %s", job.task, job.pk, job.attempts, exc)
            return False
        job.delivered_at = timezone.now()
        job.save(update_fields=["attempts", "delivered_at"])
    return True


def outbox_drain() -> int:
    """Publish every due outbox row (the worker's periodic job and `run_jobs` call this), and forget rows
    delivered more than OUTBOX_KEEP_DAYS ago (the jobs' effects are the record, not the queue)."""
    from .models import OutboxJob

    total = n = outbox_publish()
    while n == 500:
        n = outbox_publish()
        total += n
    horizon = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    OutboxJob.objects.filter(delivered_at__lt=horizon).delete()
    return total


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
