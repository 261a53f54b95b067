from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from batchrecords import selectors, services
from batchrecords.integrations import release_check
from batchrecords.models import (
    Deviation,
    DeviationSource,
    DeviationStatus,
    EbrStatus,
    ExecutedBatchRecord,
    LotImpact,
    MbrStatus,
    StepStatus,
)
from compliance.signatures import signatures_for
from qms.core.errors import DomainError, PermissionRefused

from . import factories as f

pytestmark = pytest.mark.django_db


def perform_all_ok(record, cast):
    ids = f.param_ids(record)
    s1, s2 = f.steps(record)
    services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "65", ids["Moisture"]: "1.2"},
    )
    services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["op2"]))
    services.ebr_step_perform(step=s2, user=cast["op"], credential=f.cred(cast["op"]), values={ids["Hardness"]: "50"})


# --- master batch record ---------------------------------------------------------------------------------


def test_mbr_approved_by_another_person_becomes_effective_with_its_signature(gmp_site, cast):
    m = f.mbr(gmp_site, cast["qe"])
    with pytest.raises(PermissionRefused):
        services.mbr_approve(mbr=m, user=cast["qe"], credential=f.cred(cast["qe"]))
    with pytest.raises(PermissionRefused):
        services.mbr_approve(mbr=m, user=cast["op"], credential=f.cred(cast["op"]))
    m = services.mbr_approve(mbr=m, user=cast["qm"], credential=f.cred(cast["qm"]))
    assert m.status == MbrStatus.EFFECTIVE and m.approved_by == cast["qm"]
    assert [s.meaning for s in signatures_for(m)] == ["approved"]
    with pytest.raises(DomainError, match="only a draft"):
        services.mbr_step_add(mbr=m, title="Late step", user=cast["qe"])
    with pytest.raises(DomainError, match="Only a draft"):
        services.mbr_approve(mbr=m, user=cast["qm"], credential=f.cred(cast["qm"]))


def test_new_version_copies_the_content_and_supersedes_on_approval(gmp_site, cast):
    v1 = f.mbr(gmp_site, cast["qe"], cast["qm"])
    v2 = services.mbr_new_version(mbr=v1, user=cast["qe"])
    assert v2.version == 2 and v2.status == MbrStatus.DRAFT and v2.previous == v1
    assert v2.steps.count() == 2 and v2.parameters.count() == 3 and v2.materials.count() == 1
    services.mbr_approve(mbr=v2, user=cast["qm"], credential=f.cred(cast["qm"]))
    v1.refresh_from_db()
    assert v1.status == MbrStatus.SUPERSEDED
    assert services.effective_mbr(site=gmp_site, part=v1.part).pk == v2.pk


@pytest.mark.parametrize(
    "low,high,message",
    [
        ("NaN", "5", "not a finite"),
        ("1e999", "", "too large"),
        ("9", "5", "lower limit is above"),
        ("", "", "at least"),
    ],
)
def test_hostile_limits_are_refused_with_a_message(gmp_site, cast, low, high, message):
    m = f.mbr(gmp_site, cast["qe"])
    step = m.steps.first()
    before = m.parameters.count()
    with pytest.raises(DomainError, match=message):
        services.mbr_parameter_add(step=step, name="X", lower_limit=low, upper_limit=high, user=cast["qe"])
    assert m.parameters.count() == before


def test_mbr_needs_the_edit_permission(gmp_site, cast):
    with pytest.raises(PermissionRefused):
        f.mbr(gmp_site, cast["op"])


# --- executed batch record -------------------------------------------------------------------------------


def test_the_batch_record_starts_with_the_work_order(gmp_site, cast, django_capture_on_commit_callbacks):
    m = f.mbr(gmp_site, cast["qe"], cast["qm"])
    with django_capture_on_commit_callbacks(execute=True):
        wo = f.running_work_order(gmp_site, m.part, cast["op"], code="WO-AUTO")
    record = ExecutedBatchRecord.objects.get(work_order=wo)
    assert record.mbr == m and record.lot.work_order == wo and record.lot.status == "quarantine"
    assert [s.title for s in f.steps(record)] == ["Granulation", "Compression"]
    with pytest.raises(DomainError, match="already has its batch record"):
        services.ebr_create(work_order=wo, user=cast["op"])


def test_no_batch_record_without_an_effective_master(gmp_site, cast, django_capture_on_commit_callbacks):
    draft = f.mbr(gmp_site, cast["qe"])
    with django_capture_on_commit_callbacks(execute=True):
        wo = f.running_work_order(gmp_site, draft.part, cast["op"])
    assert not ExecutedBatchRecord.objects.filter(work_order=wo).exists()
    with pytest.raises(DomainError, match="no effective master batch record"):
        services.ebr_create(work_order=wo, user=cast["op"])


def test_values_are_judged_as_entered_and_an_out_of_limit_value_raises_a_deviation(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    s1, s2 = f.steps(record)
    with pytest.raises(DomainError, match="not performed yet"):
        services.ebr_step_perform(
            step=s2, user=cast["op"], credential=f.cred(cast["op"]), values={ids["Hardness"]: "50"}
        )
    with pytest.raises(DomainError, match="Enter every value"):
        services.ebr_step_perform(
            step=s1, user=cast["op"], credential=f.cred(cast["op"]), values={ids["Moisture"]: "1"}
        )
    with pytest.raises(DomainError, match="not a number"):
        services.ebr_step_perform(
            step=s1,
            user=cast["op"],
            credential=f.cred(cast["op"]),
            values={ids["Inlet temperature"]: "<script>", ids["Moisture"]: "1"},
        )
    assert not record.values.exists() and not Deviation.objects.exists()  # nothing half-written
    s1 = services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "72.5", ids["Moisture"]: "1,5"},
    )
    assert s1.status == StepStatus.DONE and s1.performed_by == cast["op"]
    temp = record.values.get(name="Inlet temperature")
    moisture = record.values.get(name="Moisture")
    assert not temp.in_limits and moisture.in_limits and moisture.value == Decimal("1.5")
    dev = temp.deviation
    assert dev.source == DeviationSource.PARAMETER and dev.ebr == record and dev.raised_by == cast["op"]
    assert [row.lot for row in dev.affected_lots.all()] == [record.lot]
    assert [s.meaning for s in signatures_for(s1)] == ["authored"]
    with pytest.raises(DomainError, match="already performed"):
        services.ebr_step_perform(step=s1, user=cast["op"], credential=f.cred(cast["op"]), values={})


def test_late_entries_need_their_reason_and_future_times_are_refused(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    s1 = f.steps(record)[0]
    values = {ids["Inlet temperature"]: "65", ids["Moisture"]: "1"}
    with pytest.raises(DomainError, match="in the future"):
        services.ebr_step_perform(
            step=s1,
            user=cast["op"],
            credential=f.cred(cast["op"]),
            values=values,
            performed_at=timezone.now() + timedelta(hours=1),
        )
    earlier = timezone.now() - timedelta(minutes=45)
    with pytest.raises(DomainError, match="give the reason"):
        services.ebr_step_perform(
            step=s1, user=cast["op"], credential=f.cred(cast["op"]), values=values, performed_at=earlier
        )
    s1 = services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values=values,
        performed_at=earlier,
        late_reason="Tablet battery empty",
    )
    assert s1.is_late and s1.late_reason == "Tablet battery empty"
    record = selectors.ebr_queryset().get(pk=record.pk)
    kinds = {e["kind"] for e in selectors.ebr_exceptions(record)}
    assert "late" in kinds and "signature" in kinds  # critical step not verified yet


def test_critical_steps_are_verified_by_a_second_person_only(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    s1, s2 = f.steps(record)
    with pytest.raises(DomainError, match="must be performed"):
        services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["op2"]))
    services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "65", ids["Moisture"]: "1"},
    )
    with pytest.raises(PermissionRefused, match="executed"):
        services.ebr_step_verify(step=s1, user=cast["op"], credential=f.cred(cast["op"]))
    with pytest.raises(PermissionRefused):
        services.ebr_step_verify(step=s1, user=cast["auditor"], credential=f.cred(cast["auditor"]))
    with pytest.raises(PermissionRefused, match="own password"):
        services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["qe"]))
    s1 = services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["op2"]))
    assert s1.status == StepStatus.VERIFIED and s1.verified_by == cast["op2"]
    assert [s.meaning for s in signatures_for(s1)] == ["authored", "verified"]
    services.ebr_step_perform(step=s2, user=cast["op"], credential=f.cred(cast["op"]), values={ids["Hardness"]: "45"})
    with pytest.raises(DomainError, match="not a critical step"):
        services.ebr_step_verify(step=s2, user=cast["op2"], credential=f.cred(cast["op2"]))


def test_dispensing_by_lot_scan_goes_through_the_consumption_gates(gmp_site, cast):
    from traceability.models import LotLink

    record = f.ebr(gmp_site, cast)
    material = record.mbr.materials.get()
    wrong = f.material_lot(gmp_site, f.part("EXC-1"), code="WRONG-1")
    quarantined = f.material_lot(gmp_site, material.part, code="API-Q", status="quarantine")
    good = f.material_lot(gmp_site, material.part, code="API-OK", qty="50")
    with pytest.raises(DomainError, match="wrong material"):
        services.ebr_dispense(ebr=record, material=material, lot_code="WRONG-1", quantity="10", user=cast["op"])
    with pytest.raises(DomainError, match="only a released lot"):
        services.ebr_dispense(ebr=record, material=material, lot_code="API-Q", quantity="10", user=cast["op"])
    with pytest.raises(DomainError, match="No lot"):
        services.ebr_dispense(ebr=record, material=material, lot_code="NOPE-1", quantity="10", user=cast["op"])
    with pytest.raises(DomainError):
        services.ebr_dispense(ebr=record, material=material, lot_code="'; drop table", quantity="1", user=cast["op"])
    with pytest.raises(DomainError, match="remain"):
        services.ebr_dispense(ebr=record, material=material, lot_code="API-OK", quantity="60", user=cast["op"])
    assert not record.dispenses.exists() and wrong and quarantined
    row = services.ebr_dispense(ebr=record, material=material, lot_code="API-OK", quantity="10.1", user=cast["op"])
    assert row.in_tolerance and row.deviation is None
    link = LotLink.objects.get(parent=good, child=record.lot)
    assert link.quantity == Decimal("10.1") and link.work_order == record.work_order
    second = f.material_lot(gmp_site, material.part, code="API-2")
    over = services.ebr_dispense(ebr=record, material=material, lot_code="API-2", quantity="1", user=cast["op"])
    assert not over.in_tolerance and over.deviation.source == DeviationSource.MATERIAL and second


def test_yield_out_of_limits_needs_a_note_and_raises_a_deviation(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    with pytest.raises(DomainError, match="explain"):
        services.ebr_yield_record(ebr=record, actual_yield="90", user=cast["op"])
    with pytest.raises(DomainError, match="not a finite"):
        services.ebr_yield_record(ebr=record, actual_yield="Infinity", user=cast["op"])
    record = services.ebr_yield_record(ebr=record, actual_yield="90", note="Spill at discharge", user=cast["op"])
    assert record.yield_percent == Decimal("90.00") and record.yield_in_limits is False
    assert record.deviations.get().source == DeviationSource.YIELD


def test_complete_then_review_by_exception_with_segregation(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    with pytest.raises(DomainError, match="not performed"):
        services.ebr_complete(ebr=record, user=cast["op"])
    perform_all_ok(record, cast)
    material = record.mbr.materials.get()
    f.material_lot(gmp_site, material.part, code="API-R")
    services.ebr_dispense(ebr=record, material=material, lot_code="API-R", quantity="10", user=cast["op"])
    services.ebr_yield_record(ebr=record, actual_yield="98", user=cast["op"])
    with pytest.raises(DomainError, match="Only a completed"):
        services.ebr_review_sign(ebr=record, user=cast["qm"], credential=f.cred(cast["qm"]))
    record = services.ebr_complete(ebr=record, user=cast["op"])
    assert record.status == EbrStatus.COMPLETED
    full = selectors.ebr_queryset().get(pk=record.pk)
    assert selectors.ebr_exceptions(full) == []  # nothing to look at: all in limits, on time, signed
    # The second person who verified a step cannot review; a QA who took no part can.
    from qms.core.models import Membership, Role, User

    Membership.objects.create(user=cast["op2"], site=gmp_site, role=Role.QUALITY_ENGINEER)
    op2 = User.objects.get(pk=cast["op2"].pk)
    with pytest.raises(PermissionRefused, match="executed"):
        services.ebr_review_sign(ebr=record, user=op2, credential=f.cred(op2))
    record = services.ebr_review_sign(ebr=record, user=cast["qm"], credential=f.cred(cast["qm"]), comment="ok")
    assert record.status == EbrStatus.REVIEWED and [s.meaning for s in signatures_for(record)] == ["reviewed"]
    with pytest.raises(DomainError):
        services.ebr_review_sign(ebr=record, user=cast["qe"], credential=f.cred(cast["qe"]))


# --- deviations ------------------------------------------------------------------------------------------


def test_deviation_assess_capa_approve_and_release_block(gmp_site, cast):
    lot = f.material_lot(gmp_site, f.part("BULK-1"), code="BULK-LOT-1", status="quarantine")
    other = f.material_lot(gmp_site, f.part("BULK-1"), code="BULK-LOT-2", status="quarantine")
    dev = services.deviation_raise(
        site=gmp_site, title="Room pressure alarm", classification="major", lots=[lot, other], user=cast["op"]
    )
    assert any("DEV" in r for r in release_check(lot)) and release_check(other)
    with pytest.raises(PermissionRefused):  # an operator cannot assess
        services.deviation_assess(deviation=dev, user=cast["op"], classification="major", impact_assessment="x")
    rows = {row.lot_id: row.pk for row in dev.affected_lots.all()}
    dev = services.deviation_assess(
        deviation=dev,
        user=cast["qe"],
        classification="major",
        impact_assessment="Only the open-phase lot exposed",
        lot_impacts={rows[lot.pk]: (LotImpact.AFFECTED, "exposed"), rows[other.pk]: (LotImpact.NOT_AFFECTED, "closed")},
    )
    assert dev.status == DeviationStatus.ASSESSED
    assert release_check(lot) and not release_check(other)  # assessed as not affected: no longer blocked
    with pytest.raises(DomainError, match="needs a CAPA"):
        services.deviation_approve(deviation=dev, user=cast["qm"], credential=f.cred(cast["qm"]))
    dev = services.deviation_capa_open(deviation=dev, owner=cast["qe"], user=cast["qe"])
    assert dev.capa.source_reference == dev.code and dev.capa.site == gmp_site
    with pytest.raises(PermissionRefused):
        services.deviation_approve(deviation=dev, user=cast["op"], credential=f.cred(cast["op"]))
    dev = services.deviation_approve(deviation=dev, user=cast["qm"], credential=f.cred(cast["qm"]))
    assert dev.status == DeviationStatus.APPROVED and not release_check(lot)
    with pytest.raises(DomainError, match="already approved"):
        services.deviation_approve(deviation=dev, user=cast["qe"], credential=f.cred(cast["qe"]))
    with pytest.raises(DomainError, match="can no longer be changed"):
        services.deviation_lot_add(deviation=dev, lot=lot, user=cast["qe"])


def test_a_minor_deviation_does_not_block_and_the_raiser_cannot_approve(site, make_user):
    from qms.core.models import Role

    qe = make_user("qe1", roles=[Role.QUALITY_ENGINEER])
    qm = make_user("qm1", roles=[Role.QUALITY_MANAGER])
    lot = f.material_lot(site, f.part("RING-1"), code="RING-L1", status="quarantine")
    dev = services.deviation_raise(site=site, title="Label misprint", lots=[lot], user=qe)  # non-GMP site
    assert release_check(lot) == []
    with pytest.raises(DomainError, match="impact assessment"):
        services.deviation_approve(deviation=dev, user=qm, credential=f.cred(qm))
    row = dev.affected_lots.get()
    services.deviation_assess(
        deviation=dev,
        user=qe,
        classification="minor",
        impact_assessment="cosmetic",
        lot_impacts={row.pk: ("not_affected", "")},
    )
    with pytest.raises(PermissionRefused, match="authored"):
        services.deviation_approve(deviation=dev, user=qe, credential=f.cred(qe))
    assert services.deviation_approve(deviation=dev, user=qm, credential=f.cred(qm)).status == "approved"


def test_free_text_drops_nul_characters_and_a_refused_transition_is_a_batch_record_error(gmp_site, cast):
    """The kernel's cleaner and transition guard (qms.core.services), with batchrecords' own error type."""
    dev = services.deviation_raise(
        site=gmp_site,
        title=" Room\x00 pressure ",
        description="Alarm\x00 at 10:02",
        immediate_action="\x00Doors closed",
        user=cast["op"],
    )
    dev.refresh_from_db()
    assert (dev.title, dev.description, dev.immediate_action) == ("Room pressure", "Alarm at 10:02", "Doors closed")
    m = f.mbr(gmp_site, cast["qe"], cast["qm"])
    with pytest.raises(services.BatchRecordError, match="Only a draft master batch record can be approved"):
        services.mbr_approve(mbr=m, user=cast["qm"], credential=f.cred(cast["qm"]))


def test_deviation_hostile_input_and_other_site(gmp_site, other_site, cast):
    foreign = f.material_lot(other_site, f.part("X-1"), code="FOREIGN-1")
    with pytest.raises(DomainError, match="another site"):
        services.deviation_raise(site=gmp_site, title="x", lots=[foreign], user=cast["qe"])
    with pytest.raises(DomainError, match="minor, major or critical"):
        services.deviation_raise(site=gmp_site, title="x", classification="catastrophic", user=cast["qe"])
    with pytest.raises(DomainError, match="title"):
        services.deviation_raise(site=gmp_site, title="   ", user=cast["qe"])
    with pytest.raises(PermissionRefused):
        services.deviation_raise(site=gmp_site, title="x", user=cast["auditor"])
    assert not Deviation.objects.exists()


def test_gmp_release_needs_the_reviewed_batch_record(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    reasons = release_check(record.lot)
    assert any(record.code in r and "not reviewed" in r for r in reasons)


def test_selectors_for_the_lot_bundle(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    s1 = f.steps(record)[0]
    services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "80", ids["Moisture"]: "1"},
    )
    records = selectors.lot_batch_records(record.lot)
    assert [r.pk for r in records] == [record.pk]
    assert records[0].steps.all()[0].signature_rows  # signatures attached for the PDF partial
    devs = selectors.lot_deviations(record.lot)
    assert len(devs) == 1 and devs[0].ebr_id == record.pk
    from django.template.loader import render_to_string

    html = render_to_string("batchrecords/pdf/_batch_record.html", {"record": records[0]})
    assert record.code in html and "Inlet temperature" in html and devs[0].code in html


def test_mbr_names_its_controlled_document_of_the_same_site_only(gmp_site, other_site, cast):
    from documents.models import Document
    from qms.core.audit import audit_context

    with audit_context(reason="test"):
        here = Document.objects.create(
            site=gmp_site,
            doc_type="wi",
            number="PH1-WI-0001",
            title="Tablet BMI",
            owner=cast["qe"],
            created_by=cast["qe"],
        )
        there = Document.objects.create(
            site=other_site, doc_type="wi", number="S2-WI-0001", title="Other", owner=cast["qe"], created_by=cast["qe"]
        )
    with pytest.raises(DomainError, match="another site"):
        services.mbr_create(
            site=gmp_site, part=f.part("DOC-1"), title="x", theoretical_yield="10", document=there, user=cast["qe"]
        )
    m = services.mbr_create(
        site=gmp_site, part=f.part("DOC-1"), title="x", theoretical_yield="10", document=here, user=cast["qe"]
    )
    services.mbr_step_add(mbr=m, title="Only step", user=cast["qe"])
    m = services.mbr_approve(mbr=m, user=cast["qm"], credential=f.cred(cast["qm"]))
    assert services.mbr_new_version(mbr=m, user=cast["qe"]).document == here
