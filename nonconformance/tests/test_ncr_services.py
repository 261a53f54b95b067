import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from nonconformance import services
from nonconformance.models import (
    Disposition,
    DispositionStatus,
    MrbRole,
    MrbRule,
    Ncr,
    NcrStatus,
)
from qms.core.audit import audit_context
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import Role

from . import factories as f

pytestmark = pytest.mark.django_db


def _sign(disposition, user, role, vote="approve", comment=""):
    return services.mrb_decide(
        disposition=disposition, mrb_role=role, vote=vote, user=user, credential=f.credential(user), comment=comment
    )


# --- holds -----------------------------------------------------------------------------------------


def test_opening_an_ncr_holds_every_lot_and_holds_block_release_ship_consume(site, people):
    from traceability.models import Lot
    from traceability.services import consume_reasons, lot_can_ship, lot_release_reasons

    p = f.part()
    released = f.lot(site, p, status="released")
    quarantined = f.lot(site, p)
    ncr = f.open_ncr(site, people["qe"], lots=[released, quarantined])
    assert ncr.code.startswith("NCR-")
    assert ncr.quantity_suspect == Decimal("200")
    assert {link.lot_id for link in ncr.ncr_lots.all()} == {released.pk, quarantined.pk}
    for lot in (released, quarantined):
        assert lot.is_on_hold
    assert "on hold" in " ".join(lot_release_reasons(quarantined))
    assert not lot_can_ship(lot=released).ok
    product = f.lot(site, f.part(), status="released")
    assert any("on hold" in r for r in consume_reasons(lot=released, into=product))
    assert Lot.objects.get(pk=quarantined.pk).status == "quarantine"


def test_ncr_records_the_supplier_on_the_scorecard(site, people):
    from suppliers.models import NcrRecord

    sup = f.supplier(site)
    p = f.part()
    ncr = f.open_ncr(site, people["qe"], lots=[f.lot(site, p, supplier=sup)])
    assert ncr.supplier == sup
    assert NcrRecord.objects.filter(ncr_code=ncr.code, supplier=sup).exists()


def test_lot_of_another_site_or_part_is_refused(site, other_site, people):
    p = f.part()
    with pytest.raises(DomainError, match="another site"):
        f.open_ncr(site, people["qe"], lots=[f.lot(other_site, p)])
    with pytest.raises(DomainError, match="is not of part"):
        services.ncr_open(site=site, source="iqc", part=f.part(), title="x", user=people["qe"], lots=[f.lot(site, p)])


# --- transitions -----------------------------------------------------------------------------------


def test_allowed_and_refused_transitions(site, people):
    qe = people["qe"]
    ncr = f.open_ncr(site, qe)
    assert ncr.status == NcrStatus.OPEN
    with pytest.raises(DomainError):
        services.ncr_verify(ncr=ncr, user=qe, credential=f.credential(qe))
    with pytest.raises(DomainError):
        services.ncr_close(ncr=ncr, user=qe)
    ncr = services.ncr_start_containment(ncr=ncr, user=qe)
    assert ncr.status == NcrStatus.CONTAINMENT
    with pytest.raises(DomainError, match="open NCR"):
        services.ncr_start_containment(ncr=ncr, user=qe)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.MRB_REVIEW
    with pytest.raises(DomainError):
        services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    with pytest.raises(DomainError):
        services.ncr_start_containment(ncr=ncr, user=qe)


def test_open_ncr_can_go_straight_to_mrb_but_needs_a_quantity(site, people):
    ncr = f.open_ncr(site, people["qe"], lots=[], qty_confirmed=0, quantity_suspect=0)
    with pytest.raises(DomainError, match="nonconforming quantity"):
        services.ncr_submit_to_mrb(ncr=ncr, user=people["qe"])


def test_every_transition_is_in_the_audit_trail(site, people):
    from compliance.models import AuditEntry

    qe = people["qe"]
    ncr = f.open_ncr(site, qe)
    services.ncr_start_containment(ncr=ncr, user=qe, reason="sorting started")
    entries = AuditEntry.objects.filter(model="nonconformance.ncr", object_id=str(ncr.pk))
    changes = [e.changes.get("status") for e in entries if "status" in (e.changes or {})]
    assert [NcrStatus.OPEN, NcrStatus.CONTAINMENT] in changes
    assert entries.filter(reason="sorting started").exists()


def test_cancel_needs_reason_and_signature_and_lifts_holds(site, people):
    qe = people["qe"]
    lot = f.lot(site, f.part())
    ncr = f.open_ncr(site, qe, lots=[lot])
    with pytest.raises(DomainError, match="reason"):
        services.ncr_cancel(ncr=ncr, user=qe, credential=f.credential(qe), reason=" ")
    with pytest.raises(PermissionRefused):
        services.ncr_cancel(ncr=ncr, user=qe, credential=f.credential(people["qm"]), reason="raised in error")
    ncr = services.ncr_cancel(ncr=ncr, user=qe, credential=f.credential(qe), reason="raised in error")
    assert ncr.status == NcrStatus.CANCELLED
    assert not lot.is_on_hold
    from compliance.signatures import signatures_for

    assert [s.meaning for s in signatures_for(ncr)] == ["rejected"]


def test_cancel_refused_once_dispositioned(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["qm"], MrbRole.QUALITY)
    _sign(ncr.mrb, people["prod"], MrbRole.PRODUCTION)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.DISPOSITIONED
    with pytest.raises(DomainError, match="cancelled only before"):
        services.ncr_cancel(ncr=ncr, user=people["qe"], credential=f.credential(people["qe"]), reason="x")


# --- MRB -------------------------------------------------------------------------------------------


def test_split_that_does_not_add_up_is_refused(site, people):
    qe = people["qe"]
    ncr = f.open_ncr(site, qe, qty_confirmed=10)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    services.disposition_line_add(ncr=ncr, kind="scrap", quantity=4, user=qe)
    services.disposition_line_add(ncr=ncr, kind="rework", quantity=5, user=qe)
    with pytest.raises(DomainError, match="adds up to 9"):
        services.disposition_submit(ncr=ncr, user=qe)
    services.disposition_line_add(ncr=ncr, kind="rework", quantity=1, user=qe)
    disposition = services.disposition_submit(ncr=ncr, user=qe)
    assert disposition.status == DispositionStatus.IN_REVIEW
    assert disposition.required_roles == [MrbRole.QUALITY, MrbRole.PRODUCTION]


def test_zero_quantity_line_refused(site, people):
    ncr = f.open_ncr(site, people["qe"])
    services.ncr_submit_to_mrb(ncr=ncr, user=people["qe"])
    with pytest.raises(DomainError, match="above zero"):
        services.disposition_line_add(ncr=ncr, kind="scrap", quantity=0, user=people["qe"])


def test_disposition_takes_effect_only_with_all_signatures(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("repair", 10, {})], qty_confirmed=10)
    disposition = ncr.mrb
    assert disposition.required_roles == [MrbRole.QUALITY, MrbRole.PRODUCTION, MrbRole.ENGINEERING]
    _sign(disposition, people["qm"], MrbRole.QUALITY)
    _sign(disposition, people["prod"], MrbRole.PRODUCTION)
    ncr.refresh_from_db()
    disposition.refresh_from_db()
    assert ncr.status == NcrStatus.MRB_REVIEW and disposition.status == DispositionStatus.IN_REVIEW
    line = disposition.lines.get()
    with pytest.raises(DomainError, match="all required signatures"):
        services.disposition_line_execute(line=line, user=people["qe"])
    _sign(disposition, people["eng"], MrbRole.ENGINEERING)
    ncr.refresh_from_db()
    disposition.refresh_from_db()
    assert disposition.status == DispositionStatus.APPROVED
    assert ncr.status == NcrStatus.DISPOSITIONED
    from compliance.signatures import signatures_for

    sigs = [signatures_for(d)[0] for d in disposition.decisions.all()]
    assert {s.role for s in sigs} == {"quality", "production", "engineering"}
    assert all(s.meaning == "approved" for s in sigs)


def test_same_person_cannot_sign_for_two_roles(site, make_user, people):
    both = make_user("both", roles=[Role.QUALITY_MANAGER, Role.MRB_MEMBER])
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("use_as_is", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, both, MrbRole.QUALITY)
    with pytest.raises(PermissionRefused, match="two roles"):
        _sign(ncr.mrb, both, MrbRole.ENGINEERING)
    assert services.mrb_roles_user_may_sign(both, ncr.mrb) == []


def test_role_already_signed_cannot_be_signed_again(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("use_as_is", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["qm"], MrbRole.QUALITY)
    with pytest.raises(DomainError, match="already been signed"):
        _sign(ncr.mrb, people["qe2"], MrbRole.QUALITY)


def test_signer_must_hold_the_mapped_role(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    with pytest.raises(PermissionRefused, match="may sign for"):
        _sign(ncr.mrb, people["prod"], MrbRole.QUALITY)
    with pytest.raises(DomainError, match="does not need"):
        _sign(ncr.mrb, people["eng"], MrbRole.ENGINEERING)


def test_inspector_and_auditor_cannot_sign(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    for who in ("inspector", "auditor"):
        with pytest.raises(PermissionRefused):
            _sign(ncr.mrb, people[who], MrbRole.QUALITY)


def test_ncr_author_cannot_decide(site, people):
    ncr = f.ncr_in_review(site, people["qm"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    with pytest.raises(PermissionRefused, match="authored"):
        _sign(ncr.mrb, people["qm"], MrbRole.QUALITY)


def test_signature_needs_the_signers_own_credential(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    with pytest.raises(PermissionRefused, match="own password"):
        services.mrb_decide(
            disposition=ncr.mrb,
            mrb_role=MrbRole.QUALITY,
            vote="approve",
            user=people["qm"],
            credential=f.credential(people["qe2"]),
        )


def test_rejection_sends_it_back_with_the_reason(site, people):
    qe = people["qe"]
    ncr = f.ncr_in_review(site, qe, qe, [("rework", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["prod"], MrbRole.PRODUCTION)
    with pytest.raises(DomainError, match="reason"):
        _sign(ncr.mrb, people["qm"], MrbRole.QUALITY, vote="reject")
    _sign(ncr.mrb, people["qm"], MrbRole.QUALITY, vote="reject", comment="scrap it, rework is not validated")
    disposition = Disposition.objects.get(pk=ncr.mrb.pk)
    assert disposition.status == DispositionStatus.DRAFT
    assert disposition.round == 2
    assert disposition.rejection_reason == "scrap it, rework is not validated"
    # round 2: change and re-submit; earlier signatures no longer count
    services.disposition_line_void(line=disposition.lines.get(), user=qe)
    services.disposition_line_add(ncr=ncr, kind="scrap", quantity=10, user=qe)
    services.disposition_submit(ncr=ncr, user=qe)
    disposition.refresh_from_db()
    _sign(disposition, people["qm"], MrbRole.QUALITY)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.MRB_REVIEW
    _sign(disposition, people["prod"], MrbRole.PRODUCTION)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.DISPOSITIONED


def test_disposition_cannot_change_while_being_signed(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    with pytest.raises(DomainError, match="awaiting signatures"):
        services.disposition_line_add(ncr=ncr, kind="scrap", quantity=1, user=people["qe"])
    with pytest.raises(DomainError, match="sent back"):
        services.ncr_update(ncr=ncr, user=people["qe"], reason="x", quantity_confirmed=11)


def test_scrap_above_value_needs_the_quality_manager(site, people):
    low = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10, unit_value=5)
    assert MrbRole.QUALITY_MANAGER not in low.mrb.required_roles
    high = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10, unit_value=2000)
    assert high.mrb.required_roles == [MrbRole.QUALITY, MrbRole.PRODUCTION, MrbRole.QUALITY_MANAGER]
    _sign(high.mrb, people["qe2"], MrbRole.QUALITY)
    _sign(high.mrb, people["prod"], MrbRole.PRODUCTION)
    high.refresh_from_db()
    assert high.status == NcrStatus.MRB_REVIEW
    with pytest.raises(PermissionRefused):
        _sign(high.mrb, people["eng"], MrbRole.QUALITY_MANAGER)
    _sign(high.mrb, people["qm"], MrbRole.QUALITY_MANAGER)
    high.refresh_from_db()
    assert high.status == NcrStatus.DISPOSITIONED


def test_site_rule_table_overrides_defaults(site, people):
    with audit_context(reason="test"):
        MrbRule.objects.create(site=site, disposition_type="rework", mrb_role=MrbRole.ENGINEERING)
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], qty_confirmed=10)
    assert ncr.mrb.required_roles == [MrbRole.ENGINEERING]
    assert services.mrb_rules_seed_defaults(site=site) > 0


def test_concession_needs_limit_and_customer_approval_on_automotive(site, people):
    qe = people["qe"]
    ncr = f.open_ncr(site, qe, qty_confirmed=10)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    line = services.disposition_line_add(ncr=ncr, kind="concession", quantity=10, user=qe)
    with pytest.raises(DomainError) as err:
        services.disposition_submit(ncr=ncr, user=qe)
    assert "expiry date or a quantity limit" in str(err.value)
    assert "customer's concession approval" in str(err.value)
    services.disposition_line_void(line=line, user=qe)
    services.disposition_line_add(
        ncr=ncr,
        kind="concession",
        quantity=10,
        user=qe,
        concession_expires_on=timezone.localdate() + datetime.timedelta(days=30),
        customer_approval_reference="SAG-DEV-0042",
    )
    disposition = services.disposition_submit(ncr=ncr, user=qe)
    assert disposition.required_roles == [MrbRole.QUALITY, MrbRole.ENGINEERING, MrbRole.SALES]


def test_concession_on_a_lot_and_full_close_releases_holds(site, people):
    from inspection.services import lot_release_sign
    from nonconformance.selectors import concessions_for_lots

    qe = people["qe"]
    lot = f.lot(site, f.part(), quantity=10)
    ncr = f.open_ncr(site, qe, lots=[lot], qty_confirmed=10)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    services.disposition_line_add(
        ncr=ncr, kind="concession", quantity=10, lot=lot, user=qe,
        concession_quantity_limit=10, customer_approval_reference="OK-1",
    )  # fmt: skip
    services.disposition_submit(ncr=ncr, user=qe)
    disposition = Disposition.objects.get(ncr=ncr)
    for user, role in ((people["qm"], "quality"), (people["eng"], "engineering"), (people["sales"], "sales")):
        _sign(disposition, user, role)
    ncr.refresh_from_db()
    with pytest.raises(DomainError, match="Carry out every"):
        services.ncr_verify(ncr=ncr, user=people["qm"], credential=f.credential(people["qm"]))
    services.disposition_line_execute(line=disposition.lines.get(), user=qe, note="released under concession")
    assert concessions_for_lots([lot.pk])[lot.pk][0]["quantity"] == Decimal("10")
    from inspection.selectors import coa_context

    notes = coa_context(lot)["notes"]  # the concession shows on the lot's CoA
    assert len(notes) == 1 and ncr.code in notes[0]["text"]
    # segregation of duties: whoever carried out the disposition neither verifies nor closes the NCR
    with pytest.raises(DomainError, match="authored|executed"):
        services.ncr_verify(ncr=ncr, user=qe, credential=f.credential(qe), reason="checked")
    qm = people["qm"]
    ncr = services.ncr_verify(ncr=ncr, user=qm, credential=f.credential(qm), reason="checked")
    assert ncr.status == NcrStatus.VERIFIED
    assert lot.is_on_hold
    with pytest.raises(DomainError, match="executed"):
        services.ncr_close(ncr=ncr, user=qe)
    ncr = services.ncr_close(ncr=ncr, user=qm)
    assert ncr.status == NcrStatus.CLOSED
    assert not lot.is_on_hold
    lot_release_sign(lot=lot, user=qm, credential=f.credential(qm), reason="concession")
    from compliance.signatures import signatures_with_validity

    assert [valid for _s, valid in signatures_with_validity(ncr)] == [True]


def test_execute_refuses_more_than_the_line_and_twice(site, people):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10)
    _sign(ncr.mrb, people["qm"], "quality")
    _sign(ncr.mrb, people["prod"], "production")
    line = ncr.mrb.lines.get()
    with pytest.raises(DomainError, match="at most 10"):
        services.disposition_line_execute(line=line, user=people["qe"], quantity=11)
    line = services.disposition_line_execute(line=line, user=people["qe"], quantity=10, note="scrapped")
    assert line.executed_quantity == Decimal("10")
    with pytest.raises(DomainError, match="already"):
        services.disposition_line_execute(line=line, user=people["qe"])


def test_rework_creates_a_reinspection_when_inspection_offers_it(site, people, monkeypatch):
    import sys
    import types

    created = []
    fake = types.ModuleType("inspection.services")
    fake.inspection_create_reinspection = lambda *, lot, reason, user: (
        created.append(lot) or SimpleNamespace(code="RI-1")
    )
    monkeypatch.setitem(sys.modules, "inspection.services", fake)
    from django.apps import apps

    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name == "inspection" or real(name))
    lot = f.lot(site, f.part())
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("rework", 10, {})], lots=[lot], qty_confirmed=10)
    _sign(ncr.mrb, people["qm"], "quality")
    _sign(ncr.mrb, people["prod"], "production")
    line = services.disposition_line_execute(line=ncr.mrb.lines.get(), user=people["qe"])
    assert line.reinspection_reference == "RI-1"
    assert created == [lot]


def test_return_to_supplier_needs_supplier_and_shipment_reference(site, people):
    qe = people["qe"]
    ncr = f.open_ncr(site, qe, qty_confirmed=10)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    services.disposition_line_add(ncr=ncr, kind="return_to_supplier", quantity=10, user=qe)
    with pytest.raises(DomainError, match="supplier"):
        services.disposition_submit(ncr=ncr, user=qe)


# --- inspection listener ---------------------------------------------------------------------------


def test_rejected_inspection_opens_one_ncr_with_failing_values(site, people):
    sup = f.supplier(site)
    lot = f.lot(site, f.part(), supplier=sup, quantity=500)
    char = SimpleNamespace(name="Bore diameter", lower_limit="19.99", upper_limit="20.01")
    measurements = [
        SimpleNamespace(characteristic=char, value="20.05", ok=False),
        SimpleNamespace(characteristic=char, value="20.00", ok=True),
        SimpleNamespace(characteristic=char, value=None, ok=None),
    ]
    inspection = SimpleNamespace(
        pk=7,
        code="IQC-000007",
        stage="IQC",
        lot=lot,
        completed_by=people["inspector"],
        nonconforming=3,
        measurements=SimpleNamespace(all=lambda: measurements),
    )
    ncr = services.ncr_open_from_inspection(inspection=inspection)
    assert ncr.source == "iqc" and ncr.source_reference == "IQC-000007"
    assert ncr.supplier == sup
    # the lot was rejected on a sample: the MRB decides on the whole suspect lot; the sample count is recorded
    assert not ncr.quantity_confirmed and ncr.quantity_suspect == 500 and ncr.nonconforming_quantity == 500
    assert "3 nonconforming" in ncr.description
    assert ncr.failing_values == [
        {"characteristic": "Bore diameter", "value": "20.05", "result": "", "lower": "19.99", "upper": "20.01"}
    ]
    assert lot.is_on_hold
    assert services.ncr_open_from_inspection(inspection=inspection).pk == ncr.pk
    assert Ncr.objects.count() == 1


def _concession_signed(site, people, lot, *, quantity, suspect):
    qe = people["qe"]
    ncr = f.open_ncr(site, qe, lots=[(lot, suspect)], qty_confirmed=quantity, the_part=lot.part)
    services.ncr_submit_to_mrb(ncr=ncr, user=qe)
    services.disposition_line_add(
        ncr=ncr, kind="concession", quantity=quantity, lot=lot, user=qe,
        concession_quantity_limit=quantity, customer_approval_reference="OK-2",
    )  # fmt: skip
    services.disposition_submit(ncr=ncr, user=qe)
    disposition = Disposition.objects.get(ncr=ncr)
    for user, role in ((people["qm"], "quality"), (people["eng"], "engineering"), (people["sales"], "sales")):
        _sign(disposition, user, role)
    ncr.refresh_from_db()
    return ncr, disposition.lines.get()


def test_concession_releases_only_the_conceded_quantity_and_the_rest_stays_held(site, people):
    from inspection.selectors import coa_context
    from inspection.services import lot_release_sign
    from nonconformance.selectors import concessions_for_lots
    from traceability.models import Lot, LotStatus
    from traceability.selectors import lot_remaining
    from traceability.services import lot_can_ship, lot_release_reasons

    qe = people["qe"]
    lot = f.lot(site, f.part(), quantity=1000, code="L-CONC")
    ncr, line = _concession_signed(site, people, lot, quantity=200, suspect=200)
    line = services.disposition_line_execute(line=line, user=qe, note="use as conceded")

    released = line.released_lot
    assert released is not None and released.code == "L-CONC-S1"
    released = Lot.objects.get(pk=released.pk)
    lot.refresh_from_db()
    # only the conceded quantity becomes releasable (no hold, nothing blocks) ...
    assert (released.quantity, released.status, released.is_on_hold) == (Decimal("200"), LotStatus.QUARANTINE, False)
    assert lot_release_reasons(released) == []
    # ... the rest of the lot stays in quarantine under the NCR's hold
    assert (lot.quantity, lot.status) == (Decimal("800"), LotStatus.QUARANTINE)
    assert [h.reference for h in lot.active_holds()] == [ncr.code]
    assert lot_remaining(lot) == Decimal("800")
    # the release itself is the one signed door
    qm = people["qm"]
    lot_release_sign(lot=released, user=qm, credential=f.credential(qm), reason=f"concession {ncr.code}")
    released.refresh_from_db()
    assert released.status == LotStatus.RELEASED and lot_can_ship(lot=released).ok
    from compliance.models import AuditEntry

    entry = AuditEntry.objects.get(action="release", model="traceability.lot", object_id=str(released.pk))
    assert entry.reason == f"concession {ncr.code}"
    # the concession is printed on the released lot's CoA, not on the held rest
    notes = coa_context(released)["notes"]
    assert len(notes) == 1 and ncr.code in notes[0]["text"] and "200" in notes[0]["text"]
    assert coa_context(lot)["notes"] == []
    assert set(concessions_for_lots([lot.pk, released.pk])) == {released.pk}
    # closing the NCR lifts the hold on the rest (by someone who did not carry out the disposition)
    ncr = services.ncr_verify(ncr=ncr, user=qm, credential=f.credential(qm), reason="checked")
    services.ncr_close(ncr=ncr, user=qm)
    assert not lot.is_on_hold


def test_concession_part_stays_held_by_another_cause(site, people):
    """The concession settles the NCR's cause for the conceded part only: a recall hold on the lot is copied
    onto the part split off and still blocks its release."""
    from inspection.services import lot_release_sign
    from traceability.services import lot_hold_place

    qe, qm = people["qe"], people["qm"]
    lot = f.lot(site, f.part(), quantity=1000)
    ncr, line = _concession_signed(site, people, lot, quantity=200, suspect=200)
    lot_hold_place(lot=lot, source="recall", reference="RC-1", reason="recalled", user=qe)
    line = services.disposition_line_execute(line=line, user=qe)
    part = line.released_lot
    assert [h.reference for h in part.active_holds()] == ["RC-1"]
    with pytest.raises(DomainError, match="RC-1"):
        lot_release_sign(lot=part, user=qm, credential=f.credential(qm))
    part.refresh_from_db()
    assert part.status == "quarantine"
