"""Celery app. Broker from REDIS_URL; without it tasks run eagerly in-process (settings)."""

import os

from celery import Celery

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
