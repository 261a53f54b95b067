"""Celery app. Broker from REDIS_URL; without it tasks run eagerly in-process (settings)."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")

app = Celery("qms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_jobs(sender, **kwargs):
    # Apps register their periodic jobs in AppConfig.ready(); beat reads them from the kernel registry.
    from qms.core.registries import registry

    for job in registry.periodic_jobs.values():
        sender.add_periodic_task(job.every_seconds, sender.signature(job.task), name=job.name)


@worker_ready.connect
def _drain_outbox_on_start(sender=None, **kwargs):
    # Jobs written while no worker or broker was up go out as soon as a worker is (beat repeats this).
    from qms.core.jobs import outbox_drain

    outbox_drain()
