"""Recall: scope from the forward trace, holds at once, frozen at e-signed approval, notifications,
recovery and effectiveness."""

from decimal import Decimal

import pytest
from django.core import mail

from compliance.signatures import signature_authenticate
from qms.core.errors import DomainError
from qms.core.models import Role
from traceability import services
from traceability.models import HoldSource, LotStatus, RecallStatus, Shipment

from .factories import customer, link, lot


@pytest.fixture
def plant(site):
    raw = lot(site, "R-1", status=LotStatus.CONSUMED)
    mid = lot(site, "M-1", status=LotStatus.RELEASED)
    fin_shipped = lot(site, "F-1", status=LotStatus.SHIPPED)
    fin_stock = lot(site, "F-2", status=LotStatus.RELEASED)
    other = lot(site, "F-X", status=LotStatus.RELEASED)
    link(raw, mid)
    link(mid, fin_shipped)
    link(mid, fin_stock)
    de, cn = customer("CUST-DE", "en"), customer("CUST-CN", "zh-hans")
    Shipment.objects.create(lot=fin_shipped, customer=de, quantity=Decimal(300))
    Shipment.objects.create(lot=fin_shipped, customer=cn, quantity=Decimal(200))
    return {"raw": raw, "mid": mid, "shipped": fin_shipped, "stock": fin_stock, "other": other, "de": de, "cn": cn}


def credential(user, password="test-Password-123"):
    return signature_authenticate(user=user, password=password)


@pytest.mark.django_db
def test_recall_lifecycle(site, make_user, plant):
    author = make_user("qm_a", roles=[Role.QUALITY_MANAGER])
    approver = make_user("qm_b", roles=[Role.QUALITY_MANAGER])
    recall = services.recall_start(lot=plant["raw"], user=author, reason="Contaminated ingredient")
    scope = {rl.lot.code: rl for rl in recall.scope_lots.select_related("lot")}
    assert set(scope) == {"R-1", "M-1", "F-1", "F-2"}
    assert scope["R-1"].depth == 0 and scope["F-1"].depth == 2
    # in-stock lots are on hold at once, with the recall as reference; shipped and other lots are not
    for code in ("M-1", "F-2"):
        holds = scope[code].lot.active_holds()
        assert [(h.source, h.reference) for h in holds] == [(HoldSource.RECALL, recall.code)]
    assert not plant["shipped"].is_on_hold and not plant["other"].is_on_hold
    assert not services.lot_can_ship(lot=plant["stock"]).ok
    per = {rc.customer.code: rc.quantity_shipped for rc in recall.customers.select_related("customer")}
    assert per == {"CUST-DE": Decimal(300), "CUST-CN": Decimal(200)}
    assert recall.scope_computed_at is not None

    # segregation of duties: the author cannot approve
    with pytest.raises(DomainError):
        services.recall_approve(recall=recall, user=author, credential=credential(author))
    recall = services.recall_approve(recall=recall, user=approver, credential=credential(approver), reason="go")
    assert recall.status == RecallStatus.APPROVED
    from compliance.signatures import signatures_with_validity

    assert [(s.meaning, ok) for s, ok in signatures_with_validity(recall)] == [("approved", True)]
    # frozen: new shipments after approval do not change the scope
    Shipment.objects.create(lot=plant["stock"], customer=plant["de"], quantity=Decimal(1))
    with pytest.raises(DomainError, match="frozen"):
        services.recall_refresh_scope(recall=recall, user=author)

    services.recall_notify(recall=recall, user=author)
    sent = services.recall_notifications_send(recall_id=recall.pk)
    assert sent == 2
    assert services.recall_notifications_send(recall_id=recall.pk) == 0  # idempotent
    recall.refresh_from_db()
    assert recall.status == RecallStatus.IN_PROGRESS and recall.notified_at
    assert sorted(m.to[0] for m in mail.outbox) == ["cust-cn@example.com", "cust-de@example.com"]
    assert all(m.attachments and m.attachments[0][2] == "application/pdf" for m in mail.outbox)
    assert any("召回" in m.subject for m in mail.outbox)  # the Chinese customer gets Chinese

    de = recall.customers.get(customer=plant["de"])
    with pytest.raises(DomainError):
        services.recall_record_recovery(recall_customer=de, quantity=301, user=author)
    services.recall_record_recovery(recall_customer=de, quantity=300, user=author)
    cn = recall.customers.get(customer=plant["cn"])
    services.recall_record_recovery(recall_customer=cn, quantity=100, user=author)
    effect = services.recall_effectiveness(recall)
    assert effect["percent"] == 80.0 and effect["seconds_to_scope"] is not None
    services.recall_close(recall=recall, user=author, reason="effectiveness 80 %")
    recall.refresh_from_db()
    assert recall.status == RecallStatus.CLOSED


@pytest.mark.django_db
def test_mock_recall_from_supplier_lot(site, make_user):
    user = make_user("qm_c", roles=[Role.QUALITY_MANAGER])
    from .factories import supplier

    s = supplier()
    a = lot(site, "SA", supplier=s, supplier_lot_code="BATCH-9")
    lot(site, "SB", supplier=s, supplier_lot_code="BATCH-9")
    c = lot(site, "SC", supplier=s, supplier_lot_code="BATCH-10")
    child = lot(site, "CH")
    link(a, child)
    recall = services.recall_start_for_supplier_lot(
        supplier=s, supplier_lot_code="BATCH-9", user=user, reason="drill", is_mock=True
    )
    assert recall.is_mock and recall.code.startswith("MR-")
    assert {rl.lot.code for rl in recall.scope_lots.select_related("lot")} == {"SA", "SB", "CH"}
    assert not c.is_on_hold


@pytest.mark.django_db
def test_recall_needs_the_right(site, make_user, plant):
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    with pytest.raises(DomainError):
        services.recall_start(lot=plant["raw"], user=inspector, reason="x")
