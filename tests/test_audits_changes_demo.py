"""The demo seed builds the internal-audit and change-control stories (both apps), idempotently."""

import pytest
from django.core.management import call_command

from audits.models import Audit, AuditStatus, Finding
from changes.models import ChangeRequest, ChangeStatus


@pytest.mark.django_db
def test_demo_seed_builds_audits_and_changes(settings):
    settings.QMS_DEMO = True
    call_command("seed_demo")
    call_command("seed_demo")
    brg = Audit.objects.filter(site__code="BRG")
    assert brg.filter(status=AuditStatus.CLOSED).count() == 1
    assert brg.filter(status=AuditStatus.IN_PROGRESS).count() == 1
    assert Finding.objects.filter(audit__site__code="BRG", capa__isnull=False).count() == 1
    assert Audit.objects.filter(site__code="FOOD").exists()
    changes = ChangeRequest.objects.filter(site__code="BRG")
    closed = changes.get(status=ChangeStatus.CLOSED)
    assert closed.tasks.filter(kind="ppap", status="done").exists()
    assert changes.filter(status=ChangeStatus.BOARD).exists()
    doc = changes.get(change_type="document")
    assert doc.status == ChangeStatus.IMPLEMENTATION and doc.outputs.filter(kind="document_version").exists()
    assert doc.tasks.get().is_overdue()
