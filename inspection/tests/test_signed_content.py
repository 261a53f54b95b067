"""A plan approval signature covers the plan and its characteristics: an SQL change of a limit makes it
invalid; approving the next version leaves it valid and shows it as superseded."""

import pytest
from django.db import connection
from django.template.loader import render_to_string

from compliance.models import Signature
from compliance.signatures import (
    CHANGED,
    SUPERSEDED,
    VALID,
    record_hash,
    signature_is_valid,
    signatures_with_validity,
)
from inspection import services
from inspection.models import InspectionPlan, PlanStatus
from qms.core.models import Role

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return make_user("qe", roles=[Role.QUALITY_ENGINEER]), make_user("qm", roles=[Role.QUALITY_MANAGER])


def states(plan):
    return [(sig.state, ok) for sig, ok in signatures_with_validity(InspectionPlan.objects.get(pk=plan.pk))]


def test_signature_records_declared_content_version(site, people):
    qe, qm = people
    plan = f.plan(site, f.part(), qe, qm)
    sig = Signature.objects.get(model="inspection.inspectionplan", object_id=str(plan.pk))
    assert sig.hash_version == 2 and sig.record_hash == record_hash(InspectionPlan.objects.get(pk=plan.pk))
    assert states(plan) == [(VALID, True)]


def test_sql_multiplying_a_characteristic_limit_invalidates_the_approval(site, people):
    qe, qm = people
    plan = f.plan(site, f.part(), qe, qm)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inspection_characteristic SET upper_limit = upper_limit * 100, lower_limit = lower_limit * 100 "
            "WHERE plan_id = %s",
            [plan.pk],
        )
    assert states(plan) == [(CHANGED, False)]
    sig = Signature.objects.get(model="inspection.inspectionplan", object_id=str(plan.pk))
    assert not signature_is_valid(sig, InspectionPlan.objects.get(pk=plan.pk))
    html = render_to_string(
        "compliance/partials/_signatures.html",
        {"signatures": signatures_with_validity(InspectionPlan.objects.get(pk=plan.pk))},
    )
    assert "No longer valid" in html


def test_sql_adding_a_characteristic_invalidates_the_approval(site, people):
    qe, qm = people
    plan = f.plan(site, f.part(), qe, qm)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inspection_characteristic (plan_id, sequence, name, kind, nominal, lower_limit, upper_limit,"
            " unit, decimals, defect_class, special, method, is_lab_test)"
            " SELECT plan_id, sequence + 1, 'Smuggled', kind, nominal, lower_limit, upper_limit, unit, decimals,"
            " defect_class, special, method, is_lab_test FROM inspection_characteristic WHERE plan_id = %s",
            [plan.pk],
        )
    assert states(plan) == [(CHANGED, False)]


def test_approving_the_next_version_supersedes_without_invalidating(site, people):
    qe, qm = people
    plan_a = f.plan(site, f.part(), qe, qm)
    draft_b = services.plan_new_version(plan=plan_a, user=qe)
    services.plan_approve(plan=draft_b, user=qm, credential=f.cred(qm))
    plan_a.refresh_from_db()
    assert plan_a.status == PlanStatus.OBSOLETE
    assert states(plan_a) == [(SUPERSEDED, True)]
    assert states(draft_b) == [(VALID, True)]
    html = render_to_string("compliance/partials/_signatures.html", {"signatures": signatures_with_validity(plan_a)})
    assert "Superseded" in html and "No longer valid" not in html
    # An obsolete plan is still protected: changing its limits afterwards is still detected.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inspection_characteristic SET upper_limit = 99 WHERE plan_id = %s", [plan_a.pk])
    assert states(plan_a) == [(CHANGED, False)]


def test_signature_made_before_declarations_still_verifies(site, people):
    """Signatures with hash version 1 (all concrete fields) are checked the old way."""
    from compliance.signatures import _legacy_hash

    qe, qm = people
    plan = f.plan(site, f.part(), qe, qm)
    fresh = InspectionPlan.objects.get(pk=plan.pk)
    Signature.objects.create(
        signer=qm, printed_name="QM", meaning="reviewed", model="inspection.inspectionplan",
        object_id=str(plan.pk), object_repr=str(plan), record_hash=_legacy_hash(fresh), hash_version=1,
    )  # fmt: skip
    assert [ok for _s, ok in signatures_with_validity(fresh)] == [True, True]
