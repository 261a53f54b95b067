"""MES on a work order: operations start and finish through the gates, production records with 5M1E,
consumption refused with reasons."""

import pytest

from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind, Role
from traceability import services
from traceability.models import LotStatus, ProductionRecord
from traceability.tests import factories as tf

from .factories import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(site, make_user):
    supervisor = make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR])
    with audit_context(reason="test"):
        line = Equipment.objects.create(code="LINE-A1", name="Line A1", kind=EquipmentKind.LINE, site=site)
    wo = services.work_order_create(site=site, part=tf.part(), line=line, operations=["Mould", "Trim"], user=supervisor)
    return services.work_order_advance(work_order=wo, step="run", user=supervisor)


def test_operations_follow_their_order_with_reasons(admin, site, running):
    mes = api_client(admin, site, name="mes", roles=[Role.PRODUCTION_SUPERVISOR])
    base = f"/api/v1/work-orders/{running.code}/operations"
    refused = mes.post(f"{base}/20/start/")
    assert refused.status_code == 422 and any("not done" in r for r in refused.json()["reasons"])
    assert mes.post(f"{base}/10/start/").json()["status"] == "running"
    assert mes.post(f"{base}/10/finish/").json()["status"] == "done"
    assert mes.post(f"{base}/10/finish/").status_code == 422
    assert mes.post(f"{base}/99/start/").status_code == 404
    wo = mes.get(f"/api/v1/work-orders/{running.code}/").json()
    assert [o["status"] for o in wo["operations"]] == ["done", "pending"]


def test_production_record_with_parameters(admin, site, running):
    mes = api_client(admin, site, name="mes", roles=[Role.PRODUCTION_SUPERVISOR])
    body = {
        "started_at": "2026-11-29T08:00:00+08:00",
        "operation": 10,
        "shift": "A",
        "equipment": "LINE-A1",
        "parameters": [
            {"name": "weld temperature", "value": "412.5", "unit": "C", "lower_limit": "400", "upper_limit": "430"}
        ],
    }
    response = mes.post_json(f"/api/v1/work-orders/{running.code}/production-records/", body)
    assert response.status_code == 201, response.content
    assert ProductionRecord.objects.get(work_order=running).parameters.count() == 1
    bad = {**body, "ended_at": "2026-11-29T07:00:00+08:00"}
    assert mes.post_json(f"/api/v1/work-orders/{running.code}/production-records/", bad).status_code == 422
    reader = api_client(admin, site, name="reader", roles=[Role.INSPECTOR])
    assert reader.post_json(f"/api/v1/work-orders/{running.code}/production-records/", body).status_code == 403


def test_consumption_refused_for_a_lot_on_quarantine(admin, site, running):
    mes = api_client(admin, site, name="mes", roles=[Role.PRODUCTION_SUPERVISOR])
    raw = tf.lot(site, status=LotStatus.QUARANTINE)
    out = services.lot_produce(work_order=running, quantity="10", user=mes.account.user)
    check = mes.get(f"/api/v1/lots/{raw.code}/consume-check/?into={out.code}&quantity=5").json()
    assert check["ok"] is False and check["reasons"]
    response = mes.post_json("/api/v1/consumptions/", {"lot": raw.code, "into": out.code, "quantity": "5"})
    assert response.status_code == 422 and response.json()["reasons"] == check["reasons"]
