"""Outbox cost: what a request pays to enqueue a job with the broker up and with it down, and a drain.

DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/core_outbox.py
(needs REDIS_URL: the broker-up figures publish to it; the queue is purged afterwards.)
"""

import os
import time

import _setup  # noqa: F401  (django.setup)
from _setup import summary, timed
from django.core.management import call_command
from django.db import transaction

from qms.celery import app
from qms.core import jobs
from qms.core.models import OutboxJob
from qms.core.tasks import mail_send

if not os.environ.get("REDIS_URL"):
    raise SystemExit("bench/core_outbox.py needs REDIS_URL (a Redis to publish to)")
call_command("migrate", verbosity=0)
app.conf.task_always_eager = False
start = OutboxJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def enqueue_in_a_request():
    with transaction.atomic():  # the business write's transaction; publishing happens on commit
        mail_send.delay(subject="bench", body="bench", to=["bench@example.com"])


print(summary("enqueue + publish after commit (broker up)", timed(enqueue_in_a_request, 500)))

good = app.conf.broker_url
app.conf.broker_url = "redis://127.0.0.1:1/0"
app._pool = None
app.amqp._producer_pool = None
jobs._broker_down_until = 0.0
print(summary("enqueue, broker down (first request probes)", timed(enqueue_in_a_request, 1)))
print(summary("enqueue, broker down (later requests)", timed(enqueue_in_a_request, 500)))

app.conf.broker_url = good
app._pool = None
app.amqp._producer_pool = None
jobs._broker_down_until = 0.0
t0 = time.perf_counter()
handed = jobs.outbox_drain()
dt = time.perf_counter() - t0
print(f"{'drain after the outage':<48} {dt * 1000:9.1f} ms  ({handed} jobs handed to the broker)")

# Leave nothing behind: the bench's messages and rows.
app.control.purge()
OutboxJob.objects.filter(pk__gt=start, task="qms.core.tasks.mail_send").delete()
