"""Inspections, NCR/complaint create, NCR/CAPA status, master data upserts and suppliers through the API."""

import datetime

import pytest
from django.utils import timezone

from nonconformance.models import Ncr
from qms.core.models import Equipment, Part, Role
from traceability.models import LotHold
from traceability.tests import factories as tf

from .factories import api_client

pytestmark = pytest.mark.django_db


def test_mes_opens_an_ncr_and_the_lot_is_held(admin, site):
    part = tf.part()
    lot = tf.lot(site, part_obj=part)
    mes = api_client(admin, site, name="mes", roles=[Role.INSPECTOR])
    body = {
        "site": site.code,
        "part": part.number,
        "title": "Burr on raceway",
        "source_reference": "MES-DEF-77",
        "lots": [{"lot": lot.code, "quantity": "20"}],
    }
    response = mes.post_json("/api/v1/ncrs/", body)
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    assert LotHold.objects.filter(lot=lot, lifted_at__isnull=True).exists()
    status = mes.get(f"/api/v1/ncrs/{code}/").json()
    assert status["status"] == Ncr.objects.get(code=code).status


def test_ncr_hostile_and_unknown(admin, site, other_site):
    part = tf.part()
    away_lot = tf.lot(other_site, part_obj=part)
    mes = api_client(admin, site, name="mes", roles=[Role.INSPECTOR])
    response = mes.post_json(
        "/api/v1/ncrs/",
        {"site": site.code, "part": part.number, "title": "x", "lots": [{"lot": away_lot.code, "quantity": "1"}]},
    )
    assert response.status_code == 400 and response.json()["errors"][0]["pointer"] == "#/lots/0/lot"
    assert (
        mes.post_json("/api/v1/ncrs/", {"site": other_site.code, "part": part.number, "title": "x"}).status_code == 400
    )
    auditor = api_client(admin, site, name="aud", roles=[Role.AUDITOR])
    assert auditor.post_json("/api/v1/ncrs/", {"site": site.code, "part": part.number, "title": "x"}).status_code == 403
    assert not Ncr.objects.exists()


def test_crm_records_a_complaint(admin, site):
    part = tf.part()
    customer = tf.customer()
    crm = api_client(admin, site, name="crm", roles=[Role.QUALITY_ENGINEER])
    due = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    body = {
        "site": site.code,
        "customer": customer.code,
        "part": part.number,
        "title": "Noise",
        "description": "Bearing noisy at 3000 rpm",
        "response_due_on": due,
    }
    response = crm.post_json("/api/v1/complaints/", body)
    assert response.status_code == 201, response.content
    early = {**body, "response_due_on": "2000-01-01"}
    refused = crm.post_json("/api/v1/complaints/", early)
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"


def test_master_data_upsert_all_or_nothing(admin, site, make_user):
    erp = api_client(admin, site, name="erp", roles=[Role.QUALITY_MANAGER])
    items = [
        {"number": "API-P1", "name": "Ring", "type": "component", "unit": "pcs"},
        {"number": "API-P2", "name": "Ball", "type": "component", "unit": "pcs", "shelf_life_days": 30},
    ]
    response = erp.post_json("/api/v1/parts/", {"items": items})
    assert response.status_code == 200, response.content
    assert response.json()["written"] == 2
    bad = [{"number": "API-P3", "name": "Cage", "type": "component", "unit": "pcs"}, {"number": "", "name": "x"}]
    refused = erp.post_json("/api/v1/parts/", {"items": bad})
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "#/items/1"
    assert not Part.objects.filter(number="API-P3").exists()
    gauges = [
        {"code": "API-G1", "name": "Bore gauge", "kind": "gauge", "site": site.code, "calibration_due": "2027-01-31"}
    ]
    response = erp.post_json("/api/v1/equipment/", {"items": gauges})
    assert response.status_code == 200, response.content
    assert Equipment.objects.get(code="API-G1").calibration_due == datetime.date(2027, 1, 31)
    inspector = api_client(admin, site, name="mes", roles=[Role.INSPECTOR])
    assert inspector.post_json("/api/v1/parts/", {"items": items}).status_code == 403


def test_inspections_and_suppliers_read(admin, site, make_user):
    from suppliers.tests import factories as sf

    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    sup = sf.make_supplier(qm, site, code="SUP-R")
    mes = api_client(admin, site, name="mes", roles=[Role.INSPECTOR])
    assert mes.get("/api/v1/inspections/?open=true").status_code == 200
    data = mes.get("/api/v1/suppliers/").json()
    assert [s["code"] for s in data["results"]] == [sup.code]
    assert mes.get(f"/api/v1/suppliers/{sup.code}/").json()["status"] == sup.status
