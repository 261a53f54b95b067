"""Transactional outbox: jobs survive a broker outage and run once (issue 10)."""

import threading

import pytest
from celery import shared_task
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction

from qms.core.jobs import QmsTask, enqueue, outbox_drain, outbox_job_deliver, outbox_publish
from qms.core.models import JobRun, Notification, OutboxJob, Role
from qms.core.services import notification_send

DEAD_BROKER = "redis://127.0.0.1:1/0"
RUNS: list = []


@shared_task(base=QmsTask, name="tests.outbox_probe")
def outbox_probe(tag, fail=False):
    RUNS.append(tag)
    if fail:
        raise RuntimeError(f"probe {tag} failed")


@pytest.fixture(autouse=True)
def _runs():
    RUNS.clear()
    yield
    RUNS.clear()


@pytest.mark.django_db
def test_delay_writes_the_outbox_and_runs_in_process(make_user):
    job = outbox_probe.delay("a")
    assert isinstance(job, OutboxJob)
    job.refresh_from_db()
    assert RUNS == ["a"] and job.delivered_at and job.attempts == 1
    assert outbox_job_deliver(job_id=job.pk) is False  # delivered once, not again
    assert RUNS == ["a"]


@pytest.mark.django_db
def test_job_of_a_rolled_back_change_is_never_sent(celery_broker):
    celery_broker(DEAD_BROKER)
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(outbox_probe, "lost")
        raise RuntimeError("the business write failed")
    assert not OutboxJob.objects.exists()


@pytest.mark.django_db
def test_broker_down_job_waits_then_is_delivered_exactly_once(
    make_user, celery_broker, django_capture_on_commit_callbacks
):
    user = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    celery_broker(DEAD_BROKER)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notification_send(recipients=[user], subject="first", dedup_key="n1")
            notification_send(recipients=[user], subject="second", dedup_key="n2")
    assert Notification.objects.count() == 2
    waiting = list(OutboxJob.objects.filter(delivered_at__isnull=True))
    assert len(waiting) == 2 and all(j.published_at is None for j in waiting)  # the broker refused
    assert mail.outbox == []
    assert outbox_publish() == 0  # the drain while the broker is still down: nothing lost, nothing raised

    from qms.celery import app

    app.conf.task_always_eager = True  # the broker is back (in-process delivery stands in for the worker)
    assert outbox_drain() == 2
    assert sorted(m.subject for m in mail.outbox) == ["first", "second"]
    for job in waiting:  # published twice (e.g. the drain and a late message): delivered once
        assert outbox_job_deliver(job_id=job.pk) is False
    assert outbox_drain() == 0
    assert len(mail.outbox) == 2
    assert not OutboxJob.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db
def test_failing_job_is_retried_with_backoff_then_recorded(make_user):
    admin = make_user("adm", roles=[Role.ADMINISTRATOR])
    job = outbox_probe.delay("bad", fail=True)
    job.refresh_from_db()
    assert job.attempts == 1 and job.delivered_at is None and job.failed_at is None
    assert "probe bad failed" in job.last_error and job.next_try > job.created_at
    for _ in range(outbox_probe.max_retries):
        outbox_job_deliver(job_id=job.pk)
    job.refresh_from_db()
    assert job.failed_at and job.attempts == outbox_probe.max_retries + 1
    assert JobRun.objects.filter(name="tests.outbox_probe", ok=False).exists()
    assert Notification.objects.filter(recipient=admin, level="error").exists()
    assert outbox_job_deliver(job_id=job.pk) is False  # given up: not run again


@pytest.mark.django_db
def test_a_failing_job_undoes_only_its_own_writes(make_user):
    user = make_user("qe")

    @shared_task(base=QmsTask, name="tests.outbox_half_writer")
    def half_writer(user_id):
        from qms.core.models import User

        Notification.objects.create(recipient=User.objects.get(pk=user_id), subject="half")
        raise RuntimeError("after a write")

    half_writer.delay(user.pk)
    assert not Notification.objects.filter(subject="half").exists()
    assert OutboxJob.objects.get(task="tests.outbox_half_writer").attempts == 1


@pytest.mark.django_db
def test_drain_outbox_command(celery_broker, capsys):
    celery_broker(DEAD_BROKER)
    enqueue(outbox_probe, "x")
    from qms.celery import app

    app.conf.task_always_eager = True
    call_command("drain_outbox")
    assert "handed over: 1; not yet delivered: 0" in capsys.readouterr().out
    assert RUNS == ["x"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_job_run_it_once(celery_broker):
    celery_broker(DEAD_BROKER)
    job = enqueue(outbox_probe, "once")
    barrier = threading.Barrier(2)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(outbox_job_deliver(job_id=job.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert RUNS == ["once"] and sorted(results) == [False, True]
    assert OutboxJob.objects.get(pk=job.pk).delivered_at


@pytest.mark.django_db
def test_drain_forgets_delivered_jobs_after_the_keep_period(settings):
    import datetime

    from django.utils import timezone

    settings.OUTBOX_KEEP_DAYS = 7
    old, fresh = outbox_probe.delay("old"), outbox_probe.delay("fresh")
    failed = OutboxJob.objects.create(task="tests.outbox_probe", failed_at=timezone.now() - datetime.timedelta(days=30))
    OutboxJob.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - datetime.timedelta(days=8))
    outbox_drain()
    assert set(OutboxJob.objects.values_list("pk", flat=True)) == {fresh.pk, failed.pk}


@pytest.mark.django_db
def test_admin_lists_outbox_jobs_read_only(client, make_user):
    from qms.core.models import User

    admin_user = User.objects.create_superuser("root", "root@example.com", "x-Secret-12345")
    outbox_probe.delay("seen")
    client.force_login(admin_user)
    page = client.get("/admin/core/outboxjob/")
    assert page.status_code == 200 and "tests.outbox_probe" in page.content.decode()
    assert client.get("/admin/core/outboxjob/add/").status_code == 403
