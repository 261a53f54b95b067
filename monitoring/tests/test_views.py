"""Pages: dashboard (constant queries, phone layout), drill-down, alarm acknowledge/resolve, objective
review, CSV round trip, review pack PDF in both languages, site isolation."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inspection.models import Stage
from monitoring import engine, services
from monitoring.models import Alarm, AlarmRule, Objective

from . import factories as f


@pytest.fixture
def data(site, people):
    iqc = f.plan(site, people["qe"], people["qm"], Stage.IQC)
    today = timezone.localdate()
    for i in range(3):
        f.inspection(iqc, when=timezone.now() - datetime.timedelta(days=i * 20), sample=100, bad=i)
    engine.rollup_recent(days=70, sites=[site])
    year = today.year
    for kpi in ("iqc.ppm", "iqc.fpy"):
        services.objective_create(site=site, title=kpi, kpi=kpi, comparator="<=", target=500, year=year,
                                  owner=people["sqe"], user=people["qm"])  # fmt: skip
    return {"plan": iqc}


def test_dashboard_constant_queries_and_content(login, people, data, site):
    client = login(people["qm"])
    with CaptureQueriesContext(connection) as few:
        r = client.get(reverse("monitoring:dashboard"))
    assert r.status_code == 200 and b"monitor-charts" in r.content and b"iqc.ppm" in r.content
    for i in range(5):
        services.objective_create(site=site, title=f"more {i}", kpi="ncr.count", comparator="<=", target=5,
                                  year=timezone.localdate().year, owner=people["qe"], user=people["qm"])  # fmt: skip
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("monitoring:dashboard"))
    assert len(more) == len(few)
    with CaptureQueriesContext(connection) as cached:
        client.get(reverse("monitoring:dashboard"))
    assert len(cached) < len(more)  # the charts come from the cache


def test_drill_down_lists_the_records_of_the_users_sites_only(login, people, data, make_user, other_site):
    today = timezone.localdate()
    url = reverse("monitoring:records") + f"?kpi=iqc.ppm&start={today - datetime.timedelta(days=60)}&end={today}"
    r = login(people["qm"]).get(url)
    assert r.status_code == 200 and r.content.count(b"/inspection/i/") == 3
    from qms.core.models import Role

    stranger = make_user("stranger", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    r = login(stranger).get(url)
    assert r.content.count(b"/inspection/i/") == 0
    assert login(people["qm"]).get(reverse("monitoring:records") + "?kpi=iqc.ppm&start=x&end=y").status_code == 302


def test_alarm_pages_acknowledge_resolve_and_isolation(client, login, people, site, data, make_user, other_site):
    rule = services.alarm_rule_create(site=site, user=people["qm"], name="ppm", kpi="iqc.ppm", window="days",
                                      window_size=70, comparator=">", threshold=1)  # fmt: skip
    services.rule_evaluate(rule=rule)
    alarm = Alarm.objects.get(rule=rule)
    c = login(people["supervisor"])
    page = c.get(reverse("monitoring:alarm", args=[alarm.code]))
    assert page.status_code == 200 and b"/inspection/i/" in page.content
    c.post(reverse("monitoring:alarm_acknowledge", args=[alarm.code]), {"comment": "on it"})
    c.post(reverse("monitoring:alarm_resolve", args=[alarm.code]), {"reason": "supplier sorted"})
    alarm.refresh_from_db()
    assert alarm.status == "resolved" and alarm.ack_comment == "on it"
    from qms.core.models import Role

    stranger = make_user("stranger", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    assert login(stranger).get(reverse("monitoring:alarm", args=[alarm.code])).status_code == 404
    auditor = login(people["auditor"])
    assert auditor.post(reverse("monitoring:alarm_resolve", args=[alarm.code]), {"reason": "x"}).status_code == 403


def test_objective_page_and_signed_review(login, people, data):
    obj = Objective.objects.first()
    c = login(people["qm"])
    assert c.get(reverse("monitoring:objective", args=[obj.pk])).status_code == 200
    r = c.post(reverse("monitoring:objective", args=[obj.pk]),
               {"username": "qm", "password": "wrong", "conclusion": "kept"})  # fmt: skip
    assert r.status_code == 200 and not obj.reviews.exists()
    r = c.post(reverse("monitoring:objective", args=[obj.pk]),
               {"username": "qm", "password": "test-Password-123", "conclusion": "kept"})  # fmt: skip
    assert r.status_code == 302 and obj.reviews.count() == 1


def test_csv_round_trip_and_bad_rows(login, people, site, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.alarm_rule_create(site=site, user=people["qm"], name="r1", kpi="ipqc.fpy", dim_key="line",
                               window="today", comparator="<", threshold=95, action="line_stop")  # fmt: skip
    c = login(people["qm"])
    rules_csv = c.get(reverse("monitoring:export", args=["rules"])).content
    objectives_csv = c.get(reverse("monitoring:export", args=["objectives"])).content
    c.post(reverse("monitoring:import", args=["rules"]), {"file": SimpleUploadedFile("r.csv", rules_csv)})
    c.post(reverse("monitoring:import", args=["objectives"]), {"file": SimpleUploadedFile("o.csv", objectives_csv)})
    assert AlarmRule.objects.filter(name="r1").count() == 2 and Objective.objects.count() == 4
    bad = rules_csv.replace(b"ipqc.fpy", b"nonsense")
    r = c.post(reverse("monitoring:import", args=["rules"]), {"file": SimpleUploadedFile("r.csv", bad)}, follow=True)
    assert AlarmRule.objects.count() == 2 and b"Line 2" in r.content
    qe = login(people["qe"])
    assert (
        qe.post(
            reverse("monitoring:import", args=["rules"]), {"file": SimpleUploadedFile("r.csv", rules_csv)}
        ).status_code
        == 403
    )


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_review_pack_pdf_in_both_languages(people, data, lang):
    from compliance.pdf import render_report_pdf

    pdf, stored = render_report_pdf(key="monitoring.review_pack", params={}, language=lang, user=people["qm"])
    assert pdf.startswith(b"%PDF") and stored.sha256


def test_review_pack_refuses_another_site(people, data, other_site):
    from compliance.pdf import render_report_pdf
    from compliance.reports import ReportError

    with pytest.raises(ReportError):
        render_report_pdf(key="monitoring.review_pack", params={"site": other_site.code}, user=people["qm"])


def test_demo_seed_creates_the_four_rules(db):
    from monitoring.demo import seed_demo
    from qms.core.demo import seed_core

    seed_core()
    seed_demo()
    seed_demo()
    assert AlarmRule.objects.filter(site__code="BRG").count() == 4
    assert Objective.objects.filter(site__code="BRG").count() == 5


def test_pages_in_chinese(login, people, data):
    c = login(people["qm"])
    c.cookies["django_language"] = "zh-hans"
    r = c.get(reverse("monitoring:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "本年度质量目标" in r.content.decode() and "来料不良 ppm" in r.content.decode()
    assert c.get(reverse("monitoring:rules")).status_code == 200
    assert c.get(reverse("monitoring:trends") + "?kpi=ipqc.fpy&dim_key=line&months=99").status_code == 200


def test_csv_export_neutralises_formulas(login, people, site):
    services.alarm_rule_create(site=site, user=people["qm"], name="=HYPERLINK(\"x\")", kpi="ncr.count",
                               window="days", window_size=7, comparator=">", threshold=5)  # fmt: skip
    body = login(people["qm"]).get(reverse("monitoring:export", args=["rules"])).content.decode()
    assert "'=HYPERLINK" in body


def test_review_pack_names_statuses_in_the_readers_language(people, data, site):
    from django.utils import translation

    from monitoring.reports import build_review_pack
    from nonconformance.tests import factories as ncr_f

    ncr = ncr_f.open_ncr(site, people["qe"])
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            pack = build_review_pack({}, people["qm"])
            assert [str(r["label"]) for r in pack["ncr_status"]] == [ncr.get_status_display()]
    assert ncr.get_status_display() != ncr.status
