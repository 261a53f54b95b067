"""The tablet page and the other views: permissions, htmx judgement, idempotent submission, signing."""

import uuid

import pytest
from django.urls import reverse

from conftest import PASSWORD
from inspection.models import Inspection, Measurement, Stage
from inspection.scan import resolve_scan
from qms.core.registries import registry

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def iqc(site, people):
    from traceability.models import Lot
    from traceability.signals import lot_received

    p = f.part("RG-V")
    f.plan(
        site,
        p,
        people["qe"],
        people["qm"],
        chars=[
            {"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 3},
            {"name": "Crack", "kind": "attribute"},
        ],
    )
    lot = f.lot(site, p, 8, sup=f.supplier(), code="LOT-V1")
    lot_received.send(sender=Lot, lot=lot)
    return Inspection.objects.get(lot=lot)


def test_nav_pages_answer_by_permission(client, login, people):
    for key in ("inspection_worklist", "inspection_plans"):
        item = registry.nav_items[key]
        url = reverse(item.url_name)
        login(people["inspector"])
        assert client.get(url).status_code == 200
    login(people["auditor"])
    assert client.get(reverse("inspection:worklist")).status_code == 403
    assert client.get(reverse("inspection:plans")).status_code == 200


def test_worklist_lists_due_inspection(client, login, people, iqc):
    login(people["inspector"])
    body = client.get(reverse("inspection:worklist")).content.decode()
    assert iqc.code in body and "LOT-V1" in body


def test_tablet_page_shows_sample_instruction(client, login, people, iqc):
    login(people["inspector"])
    body = client.get(reverse("inspection:detail", args=[iqc.code])).content.decode()
    assert f"Take {iqc.sample_size} pieces" in body
    assert f"Sample 1 of {iqc.sample_size}" in body
    assert 'name="submission"' in body and 'data-lo="9.98"' in body and 'data-hi="10.02"' in body


def test_judge_partial_red_and_green(client, login, people, iqc):
    login(people["inspector"])
    c = iqc.plan.characteristics.get(name="Bore")
    url = reverse("inspection:judge", args=[iqc.code])
    ok = client.post(url, {"characteristic": c.pk, "value": "10.02"}, HTTP_HX_REQUEST="true").content.decode()
    bad = client.post(url, {"characteristic": c.pk, "value": "10.021"}, HTTP_HX_REQUEST="true").content.decode()
    junk = client.post(url, {"characteristic": c.pk, "value": "abc"}, HTTP_HX_REQUEST="true").content.decode()
    assert "judge ok" in ok and "judge bad" in bad and "not a number" in junk
    # htmx posts the whole form: the triggering input's name picks the value
    crack = iqc.plan.characteristics.get(name="Crack")
    form = {"characteristic": crack.pk, f"v-{c.pk}-1": "10.0", f"v-{crack.pk}-2": "fail"}
    htmx = client.post(url, form, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME=f"v-{crack.pk}-2").content.decode()
    assert "judge bad" in htmx
    assert Measurement.objects.count() == 0


def test_resubmitted_form_records_once_then_sign_and_complete(client, login, people, iqc):
    login(people["inspector"])
    chars = {c.name: c for c in iqc.plan.characteristics.all()}
    data = {"submission": str(uuid.uuid4())}
    for n in range(1, iqc.sample_size + 1):
        data[f"v-{chars['Bore'].pk}-{n}"] = "10.01"
        data[f"v-{chars['Crack'].pk}-{n}"] = "pass"
    url = reverse("inspection:record", args=[iqc.code])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # network retry: same key
    assert Measurement.objects.filter(inspection=iqc).count() == 2 * iqc.sample_size
    wrong = client.post(reverse("inspection:complete", args=[iqc.code]), {"username": "insp", "password": "nope"})
    assert wrong.status_code == 400 and "Wrong password" in wrong.content.decode()
    resp = client.post(reverse("inspection:complete", args=[iqc.code]), {"username": "insp", "password": PASSWORD})
    assert resp.status_code == 302
    iqc.refresh_from_db()
    assert iqc.status == "accepted"


def test_release_page_and_handover_api(client, login, people, iqc):
    login(people["qm"])
    body = client.get(reverse("inspection:release", args=["LOT-V1"])).content.decode()
    assert "cannot be released yet" in body and iqc.code in body


def test_scan_resolver_prefers_inspection_for_inspectors(people, iqc):
    assert resolve_scan(people["inspector"], "LOT-V1") == reverse("inspection:detail", args=[iqc.code])
    assert resolve_scan(people["auditor"], "LOT-V1") is None  # falls through to the lot page
    assert resolve_scan(people["auditor"], iqc.code) == reverse("inspection:detail", args=[iqc.code])


def test_plans_and_switching_and_line_stop_pages(client, login, people, iqc):
    login(people["qm"])
    for name in ("inspection:plans", "inspection:switching", "inspection:line_stops"):
        assert client.get(reverse(name)).status_code == 200
    assert client.get(reverse("inspection:plan", args=[iqc.plan_id])).status_code == 200


def test_coa_report_builds(site, people):
    from inspection import services
    from inspection.reports import build_coa

    p = f.part("FG-R")
    pl = f.plan(site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql="")
    lot = f.lot(site, p, 10, code="FG-LOT-1")
    insp = services.inspection_create(stage=Stage.FQC, plan=pl, lot=lot, user=people["inspector"])
    f.fill(insp, people["inspector"])
    services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))
    ctx = build_coa({}, people["qm"])
    assert ctx["lot"] == lot and ctx["all_passed"] and ctx["release"] is not None
    assert ctx["sections"][0]["rows"][0]["n"] == 2 and len(ctx["sections"][0]["signatures"]) == 1


def test_coa_pdf_downloads_in_both_languages(client, login, site, people):
    from inspection import services

    p = f.part("FG-P")
    pl = f.plan(site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=1, aql="")
    lot = f.lot(site, p, 10, code="FG-PDF-1")
    insp = services.inspection_create(stage=Stage.FQC, plan=pl, lot=lot, user=people["inspector"])
    f.fill(insp, people["inspector"])
    services.inspection_complete(inspection=insp, user=people["inspector"], credential=f.cred(people["inspector"]))
    services.lot_release_sign(lot=lot, user=people["qm"], credential=f.cred(people["qm"]))
    login(people["qm"])
    for lang in ("en", "zh-hans"):
        resp = client.get(reverse("compliance:report_pdf", args=["inspection.coa"]), {"lot": "FG-PDF-1", "lang": lang})
        assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"


# --- hostile input (issue 10) ----------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize("key", ["v-x-1", "v-1", "v-1-2-3", "v-١-1"])
def test_tampered_value_field_names_are_a_400_not_a_traceback(client, login, people, iqc, key):
    login(people["inspector"])
    response = client.post(reverse("inspection:record", args=[iqc.code]), {"submission": "k", key: "10.01"})
    assert response.status_code == 400 and "reload the page" in response.content.decode()
    assert Measurement.objects.count() == 0


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999", "1" * 40, "10.0000001"])
def test_values_the_field_cannot_hold_are_refused_and_nothing_is_written(client, login, people, iqc, value):
    login(people["inspector"])
    bore = iqc.plan.characteristics.get(name="Bore")
    data = {"submission": str(uuid.uuid4()), f"v-{bore.pk}-1": value, f"v-{bore.pk}-2": "10.01"}
    response = client.post(reverse("inspection:record", args=[iqc.code]), data)
    assert response.status_code == 400
    assert Measurement.objects.count() == 0


def test_defect_photo_must_be_an_image_and_downloads_through_the_checked_view(client, login, people, iqc, make_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(people["inspector"])
    crack = iqc.plan.characteristics.get(name="Crack")
    url = reverse("inspection:record", args=[iqc.code])
    html = SimpleUploadedFile("crack.jpg", b"<html><script>alert(1)</script>", content_type="image/jpeg")
    data = {"submission": str(uuid.uuid4()), f"v-{crack.pk}-1": "fail", f"p-{crack.pk}-1": html}
    response = client.post(url, data)
    assert response.status_code == 400 and "Allowed" in response.content.decode()
    assert Measurement.objects.count() == 0
    photo = SimpleUploadedFile("crack.png", PNG, content_type="image/png")
    data = {"submission": str(uuid.uuid4()), f"v-{crack.pk}-1": "fail", f"p-{crack.pk}-1": photo}
    assert client.post(url, data).status_code == 302
    m = Measurement.objects.get()
    assert m.photo.name.startswith("private/") and "crack" not in m.photo.name
    page = client.get(reverse("inspection:detail", args=[iqc.code])).content.decode()
    link = reverse("inspection:photo", args=[iqc.code, m.pk])
    assert link in page
    response = client.get(link)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
