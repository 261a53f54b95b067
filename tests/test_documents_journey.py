"""Issue 15, the auditor's question: "show me the SOP in force on 3 March, who approved it, who was trained on
it before signing a release that day". Every step goes through the services at the time it happened
(time-machine); the answer is read from the pages, as the auditor would."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from documents import services as doc_services
from documents.models import TrainingTask
from documents.tests import factories as doc_f
from inspection import services as insp_services
from inspection.models import Stage
from inspection.tests import factories as insp_f
from qms.core.models import Role

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 10):
    return time_machine.travel(timezone.make_aware(datetime.datetime.fromisoformat(day).replace(hour=hour)), tick=False)


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Anna QE"),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Li QM"),
        "trained": make_user("trained", roles=[Role.QUALITY_MANAGER], display_name="Trained Releaser"),
        "untrained": make_user("untrained", roles=[Role.QUALITY_MANAGER], display_name="Untrained Releaser"),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Wang Sup"),
        "inspector": make_user("insp", roles=[Role.INSPECTOR], display_name="Zhang Insp"),
        "auditor": make_user("aud", roles=[Role.AUDITOR], display_name="Auditor"),
    }


def accepted_lot(site, plan, inspector, code):
    lot = insp_f.lot(site, plan.part, 50, code=code)
    insp = insp_services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=inspector)
    insp_f.fill(insp, inspector)
    insp_services.inspection_complete(inspection=insp, user=inspector, credential=insp_f.cred(inspector))
    return lot


def test_sop_in_force_on_3_march_who_approved_it_and_who_was_trained_before_releasing(site, people, login):
    with at("2026-01-05"):
        sop = doc_f.document(site, people, title="Lot release", training_roles=[Role.QUALITY_MANAGER])
        v1 = doc_f.effective(sop, people)
        doc_services.site_setting_save(
            site=site, user=people["qm"], gate_mode="warn", review_reminder_days=30, rules={"lot.release": sop},
            reason="lot release needs the release SOP",
        )  # fmt: skip
        plan = insp_f.plan(
            site, insp_f.part("FG-3"), people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed",
            fixed_sample_size=2, aql="",
        )  # fmt: skip
    with at("2026-02-20"):
        task = TrainingTask.objects.get(user=people["trained"], version=v1)
        doc_services.training_acknowledge(task=task, user=people["trained"], credential=doc_f.cred(people["trained"]))
    with at("2026-03-03", 9):
        lot_a = accepted_lot(site, plan, people["inspector"], "LOT-0303-A")
        insp_services.lot_release_sign(lot=lot_a, user=people["trained"], credential=insp_f.cred(people["trained"]))
    with at("2026-03-03", 15):
        lot_b = accepted_lot(site, plan, people["inspector"], "LOT-0303-B")
        insp_services.lot_release_sign(
            lot=lot_b, user=people["untrained"], credential=insp_f.cred(people["untrained"])
        )  # warn mode: recorded, with the warning
    with at("2026-03-05"):
        task = TrainingTask.objects.get(user=people["untrained"], version=v1)
        doc_services.training_acknowledge(
            task=task, user=people["untrained"], credential=doc_f.cred(people["untrained"])
        )
    with at("2026-04-01"):
        v2 = doc_f.effective(sop, people)

    client = login(people["auditor"])
    # 1. the SOP in force on 3 March, and who reviewed / approved it
    page = client.get(reverse("documents:detail", args=[sop.pk]), {"on": "2026-03-03"}).content.decode()
    assert f'data-in-force="{v1.label}"' in page and f'data-in-force="{v2.label}"' not in page
    answer = page[page.index('id="on-date"') :]
    assert "Li QM" in answer and "Approved" in answer and "Wang Sup" in answer and "Reviewed" in answer
    # 2. who was trained on it before signing a release that day
    gated = answer[answer.index("Lot release signatures") :]
    trained_row = gated[gated.index("Trained Releaser") - 200 : gated.index("Trained Releaser") + 400]
    untrained_row = gated[gated.index("Untrained Releaser") - 200 : gated.index("Untrained Releaser") + 400]
    assert "2026-03-03 09:" in trained_row and "pill-ok" in trained_row and "2026-02-20" in trained_row
    assert "2026-03-03 15:" in untrained_row and "pill-bad" in untrained_row
    # the training record page answers the same from the records: trained by the end of 3 March
    records = client.get(
        reverse("documents:training_records"), {"site": site.pk, "document": sop.pk, "on": "2026-03-03"}
    ).content.decode()
    assert "Trained Releaser" in records and "Untrained Releaser" not in records
    # today the version in force is v2, and v1 is in the history
    page = client.get(reverse("documents:detail", args=[sop.pk]) + "?history=1").content.decode()
    assert reverse("documents:version", args=[v1.pk]) in page and "Superseded" in page


def test_a_superseded_version_names_the_change_that_replaced_it(site, people, login):
    """The last part of the auditor's question: "and the change that replaced it" — from the old version's
    page, the version that took its place and the change (change control) that produced it, one click each."""
    from changes import services as chg

    sop = doc_f.document(site, people, title="Lot release", training_roles=[Role.QUALITY_MANAGER])
    v1 = doc_f.effective(sop, people)
    change = chg.change_request_create(
        site=site, title="Release SOP: add the training gate", reason="audit finding", change_type="document",
        user=people["sup"],
    )  # fmt: skip
    chg.change_submit(change=change, user=people["sup"])
    chg.impact_add(change=change, kind="document", reference=sop.number, user=people["qe"])
    change = chg.assessment_complete(change=change, user=people["qe"], summary="the release SOP")
    for who in ("qm", "qe"):
        chg.change_board_sign(change=change, user=people[who], credential=doc_f.cred(people[who]), vote="approve")
    v2 = doc_f.effective(sop, people)
    chg.change_output_link(change=change, user=people["qe"], document_version=v2)

    client = login(people["auditor"])
    old = client.get(reverse("documents:version", args=[v1.pk])).content.decode()
    replaced = old[old.index("data-replaced-by") :]
    replaced = replaced[: replaced.index("</dd>")]
    assert reverse("documents:version", args=[v2.pk]) in replaced
    assert change.code in replaced and reverse("changes:change_detail", args=[change.code]) in replaced
    new = client.get(reverse("documents:version", args=[v2.pk])).content.decode()
    produced = new[new.index("data-produced-by") :]
    assert change.code in produced[: produced.index("</dd>")]
    assert "data-replaced-by" not in new  # the version in force has no successor yet
