"""Issue 9, item 2: holds follow their cause. One journey per MRB disposition, from the rejected incoming
inspection to shipment or to the lot leaving stock, through the real services and their single doors:
rejected IQC → NCR (automatic) → MRB signed → executed → (re-inspection) → NCR verified and closed by
someone who did not carry it out → signed release by someone who did not inspect → shipment."""

import pytest

from inspection.tests import factories as insp_f
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.models import Customer, Role
from suppliers.tests import factories as sup_f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER]),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "eng": make_user("eng", roles=[Role.MRB_MEMBER]),
        "sales": make_user("sales", roles=[Role.MRB_MEMBER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
    }


def rejected_at_iqc(site, people, capture, quantity=1000):
    """An incoming lot whose IQC was rejected: the inspection's hold and the NCR's hold are on it."""
    from inspection import services as inspection_services
    from inspection.models import Inspection, Stage
    from nonconformance.models import Ncr
    from traceability.services import lot_receive

    part = sup_f.make_part("RG-J1")
    supplier = sup_f.approved_supplier(people["sqe"], site, code="SUP-J", part=part)
    insp_f.plan(site, part, people["qe"], people["qm"])
    with capture(execute=True):
        lot = lot_receive(
            site=site,
            part=part,
            supplier=supplier,
            supplier_lot_code="J-1",
            quantity=quantity,
            user=people["inspector"],
        )
    iqc = Inspection.objects.get(lot=lot, stage=Stage.IQC)
    insp_f.fill(iqc, people["inspector"], bad=range(1, iqc.reject_number + 1))
    with capture(execute=True):
        inspection_services.inspection_complete(
            inspection=iqc, user=people["inspector"], credential=insp_f.cred(people["inspector"])
        )
    lot.refresh_from_db()
    assert {h.source for h in lot.active_holds()} == {"inspection", "ncr"}
    return lot, iqc, Ncr.objects.get(source_reference=iqc.code)


SIGNERS = {"quality": "qm", "engineering": "eng", "sales": "sales", "production": "prod", "quality_manager": "qm"}


def decide(ncr, people, lines):
    """The MRB decides `lines` [(kind, quantity, extra)] and every required role signs."""
    from nonconformance import services as ncr_services
    from nonconformance.models import Disposition, NcrStatus

    qe = people["qe"]
    ncr_services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    lot = ncr.ncr_lots.get().lot
    for kind, quantity, extra in lines:
        ncr_services.disposition_line_add(ncr=ncr, kind=kind, quantity=quantity, lot=lot, user=qe, **extra)
    ncr_services.disposition_submit(ncr=ncr, user=qe)
    disposition = Disposition.objects.get(ncr=ncr)
    for role in disposition.required_roles:
        signer = people[SIGNERS[role]]
        ncr_services.mrb_decide(
            disposition=disposition, mrb_role=role, vote="approve", user=signer, credential=insp_f.cred(signer)
        )
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.DISPOSITIONED
    return disposition


def verify_and_close(ncr, people):
    """The QE carried out the disposition: it may neither verify nor close; the QM does."""
    from nonconformance import services as ncr_services

    qe, qm = people["qe"], people["qm"]
    with pytest.raises(DomainError, match="executed"):
        ncr_services.ncr_verify(ncr=ncr, user=qe, credential=insp_f.cred(qe))
    ncr = ncr_services.ncr_verify(ncr=ncr, user=qm, credential=insp_f.cred(qm), reason="carried out")
    with pytest.raises(DomainError, match="executed"):
        ncr_services.ncr_close(ncr=ncr, user=qe)
    return ncr_services.ncr_close(ncr=ncr, user=qm)


def release_and_ship(lot, people, quantity):
    """The inspector (no release authority) and the QE (author of the plan) may not release; the QM signs;
    the lot ships; it cannot be released twice."""
    from inspection.services import lot_release_sign
    from traceability.services import shipment_create

    with pytest.raises(DomainError, match="authority for this decision at this site. Who can act: Qm"):
        lot_release_sign(lot=lot, user=people["inspector"], credential=insp_f.cred(people["inspector"]))
    with pytest.raises(DomainError, match="You authored"):
        lot_release_sign(lot=lot, user=people["qe"], credential=insp_f.cred(people["qe"]))
    lot_release_sign(lot=lot, user=people["qm"], credential=insp_f.cred(people["qm"]), reason="MRB decided")
    lot.refresh_from_db()
    assert lot.status == "released"
    with pytest.raises(DomainError, match="already released"):
        lot_release_sign(lot=lot, user=people["qm"], credential=insp_f.cred(people["qm"]))
    with audit_context(reason="test"):
        customer = Customer.objects.get_or_create(code="C-J", defaults={"name": "Customer J"})[0]
    shipment = shipment_create(lot=lot, customer=customer, quantity=quantity, user=people["prod"])
    assert shipment.quantity == quantity


@pytest.mark.parametrize("kind", ["use_as_is", "regrade"])
def test_use_as_is_and_regrade_make_the_whole_lot_releasable_once_the_ncr_closes(
    site, people, kind, django_capture_on_commit_callbacks
):
    from nonconformance import services as ncr_services
    from traceability.services import lot_release_reasons

    lot, iqc, ncr = rejected_at_iqc(site, people, django_capture_on_commit_callbacks)
    disposition = decide(ncr, people, [(kind, 1000, {})])
    line = ncr_services.disposition_line_execute(line=disposition.lines.get(), user=people["qe"], note=kind)
    lot.refresh_from_db()
    # the signed decision settles the rejection (data, not a context variable): its hold is gone ...
    assert [h.source for h in lot.active_holds()] == ["ncr"]
    assert line.released_lot == lot
    # ... and the NCR's own hold follows the NCR
    verify_and_close(ncr, people)
    assert lot_release_reasons(lot) == []
    release_and_ship(lot, people, 1000)


def test_concession_makes_the_conceded_quantity_releasable_and_the_rest_is_returned(
    site, people, django_capture_on_commit_callbacks
):
    from nonconformance import services as ncr_services
    from traceability.services import lot_release_reasons

    lot, iqc, ncr = rejected_at_iqc(site, people, django_capture_on_commit_callbacks)
    disposition = decide(
        ncr,
        people,
        [
            ("concession", 300, {"concession_quantity_limit": 300, "customer_approval_reference": "CUST-1"}),
            ("return_to_supplier", 700, {}),
        ],
    )
    conceded = ncr_services.disposition_line_execute(line=disposition.lines.get(kind="concession"), user=people["qe"])
    part = conceded.released_lot
    assert part.quantity == 300 and not part.is_on_hold and lot_release_reasons(part) == []
    ncr_services.disposition_line_execute(
        line=disposition.lines.get(kind="return_to_supplier"), user=people["qe"], return_reference="RMA-1"
    )
    lot.refresh_from_db()
    assert lot.status == "rejected" and lot.quantity == 700
    release_and_ship(part, people, 300)
    verify_and_close(ncr, people)


def test_rework_then_accepted_reinspection_makes_the_lot_releasable(site, people, django_capture_on_commit_callbacks):
    from inspection import services as inspection_services
    from inspection.models import Inspection
    from nonconformance import services as ncr_services
    from traceability.services import lot_release_reasons

    lot, iqc, ncr = rejected_at_iqc(site, people, django_capture_on_commit_callbacks)
    disposition = decide(ncr, people, [("rework", 1000, {})])
    line = ncr_services.disposition_line_execute(line=disposition.lines.get(), user=people["qe"], note="reworked")
    again = Inspection.objects.get(code=line.reinspection_reference)
    assert again.is_reinspection
    insp_f.fill(again, people["inspector"])
    with django_capture_on_commit_callbacks(execute=True):
        inspection_services.inspection_complete(
            inspection=again, user=people["inspector"], credential=insp_f.cred(people["inspector"])
        )
    lot.refresh_from_db()
    assert [h.source for h in lot.active_holds()] == ["ncr"]  # the rejection's hold followed its cause
    verify_and_close(ncr, people)
    assert lot_release_reasons(lot) == []
    release_and_ship(lot, people, 1000)


@pytest.mark.parametrize("kind", ["scrap", "return_to_supplier"])
def test_scrap_and_return_to_supplier_end_the_lot(site, people, kind, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_sign
    from nonconformance import services as ncr_services
    from traceability.services import lot_can_ship

    lot, iqc, ncr = rejected_at_iqc(site, people, django_capture_on_commit_callbacks)
    disposition = decide(ncr, people, [(kind, 1000, {})])
    extra = {"return_reference": "RMA-9"} if kind == "return_to_supplier" else {}
    ncr_services.disposition_line_execute(line=disposition.lines.get(), user=people["qe"], **extra)
    lot.refresh_from_db()
    assert lot.status == "rejected"
    verify_and_close(ncr, people)
    assert not lot_can_ship(lot=lot).ok
    with pytest.raises(DomainError, match="quarantine"):
        lot_release_sign(lot=lot, user=people["qm"], credential=insp_f.cred(people["qm"]))
