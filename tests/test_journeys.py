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


def test_iqc_reject_through_mrb_concession_releases_only_the_conceded_quantity(
    site, people, make_user, django_capture_on_commit_callbacks
):
    """IQC reject → NCR (automatic) → MRB concession of 200 of 1,000 → all signatures → executed: the conceded
    200 are split off and released with the concession on their CoA; the other 800 stay held."""
    from inspection import services as inspection_services
    from inspection.models import Inspection, Stage
    from inspection.selectors import coa_context
    from nonconformance import services as ncr_services
    from nonconformance.models import Disposition, Ncr, NcrStatus
    from traceability.selectors import split_origin
    from traceability.services import lot_can_ship, lot_receive

    eng = make_user("eng", roles=[Role.MRB_MEMBER])
    sales = make_user("sales", roles=[Role.MRB_MEMBER])
    part = sup_f.make_part("RG-6204-OUT")
    supplier = sup_f.approved_supplier(people["sqe"], site, code="SUP-C", part=part)
    insp_f.plan(site, part, people["qe"], people["qm"])
    with django_capture_on_commit_callbacks(execute=True):
        lot = lot_receive(
            site=site, part=part, supplier=supplier, supplier_lot_code="C-9", quantity=1000, user=people["inspector"]
        )
    iqc = Inspection.objects.get(lot=lot, stage=Stage.IQC)
    insp_f.fill(iqc, people["inspector"], bad=range(1, iqc.reject_number + 1))
    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.inspection_complete(
            inspection=iqc, user=people["inspector"], credential=insp_f.cred(people["inspector"])
        )
    ncr = Ncr.objects.get(supplier=supplier)

    qe = people["qe"]
    ncr_services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    ncr_services.disposition_line_add(
        ncr=ncr, kind="concession", quantity=200, lot=lot, user=qe,
        concession_quantity_limit=200, customer_approval_reference="CUST-OK-17",
    )  # fmt: skip
    assert ncr.nonconforming_quantity == 1000  # a lot rejected on a sample: the MRB decides on the whole lot
    ncr_services.disposition_line_add(ncr=ncr, kind="return_to_supplier", quantity=800, lot=lot, user=qe)
    ncr_services.disposition_submit(ncr=ncr, user=qe)
    disposition = Disposition.objects.get(ncr=ncr)
    signers = {
        "quality": people["qm"],
        "engineering": eng,
        "sales": sales,
        "production": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
    }
    for role in (
        disposition.required_roles if hasattr(disposition, "required_roles") else ("quality", "engineering", "sales")
    ):
        ncr_services.mrb_decide(
            disposition=disposition, mrb_role=role, vote="approve", user=signers[role],
            credential=insp_f.cred(signers[role]),
        )  # fmt: skip
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.DISPOSITIONED

    line = disposition.lines.get(kind="concession")
    line = ncr_services.disposition_line_execute(line=line, user=qe, note="use as is, customer agreed")
    released = line.released_lot
    assert released is not None and split_origin(released) == lot
    assert released.status == "quarantine" and released.quantity == 200 and not released.is_on_hold
    # releasable for the conceded quantity; the release is the one signed door
    inspection_services.lot_release_sign(lot=released, user=people["qm"], credential=insp_f.cred(people["qm"]))
    released.refresh_from_db()
    assert released.status == "released" and lot_can_ship(lot=released).ok
    lot.refresh_from_db()
    assert lot.quantity == 800 and lot.status == "quarantine" and lot.is_on_hold
    assert not lot_can_ship(lot=lot).ok
    notes = coa_context(released)["notes"]
    assert notes and ncr.code in notes[0]["text"]
