import pytest
from django.core.management import call_command

from capa.models import Capa, CapaStatus
from nonconformance.models import Complaint, DispositionStatus, Ncr, NcrStatus


@pytest.mark.django_db
def test_demo_seed_builds_the_stories_and_is_idempotent(settings):
    settings.QMS_DEMO = True
    call_command("seed_demo")
    call_command("seed_demo")
    waiting = Ncr.objects.get(source_reference="DEMO-NCR-IQC")
    assert waiting.status == NcrStatus.MRB_REVIEW and waiting.mrb.status == DispositionStatus.IN_REVIEW
    assert waiting.mrb.decisions.count() == len(waiting.mrb.required_roles) - 1
    assert Ncr.objects.get(source_reference="DEMO-NCR-CONC").mrb.lines.get().executed_at
    assert Ncr.objects.get(source_reference="DEMO-NCR-SCRAP").status == NcrStatus.CLOSED
    complaint = Complaint.objects.get(title__startswith="Bearing noise")
    assert complaint.lot.parent_links.filter(parent__supplier__isnull=False).exists()
    assert Capa.objects.get(source_reference="DEMO-CAPA-CLOSED").status == CapaStatus.CLOSED
    assert Capa.objects.get(source_reference="DEMO-CAPA-OVERDUE").actions.get().is_overdue()
    assert Ncr.objects.filter(source_reference__startswith="DEMO-NCR").count() == 3
