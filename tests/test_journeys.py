"""Cross-app journeys through the real services: the gates between suppliers, traceability, inspection
and nonconformance hold when the pieces are put together."""

import pytest

from inspection.tests import factories as insp_f
from qms.core.errors import DomainError
from qms.core.models import Role
from suppliers.tests import factories as sup_f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
    }


def test_receipt_from_a_supplier_that_is_not_approved_is_refused(site, people):
    from traceability.models import Lot
    from traceability.services import lot_receive

    part = sup_f.make_part("ST-52100")
    prospect = sup_f.make_supplier(people["sqe"], site, code="SUP-NEW")
    with pytest.raises(DomainError) as refused:
        lot_receive(
            site=site, part=part, supplier=prospect, supplier_lot_code="B-1", quantity=100, user=people["inspector"]
        )
    assert "SUP-NEW" in str(refused.value) or "approved" in str(refused.value).lower()
    assert not Lot.objects.exists()


def test_incoming_lot_rejected_at_iqc_is_held_gets_an_ncr_and_counts_against_the_supplier(
    site, people, django_capture_on_commit_callbacks
):
    from inspection import services as inspection_services
    from inspection.models import Inspection, Stage
    from nonconformance.models import Ncr
    from suppliers.models import ReceiptRecord
    from traceability.services import lot_can_ship, lot_receive

    part = sup_f.make_part("RG-6204-IN")
    supplier = sup_f.approved_supplier(people["sqe"], site, code="SUP-OK", part=part)
    insp_f.plan(site, part, people["qe"], people["qm"])

    with django_capture_on_commit_callbacks(execute=True):
        lot = lot_receive(
            site=site, part=part, supplier=supplier, supplier_lot_code="HX-7", quantity=1000, user=people["inspector"]
        )
    iqc = Inspection.objects.get(lot=lot, stage=Stage.IQC)
    assert iqc.sample_size == 80 and iqc.accept_number == 2  # J at AQL 1.0, normal

    insp_f.fill(iqc, people["inspector"], bad=range(1, iqc.reject_number + 1))
    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.inspection_complete(
            inspection=iqc, user=people["inspector"], credential=insp_f.cred(people["inspector"])
        )

    lot.refresh_from_db()
    assert lot.status == "quarantine" and lot.is_on_hold
    assert not lot_can_ship(lot=lot).ok
    ncr = Ncr.objects.get(supplier=supplier)
    assert ncr.source == "iqc" and iqc.code in ncr.source_reference + ncr.description
    ncr_lot = ncr.ncr_lots.get(lot=lot)
    assert ncr_lot.hold is not None and ncr_lot.hold.lifted_at is None
    receipt = ReceiptRecord.objects.get(lot_code=lot.code)
    assert receipt.accepted is False and receipt.quantity_defective == iqc.reject_number
