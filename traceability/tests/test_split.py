"""Splitting a lot: quantities move, genealogy link, holds copied, refusals."""

from decimal import Decimal

import pytest

from compliance.models import AuditEntry
from qms.core.errors import DomainError
from qms.core.models import Role
from traceability import selectors, services
from traceability.models import HoldSource, LinkKind, Lot, LotLink, LotStatus

from .factories import lot, part, supplier


@pytest.fixture
def qe(make_user):
    return make_user("qe", roles=[Role.QUALITY_ENGINEER])


@pytest.mark.django_db
def test_split_moves_the_quantity_into_a_child_lot_linked_in_the_genealogy(site, qe):
    sup = supplier()
    parent = lot(site, "L-100", quantity="1000", status=LotStatus.QUARANTINE, supplier=sup, supplier_lot_code="SUP-7")
    child = services.lot_split(lot=parent, quantity="200", user=qe, reason="concession NCR-1")
    parent.refresh_from_db()
    assert child.code == "L-100-S1"
    assert (parent.quantity, child.quantity) == (Decimal("800"), Decimal("200"))
    for field in ("part_id", "site_id", "supplier_id", "supplier_lot_code", "unit", "received_on", "expires_on"):
        assert getattr(child, field) == getattr(parent, field), field
    assert child.status == LotStatus.QUARANTINE
    link = LotLink.objects.get(parent=parent, child=child)
    assert (link.kind, link.quantity) == (LinkKind.SPLIT, Decimal("200"))
    # the split is not consumption: what remains of the parent is its (reduced) quantity
    assert selectors.lot_remaining(parent) == Decimal("800")
    assert selectors.lot_remaining(child) == Decimal("200")
    # trace both ways goes through the split
    assert child.pk in {r["lot_id"] for r in selectors.trace_forward(parent)}
    assert parent.pk in {r["lot_id"] for r in selectors.trace_backward(child)}
    assert selectors.split_origin(child) == parent and selectors.split_origin(parent) is None
    # a second split numbers on
    assert services.lot_split(lot=parent, quantity=1, user=qe, reason="sample").code == "L-100-S2"
    # the audit trail tells why on both lots
    reasons = set(
        AuditEntry.objects.filter(action="split", object_id__in=[str(parent.pk), str(child.pk)]).values_list(
            "reason", flat=True
        )
    )
    assert reasons == {"concession NCR-1", "sample"}
    assert AuditEntry.objects.get(action="split", object_id=str(child.pk)).reason == "concession NCR-1"


@pytest.mark.django_db
def test_split_copies_every_active_hold_so_nothing_escapes(site, qe):
    parent = lot(site, quantity="50", status=LotStatus.QUARANTINE)
    ncr_hold = services.lot_hold_place(lot=parent, source=HoldSource.NCR, reference="NCR-9", reason="bore", user=qe)
    lifted = services.lot_hold_place(lot=parent, source=HoldSource.MANUAL, reference="M", reason="check", user=qe)
    services.lot_hold_lift(hold=lifted, reason="checked", user=qe)
    child = services.lot_split(lot=parent, quantity=10, user=qe, reason="split for rework")
    holds = child.active_holds()
    assert [(h.source, h.reference, h.reason) for h in holds] == [("ncr", "NCR-9", "bore")]
    assert parent.is_on_hold and ncr_hold.lifted_at is None
    assert "on hold" in " ".join(services.lot_release_reasons(child))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("quantity", "message"),
    [(0, "greater than zero"), (-5, "greater than zero"), (100, "less than the 100"), (150, "less than the 100")],
)
def test_split_refuses_nothing_or_the_whole_lot(site, qe, quantity, message):
    parent = lot(site, quantity="100")
    with pytest.raises(DomainError, match=message):
        services.lot_split(lot=parent, quantity=quantity, user=qe, reason="x")
    parent.refresh_from_db()
    assert parent.quantity == Decimal("100")
    assert not Lot.objects.filter(code__startswith=f"{parent.code}-S").exists()


@pytest.mark.django_db
def test_split_refuses_more_than_remains_a_consumed_or_shipped_lot_and_no_reason(site, qe):
    parent = lot(site, quantity="100")
    into = lot(site, part_obj=part(), status=LotStatus.QUARANTINE)
    services.link_create(parent=parent, child=into, quantity=70, user=qe)
    with pytest.raises(DomainError, match="less than the 30"):
        services.lot_split(lot=parent, quantity=40, user=qe, reason="x")
    with pytest.raises(DomainError, match="reason"):
        services.lot_split(lot=parent, quantity=1, user=qe, reason="")
    shipped = lot(site, quantity="10", status=LotStatus.SHIPPED)
    with pytest.raises(DomainError, match="only a lot in stock"):
        services.lot_split(lot=shipped, quantity=1, user=qe, reason="x")
