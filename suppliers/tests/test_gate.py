"""The receipt gate: nothing from an unapproved or suspended source enters stock."""

import datetime

import pytest
from django.utils import timezone

from suppliers import services
from suppliers.models import AslStatus
from suppliers.tests.factories import approved_supplier, cred, make_part, make_supplier, qualify


@pytest.mark.django_db
def test_approved_source_may_supply(site, sqe):
    part = make_part()
    supplier = approved_supplier(sqe, site, part=part)
    verdict = services.supplier_can_supply(supplier=supplier, part=part)
    assert verdict.ok and verdict.reasons == []


@pytest.mark.django_db
def test_receipt_refused_from_unapproved_source(site, sqe):
    part = make_part()
    supplier = qualify(make_supplier(sqe, site), sqe)
    verdict = services.supplier_can_supply(supplier=supplier, part=part)
    assert not verdict.ok
    assert any("prospective" in r for r in verdict.reasons)
    assert any("not on the approved supplier list" in r for r in verdict.reasons)
    assert not services.supplier_can_supply(supplier=None, part=part).ok


@pytest.mark.django_db
def test_receipt_refused_from_suspended_or_disqualified_supplier(site, sqe):
    part = make_part()
    supplier = approved_supplier(sqe, site, part=part)
    services.supplier_suspend(supplier=supplier, user=sqe, credential=cred(sqe), reason="cracks")
    verdict = services.supplier_can_supply(supplier=supplier, part=part)
    assert not verdict.ok and "suspended" in verdict.reasons[0]
    services.supplier_disqualify(supplier=supplier, user=sqe, credential=cred(sqe), reason="fraud")
    verdict = services.supplier_can_supply(supplier=supplier, part=part)
    assert not verdict.ok and "disqualified" in verdict.reasons[0]


@pytest.mark.django_db
def test_receipt_refused_for_pending_blocked_or_expired_conditional_part(site, sqe):
    part = make_part()
    supplier = approved_supplier(sqe, site)
    entry = services.asl_entry_create(supplier=supplier, part=part, user=sqe)
    assert "awaiting qualification" in services.supplier_can_supply(supplier=supplier, part=part).reasons[0]
    with pytest.raises(Exception, match="evidence"):
        services.asl_approve(entry=entry, user=sqe, credential=cred(sqe), reason="ok")
    until = timezone.localdate() + datetime.timedelta(days=10)
    entry = services.asl_approve_conditionally(
        entry=entry, user=sqe, credential=cred(sqe), reason="interim", until=until, evidence="FA-1"
    )
    assert entry.status == AslStatus.CONDITIONAL
    assert services.supplier_can_supply(supplier=supplier, part=part).ok
    later = services.supplier_can_supply(supplier=supplier, part=part, on=until + datetime.timedelta(days=1))
    assert not later.ok and "ended on" in later.reasons[0]
    services.asl_block(entry=entry, user=sqe, credential=cred(sqe), reason="quality")
    assert "blocked" in services.supplier_can_supply(supplier=supplier, part=part).reasons[0]
