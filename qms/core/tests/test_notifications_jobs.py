import datetime

import pytest
from django.core import mail

from qms.core.audit import audit_context
from qms.core.jobs import run_job_now
from qms.core.models import Equipment, EquipmentKind, JobRun, Notification, Role
from qms.core.registries import PeriodicJob, register_periodic_job, registry
from qms.core.services import calibration_reminders_send, notification_send


@pytest.mark.django_db
def test_notification_deduplicated_and_emailed(make_user, django_capture_on_commit_callbacks):
    user = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(recipients=[user], subject="Certificate expires", dedup_key="cert:1:30")
        second = notification_send(recipients=[user], subject="Certificate expires", dedup_key="cert:1:30")
    assert len(first) == 1 and second == []
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_calibration_reminders_once_per_threshold(make_user, site):
    make_user("qe", roles=[Role.QUALITY_ENGINEER])
    with audit_context(reason="t"):
        Equipment.objects.create(
            code="G1",
            name="Gauge",
            kind=EquipmentKind.GAUGE,
            site=site,
            calibration_due=datetime.date.today() - datetime.timedelta(days=1),
        )
    assert calibration_reminders_send() == 1
    assert calibration_reminders_send() == 0


@pytest.mark.django_db
def test_failing_job_is_retried_then_recorded_and_reported(make_user, monkeypatch):
    from celery import shared_task

    from qms.core.jobs import QmsTask

    calls = []

    @shared_task(base=QmsTask, name="tests.always_fails")
    def always_fails():
        calls.append(1)
        raise RuntimeError("boom")

    admin = make_user("adm", roles=[Role.ADMINISTRATOR])
    register_periodic_job(PeriodicJob(name="tests.always_fails", task="tests.always_fails", every_seconds=60))
    try:
        assert run_job_now("tests.always_fails") is False
    finally:
        registry.periodic_jobs.pop("tests.always_fails")
    assert len(calls) == always_fails.max_retries + 1
    run = JobRun.objects.get(name="tests.always_fails")
    assert not run.ok and "boom" in run.error
    assert Notification.objects.filter(recipient=admin, level="error").exists()


@pytest.mark.django_db
def test_every_registered_periodic_job_runs_from_the_command_line(capsys):
    """What cron and the quick start's loop do: every app's job resolves to its task and runs."""
    from django.core.management import call_command

    call_command("run_jobs")
    out = capsys.readouterr().out
    assert "FAILED" not in out
    for name in registry.periodic_jobs:
        assert f"{name}: ok" in out
