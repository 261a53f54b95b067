import pytest
from django.core.management import call_command

from inspection.models import Inspection, LotRelease, SupplierSwitching
from suppliers.services import supplier_can_supply
from traceability.models import Lot


@pytest.mark.django_db
def test_demo_iqc_lots_come_from_suppliers_the_gate_accepts_and_seeding_is_idempotent(settings):
    settings.QMS_DEMO = True
    call_command("seed_demo")
    counts = (Inspection.objects.count(), Lot.objects.count())
    call_command("seed_demo")
    assert (Inspection.objects.count(), Lot.objects.count()) == counts
    # two lots of the previous system imported as released (history import, signed by the QM), once
    history = LotRelease.objects.filter(history_import=True).select_related("lot", "released_by")
    assert sorted(r.lot.code for r in history) == ["HIST-1", "HIST-2"]
    assert all(r.lot.status == "released" and r.released_by.username == "qm" for r in history)
    iqc_lots = list(Lot.objects.filter(code__in=[f"BL-IQC-00{i}" for i in range(1, 6)] + ["RG-IQC-001"]))
    assert len(iqc_lots) == 6
    for lot in iqc_lots:
        assert supplier_can_supply(supplier=lot.supplier, part=lot.part).ok, lot.code
        assert lot.supplier.code != "SUP-NB"  # still under evaluation in the suppliers demo
    sw = SupplierSwitching.objects.get(part__number="BL-6204")
    assert sw.severity == "tightened" and sw.supplier == iqc_lots[0].supplier
