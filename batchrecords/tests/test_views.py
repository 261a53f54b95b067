import pytest
from django.urls import reverse

from batchrecords import services
from batchrecords.models import Deviation, EbrStatus, ExecutedBatchRecord, MasterBatchRecord, StepStatus
from conftest import PASSWORD
from qms.core.models import Role

from . import factories as f

pytestmark = pytest.mark.django_db


def sign(user, **extra):
    return {"username": user.username, "password": PASSWORD, **extra}


def test_pages_for_every_role_and_refused_to_the_other_site(gmp_site, other_site, cast, make_user, client):
    record = f.ebr(gmp_site, cast)
    dev = services.deviation_raise(site=gmp_site, title="Door open", lots=[record.lot], user=cast["op"])
    pages = [
        reverse("batchrecords:index"),
        reverse("batchrecords:mbr_list"),
        reverse("batchrecords:deviation_list"),
        reverse("batchrecords:mbr_detail", args=[record.mbr.code]),
        reverse("batchrecords:ebr_detail", args=[record.code]),
        reverse("batchrecords:deviation_detail", args=[dev.code]),
    ]
    for who in ("op", "op2", "qe", "qm", "auditor"):
        client.force_login(cast[who])
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
    # The auditor reads but never writes.
    client.force_login(cast["auditor"])
    assert client.get(reverse("batchrecords:mbr_create")).status_code == 403
    assert client.get(reverse("batchrecords:ebr_review", args=[record.code])).status_code == 403
    assert client.post(reverse("batchrecords:ebr_yield", args=[record.code]), {"actual_yield": "99"}).status_code == 403
    # A manager of another site is refused every record of this one.
    stranger = make_user("stranger", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    client.force_login(stranger)
    for url in pages[3:] + [reverse("batchrecords:ebr_review", args=[record.code])]:
        assert client.get(url).status_code in (403, 404), url
    assert record.code not in client.get(reverse("batchrecords:index")).content.decode()
    assert dev.code not in client.get(reverse("batchrecords:deviation_list")).content.decode()
    step = f.steps(record)[0]
    response = client.post(reverse("batchrecords:ebr_step_perform", args=[record.code, step.pk]), sign(stranger))
    assert response.status_code in (403, 404)


def test_mbr_created_and_approved_through_the_pages(gmp_site, cast, client):
    prod = f.part("SYR-1")
    client.force_login(cast["qe"])
    response = client.post(
        reverse("batchrecords:mbr_create"),
        {
            "site": gmp_site.pk,
            "part": prod.pk,
            "title": "Syrup",
            "theoretical_yield": "500",
            "yield_min_percent": "95",
            "yield_max_percent": "102",
            "form_token": "6f1c1a44-9c55-4a43-a3a5-0b7c9bb0d111",
        },
    )
    assert response.status_code == 302
    mbr = MasterBatchRecord.objects.get(part=prod)
    # The same form sent twice creates nothing new.
    again = client.post(
        reverse("batchrecords:mbr_create"),
        {
            "site": gmp_site.pk,
            "part": prod.pk,
            "title": "Syrup",
            "theoretical_yield": "500",
            "yield_min_percent": "95",
            "yield_max_percent": "102",
            "form_token": "6f1c1a44-9c55-4a43-a3a5-0b7c9bb0d111",
        },
    )
    assert again.status_code == 302 and MasterBatchRecord.objects.filter(part=prod).count() == 1
    client.post(reverse("batchrecords:mbr_step_add", args=[mbr.code]), {"title": "Dissolve", "is_critical": "on"})
    step = mbr.steps.get()
    client.post(
        reverse("batchrecords:mbr_parameter_add", args=[mbr.code]),
        {"step": step.pk, "kind": "parameter", "name": "Temp", "lower_limit": "NaN", "upper_limit": "5"},
    )
    assert not mbr.parameters.exists()  # hostile limit refused with a message, nothing written
    client.post(
        reverse("batchrecords:mbr_parameter_add", args=[mbr.code]),
        {"step": step.pk, "kind": "parameter", "name": "Temp", "lower_limit": "20", "upper_limit": "25", "unit": "°C"},
    )
    assert mbr.parameters.count() == 1
    # The author is not offered the approval and is refused when posting anyway.
    page = client.get(reverse("batchrecords:mbr_approve", args=[mbr.code])).content.decode()
    assert "data-decision-refused" in page and 'name="password"' not in page
    client.post(reverse("batchrecords:mbr_approve", args=[mbr.code]), sign(cast["qe"]))
    mbr.refresh_from_db()
    assert mbr.status == "draft"
    client.force_login(cast["qm"])
    response = client.post(reverse("batchrecords:mbr_approve", args=[mbr.code]), sign(cast["qm"]))
    assert response.status_code == 302
    mbr.refresh_from_db()
    assert mbr.status == "effective"


def test_tablet_step_entry_with_htmx_flags_out_of_limit_and_offers_the_second_person(gmp_site, cast, client):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    s1 = f.steps(record)[0]
    client.force_login(cast["op"])
    url = reverse("batchrecords:ebr_step_perform", args=[record.code, s1.pk])
    bad = client.post(
        url,
        sign(cast["op"], **{f"value_{ids['Inlet temperature']}": "1e999", f"value_{ids['Moisture']}": "1"}),
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200 and "too large" in bad.content.decode()
    s1.refresh_from_db()
    assert s1.status == StepStatus.PENDING
    ok = client.post(
        url,
        sign(cast["op"], **{f"value_{ids['Inlet temperature']}": "75", f"value_{ids['Moisture']}": "1"}),
        HTTP_HX_REQUEST="true",
    )
    html = ok.content.decode()
    assert ok.status_code == 200 and 'id="step-' in html and "<html" not in html
    assert "out of limits" in html and "DEV-" in html
    # The performer sees why they cannot verify; the second person gets the signing form.
    assert "data-decision-refused" in html
    refused = client.post(
        reverse("batchrecords:ebr_step_verify", args=[record.code, s1.pk]), sign(cast["op"]), HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 200
    s1.refresh_from_db()
    assert s1.status == StepStatus.DONE
    client.force_login(cast["op2"])
    page = client.get(reverse("batchrecords:ebr_detail", args=[record.code])).content.decode()
    assert "Verify as second person" in page
    client.post(reverse("batchrecords:ebr_step_verify", args=[record.code, s1.pk]), sign(cast["op2"]))
    s1.refresh_from_db()
    assert s1.status == StepStatus.VERIFIED and s1.verified_by == cast["op2"]


def test_dispense_yield_complete_review_through_the_pages(gmp_site, cast, client):
    record = f.ebr(gmp_site, cast)
    from .test_services import perform_all_ok

    perform_all_ok(record, cast)
    material = record.mbr.materials.get()
    f.material_lot(gmp_site, material.part, code="API-PG")
    client.force_login(cast["op"])
    client.post(
        reverse("batchrecords:ebr_dispense", args=[record.code]),
        {"material": material.pk, "lot_code": "API-PG", "quantity": "abc"},
    )
    assert not record.dispenses.exists()
    client.post(
        reverse("batchrecords:ebr_dispense", args=[record.code]),
        {"material": material.pk, "lot_code": "API-PG", "quantity": "10"},
    )
    assert record.dispenses.count() == 1
    client.post(reverse("batchrecords:ebr_yield", args=[record.code]), {"actual_yield": "99"})
    client.post(reverse("batchrecords:ebr_complete", args=[record.code]))
    record.refresh_from_db()
    assert record.status == EbrStatus.COMPLETED
    client.force_login(cast["qe"])
    page = client.get(reverse("batchrecords:ebr_review", args=[record.code])).content.decode()
    assert "No exception" in page and 'name="password"' in page
    client.post(reverse("batchrecords:ebr_review", args=[record.code]), sign(cast["qe"], reason="RBE ok"))
    record.refresh_from_db()
    assert record.status == EbrStatus.REVIEWED and record.reviewed_by == cast["qe"]


def test_deviation_pages_raise_assess_capa_and_approve(gmp_site, cast, client):
    record = f.ebr(gmp_site, cast)
    client.force_login(cast["op"])
    response = client.post(
        reverse("batchrecords:deviation_create") + f"?ebr={record.code}",
        {
            "site": gmp_site.pk,
            "title": "Filter integrity test failed",
            "classification": "critical",
            "lot_codes": f"{record.lot.code}, NO-SUCH-LOT",
            "form_token": "0e0b2c1c-1111-4a43-a3a5-0b7c9bb0d222",
        },
    )
    assert response.status_code == 200 and "NO-SUCH-LOT" in response.content.decode()
    assert not Deviation.objects.exists()
    response = client.post(
        reverse("batchrecords:deviation_create") + f"?ebr={record.code}",
        {
            "site": gmp_site.pk,
            "title": "Filter integrity test failed",
            "classification": "critical",
            "lot_codes": record.lot.code,
            "form_token": "0e0b2c1c-1111-4a43-a3a5-0b7c9bb0d333",
        },
    )
    dev = Deviation.objects.get()
    assert response.status_code == 302 and dev.ebr == record and dev.raised_by == cast["op"]
    client.force_login(cast["qe"])
    row = dev.affected_lots.get()
    client.post(
        reverse("batchrecords:deviation_assess", args=[dev.code]),
        {
            "classification": "critical",
            "impact_assessment": "Batch exposed",
            f"impact_{row.pk}": "affected",
            f"note_{row.pk}": "",
        },
    )
    client.post(reverse("batchrecords:deviation_capa", args=[dev.code]), {"owner": cast["qe"].pk})
    dev.refresh_from_db()
    assert dev.status == "assessed" and dev.capa is not None
    client.force_login(cast["qm"])
    page = client.get(reverse("batchrecords:deviation_detail", args=[dev.code])).content.decode()
    assert "blocks the release" in page
    client.post(reverse("batchrecords:deviation_approve", args=[dev.code]), sign(cast["qm"]))
    dev.refresh_from_db()
    assert dev.status == "approved"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_disposition_pack_pdf_in_both_languages(gmp_site, cast, lang):
    import io

    from pypdf import PdfReader

    from compliance.pdf import render_report_pdf

    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    services.ebr_step_perform(
        step=f.steps(record)[0],
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "80", ids["Moisture"]: "1"},
    )
    data, _stored = render_report_pdf(
        key="batchrecords.disposition", params={"record": record.code}, language=lang, user=cast["qm"]
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert record.code in text and "DEV-" in text
    assert ("批记录" in text) if lang == "zh-hans" else ("batch record" in text.lower())


def test_ebr_created_by_hand_from_the_page(gmp_site, cast, client):
    master = f.mbr(gmp_site, cast["qe"], cast["qm"])
    wo = f.running_work_order(gmp_site, master.part, cast["op"], code="WO-HAND")
    client.force_login(cast["op"])
    page = client.get(reverse("batchrecords:ebr_create")).content.decode()
    assert "WO-HAND" in page
    response = client.post(
        reverse("batchrecords:ebr_create"),
        {"work_order": wo.pk, "lot_code": "BATCH-HAND-1", "form_token": "a0b1c2d3-1111-4a43-a3a5-0b7c9bb0d444"},
    )
    assert response.status_code == 302
    record = ExecutedBatchRecord.objects.get(work_order=wo)
    assert record.lot.code == "BATCH-HAND-1"
