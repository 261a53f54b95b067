"""Food SC records (Art. 50, production control, Art. 51) on hand-built data, and retention: legal floors,
retention_until, the purge guard, the policy page."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from compliance.pdf import render_report_pdf
from compliance.reports import ReportError
from compliance.retention import purge_refusal
from inspection.models import LotRelease
from packs.models import Basis, RecordType, RetentionPolicy
from packs.retention import add_months, retention_until
from packs.services import retention_policy_set
from qms.core.audit import audit_context
from qms.core.errors import DomainError
from qms.core.models import Customer, Role
from qms.core.scoping import site_scope
from traceability.models import Lot, LotLink, ProcessParameter, ProductionRecord, Shipment, WorkOrder

from .factories import part as make_part

TODAY = timezone.localdate()


@pytest.fixture
def food(other_site):
    return other_site  # code S2, industry food


@pytest.fixture
def people(make_user, site, food):
    return {
        "food_qm": make_user("pk_fqm", roles=[Role.QUALITY_MANAGER], sites=[food]),
        "auditor": make_user("pk_faud", roles=[Role.AUDITOR], sites=[food]),
        "brg_qm": make_user("pk_bqm", roles=[Role.QUALITY_MANAGER], sites=[site]),
        "admin": make_user("pk_fadm", roles=[Role.ADMINISTRATOR], sites=[food]),
    }


@pytest.fixture
def dairy(food, people):
    from suppliers.models import Supplier

    milk = make_part("PKRM-MILK", name="Raw milk 生牛乳", shelf_life_days=3)
    yog = make_part("PKFG-YOG", name="Yoghurt 酸奶", shelf_life_days=21)
    with audit_context(reason="test"):
        sup = Supplier.objects.create(
            code="PKFARM-1", name="Green Farm 绿色牧场", category="raw_material", address="1 Farm Road, Songjiang",
            contact_name="Zhang San", contact_phone="+86 21 5555 0101",
        )  # fmt: skip
        sup.sites.add(food)
        from suppliers.models import Certificate

        Certificate.objects.create(
            supplier=sup, cert_type=Certificate._meta.get_field("cert_type").choices[0][0], number="SC-10631",
            issued_on=TODAY - datetime.timedelta(days=100), valid_until=TODAY + datetime.timedelta(days=200),
            status="valid",
        )  # fmt: skip
        raw = Lot.objects.create(
            code="PKMILK-0601", part=milk, site=food, supplier=sup, supplier_lot_code="GF-0601", quantity=Decimal("5000"),
            unit="kg", received_on=TODAY - datetime.timedelta(days=2), produced_on=TODAY - datetime.timedelta(days=3),
        )  # fmt: skip
        wo = WorkOrder.objects.create(code="PKWO-1", site=food, part=yog, quantity_planned=Decimal("20000"))
        fg = Lot.objects.create(
            code="PKYOG-0601", part=yog, site=food, work_order=wo, quantity=Decimal("20000"),
            produced_on=TODAY - datetime.timedelta(days=1), expires_on=TODAY + datetime.timedelta(days=20),
        )  # fmt: skip
        LotLink.objects.create(parent=raw, child=fg, quantity=Decimal("4800"))
        rec = ProductionRecord.objects.create(
            work_order=wo, shift="A", started_at=timezone.now() - datetime.timedelta(days=1), notes="pasteurised"
        )
        rec.operators.add(people["food_qm"])
        ProcessParameter.objects.create(
            record=rec, name="Pasteurisation temperature", value=Decimal("92.5"), unit="°C",
            lower_limit=Decimal("90"), upper_limit=Decimal("95"),
        )  # fmt: skip
        LotRelease.objects.create(lot=fg, note_number="RN-PKYOG-0601", released_by=people["food_qm"])
        buyer = Customer.objects.create(
            code="PKSHOP-1", name="Hualian Supermarket 华联超市", email="buy@hualian.example"
        )
        Shipment.objects.create(lot=fg, customer=buyer, quantity=Decimal("1200"), shipped_on=TODAY)
    return {"raw": raw, "fg": fg, "wo": wo}


def _text(pdf: bytes) -> str:
    # Table cells wrap: compare without line breaks.
    return "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def _render(key, site, user, lang="zh-hans", **params):
    with site_scope([site.pk]):
        pdf, _stored = render_report_pdf(key=key, params={"site": site.code, **params}, language=lang, user=user)
    return _text(pdf)


@pytest.mark.django_db
def test_incoming_acceptance_record_art_50(food, people, dairy):
    text = _render("packs.sc_incoming", food, people["auditor"])
    for expected in ["进货查验记录", "生牛乳", "PKRM-MILK", "5000", "GF-0601", "3", "Green Farm", "1 Farm Road",
                     "Zhang San", "+86 21 5555 0101", str(TODAY - datetime.timedelta(days=2)), "SC-10631"]:  # fmt: skip
        assert expected.replace(" ", "") in text, expected
    assert "PKYOG-0601" not in text  # made here, not received
    english = _render("packs.sc_incoming", food, people["auditor"], lang="en")
    assert "Supplieraddress" in english


@pytest.mark.django_db
def test_production_control_and_outgoing_records(food, people, dairy):
    text = _render("packs.sc_production", food, people["food_qm"])
    for expected in ["生产过程控制记录", "PKWO-1", "Pasteurisation temperature", "92.5", "90", "95", "PKMILK-0601"]:
        assert expected.replace(" ", "") in text, expected
    text = _render("packs.sc_outgoing", food, people["food_qm"])
    for expected in [
        "出厂检验记录",
        "PKYOG-0601",
        "1200",
        "RN-PKYOG-0601",
        "华联超市",
        "buy@hualian.example",
        str(TODAY),
    ]:
        assert expected.replace(" ", "") in text, expected


@pytest.mark.django_db
def test_food_records_refuse_another_site_and_bad_dates(site, food, people, dairy):
    with pytest.raises(ReportError):
        _render("packs.sc_incoming", food, people["brg_qm"])
    with pytest.raises(ReportError):
        _render("packs.sc_incoming", food, people["food_qm"], start="2026-13-45")
    with pytest.raises(ReportError):
        _render("packs.sc_incoming", food, people["food_qm"], start="2026-05-02", end="2026-05-01")


@pytest.mark.django_db
def test_retention_defaults_follow_the_industry_and_the_law(site, food, people, dairy):
    fg = dairy["fg"]
    # Food Art. 50: 6 months past the end of the shelf life.
    assert retention_until(fg) == add_months(fg.expires_on, 6)
    # No shelf life: 2 years after the record date.
    with audit_context(reason="test"):
        plain = Lot.objects.create(
            code="PKSALT-1",
            part=make_part("PKRM-SALT"),
            site=food,
            quantity=Decimal(1),
            received_on=datetime.date(2026, 1, 10),
        )
    assert retention_until(plain) == datetime.date(2028, 1, 10)
    # Automotive: kept while the part is active (no end yet), then active life + 1 year.
    with audit_context(reason="test"):
        car = Lot.objects.create(code="PKCAR-1", part=make_part("PKAUTO-1"), site=site, quantity=Decimal(1))
    assert retention_until(car) is None
    assert purge_refusal(car)  # never purged while the part is active


@pytest.mark.django_db
def test_policies_cannot_go_below_the_legal_floor(food, people):
    with pytest.raises(DomainError) as refused:
        retention_policy_set(
            site=food, record_type=RecordType.LOT, basis=Basis.EXPIRY, months=3, months_without_basis=24,
            months_from_record=0, user=people["food_qm"], reason="shorter",
        )  # fmt: skip
    assert "6" in str(refused.value) and "legal minimum" in str(refused.value)
    with pytest.raises(DomainError):
        retention_policy_set(
            site=food, record_type=RecordType.LOT, basis=Basis.RECORD, months=36, months_without_basis=24,
            months_from_record=0, user=people["food_qm"], reason="other basis",
        )  # fmt: skip
    assert not RetentionPolicy.objects.exists()
    row = retention_policy_set(
        site=food, record_type=RecordType.LOT, basis=Basis.EXPIRY, months=12, months_without_basis=36,
        months_from_record=0, user=people["food_qm"], reason="customer asks for a year",
    )  # fmt: skip
    assert row.months == 12
    with pytest.raises(DomainError):  # the auditor never changes a policy
        retention_policy_set(
            site=food, record_type=RecordType.LOT, basis=Basis.EXPIRY, months=24, months_without_basis=36,
            months_from_record=0, user=people["auditor"], reason="x",
        )  # fmt: skip


@pytest.mark.django_db
def test_retention_page_and_form(client, food, people):
    client.force_login(people["food_qm"])
    url = reverse("packs:retention") + f"?site={food.code}"
    page = client.get(url)
    assert page.status_code == 200 and "Food Safety Law" in page.content.decode()
    bad = client.post(url, {"record_type": "lot", "basis": "expiry", "months": 1, "months_without_basis": 24,
                            "months_from_record": 0, "reason": "try"})  # fmt: skip
    assert bad.status_code == 400 and "legal minimum" in bad.content.decode()
    assert not RetentionPolicy.objects.exists()
    ok = client.post(url, {"record_type": "export", "basis": "record", "months": 6, "months_without_basis": 0,
                           "months_from_record": 0, "reason": "IT asks"})  # fmt: skip
    assert ok.status_code == 302 and RetentionPolicy.objects.get().months == 6
    client.force_login(people["auditor"])
    assert client.post(url, {"record_type": "export", "basis": "record", "months": 1}).status_code == 403
    client.force_login(people["brg_qm"])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_purge_keeps_what_is_under_retention(food, people):
    from django.core.files.base import ContentFile

    from compliance.models import ExportJob

    young = ExportJob(key="packs.sc_incoming", format="csv", language="en", requested_by=people["food_qm"],
                      status="ready", site=food, finished_at=timezone.now())  # fmt: skip
    young.file.save("young.csv", ContentFile(b"a,b\n"), save=False)
    young.save()
    old = ExportJob.objects.create(
        key="packs.sc_incoming", format="csv", language="en", requested_by=people["food_qm"], status="ready",
        site=food, finished_at=timezone.now() - datetime.timedelta(days=400), requested_at=timezone.now() - datetime.timedelta(days=400),
    )  # fmt: skip
    out = io.StringIO()
    call_command("purge_exports", stdout=out)
    assert "purged 1, kept 1" in out.getvalue()
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [young.pk]
    assert not ExportJob.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_retention_report_lists_records_by_date(food, people, dairy):
    text = _render("packs.retention", food, people["auditor"], lang="en")
    assert "PKMILK-0601" in text and "PKYOG-0601" in text and "FoodSafetyLaw" in text
