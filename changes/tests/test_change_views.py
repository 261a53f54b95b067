import re

import pytest
from django.urls import reverse
from django.utils import timezone

from changes import services
from changes.models import ChangeRequest, ChangeStatus, ChangeTask, ImpactItem
from conftest import PASSWORD
from qms.core.models import Role

from .factories import approved, at_board, change, world

pytestmark = pytest.mark.django_db
S = ChangeStatus


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_list_and_detail(site, people, make_user, login, role):
    c = at_board(site, people)
    client = login(make_user(f"r-{role}", roles=[role]))
    assert client.get(reverse("changes:change_list")).status_code == 200
    page = client.get(reverse("changes:change_detail", args=[c.code]))
    assert page.status_code == 200 and c.code in page.content.decode()
    expected = 403 if role == "auditor" else 200
    assert client.get(reverse("changes:change_create")).status_code == expected


def test_other_site_is_refused(site, other_site, people, make_user, login):
    c = at_board(site, people)
    client = login(make_user("qm-else", roles=[Role.QUALITY_MANAGER], sites=[other_site]))
    assert client.get(reverse("changes:change_detail", args=[c.code])).status_code == 404
    r = client.post(reverse("changes:board_sign", args=[c.code]), {"vote": "approve", "password": PASSWORD})
    assert r.status_code == 404
    assert c.code not in client.get(reverse("changes:change_list")).content.decode()
    assert not c.votes.exists()


def test_requester_is_not_offered_the_board_form(site, people, login):
    c = at_board(site, people, requester="qe")
    client = login(people["qe"])
    page = client.get(reverse("changes:board_sign", args=[c.code])).content.decode()
    assert 'name="password"' not in page and "You authored" in page
    r = client.post(
        reverse("changes:board_sign", args=[c.code]),
        {"vote": "approve", "role": "quality_engineer", "username": "qe", "password": PASSWORD},
    )
    assert "You authored" in r.content.decode() and not c.votes.exists()


def test_a_board_member_with_no_waiting_role_is_told_whose_signature_is_awaited(site, people, login):
    """The MRB member holds the board permission but no role of this site's board (quality manager and
    engineer); a quality manager who voted has no role left: neither is offered the form, both read who can."""
    from .factories import credential

    c = at_board(site, people)

    def note(user, url):
        page = login(people[user]).get(url).content.decode()
        assert 'name="password"' not in page
        match = re.search(r'data-decision-refused="change.board_sign">(.*?)</div>', page, re.S)
        return match.group(1) if match else page

    for url in (reverse("changes:change_detail", args=[c.code]), reverse("changes:board_sign", args=[c.code])):
        text = note("eng", url)
        assert "No board role you hold" in text and "Who can act: Qe, Qe2, Qm." in text, text
        assert "Nobody at this site" not in text
    services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="approve")
    text = note("qm", reverse("changes:board_sign", args=[c.code]))
    assert "Who can act: Qe, Qe2." in text, text


def test_the_requesters_refusal_names_only_those_whose_board_role_waits(site, people, login):
    from .factories import credential

    c = at_board(site, people, requester="qe")
    services.change_board_sign(change=c, user=people["qm"], credential=credential(people["qm"]), vote="approve")
    page = login(people["qe"]).get(reverse("changes:board_sign", args=[c.code])).content.decode()
    note = re.search(r'data-decision-refused="change.board_sign">(.*?)</div>', page, re.S).group(1)
    assert "You authored" in note and "Who can act: Qe2." in note and "Qm" not in note, note


def test_hostile_input_gives_messages(site, people, login):
    client = login(people["prod"])
    r = client.post(
        reverse("changes:change_create"), {"site": site.pk, "title": "", "reason": "x" * 9000, "change_type": "nope"}
    )
    assert r.status_code == 200 and not ChangeRequest.objects.exists()
    c = change(site, people)
    services.change_submit(change=c, user=people["prod"])
    qe = login(people["qe"])
    r = qe.post(
        reverse("changes:impact_add", args=[c.code]), {"kind": "operation", "reference": "WO'--/x"}, follow=True
    )
    assert r.status_code == 200 and "No Process" in r.content.decode()
    r = qe.post(reverse("changes:assessment", args=[c.code]), {"summary": ""}, follow=True)
    assert r.status_code == 200
    c.refresh_from_db()
    assert c.status == S.ASSESSMENT


def test_journey_change_impact_board_tasks_effectiveness_closed(site, people, login):
    """change → impact → board approval (e-signed) → tasks (PPAP) → effectiveness (e-signed) → closed,
    with the inspection plan version it produced; report PDF in both languages."""
    from inspection import services as insp
    from inspection.tests.factories import cred

    w = world(site, people)
    prod = login(people["prod"])
    r = prod.post(
        reverse("changes:change_create"),
        {"site": site.pk, "title": "Coolant 5 % → 7 %", "reason": "Grinding burn", "change_type": "process",
         "urgency": "urgent", "part": w["part"].pk, "form_token": "3" * 32},
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    c = ChangeRequest.objects.get()
    assert prod.post(reverse("changes:change_submit", args=[c.code])).status_code == 302
    qe = login(people["qe"])
    assert ImpactItem.objects.filter(change=c, kind="lot", reference="LOT-CHG-1").exists()
    qe.post(reverse("changes:impact_add", args=[c.code]), {"kind": "document", "reference": "WI-GRD-01"})
    qe.post(reverse("changes:assessment", args=[c.code]), {"summary": "Plan FQC gets a burn check", "risk": "foam"})
    c.refresh_from_db()
    assert c.status == S.BOARD
    for who in ("qm", "qe2"):
        client = login(people[who])
        page = client.get(reverse("changes:board_sign", args=[c.code])).content.decode()
        assert 'name="password"' in page
        r = client.post(
            reverse("changes:board_sign", args=[c.code]),
            {"vote": "approve", "role": page.split('name="role"')[1].split('value="')[1].split('"')[0],
             "username": who, "password": PASSWORD},
        )  # fmt: skip
        assert r.status_code == 302, r.content.decode()[-3000:]
    c.refresh_from_db()
    assert c.status == S.IMPLEMENTATION
    ppap = ChangeTask.objects.get(change=c, kind="ppap")
    qe = login(people["qe"])
    qe.post(reverse("changes:task_add", args=[c.code]),
            {"description": "Update WI", "owner": people["prod"].pk, "due_on": timezone.localdate().isoformat()})  # fmt: skip
    task = ChangeTask.objects.get(change=c, kind="general")
    login(people["prod"]).post(reverse("changes:task_complete", args=[task.pk]), {"evidence": "WI rev C"})
    login(people["sqe"]).post(reverse("changes:task_complete", args=[ppap.pk]), {"evidence": "PSW to customer"})
    # the new plan version the change produced
    new_plan = insp.plan_new_version(plan=w["plan"], user=people["qe"])
    new_plan = insp.plan_approve(plan=new_plan, user=people["qm"], credential=cred(people["qm"]))
    qe = login(people["qe"])
    r = qe.post(reverse("changes:output_link", args=[c.code]), {"plan": new_plan.pk})
    assert c.outputs.get().plan == new_plan
    qe.post(
        reverse("changes:implemented", args=[c.code]),
        {"criteria": "No burn", "check_due_on": timezone.localdate().isoformat()},
    )
    c.refresh_from_db()
    check = c.checks.get()
    # the task owner may not verify
    page = login(people["prod"]).get(reverse("changes:change_detail", args=[c.code])).content.decode()
    assert reverse("changes:effectiveness", args=[check.pk]) not in page
    qm = login(people["qm"])
    r = qm.post(reverse("changes:effectiveness", args=[check.pk]),
                {"result": "effective", "evidence": "3 lots ok", "username": "qm", "password": PASSWORD})  # fmt: skip
    assert r.status_code == 302
    login(people["qe"]).post(reverse("changes:change_close", args=[c.code]), {"reason": "done"})
    c.refresh_from_db()
    assert c.status == S.CLOSED
    page = login(people["auditor"]).get(reverse("changes:change_detail", args=[c.code])).content.decode()
    assert f"v{new_plan.version}" in page
    for lang in ("en", "zh-hans"):
        r = qm.get(reverse("compliance:report_pdf", args=["changes.change"]) + f"?change={c.code}&lang={lang}")
        assert r.status_code == 200 and r.content[:4] == b"%PDF"


def test_approved_change_shows_ppap_request_button_for_supplier_changes(site, people, login):
    w = world(site, people)
    c = approved(site, people, part=w["part"], change_type="supplier", supplier=w["supplier"])
    task = c.tasks.get(kind="ppap")
    client = login(people["sqe"])
    assert (
        reverse("changes:task_ppap", args=[task.pk])
        in client.get(reverse("changes:change_detail", args=[c.code])).content.decode()
    )
    assert client.post(reverse("changes:task_ppap", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.ppap is not None
