"""Lots through the API: receipt through the supplier gate, status and ship check, other site invisible."""

import pytest

from qms.core.models import Role
from suppliers.tests import factories as sf
from traceability.models import Lot, LotStatus
from traceability.services import lot_hold_place
from traceability.tests import factories as tf

from .factories import api_client

pytestmark = pytest.mark.django_db


def test_receipt_refused_by_the_supplier_gate_with_reasons(admin, site, make_user):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    part = tf.part()
    sup = sf.make_supplier(qm, site, code="SUP-NEW")  # not approved
    erp = api_client(admin, site, name="erp", roles=[Role.INSPECTOR])
    body = {"site": site.code, "part": part.number, "supplier": sup.code, "supplier_lot": "SL-9", "quantity": "10"}
    response = erp.post_json("/api/v1/lots/receipts/", body)
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["reasons"] and problem["detail"].startswith("This lot cannot be received")
    assert not Lot.objects.filter(supplier=sup).exists()


def test_receipt_hostile_input(admin, site):
    erp = api_client(admin, site, name="erp", roles=[Role.INSPECTOR])
    for body in (
        {},
        {"site": site.code, "part": "P", "supplier": "S", "supplier_lot": "x", "quantity": "-1"},
        {"site": "S2", "part": "P", "supplier": "S", "supplier_lot": "x", "quantity": "1e99"},
        ["not", "an", "object"],
    ):
        response = erp.post_json("/api/v1/lots/receipts/", body)
        assert response.status_code == 400, (body, response.content)
        assert response["Content-Type"] == "application/problem+json" and response.json()["errors"]
    assert Lot.objects.count() == 0


def test_lot_status_holds_and_ship_check(admin, site, make_user):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    lot = tf.lot(site, status=LotStatus.RELEASED)
    wms = api_client(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
    ok = wms.get(f"/api/v1/lots/{lot.code}/ship-check/").json()
    assert ok == {"lot": lot.code, "ok": True, "reasons": []}
    lot_hold_place(lot=lot, source="manual", reason="suspect burr", user=qm)
    refused = wms.get(f"/api/v1/lots/{lot.code}/ship-check/").json()
    assert refused["ok"] is False and "suspect burr" in refused["reasons"][0]
    detail = wms.get(f"/api/v1/lots/{lot.code}/").json()
    assert detail["status"] == "released" and detail["holds"][0]["reason"] == "suspect burr"
    assert detail["may_ship"]["ok"] is False
    ship = wms.post_json("/api/v1/shipments/", {"lot": lot.code, "customer": tf.customer().code, "quantity": "1"})
    assert ship.status_code == 422 and ship.json()["reasons"]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.ADMINISTRATOR])
def test_the_other_sites_lots_are_invisible_to_every_role(admin, site, other_site, role):
    lot = tf.lot(other_site)
    client = api_client(admin, site, name=f"sys-{role[:6]}", roles=[role])
    for path in ("", "ship-check/", "genealogy/", "trace/", "recall-scope/"):
        response = client.get(f"/api/v1/lots/{lot.code}/{path}")
        assert response.status_code in (403, 404), (path, response.status_code)
        body = response.json()
        body.pop("instance")  # the address asked for is echoed, nothing else of the other site
        assert lot.code not in str(body)
    listing = client.get("/api/v1/lots/").json()
    assert lot.code not in str(listing)


def test_trace_and_recall_scope(admin, site, make_user):
    parent = tf.lot(site)
    child = tf.lot(site)
    from qms.core.audit import audit_context
    from traceability.models import LotLink

    with audit_context(reason="test"):
        LotLink.objects.create(parent=parent, child=child, quantity=5)
    client = api_client(admin, site, name="mes", roles=[Role.QUALITY_ENGINEER])
    back = client.get(f"/api/v1/lots/{child.code}/trace/?direction=backward").json()
    assert [r["lot"] for r in back["lots"]] == [parent.code]
    fwd = client.get(f"/api/v1/lots/{parent.code}/trace/?direction=forward").json()
    assert [r["lot"] for r in fwd["lots"]] == [child.code]
    assert client.get(f"/api/v1/lots/{parent.code}/trace/?direction=up").status_code == 400
    scope = client.get(f"/api/v1/lots/{parent.code}/recall-scope/").json()
    assert scope["lot_count"] == 2
    gen = client.get(f"/api/v1/lots/{child.code}/genealogy/").json()
    assert gen["consumed"][0]["lot"] == parent.code
