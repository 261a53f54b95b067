"""SPC where the work is: a characteristic's chart from recorded inspections, limits frozen by an e-signed
decision (Phase I -> II), an alarm (and a line stop on a critical characteristic) when a new subgroup breaks a
Nelson rule, the capability report, site isolation and constant queries."""

import uuid
from pathlib import Path

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.signatures import signature_is_valid, signatures_for
from conftest import PASSWORD
from inspection import services, spc
from inspection.models import Characteristic, ControlLimits, LimitsStatus, LineStop, Special, Stage
from inspection.spc_charts import spc_chart
from inspection.spc_services import SpcDecisionError, control_limits_freeze, spc_evaluate_inspection
from qms.core.audit import audit_context
from qms.core.models import Notification, Role

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ipqc_plan(site, people):
    p = f.part("SPC-1")
    chars = [{"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 4}]
    return f.plan(
        site, p, people["qe"], people["qm"], stage=Stage.IPQC, scheme="fixed", fixed_sample_size=5, aql="", chars=chars
    )


def _subgroup(plan, user, values):
    insp = services.inspection_create(stage=Stage.IPQC, plan=plan, lot_size=len(values), user=user)
    char = plan.characteristics.get()
    rows = [{"characteristic": char.pk, "sample_no": n, "raw": f"{v:.4f}"} for n, v in enumerate(values, start=1)]
    services.measurements_record(inspection=insp, values=rows, submission_key=uuid.uuid4(), user=user)
    return services.inspection_complete(inspection=insp, user=user, credential=f.cred(user))


def _baseline(plan, user, count=25, seed=1):
    rng = np.random.default_rng(seed)
    data = rng.normal(10.0, 0.003, size=(count, 5)).round(4)
    return [_subgroup(plan, user, row) for row in data], data


def test_trial_chart_uses_the_recorded_subgroups(ipqc_plan, people):
    _, data = _baseline(ipqc_plan, people["inspector"])
    chart = spc_chart(ipqc_plan.characteristics.get())
    assert chart.is_trial and chart.kind == "xbar_r" and chart.subgroup_size == 5
    expected, _r = spc.xbar_r_limits(data.tolist())
    assert chart.location.center[0] == pytest.approx(expected.center)
    assert chart.location.ucl[0] == pytest.approx(expected.ucl)
    assert len(chart.subgroups) == 25


def test_freeze_is_signed_and_a_new_freeze_supersedes(ipqc_plan, people):
    insps, _ = _baseline(ipqc_plan, people["inspector"])
    char = ipqc_plan.characteristics.get()
    with pytest.raises(Exception):  # the inspector holds no freezing authority
        control_limits_freeze(
            characteristic=char, user=people["inspector"], credential=f.cred(people["inspector"]), reason="x"
        )
    with pytest.raises(SpcDecisionError, match="reason for each excluded point"):
        control_limits_freeze(
            characteristic=char, user=people["qe"], credential=f.cred(people["qe"]), reason="baseline",
            excluded={insps[0].code: ""},
        )  # fmt: skip
    assert not ControlLimits.objects.exists()
    first = control_limits_freeze(
        characteristic=char, user=people["qe"], credential=f.cred(people["qe"]), reason="baseline",
        excluded={insps[0].code: "gauge dropped"}, rules=[1, 2, 3, 5, 6],
    )  # fmt: skip
    assert first.baseline_subgroups == 24 and first.rules == "1,2,3,5,6"
    assert first.excluded == [{"inspection": insps[0].code, "reason": "gauge dropped"}]
    [sig] = signatures_for(first)
    assert sig.meaning == "approved" and signature_is_valid(sig, first)
    second = control_limits_freeze(
        characteristic=char, user=people["qm"], credential=f.cred(people["qm"]), reason="tool change"
    )
    first.refresh_from_db()
    assert first.status == LimitsStatus.SUPERSEDED and second.status == LimitsStatus.FROZEN
    chart = spc_chart(char)
    assert chart.in_force == second and [s.pk for s in chart.limits] == [first.pk, second.pk]


def test_a_drifting_process_raises_an_alarm_once_and_stops_the_line_on_a_critical_characteristic(ipqc_plan, people):
    _baseline(ipqc_plan, people["inspector"])
    char = ipqc_plan.characteristics.get()
    with audit_context(reason="test: mark critical"):
        char.special = Special.CC
        char.save()
    control_limits_freeze(characteristic=char, user=people["qe"], credential=f.cred(people["qe"]), reason="baseline")
    ok = _subgroup(ipqc_plan, people["inspector"], [10.0, 10.001, 9.999, 10.0, 10.002])
    assert spc_evaluate_inspection(inspection_id=ok.pk) == []
    # still inside the specification (10 +/- 0.02), far outside the control limits: a signal before scrap
    drift = _subgroup(ipqc_plan, people["inspector"], [10.011, 10.012, 10.01, 10.013, 10.011])
    assert drift.status == "accepted"
    assert (char.pk, 1) in spc_evaluate_inspection(inspection_id=drift.pk)
    alarms = Notification.objects.filter(subject__contains="SPC", recipient=people["qe"])
    assert alarms.count() == 1
    assert LineStop.objects.filter(inspection=drift).count() == 1
    assert Notification.objects.filter(subject__contains="SPC", recipient=people["supervisor"]).exists()
    spc_evaluate_inspection(inspection_id=drift.pk)  # retried job: nothing twice
    assert alarms.count() == 1 and LineStop.objects.filter(inspection=drift).count() == 1


def test_chart_page_freeze_form_and_refusals(ipqc_plan, people, login, make_user, other_site):
    insps, _ = _baseline(ipqc_plan, people["inspector"], count=6)
    char = ipqc_plan.characteristics.get()
    url = reverse("inspection:spc_chart", args=[char.pk])
    client = login(people["auditor"])
    page = client.get(url)
    assert page.status_code == 200 and b"<svg" in page.content and b"Sign and freeze" not in page.content
    assert client.post(reverse("inspection:spc_freeze", args=[char.pk]), {}).status_code == 403
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b'id="spc-chart"' in partial.content
    stranger = make_user("food-qe", roles=[Role.QUALITY_ENGINEER], sites=[other_site])
    assert login(stranger).get(url).status_code == 404
    assert login(stranger).post(reverse("inspection:spc_freeze", args=[char.pk]), {}).status_code in (403, 404)
    qe = login(people["qe"])
    page = qe.get(url)
    assert b"Sign and freeze" in page.content
    bad = qe.post(
        reverse("inspection:spc_freeze", args=[char.pk]),
        {"username": "qe", "password": PASSWORD, "reason": "baseline", "rules": ["1"], "excluded": "no colon here"},
    )
    assert bad.status_code == 200 and b"colon" in bad.content and not ControlLimits.objects.exists()
    done = qe.post(
        reverse("inspection:spc_freeze", args=[char.pk]),
        {
            "username": "qe",
            "password": PASSWORD,
            "reason": "baseline",
            "rules": ["1", "2", "3", "5"],
            "excluded": f"{insps[1].code}: setter adjusted",
        },
    )
    assert done.status_code == 302
    limits = ControlLimits.objects.get()
    # the same form sent again (double click, retry) freezes nothing new
    token = "0" * 31 + "1"
    payload = {"username": "qe", "password": PASSWORD, "reason": "again", "rules": ["1"], "form_token": token}
    assert qe.post(reverse("inspection:spc_freeze", args=[char.pk]), payload).status_code == 302
    assert qe.post(reverse("inspection:spc_freeze", args=[char.pk]), payload).status_code == 302
    assert ControlLimits.objects.count() == 2  # the first send superseded the set above; the repeat did nothing
    assert limits.baseline_subgroups == 5 and limits.frozen_by == people["qe"]
    assert b"Frozen limits (Phase II)" in qe.get(url).content


def test_capability_report_pdf(ipqc_plan, people, login):
    _baseline(ipqc_plan, people["inspector"], count=8)
    char = ipqc_plan.characteristics.get()
    response = login(people["qe"]).get(
        reverse("compliance:report_pdf", args=["inspection.capability"]) + f"?characteristic={char.pk}&lang=zh-hans"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    artifacts = Path(__file__).resolve().parents[2] / "tests" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "capability_report_zh.pdf").write_bytes(response.content)  # for a look by eye
    missing = login(people["qe"]).get(reverse("compliance:report_pdf", args=["inspection.capability"]))
    assert missing.status_code == 400


def test_chart_queries_do_not_grow_with_the_data(ipqc_plan, people, login):
    char = ipqc_plan.characteristics.get()
    client = login(people["qe"])
    url = reverse("inspection:spc_chart", args=[char.pk])
    _baseline(ipqc_plan, people["inspector"], count=4, seed=2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    _baseline(ipqc_plan, people["inspector"], count=12, seed=3)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert len(many) == len(few)


def test_process_parameter_chart(site, other_site, people, login, make_user):
    import datetime

    from django.utils import timezone

    from traceability.services import production_record_create, work_order_create

    p = f.part("WELD-1")
    wo = work_order_create(site=site, part=p, operations=("Welding",), user=None)
    start = timezone.now() - datetime.timedelta(hours=30)
    temps = [231.0, 232.5, 230.8, 231.9, 232.2, 231.1, 231.7, 232.0, 231.3, 231.8] * 2 + [245.0, 231.6]
    for hour, temp in enumerate(temps):
        production_record_create(
            work_order=wo, user=people["supervisor"], started_at=start + datetime.timedelta(hours=hour),
            parameters=[{"name": "Weld temperature", "value": temp, "unit": "°C", "lower_limit": 220, "upper_limit": 240}],
        )  # fmt: skip
    client = login(people["qe"])
    listing = client.get(reverse("inspection:spc_parameters"))
    assert listing.status_code == 200 and b"Weld temperature" in listing.content
    url = reverse("inspection:spc_parameter") + f"?part={p.pk}&name=Weld+temperature"
    page = client.get(url)
    assert page.status_code == 200 and b"<svg" in page.content
    assert page.context["chart"].location.violations.get(20) == [1]  # 245 degC: beyond 3 sigma
    assert page.context["capability"] is not None
    stranger = make_user("food-qe2", roles=[Role.QUALITY_ENGINEER], sites=[other_site])
    assert login(stranger).get(url).status_code == 404
    assert b"Weld temperature" not in login(stranger).get(reverse("inspection:spc_parameters")).content
    assert client.get(reverse("inspection:spc_parameter") + "?part=x").status_code == 404


def test_capability_studies_feed_ppap_element_11(site, people, login, make_user):
    from suppliers import services as supplier_services
    from suppliers.tests.factories import approved_supplier

    sqe = make_user("sqe-spc", roles=[Role.SUPPLIER_QUALITY_ENGINEER])
    p = f.part("PPAP-SPC")
    f.plan(site, p, people["qe"], people["qm"], stage=Stage.FAI, scheme="fixed", fixed_sample_size=1, aql="")
    supplier = approved_supplier(sqe, site)
    sub = supplier_services.ppap_create(supplier=supplier, part=p, level=3, reason="initial", user=sqe)
    page = login(sqe).get(reverse("suppliers:ppap_detail", args=[sub.pk]))
    assert page.status_code == 200
    char = Characteristic.objects.get(plan__part=p)
    assert page.context["evidence"][11][0].url.endswith(f"characteristic={char.pk}")
    assert b"Bore" in page.content
