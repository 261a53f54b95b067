"""The recall approval covers the recall and its frozen scope, not the notification bookkeeping."""

from decimal import Decimal

import pytest
from django.db import connection

from compliance.signatures import CHANGED, VALID, signatures_with_validity
from qms.core.models import Role
from traceability import services
from traceability.models import LotStatus, Recall, Shipment

from .factories import customer, link, lot
from .test_recall import credential

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_recall(site, make_user):
    raw = lot(site, "R-1", status=LotStatus.CONSUMED)
    shipped = lot(site, "F-1", status=LotStatus.SHIPPED)
    link(raw, shipped)
    de = customer("CUST-DE", "en")
    Shipment.objects.create(lot=shipped, customer=de, quantity=Decimal(300))
    author = make_user("qm_a", roles=[Role.QUALITY_MANAGER])
    approver = make_user("qm_b", roles=[Role.QUALITY_MANAGER])
    recall = services.recall_start(lot=raw, user=author, reason="Contaminated ingredient")
    recall = services.recall_approve(recall=recall, user=approver, credential=credential(approver), reason="go")
    return recall, author


def states(recall):
    return [(s.state, ok) for s, ok in signatures_with_validity(Recall.objects.get(pk=recall.pk))]


def test_notifying_and_recovering_keep_the_approval_valid(approved_recall):
    recall, author = approved_recall
    services.recall_notify(recall=recall, user=author)
    services.recall_notifications_send(recall_id=recall.pk)
    rc = recall.customers.get()
    services.recall_record_recovery(recall_customer=rc, quantity=300, user=author)
    recall.refresh_from_db()
    assert recall.notified_at is not None
    assert states(recall) == [(VALID, True)]


def test_changing_the_frozen_scope_invalidates_the_approval(approved_recall):
    recall, _author = approved_recall
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE traceability_recallcustomer SET quantity_shipped = quantity_shipped / 10 WHERE recall_id = %s",
            [recall.pk],
        )
    assert states(recall) == [(CHANGED, False)]


def test_changing_a_scope_lot_invalidates_the_approval(approved_recall):
    recall, _author = approved_recall
    with connection.cursor() as cursor:
        cursor.execute("UPDATE traceability_recalllot SET depth = depth + 5 WHERE recall_id = %s", [recall.pk])
    assert states(recall) == [(CHANGED, False)]
