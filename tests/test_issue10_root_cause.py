"""Issue 10: the complaint's root-cause view shows, per traced lot, its inspections (the lot's own and those
of the work order that made it), NCRs, earlier complaints and CAPAs, in a constant number of queries;
"Start a recall" lands on the recall."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from capa import services as capa_services
from inspection import services as insp_services
from inspection.models import Stage
from inspection.tests import factories as insp_f
from nonconformance import services
from nonconformance.tests import factories as f
from nonconformance.tests.test_views_and_reports import _traced_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    from qms.core.models import Role

    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER]),
        "prod": make_user("prod", roles=[Role.PRODUCTION_SUPERVISOR]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
    }


def _history(site, people):
    from traceability.models import Lot

    complaint, old_ncr = _traced_complaint(site, people)
    raw = Lot.objects.get(code="RAW-1")
    fg = Lot.objects.get(code="FG-LOT-1")
    iqc_plan = insp_f.plan(site, raw.part, people["qe"], people["qm"])
    iqc = insp_services.inspection_create(stage=Stage.IQC, plan=iqc_plan, lot=raw, user=people["qe"])
    fai_plan = insp_f.plan(site, fg.part, people["qe"], people["qm"], stage=Stage.FAI)
    fai = insp_services.inspection_create(
        stage=Stage.FAI, plan=fai_plan, work_order=fg.work_order, lot_size=1, user=people["qe"]
    )
    earlier = services.complaint_create(
        site=site, customer=f.customer("C-OLD"), part=fg.part, lot=fg, title="Old noise", description="noisy",
        response_due_on=timezone.localdate() + datetime.timedelta(days=3), user=people["qm"],
    )  # fmt: skip
    capa_a = capa_services.capa_create(
        site=site, title="Heat treat", owner=people["qe"], user=people["qm"], complaint=earlier
    )
    capa_b = capa_services.capa_create(site=site, title="Steel", owner=people["qe"], user=people["qm"], ncr=old_ncr)
    return complaint, old_ncr, iqc, fai, earlier, capa_a, capa_b


def test_every_traced_lot_shows_its_inspections_ncrs_complaints_and_capas(site, people, login):
    complaint, old_ncr, iqc, fai, earlier, capa_a, capa_b = _history(site, people)
    response = login(people["qe"]).get(reverse("nonconformance:complaint_detail", args=[complaint.code]))
    assert response.status_code == 200
    rows = {r["lot"].code: r for r in response.context["view"]["rows"]}
    assert [i["code"] for i in rows["RAW-1"]["inspections"]] == [iqc.code]
    assert [i["code"] for i in rows["FG-LOT-1"]["inspections"]] == [fai.code]  # the work order's FAI
    assert [n["code"] for n in rows["RAW-1"]["ncrs"]] == [old_ncr.code]
    assert [c["code"] for c in rows["FG-LOT-1"]["complaints"]] == [earlier.code]
    assert complaint.code not in [c["code"] for r in rows.values() for c in r["complaints"]]
    assert [c["code"] for c in rows["FG-LOT-1"]["capas"]] == [capa_a.code]
    assert [c["code"] for c in rows["RAW-1"]["capas"]] == [capa_b.code]
    body = response.content.decode()
    for code in (iqc.code, fai.code, earlier.code, capa_a.code, capa_b.code):
        assert code in body, code


def test_root_cause_view_runs_a_constant_number_of_queries(site, people):
    from nonconformance.selectors import root_cause_view
    from traceability.models import Lot

    complaint, *_ = _history(site, people)
    with CaptureQueriesContext(connection) as small:
        root_cause_view(complaint, site_ids={site.pk})
    # ten more raw lots, each with an IQC and an NCR, all consumed into the finished lot
    fg = Lot.objects.get(code="FG-LOT-1")
    plan = insp_f.plan(site, f.part("ST-9"), people["qe"], people["qm"])
    for i in range(10):
        raw = f.lot(site, plan.part, code=f"RAW-X{i}", status="released")
        f.link(raw, fg, 1)
        insp_services.inspection_create(stage=Stage.IQC, plan=plan, lot=raw, user=people["qe"])
        f.open_ncr(site, people["qe"], lots=[raw])
    with CaptureQueriesContext(connection) as large:
        view = root_cause_view(complaint, site_ids={site.pk})
    assert len(view["rows"]) == 12
    assert len(large.captured_queries) == len(small.captured_queries)


def test_other_sites_records_are_not_listed(site, other_site, people, login):
    complaint, old_ncr, *_ = _history(site, people)
    from nonconformance.selectors import root_cause_view

    view = root_cause_view(complaint, site_ids={other_site.pk})
    assert not any(r["ncrs"] or r["complaints"] or r["capas"] for r in view["rows"])


def test_start_a_recall_lands_on_the_recall(site, people, login):
    from traceability.models import Recall

    complaint, _ncr = _traced_complaint(site, people)
    response = login(people["qm"]).post(
        reverse("nonconformance:complaint_recall", args=[complaint.code]), {"reason": "Noise at customer"}
    )
    recall = Recall.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("traceability:recall", args=[recall.code])
