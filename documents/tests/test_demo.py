import pytest
from django.core.management import call_command

from documents.models import Document, TrainingTask


@pytest.mark.django_db
def test_demo_seed_builds_documents_and_training_and_is_idempotent(settings):
    settings.QMS_DEMO = True
    call_command("seed_demo")
    call_command("seed_demo")
    sop = Document.objects.get(number="BRG-SOP-0001")
    assert [v.status for v in sop.versions.order_by("sequence")] == ["superseded", "effective"]
    assert Document.objects.get(number="BRG-SPEC-0001").versions.get().status == "in_review"
    assert Document.objects.filter(site__code="FOOD").exists()
    overdue = [t for t in TrainingTask.objects.filter(status="open") if t.is_overdue()]
    assert overdue, "the demo has overdue training"
    assert sop.gate_rules.filter(decision="lot.release").exists()
    # the inspection demo links its FQC plan to the work instruction (the reverse of InspectionPlan.document)
    assert Document.objects.get(number="BRG-WI-0001").inspection_plans.exists()
