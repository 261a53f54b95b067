"""Pages: nav pages answer, trace page in both directions, CSV, labels, scan box, public page."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from qms.core.models import PartType, Role
from traceability import services
from traceability.models import LotStatus, PublicTraceProfile, Serial, Shipment

from .factories import customer, link, lot, part, supplier

PASSWORD = "test-Password-123"


@pytest.fixture
def graph(site, make_user):
    user = make_user("qm_v", roles=[Role.QUALITY_MANAGER])
    s = supplier(code="SUP-SECRET", country="NZ")
    raw = lot(site, "RAW-1", supplier=s, supplier_lot_code="SECRET-LOT-77", part_obj=part(part_type=PartType.RAW))
    fin = lot(site, "FIN-1", part_obj=part(number="FG-1", part_type=PartType.FINISHED, shelf_life_days=21))
    link(raw, fin, "12.5")
    c = customer("CUST-HIDDEN")
    Shipment.objects.create(lot=fin, customer=c, quantity=Decimal(5))
    return {"user": user, "raw": raw, "fin": fin}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["traceability:lots", "traceability:trace", "traceability:recalls", "traceability:work_orders"]
)
def test_top_pages_answer(login, graph, name):
    assert login(graph["user"]).get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_recalls_page_refused_without_the_right(login, make_user, graph):
    inspector = make_user("insp_v", roles=[Role.INSPECTOR])
    client = login(inspector)
    assert client.get(reverse("traceability:recalls")).status_code == 403
    assert client.get(reverse("traceability:trace")).status_code == 200


@pytest.mark.django_db
def test_trace_page_both_directions(login, graph):
    client = login(graph["user"])
    page = client.get(reverse("traceability:trace"), {"lot": "FIN-1"}).content.decode()
    assert "RAW-1" in page and "SECRET-LOT-77" in page and "<svg" in page and "CUST-HIDDEN" in page
    page = client.get(reverse("traceability:trace"), {"lot": "RAW-1"}).content.decode()
    assert "FIN-1" in page
    missing = client.get(reverse("traceability:trace"), {"lot": "NOPE"})
    assert missing.status_code == 200 and "NOPE" in missing.content.decode()
    csv_text = client.get(reverse("traceability:trace_csv", args=["FIN-1"])).content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("direction,depth,lot") and lines[1].startswith("backward,1,RAW-1,FIN-1,12.5")


@pytest.mark.django_db
def test_lot_page_label_and_scan(login, graph):
    client = login(graph["user"])
    assert client.get(reverse("traceability:lot", args=["FIN-1"])).status_code == 200
    label = client.get(reverse("traceability:label", args=["FIN-1"])).content.decode()
    assert label.count("<svg") >= 2 and "code128" in label and 'style="' not in label
    Serial.objects.create(lot=graph["fin"], serial="SN-0001")
    response = client.get(reverse("portal:scan"), {"q": "SN-0001"})
    assert response.status_code == 302 and response["Location"] == reverse("traceability:lot", args=["FIN-1"])


@pytest.mark.django_db
def test_lot_actions_hold_and_release(login, graph):
    client = login(graph["user"])
    q = lot(graph["fin"].site, "Q-1", status=LotStatus.QUARANTINE)
    client.post(reverse("traceability:lot_action", args=["Q-1", "hold"]), {"source": "manual", "reason": "check"})
    assert q.is_on_hold
    client.post(reverse("traceability:lot_action", args=["Q-1", "release"]), {"reason": "ok"})
    q.refresh_from_db()
    assert q.status == LotStatus.QUARANTINE  # refused while on hold


@pytest.mark.django_db
def test_public_page_shows_only_what_is_published(client, graph):
    fin = services.lot_public_enable(lot=graph["fin"], user=graph["user"])
    assert fin.public_token and str(fin.pk) != fin.public_token and len(fin.public_token) >= 24
    profile = PublicTraceProfile.objects.get(site=fin.site)
    profile.show_origin, profile.public_name = True, "Acme Dairy"
    profile.save(reason="test")
    cache.clear()
    page = client.get(reverse("traceability:public", args=[fin.public_token]))
    text = page.content.decode()
    assert page.status_code == 200 and "FIN-1" in text and "Acme Dairy" in text and "NZ" in text
    for secret in ("SUP-SECRET", "SECRET-LOT-77", "RAW-1", "CUST-HIDDEN", "qm_v", "Supplier SUP"):
        assert secret not in text
    assert client.get(reverse("traceability:public", args=["x" * 32])).status_code == 404


@pytest.mark.django_db
def test_public_page_rate_limited(client, graph):
    cache.clear()
    url = reverse("traceability:public", args=["y" * 32])
    codes = [client.get(url).status_code for _ in range(62)]
    assert codes[0] == 404 and codes[-1] == 429


@pytest.mark.django_db
def test_public_page_of_a_recalled_lot_says_do_not_consume(client, make_user, graph):
    from django.utils import translation

    from compliance.signatures import signature_authenticate

    fin = services.lot_public_enable(lot=graph["fin"], user=graph["user"])
    url = reverse("traceability:public", args=[fin.public_token])
    cache.clear()
    assert "do not consume" not in client.get(url).content.decode()
    starter = make_user("qe_rc", roles=[Role.QUALITY_ENGINEER])
    drill = services.recall_start(lot=graph["raw"], user=starter, reason="drill", is_mock=True)
    services.recall_approve(
        recall=drill, user=graph["user"], credential=signature_authenticate(user=graph["user"], password=PASSWORD)
    )
    recall = services.recall_start(lot=graph["raw"], user=starter, reason="Listeria in raw milk")
    text = client.get(url).content.decode()
    assert "do not consume" not in text  # neither a drill nor a draft recall reaches consumers
    services.recall_approve(
        recall=recall, user=graph["user"], credential=signature_authenticate(user=graph["user"], password=PASSWORD)
    )
    text = client.get(url).content.decode()
    assert "Recalled — do not consume" in text and recall.code in text
    assert "Released by quality assurance" not in text
    with translation.override("zh-hans"):
        text = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已召回——请勿食用" in text
