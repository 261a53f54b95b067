"""Browser forms on the work-order and lot pages: production record (5M1E), consumed lots, serials."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind, Role
from traceability import services
from traceability.models import LotLink, ProductionRecord, Serial

from .factories import lot, part


@pytest.fixture
def supervisor(make_user):
    return make_user("sup_f", roles=[Role.PRODUCTION_SUPERVISOR])


@pytest.fixture
def running(site, supervisor):
    with audit_context(reason="test"):
        line = Equipment.objects.create(code="LINE-F1", name="Line F1", kind=EquipmentKind.LINE, site=site)
    wo = services.work_order_create(site=site, part=part(), line=line, operations=["Mould"], user=supervisor)
    wo = services.work_order_advance(work_order=wo, step="run", user=supervisor)
    out = services.lot_produce(work_order=wo, quantity=10, code="OUT-F1", user=supervisor)
    return {"wo": wo, "out": out, "line": line}


def _url(wo):
    return reverse("traceability:work_order", args=[wo.code])


@pytest.mark.django_db
def test_production_record_posted_with_5m1e_and_parameters(login, supervisor, running):
    wo = running["wo"]
    op = wo.operations.get()
    response = login(supervisor).post(
        _url(wo),
        {
            "action": "record",
            "operation": op.pk,
            "shift": "B",
            "operators": [supervisor.pk],
            "equipment": running["line"].pk,
            "started_at": "2025-03-04T06:00",
            "ended_at": "2025-03-04T14:00",
            "parameters": "Melt temperature; 231.5; °C; 220; 240\nPressure; 95; bar; 60; 90",
            "notes": "ok",
        },
        follow=True,
    )
    rec = ProductionRecord.objects.get(work_order=wo)
    assert (rec.operation, rec.shift, rec.equipment) == (op, "B", running["line"])
    assert list(rec.operators.all()) == [supervisor]
    params = {p.name: p for p in rec.parameters.all()}
    assert params["Melt temperature"].value == Decimal("231.5") and params["Melt temperature"].in_limits
    assert params["Pressure"].upper_limit == Decimal(90) and not params["Pressure"].in_limits
    assert "Melt temperature" in response.content.decode() and "pill-bad" in response.content.decode()


@pytest.mark.django_db
def test_production_record_refused_shows_the_reason(login, supervisor, running):
    wo = running["wo"]
    client = login(supervisor)
    response = client.post(
        _url(wo), {"action": "record", "started_at": "2025-03-04T14:00", "ended_at": "2025-03-04T06:00"}
    )
    assert response.status_code == 200 and "The end is before the start." in response.content.decode()
    response = client.post(_url(wo), {"action": "record", "started_at": "2025-03-04T06:00", "parameters": "Temp; hot"})
    assert "Line 1: The Temp “hot” is not a number." in response.content.decode()
    assert not ProductionRecord.objects.filter(work_order=wo).exists()


@pytest.mark.django_db
def test_consume_records_a_link_and_refusal_shows_reasons(site, login, supervisor, running):
    wo, out = running["wo"], running["out"]
    raw = lot(site, "RAW-F1", quantity="50")
    client = login(supervisor)
    response = client.post(
        _url(wo), {"action": "consume", "lot_code": "RAW-F1", "quantity": "12", "into": out.pk}, follow=True
    )
    link = LotLink.objects.get(parent=raw, child=out)
    assert link.quantity == Decimal(12) and link.work_order == wo
    assert "RAW-F1" in response.content.decode()

    services.lot_hold_place(lot=raw, source="ncr", reference="NCR-R1", reason="suspect resin", user=supervisor)
    response = client.post(_url(wo), {"action": "consume", "lot_code": "RAW-F1", "quantity": "1", "into": out.pk})
    text = response.content.decode()
    assert response.status_code == 200 and "This lot cannot be consumed:" in text and "suspect resin" in text
    assert 'role="alert"' in text
    response = client.post(_url(wo), {"action": "consume", "lot_code": "NOPE-9", "quantity": "1", "into": out.pk})
    assert "NOPE-9" in response.content.decode()
    assert LotLink.objects.filter(child=out).count() == 1


@pytest.mark.django_db
def test_serials_added_on_the_lot_page_and_duplicates_refused(site, login, supervisor):
    fin = lot(site, "FIN-F1")
    url = reverse("traceability:lot", args=["FIN-F1"])
    client = login(supervisor)
    assert 'name="serials"' in client.get(url).content.decode()
    response = client.post(url, {"serials": "SN-F-1\n\n  SN-F-2  \n"}, follow=True)
    assert sorted(fin.serials.values_list("serial", flat=True)) == ["SN-F-1", "SN-F-2"]
    assert "SN-F-2" in response.content.decode()
    response = client.post(url, {"serials": "SN-F-3\nSN-F-1"})
    assert response.status_code == 200 and "Serial numbers already used: SN-F-1." in response.content.decode()
    assert not Serial.objects.filter(serial="SN-F-3").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.AUDITOR])
def test_forms_refused_without_lots_produce(site, login, make_user, running, role):
    wo, out = running["wo"], running["out"]
    lot(site, "RAW-F2")
    client = login(make_user(f"ro_{role}", roles=[role]))
    page = client.get(_url(wo)).content.decode()
    assert 'value="record"' not in page and 'value="consume"' not in page
    assert client.post(_url(wo), {"action": "record", "started_at": "2025-03-04T06:00"}).status_code == 403
    data = {"action": "consume", "lot_code": "RAW-F2", "quantity": "1", "into": out.pk}
    assert client.post(_url(wo), data).status_code == 403
    lot_url = reverse("traceability:lot", args=[out.code])
    assert 'name="serials"' not in client.get(lot_url).content.decode()
    assert client.post(lot_url, {"serials": "SN-X"}).status_code == 403
    assert not ProductionRecord.objects.exists() and not LotLink.objects.exists() and not Serial.objects.exists()


@pytest.mark.django_db
def test_supervisor_of_another_site_refused(login, make_user, other_site, running):
    client = login(make_user("sup_other", roles=[Role.PRODUCTION_SUPERVISOR], sites=[other_site]))
    response = client.post(_url(running["wo"]), {"action": "record", "started_at": "2025-03-04T06:00"})
    assert response.status_code == 404  # another site's work order is outside the site scope


@pytest.mark.django_db
def test_work_order_page_queries_constant(login, supervisor, running):
    wo = running["wo"]
    client = login(supervisor)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(_url(wo)).status_code == 200
        return len(ctx.captured_queries)

    params = [{"name": "T", "value": 1, "lower_limit": 0, "upper_limit": 2}]
    services.production_record_create(
        work_order=wo, user=supervisor, started_at=timezone.now(), operators=[supervisor], parameters=params
    )
    first = count()
    for _i in range(3):
        services.production_record_create(
            work_order=wo, user=supervisor, started_at=timezone.now(), operators=[supervisor], parameters=params
        )
        services.lot_produce(work_order=wo, quantity=1, user=supervisor)
    assert count() == first
