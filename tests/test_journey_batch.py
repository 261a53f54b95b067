"""Issue 14 (GMP): master batch record approved → work order started → batch record executed with one
out-of-limit parameter → deviation raised, assessed, CAPA linked, approved → review by exception signed →
lot released. And the negative: an open major deviation blocks the release, its reason on the release page."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from batchrecords import services
from batchrecords.models import Deviation, EbrStatus, ExecutedBatchRecord
from batchrecords.tests import factories as f
from conftest import PASSWORD
from inspection.models import LotRelease
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.models import Industry, Role, Site


@pytest.fixture
def plant(db):
    with audit_context(reason="test"):
        return Site.objects.create(code="GMP1", name="Tablet plant", industry=Industry.PHARMA, requires_qa_release=True)


@pytest.fixture
def cast(make_user, plant):
    s = [plant]
    return {
        "op": make_user("op", roles=[Role.PRODUCTION_SUPERVISOR], sites=s),
        "op2": make_user("op2", roles=[Role.INSPECTOR], sites=s),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], sites=s),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], sites=s),
    }


def _execute(plant, cast, django_capture_on_commit_callbacks, *, temperature="75"):
    master = f.mbr(plant, cast["qe"], cast["qm"])
    with django_capture_on_commit_callbacks(execute=True):
        wo = f.running_work_order(plant, master.part, cast["op"], code="WO-J1")
    record = ExecutedBatchRecord.objects.get(work_order=wo)
    ids = f.param_ids(record)
    s1, s2 = f.steps(record)
    services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: temperature, ids["Moisture"]: "1.1"},
    )
    services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["op2"]))
    services.ebr_step_perform(step=s2, user=cast["op"], credential=f.cred(cast["op"]), values={ids["Hardness"]: "52"})
    material = record.mbr.materials.get()
    f.material_lot(plant, material.part, code="API-J1")
    services.ebr_dispense(ebr=record, material=material, lot_code="API-J1", quantity="10", user=cast["op"])
    services.ebr_yield_record(ebr=record, actual_yield="99", user=cast["op"])
    return services.ebr_complete(ebr=record, user=cast["op"])


@pytest.mark.django_db
def test_gmp_journey_to_release(plant, cast, client, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_sign

    record = _execute(plant, cast, django_capture_on_commit_callbacks)
    lot = record.lot
    dev = Deviation.objects.get(ebr=record)
    assert dev.source == "parameter" and [r.lot for r in dev.affected_lots.all()] == [lot]
    # QA: classify as major and assess; the lot cannot be released meanwhile, and the page says why.
    row = dev.affected_lots.get()
    dev = services.deviation_assess(
        deviation=dev,
        user=cast["qe"],
        classification="major",
        impact_assessment="5 °C over for 3 min; dissolution retested",
        lot_impacts={row.pk: ("affected", "retest")},
    )
    client.force_login(cast["qm"])
    page = client.get(reverse("inspection:release", args=[lot.code])).content.decode()
    assert dev.code in page and record.code in page
    with pytest.raises(DomainError, match=dev.code):
        lot_release_sign(lot=lot, user=cast["qm"], credential=f.cred(cast["qm"]))
    dev = services.deviation_capa_open(deviation=dev, owner=cast["qe"], user=cast["qe"])
    dev = services.deviation_approve(deviation=dev, user=cast["qm"], credential=f.cred(cast["qm"]))
    # Review by exception: the QA reviewer sees the out-of-limit value and the approved deviation.
    page = client.get(reverse("batchrecords:ebr_review", args=[record.code])).content.decode()
    assert "Inlet temperature" in page and dev.code in page
    response = client.post(
        reverse("batchrecords:ebr_review", args=[record.code]),
        {"username": "qm", "password": PASSWORD, "reason": "exceptions reviewed"},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == EbrStatus.REVIEWED
    # Released by QA through the one release door (the reviewer may release: they executed nothing).
    release = lot_release_sign(lot=lot, user=cast["qe"], credential=f.cred(cast["qe"]))
    lot.refresh_from_db()
    assert lot.status == "released" and LotRelease.objects.get(lot=lot) == release


@pytest.mark.django_db
def test_open_major_deviation_blocks_release(plant, cast, client, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_sign

    record = _execute(plant, cast, django_capture_on_commit_callbacks, temperature="65")
    lot = record.lot
    dev = services.deviation_raise(
        site=plant, title="Compressed air filter found wet", classification="major", lots=[lot], user=cast["op"]
    )
    # Even with the batch record reviewed, the open major deviation blocks the release.
    services.ebr_review_sign(ebr=record, user=cast["qm"], credential=f.cred(cast["qm"]))
    with pytest.raises(DomainError) as refused:
        lot_release_sign(lot=lot, user=cast["qe"], credential=f.cred(cast["qe"]))
    assert dev.code in str(refused.value)
    lot.refresh_from_db()
    assert lot.status == "quarantine" and not LotRelease.objects.filter(lot=lot).exists()
    client.force_login(cast["qe"])
    page = client.get(reverse("inspection:release", args=[lot.code])).content.decode()
    assert dev.code in page and "not approved yet" in page


@pytest.mark.django_db
def test_unreviewed_batch_record_blocks_gmp_release(plant, cast, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_sign

    record = _execute(plant, cast, django_capture_on_commit_callbacks, temperature="65")
    with pytest.raises(DomainError, match="not reviewed"):
        lot_release_sign(lot=record.lot, user=cast["qe"], credential=f.cred(cast["qe"]))


# --- concurrency: one effect from concurrent requests ---------------------------------------------------------


def _at_once(fn, n=6):
    barrier = threading.Barrier(n)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(("ok", fn()))
        except DomainError as exc:
            outcomes.append(("refused", exc.message))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_and_approvals_take_effect_once(plant, cast):
    from compliance.models import Signature
    from qms.core.scoping import scopes_disabled

    record = f.ebr(plant, cast)
    ids = f.param_ids(record)
    s1 = f.steps(record)[0]
    services.ebr_step_perform(
        step=s1,
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "80", ids["Moisture"]: "1"},
    )

    def verify():
        with scopes_disabled():
            return services.ebr_step_verify(step=s1, user=cast["op2"], credential=f.cred(cast["op2"]))

    outcomes = _at_once(verify)
    assert [o[0] for o in outcomes].count("ok") == 1
    assert Signature.objects.filter(model="batchrecords.ebrstep", object_id=str(s1.pk), meaning="verified").count() == 1

    dev = Deviation.objects.get(ebr=record)
    row = dev.affected_lots.get()
    services.deviation_assess(
        deviation=dev,
        user=cast["qe"],
        classification="minor",
        impact_assessment="none",
        lot_impacts={row.pk: ("affected", "")},
    )

    def approve():
        with scopes_disabled():
            return services.deviation_approve(deviation=dev, user=cast["qm"], credential=f.cred(cast["qm"]))

    outcomes = _at_once(approve)
    assert [o[0] for o in outcomes].count("ok") == 1
    assert Signature.objects.filter(model="batchrecords.deviation", object_id=str(dev.pk)).count() == 1
