import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance.pdf import render_report_pdf
from nonconformance import services
from qms.core.audit import audit_context
from qms.core.models import Notification

from . import factories as f

pytestmark = pytest.mark.django_db


def _traced_complaint(site, people):
    """A finished lot made from a supplier lot, with a production record, and a complaint on it."""
    from traceability.models import ProcessParameter, ProductionRecord, WorkOrder

    sup = f.supplier(site, code="SUP-STEEL")
    raw = f.lot(site, f.part("ST-1"), supplier=sup, supplier_lot_code="H-998", code="RAW-1", status="released")
    fg_part = f.part("FG-1")
    with audit_context(reason="test"):
        wo = WorkOrder.objects.create(code="WO-1", site=site, part=fg_part)
        rec = ProductionRecord.objects.create(work_order=wo, shift="night", started_at=timezone.now())
        rec.operators.add(people["prod"])
        ProcessParameter.objects.create(record=rec, name="Furnace temp", value=845, unit="C")
    fg = f.lot(site, fg_part, code="FG-LOT-1", work_order=wo, status="released")
    f.link(raw, fg, 5)
    old_ncr = f.open_ncr(site, people["qe"], lots=[raw], the_supplier=sup)
    complaint = services.complaint_create(
        site=site, customer=f.customer(), part=fg_part, lot=fg, title="Noise", description="Bearing noisy",
        response_due_on=timezone.localdate() + datetime.timedelta(days=3), user=people["qm"],
    )  # fmt: skip
    return complaint, old_ncr


def test_complaint_page_shows_the_root_cause_trace(site, people, login):
    complaint, old_ncr = _traced_complaint(site, people)
    response = login(people["qe"]).get(reverse("nonconformance:complaint_detail", args=[complaint.code]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("FG-LOT-1", "RAW-1", "H-998", "SUP-STEEL", "WO-1", "night", "Furnace temp", old_ncr.code, "Prod"):
        assert text in body, text
    view = response.context["view"]
    assert [r["lot"].code for r in view["supplier_lots"]] == ["RAW-1"]
    assert [n["code"] for n in view["open_ncrs"]] == [old_ncr.code]


def test_complaint_to_ncr_and_capa_actions(site, people, login):
    complaint, _old = _traced_complaint(site, people)
    client = login(people["qm"])
    response = client.post(reverse("nonconformance:complaint_open_ncr", args=[complaint.code]))
    complaint.refresh_from_db()
    ncr = complaint.ncrs.get()
    assert response.status_code == 302 and ncr.code in response["Location"]
    assert complaint.status == "investigating"
    assert ncr.ncr_lots.get().lot.code == "FG-LOT-1"
    page = client.get(reverse("nonconformance:complaint_detail", args=[complaint.code])).content.decode()
    assert reverse("capa:capa_create") + f"?complaint={complaint.code}" in page
    response = client.get(reverse("capa:capa_create") + f"?complaint={complaint.code}")
    assert response.status_code == 200


def test_complaint_reminders_once_each(site, people):
    complaint, _ = _traced_complaint(site, people)
    Notification.objects.all().delete()
    today = timezone.localdate()
    assert services.complaint_reminders_send(today=today) == 0
    due_soon = complaint.response_due_on - datetime.timedelta(days=1)
    assert services.complaint_reminders_send(today=due_soon) == 3  # qe, qe2, qm
    assert services.complaint_reminders_send(today=due_soon) == 0
    late = complaint.response_due_on + datetime.timedelta(days=1)
    assert services.complaint_reminders_send(today=late) == 1  # quality manager
    assert services.complaint_reminders_send(today=late) == 0
    services.complaint_respond(complaint=complaint, user=people["qm"], response="8D to follow")
    assert services.complaint_reminders_send(today=late + datetime.timedelta(days=1)) == 0


def test_pages_answer_per_role(site, people, login, client):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10)
    for who in ("inspector", "auditor", "qm", "prod"):
        c = login(people[who])
        for url in (
            reverse("nonconformance:ncr_list"),
            reverse("nonconformance:complaint_list"),
            reverse("nonconformance:ncr_detail", args=[ncr.code]),
        ):
            assert c.get(url).status_code == 200, (who, url)
        client.logout()
    c = login(people["inspector"])
    assert c.get(reverse("nonconformance:mrb_decide", args=[ncr.code])).status_code == 403
    assert c.get(reverse("nonconformance:ncr_create")).status_code == 200
    client.logout()
    c = login(people["auditor"])
    assert c.post(reverse("nonconformance:ncr_containment", args=[ncr.code])).status_code == 403
    assert c.get(reverse("nonconformance:ncr_create")).status_code == 403
    assert c.post(reverse("nonconformance:complaint_create"), {}).status_code == 403
    ncr.refresh_from_db()
    assert ncr.status == "mrb_review"


def test_mrb_sign_through_the_page(site, people, login):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10)
    c = login(people["prod"])
    url = reverse("nonconformance:mrb_decide", args=[ncr.code])
    page = c.get(url)
    assert page.status_code == 200 and page.context["roles"] == ["production"]
    bad = c.post(url, {"mrb_role": "production", "vote": "approve", "password": "wrong", "username": "prod"})
    assert bad.status_code == 200 and ncr.mrb.decisions.count() == 0
    ok = c.post(url, {"mrb_role": "production", "vote": "approve", "password": f.PASSWORD, "username": "prod"})
    assert ok.status_code == 302
    assert ncr.mrb.decisions.get().reviewer == people["prod"]


def test_scan_resolvers(site, people):
    from qms.core.registries import registry

    ncr = f.open_ncr(site, people["qe"])
    resolvers = {r.name: r for r in registry.scan_resolvers}
    assert resolvers["NCR"].resolve(people["qe"], ncr.code.lower()).endswith(f"/ncr/{ncr.code}/")
    assert resolvers["NCR"].resolve(people["qe"], "NCR-1999-0001") is None


def test_trace_overlay_lists_ncrs(site, people):
    from traceability.overlays import overlays_for

    lot = f.lot(site, f.part())
    ncr = f.open_ncr(site, people["qe"], lots=[lot])
    items = overlays_for([lot.pk])[lot.pk]
    assert any(i["kind"] == "ncr" and ncr.code in i["label"] for i in items)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_ncr_pdf_in_both_languages(site, people, lang):
    ncr = f.ncr_in_review(site, people["qe"], people["qe"], [("scrap", 10, {})], qty_confirmed=10)
    services.mrb_decide(
        disposition=ncr.mrb,
        mrb_role="quality",
        vote="approve",
        user=people["qm"],
        credential=f.credential(people["qm"]),
    )
    pdf, stored = render_report_pdf(
        key="nonconformance.ncr", params={"ncr": ncr.code}, language=lang, user=people["qm"]
    )
    assert pdf.startswith(b"%PDF") and stored.sha256
    from django.template.loader import render_to_string
    from django.utils import translation

    from compliance.reports import get_report

    with translation.override(lang):
        ctx = get_report("nonconformance.ncr").build({"ncr": ncr.code}, people["qm"])
        html = render_to_string("nonconformance/pdf/ncr.html", ctx)
    assert ncr.code in html and "Qm" in html
    assert ("MRB decisions" in html) if lang == "en" else ("不合格品评审" in html)
