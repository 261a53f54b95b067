import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from batchrecords.models import Deviation, ExecutedBatchRecord, MasterBatchRecord

pytestmark = pytest.mark.django_db


def test_demo_seeds_batch_records_once():
    with override_settings(QMS_DEMO=True):
        call_command("seed_demo", stdout=io.StringIO())
        counts = (MasterBatchRecord.objects.count(), ExecutedBatchRecord.objects.count(), Deviation.objects.count())
        call_command("seed_demo", stdout=io.StringIO())
    assert counts == (
        MasterBatchRecord.objects.count(),
        ExecutedBatchRecord.objects.count(),
        Deviation.objects.count(),
    )
    food = ExecutedBatchRecord.objects.get(work_order__code="BATCH-0701")
    assert food.status == "completed" and food.deviations.get().classification == "major"
    ring = ExecutedBatchRecord.objects.get(work_order__code="WO-RING-0701")
    assert ring.status == "in_progress" and Deviation.objects.filter(site=ring.site).exists()
