"""Bulk measurements: judged at once, recorded once per Idempotency-Key, hostile items refused whole."""

import uuid

import pytest

from api.models import IdempotentCall
from inspection import services as insp_services
from inspection.models import Measurement, Stage
from inspection.tests import factories as f
from qms.core.models import Role

from .factories import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_inspection(site, make_user):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    p = f.part("RG-API")
    plan = f.plan(
        site,
        p,
        qe,
        qm,
        stage=Stage.FQC,
        chars=[
            {"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 3},
            {"name": "Width", "nominal": "5", "tolerance": "0.05", "unit": "mm", "decimals": 3},
        ],
    )
    lot = f.lot(site, p, qty=200)
    return insp_services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=qe, sample_size=20)


def _values(insp, n=5, bad=()):
    seqs = list(insp.plan.characteristics.order_by("sequence").values_list("sequence", flat=True))
    out = []
    for sample in range(1, n + 1):
        for s in seqs:
            out.append(
                {
                    "inspection": insp.code,
                    "characteristic": s,
                    "sample_no": sample,
                    "value": "10.5" if sample in bad and s == seqs[0] else ("10.001" if s == seqs[0] else "5.01"),
                }
            )
    return out


def test_push_judges_and_records_once(admin, site, open_inspection):
    client = api_client(admin, site, name="cmm", roles=[Role.INSPECTOR])
    key = str(uuid.uuid4())
    body = {"values": _values(open_inspection, n=5, bad={2})}
    response = client.post_json("/api/v1/measurements/", body, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["recorded"] == 10
    assert [v["sample_no"] for v in data["out_of_limits"]] == [2]
    assert data["line_stop_requested"] is False
    assert Measurement.objects.filter(inspection=open_inspection).count() == 10
    # The same call again: nothing recorded twice, the first answer.
    again = client.post_json("/api/v1/measurements/", body, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == data
    assert Measurement.objects.filter(inspection=open_inspection).count() == 10
    # The same key with another body is refused.
    other = client.post_json(
        "/api/v1/measurements/", {"values": _values(open_inspection, n=1)}, HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 409 and other["Content-Type"] == "application/problem+json"


def test_a_bad_item_refuses_the_whole_call_and_names_it(admin, site, open_inspection):
    client = api_client(admin, site, name="cmm", roles=[Role.INSPECTOR])
    values = _values(open_inspection, n=3)
    values[3]["value"] = "12,3.4'; DROP TABLE"
    values[4]["sample_no"] = 999
    values.append({"inspection": "NOPE-1", "characteristic": 10, "sample_no": 1, "value": "1"})
    response = client.post_json("/api/v1/measurements/", {"values": values}, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 422, response.content
    body = response.json()
    pointers = {e["pointer"] for e in body["errors"]}
    assert pointers == {"#/values/3/value", "#/values/4/sample_no", "#/values/6/inspection"}
    assert Measurement.objects.filter(inspection=open_inspection).count() == 0
    assert not IdempotentCall.objects.exists()  # a refused call leaves its key free for the corrected call


def test_form_errors_and_limits(admin, site, open_inspection):
    client = api_client(admin, site, name="cmm", roles=[Role.INSPECTOR])
    assert client.post_json("/api/v1/measurements/", {"values": []}, HTTP_IDEMPOTENCY_KEY="k1").status_code == 400
    too_many = {"values": [{"inspection": "X", "characteristic": 1, "sample_no": 1, "value": "1"}] * 1001}
    assert client.post_json("/api/v1/measurements/", too_many, HTTP_IDEMPOTENCY_KEY="k2").status_code == 400
    no_key = client.post_json("/api/v1/measurements/", {"values": _values(open_inspection, n=1)})
    assert no_key.status_code == 422 and "Idempotency-Key" in no_key.json()["detail"]
    assert client.post("/api/v1/measurements/", data="not json", content_type="application/json").status_code == 400


def test_the_other_site_and_a_reader_cannot_push(admin, site, other_site, open_inspection):
    away = api_client(admin, site, name="mes-away", roles=[Role.INSPECTOR], sites=[other_site])
    response = away.post_json(
        "/api/v1/measurements/", {"values": _values(open_inspection, n=1)}, HTTP_IDEMPOTENCY_KEY="a"
    )
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#/values/0/inspection"
    reader = api_client(admin, site, name="reader", roles=[Role.AUDITOR])
    response = reader.post_json(
        "/api/v1/measurements/", {"values": _values(open_inspection, n=1)}, HTTP_IDEMPOTENCY_KEY="b"
    )
    assert response.status_code == 403
    assert Measurement.objects.count() == 0
