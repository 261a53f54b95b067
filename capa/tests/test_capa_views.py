import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from capa import services
from compliance.pdf import render_report_pdf
from compliance.reports import get_report

from .factories import capa_with_done_action, credential

pytestmark = pytest.mark.django_db


def test_capa_pages_per_role(site, people, login, client):
    capa = capa_with_done_action(site, people["qe"], people["qm"])
    for who in ("inspector", "auditor", "qm", "sqe"):
        c = login(people[who])
        assert c.get(reverse("capa:capa_list")).status_code == 200
        assert c.get(reverse("capa:capa_detail", args=[capa.code])).status_code == 200
        client.logout()
    c = login(people["auditor"])
    assert c.get(reverse("capa:capa_create")).status_code == 403
    assert c.get(reverse("capa:capa_edit", args=[capa.code])).status_code == 403
    assert c.post(reverse("capa:capa_close", args=[capa.code])).status_code == 302
    capa.refresh_from_db()
    assert capa.status == "in_progress"  # the auditor changed nothing (refused with a message)
    client.logout()
    c = login(people["inspector"])
    check = services.capa_actions_close(capa=capa, user=people["qm"], check_due_on=timezone.localdate())
    assert c.get(reverse("capa:effectiveness_record", args=[check.pk])).status_code == 403


def test_8d_edit_and_effective_check_through_the_pages(site, people, login):
    capa = capa_with_done_action(site, people["qe"], people["qm"])
    c = login(people["qe"])
    data = {
        "title": capa.title, "effectiveness_days": 30, "problem_statement": "p", "why1": "a", "why2": "b",
        "fb_machine": "wheel", "root_cause": "wheel not dressed", "d7_fmea_updated": "on", "reason": "D4 done",
    }  # fmt: skip
    assert c.post(reverse("capa:capa_edit", args=[capa.code]), data).status_code == 302
    capa.refresh_from_db()
    assert capa.five_whys == ["a", "b"] and capa.fishbone == {"machine": "wheel"} and capa.d7_fmea_updated
    today = timezone.localdate().isoformat()
    c.post(reverse("capa:actions_close", args=[capa.code]), {"criteria": "3 clean lots", "check_due_on": today})
    check = capa.effectiveness_checks.get()
    c.logout()
    qm = login(people["qm"])
    url = reverse("capa:effectiveness_record", args=[check.pk])
    r = qm.post(url, {"result": "effective", "evidence": "clean", "password": "test-Password-123", "username": "qm"})
    assert r.status_code == 302
    qm.post(reverse("capa:capa_close", args=[capa.code]))
    capa.refresh_from_db()
    assert capa.status == "closed"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_8d_pdf_in_both_languages(site, people, lang):
    capa = capa_with_done_action(site, people["qe"], people["qm"])
    check = services.capa_actions_close(capa=capa, user=people["qe"], check_due_on=timezone.localdate())
    services.effectiveness_check_record(
        check=check, result="effective", evidence="clean", user=people["qm"], credential=credential(people["qm"])
    )
    pdf, stored = render_report_pdf(key="capa.8d", params={"capa": capa.code}, language=lang, user=people["qm"])
    assert pdf.startswith(b"%PDF")
    with translation.override(lang):
        html = render_to_string("capa/pdf/8d.html", get_report("capa.8d").build({}, people["qm"]))
    assert capa.code in html and "Worn grinding wheel" in html
    assert ("Root cause" in html) if lang == "en" else ("根本原因" in html)
