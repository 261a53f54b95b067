"""Issue 11, "Done means", walked end to end through the pages and services a quality manager uses:
she sets this year's objectives, sees where each stands today, is told the hour a line's yield drops (a
completed IPQC check re-evaluates its line's rules at once), and prints the management review pack, in
English and in Chinese."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection import services as inspection_services
from inspection.models import LineStop, Stage
from inspection.tests import factories as insp_f
from monitoring import services as monitoring_services
from monitoring.demo import DEMO_RULES
from monitoring.models import Alarm, Objective
from monitoring.tests import factories as f
from qms.core.models import Notification, Role


@pytest.fixture
def plant(make_user, site):
    people = {
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Zhang Wei"),
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "supervisor": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
    }
    ipqc = insp_f.plan(site, insp_f.part("RG-6204-OUT"), people["qe"], people["qm"], stage=Stage.IPQC)
    line = f.line(site, "LINE-3")
    schedule = f.schedule(site, ipqc, line)
    for rule in DEMO_RULES:  # the demo rules, as `make run` seeds them
        monitoring_services.alarm_rule_create(site=site, user=people["qm"], **rule)
    return {"people": people, "plan": ipqc, "line": line, "schedule": schedule}


def _check(plant, *, bad):
    """A patrol check on the line, done at the tablet: created, measured, completed (e-signed)."""
    insp = inspection_services.inspection_create(
        stage=Stage.IPQC, plan=plant["plan"], schedule=plant["schedule"], lot_size=5, sample_size=5,
        reason="patrol check due",
    )  # fmt: skip
    inspector = plant["people"]["inspector"]
    insp_f.fill(insp, inspector, bad=bad)
    return inspection_services.inspection_complete(inspection=insp, user=inspector, credential=insp_f.cred(inspector))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_quality_manager_done_means(client, plant, site, language, django_capture_on_commit_callbacks):
    qm = plant["people"]["qm"]
    client.force_login(qm)
    client.cookies["django_language"] = language
    year = timezone.localdate().year

    # 1. sets this year's objectives through the form
    form = client.get(reverse("monitoring:objective_create"))
    assert form.status_code == 200
    for title, kpi, cmp, target, dim_key, dim_value in [
        ("IPQC pass rate ≥ 95 % 巡检合格率", "ipqc.fpy", ">=", 95, "line", "LINE-3"),
        ("Process defect rate ≤ 2 % 过程不良率", "ipqc.defect_rate", "<=", 2, "", ""),
    ]:
        r = client.post(reverse("monitoring:objective_create"), {
            "site": site.pk, "title": title, "kpi": kpi, "dim_key": dim_key, "dim_value": dim_value,
            "comparator": cmp, "target": target, "period": "month", "year": year, "owner": "sup",
            "review_every_months": 3, "escalate_after_periods": 2,
        })  # fmt: skip
        assert r.status_code == 302, r.content.decode()[:2000]
    assert Objective.objects.filter(site=site, year=year).count() == 2

    # 2. the line runs well: both objectives on track on the dashboard
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            _check(plant, bad=())
    page = client.get(reverse("monitoring:dashboard")).content.decode()
    assert page.count("pill-ok") == 2, page
    assert "LINE-3" in page or "巡检合格率" in page

    # 3. a check fails: at once (no periodic tick), the line's rules are evaluated, the alarm raised, the
    #    line stop requested, and the quality manager told in her inbox
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        _check(plant, bad=(1, 2))
    alarm = Alarm.objects.get(site=site, rule__kpi="ipqc.fpy", dim_value="LINE-3")
    assert alarm.raised_at >= before and alarm.value == pytest.approx(75.0)  # 3 of 4 checks first-pass
    assert LineStop.objects.filter(line=plant["line"]).exists() and "LINE-3" in alarm.action_reference
    told = Notification.objects.filter(recipient=qm, link=reverse("monitoring:alarm", args=[alarm.code]))
    assert told.count() == 1
    inbox = client.get(reverse("core:inbox")).content.decode()
    assert alarm.code in inbox
    # the dashboard now shows the line's objective off track and the open alarm
    page = client.get(reverse("monitoring:dashboard")).content.decode()
    assert "pill-bad" in page and alarm.code in page
    # the alarm page names the checks behind it
    assert client.get(reverse("monitoring:alarm", args=[alarm.code])).content.decode().count("/inspection/i/") == 4
    # evaluated again (the periodic tick): no second alarm
    monitoring_services.alarm_rules_evaluate(site_ids=[site.pk])
    assert Alarm.objects.filter(site=site, rule__kpi="ipqc.fpy").count() == 1

    # 4. prints the management review pack in both languages, from the dashboard's links
    assert "monitoring.review_pack" in page
    texts = {}
    for lang in ("en", "zh-hans"):
        r = client.get(reverse("compliance:report_pdf", args=["monitoring.review_pack"]) + f"?lang={lang}")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        from pypdf import PdfReader

        texts[lang] = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Management review pack" in texts["en"] and "IPQC pass rate" in texts["en"]
    assert "管理评审" in texts["zh-hans"] and "巡检" in texts["zh-hans"]
    assert "Management review pack" not in texts["zh-hans"]
    # statuses read as words in the reader's language, not as codes
    assert "≥ 95" in texts["en"]  # comparators as the reader writes them
