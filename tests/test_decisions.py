"""Issue 9: one door per decision, segregation of duties, per-site authority, pages that never offer a
form the user would be refused. Each defect reported in the issue is a test here."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import PASSWORD
from inspection.models import LotRelease, Stage
from inspection.tests import factories as insp_f
from qms.core import policy
from qms.core.audit import audit_context
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import DecisionAuthority, Industry, Role, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Qe"),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Qm"),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
    }


def fqc_accepted_by(site, people, inspector):
    """A finished lot whose FQC `inspector` performed and accepted (plan by the QE, approved by the QM)."""
    from inspection import services

    p = insp_f.part("FG-9")
    plan = insp_f.plan(
        site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql=""
    )
    lot = insp_f.lot(site, p, 50, code="FG-LOT-9")
    insp = services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=inspector)
    insp_f.fill(insp, inspector)
    services.inspection_complete(inspection=insp, user=inspector, credential=insp_f.cred(inspector))
    return lot


# --- one door for release --------------------------------------------------------------------------------


def test_lot_page_release_is_not_a_door(site, people, login):
    """Issue 9: released from the lot page (a reason only, no signature, no release record) by the QE who
    had just performed its FQC."""
    lot = fqc_accepted_by(site, people, people["qe"])
    client = login(people["qe"])
    response = client.post(reverse("traceability:lot_action", args=[lot.code, "release"]), {"reason": "ok"})
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.status == "quarantine" and not LotRelease.objects.exists()
    page = client.get(reverse("traceability:lot", args=[lot.code])).content.decode()
    assert reverse("traceability:lot_action", args=[lot.code, "release"]) not in page
    assert reverse("inspection:release", args=[lot.code]) in page


def test_signed_release_page_refuses_the_inspector_names_who_can_and_never_releases_twice(site, people, login):
    lot = fqc_accepted_by(site, people, people["qe"])
    url = reverse("inspection:release", args=[lot.code])
    client = login(people["qe"])
    page = client.get(url).content.decode()
    assert 'name="password"' not in page  # no form the QE would be refused
    assert "You inspected lot FG-LOT-9" in page and "Who can act: Qm" in page, page[page.find("<main") :]
    response = client.post(url, {"username": "qe", "password": PASSWORD, "reason": "mine"})
    assert "You inspected lot FG-LOT-9" in response.content.decode()
    assert not LotRelease.objects.exists()

    client = login(people["qm"])
    assert 'name="password"' in client.get(url).content.decode()
    assert client.post(url, {"username": "qm", "password": PASSWORD, "reason": "ok"}).status_code == 302
    lot.refresh_from_db()
    assert lot.status == "released"
    response = client.post(url, {"username": "qm", "password": PASSWORD, "reason": "again"})
    assert LotRelease.objects.filter(lot=lot).count() == 1
    assert 'name="password"' not in client.get(url).content.decode()


def test_release_by_the_author_of_the_plan_is_refused(site, people):
    from inspection.services import lot_release_sign

    lot = fqc_accepted_by(site, people, people["inspector"])
    with pytest.raises(PermissionRefused, match="You authored"):
        lot_release_sign(lot=lot, user=people["qe"], credential=insp_f.cred(people["qe"]))
    with pytest.raises(PermissionRefused, match="Sign with your own password"):
        lot_release_sign(lot=lot, user=people["qm"], credential=insp_f.cred(people["qe"]))


def test_release_at_another_site_is_refused(site, other_site, people, make_user):
    from inspection.services import lot_release_sign

    lot = fqc_accepted_by(site, people, people["inspector"])
    elsewhere = make_user("qm-else", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    with pytest.raises(PermissionRefused, match="authority"):
        lot_release_sign(lot=lot, user=elsewhere, credential=insp_f.cred(elsewhere))
    lot.refresh_from_db()
    assert lot.status == "quarantine"


def test_the_status_step_refuses_without_a_release_signature(site, people):
    from compliance.signatures import signature_record
    from traceability.services import lot_status_release

    lot = fqc_accepted_by(site, people, people["inspector"])
    with pytest.raises(DomainError, match="e-signed release"):
        lot_status_release(lot=lot, user=people["qm"], reason="x", signature=None)
    # someone else's signature, or one of another meaning, is no release either
    with audit_context(user=people["qm"], reason="test"):
        other = signature_record(credential=insp_f.cred(people["qe"]), instance=lot, meaning="released")
        approved = signature_record(credential=insp_f.cred(people["qm"]), instance=lot, meaning="approved")
    for sig in (other, approved):
        with pytest.raises(DomainError, match="own signature"):
            lot_status_release(lot=lot, user=people["qm"], reason="x", signature=sig)
    lot.refresh_from_db()
    assert lot.status == "quarantine"


# --- automatic release --------------------------------------------------------------------------------------


def test_automatic_release_is_off_by_default_and_never_on_gmp_sites(site, people):
    assert site.auto_release_after_iqc is False
    pharma = Site(code="PH", name="Pharma", industry=Industry.PHARMA, auto_release_after_iqc=True)
    with pytest.raises(ValidationError, match="GMP"):
        pharma.full_clean()
    gmp = Site(code="QA", name="QA release", industry=Industry.FOOD, requires_qa_release=True)
    gmp.auto_release_after_iqc = True
    with pytest.raises(ValidationError):
        gmp.full_clean()


def _accepted_iqc(site, people):
    from inspection import services
    from inspection.models import Inspection

    p = insp_f.part("RM-A")
    insp_f.plan(site, p, people["qe"], people["qm"])
    lot = insp_f.lot(site, p, 20, sup=insp_f.supplier())
    insp = services.iqc_create_for_lot(lot=lot)
    insp_f.fill(insp, people["inspector"])
    services.inspection_complete(inspection=insp, user=people["inspector"], credential=insp_f.cred(people["inspector"]))
    return lot, Inspection.objects.get(pk=insp.pk)


def test_automatic_release_refused_where_the_site_does_not_permit_it(site, people, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_auto

    with django_capture_on_commit_callbacks(execute=True):
        lot, insp = _accepted_iqc(site, people)
    lot.refresh_from_db()
    assert lot.status == "quarantine" and not LotRelease.objects.exists()
    with pytest.raises(DomainError, match="does not permit automatic release"):
        lot_release_auto(inspection=insp)
    # a pharma site saved past clean() (e.g. by a script) is still refused by the service
    with audit_context(reason="test"):
        site.industry, site.auto_release_after_iqc = Industry.PHARMA, True
        site.save()
    with pytest.raises(DomainError, match="does not permit automatic release"):
        lot_release_auto(inspection=insp)
    lot.refresh_from_db()
    assert lot.status == "quarantine"


def test_the_system_actor_cannot_sign_in(db):
    from django.contrib.auth import authenticate

    from qms.core.services import is_system_actor, system_actor

    actor = system_actor()
    assert actor.pk == system_actor().pk and is_system_actor(actor)
    assert not actor.has_usable_password() and not actor.memberships.exists()
    assert authenticate(username="system", password="") is None


# --- holds follow their cause --------------------------------------------------------------------------------


def test_a_hold_of_an_ncr_cannot_be_lifted_by_hand(site, people, login):
    from traceability.models import LotHold
    from traceability.services import lot_hold_place

    lot = insp_f.lot(site, insp_f.part("H-1"), 10)
    hold = lot_hold_place(lot=lot, source="ncr", reference="NCR-7", reason="bad", user=people["qe"])
    client = login(people["qm"])
    client.post(reverse("traceability:lot_action", args=[lot.code, "lift"]), {"hold": hold.pk, "reason": "fine"})
    assert LotHold.objects.get(pk=hold.pk).lifted_at is None
    manual = lot_hold_place(lot=lot, source="manual", reason="check", user=people["qe"])
    client.post(reverse("traceability:lot_action", args=[lot.code, "lift"]), {"hold": manual.pk, "reason": "ok"})
    assert LotHold.objects.get(pk=manual.pk).lifted_at is not None
    # a manual hold needs the hold authority
    with pytest.raises(PermissionRefused):
        lot_hold_place(lot=lot, source="manual", reason="mine", user=people["inspector"])
    # a hold placed on the page is manual: one posing as an NCR's (that nothing could lift) is refused
    url = reverse("traceability:lot_action", args=[lot.code, "hold"])
    client.post(url, {"source": "ncr", "reference": "NCR-8", "reason": "suspect"})
    assert not LotHold.objects.filter(lot=lot, source="ncr", reference="NCR-8").exists()
    client.post(url, {"source": "manual", "reference": "NCR-8", "reason": "suspect"})
    assert LotHold.objects.get(lot=lot, reference="NCR-8").source == "manual"


# --- recalls: per-site authority, auditor reads ------------------------------------------------------------


def _recall(site, starter):
    from traceability.services import recall_start

    lot = insp_f.lot(site, insp_f.part("R-1"), 10, code="LOT-R1")
    return recall_start(lot=lot, user=starter, reason="suspect weld")


def test_one_quality_manager_plant_page_does_not_offer_a_form_it_would_refuse(site, people, login):
    """Issue 9: only a QM other than the starter may approve; the form was offered, then refused."""
    recall = _recall(site, people["qm"])
    url = reverse("traceability:recall", args=[recall.code])
    page = login(people["qm"]).get(url).content.decode()
    assert 'value="approve"' not in page
    assert "You authored this recall" in page and "Nobody at this site can take this decision yet" in page
    # the administrator gives the QE (a deputy) the recall approval authority at this plant
    with audit_context(reason="deputy for recalls"):
        DecisionAuthority.objects.create(site=site, decision="recall.approve", role=Role.QUALITY_ENGINEER)
    page = login(people["qm"]).get(url).content.decode()
    assert "Who can act: Qe" in page
    client = login(people["qe"])
    assert 'value="approve"' in client.get(url).content.decode()
    response = client.post(url, {"action": "approve", "username": "qe", "password": PASSWORD, "reason": "go"})
    assert response.status_code == 302
    recall.refresh_from_db()
    assert recall.status == "approved"


def test_decision_authority_is_per_site(site, other_site, make_user):
    with audit_context(reason="test"):
        DecisionAuthority.objects.create(site=site, decision="recall.approve", role=Role.QUALITY_ENGINEER)
    qe = make_user("qe2", roles=[Role.QUALITY_ENGINEER], sites=[site, other_site])
    qm = make_user("qm2", roles=[Role.QUALITY_MANAGER], sites=[site, other_site])
    assert policy.can_decide(qe, "recall.approve", site) and not policy.can_decide(qm, "recall.approve", site)
    assert policy.can_decide(qm, "recall.approve", other_site) and not policy.can_decide(
        qe, "recall.approve", other_site
    )
    bad = DecisionAuthority(site=site, decision="recall.approve", role=Role.AUDITOR)
    with pytest.raises(ValidationError):
        bad.full_clean()
    with pytest.raises(ValidationError):
        DecisionAuthority(site=site, decision="no.such", role=Role.QUALITY_MANAGER).full_clean()


def test_auditor_reads_recalls_but_cannot_act(site, people, login):
    recall = _recall(site, people["qe"])
    client = login(people["auditor"])
    assert client.get(reverse("traceability:recalls")).status_code == 200
    page = client.get(reverse("traceability:recall", args=[recall.code]))
    assert page.status_code == 200 and 'value="approve"' not in page.content.decode()
    assert 'value="refresh"' not in page.content.decode()
    assert client.post(reverse("traceability:recall", args=[recall.code]), {"action": "refresh"}).status_code == 403
    assert client.post(reverse("traceability:recalls"), {"lot_code": "LOT-R1", "reason": "x"}).status_code == 403


# --- every decision refused to every wrong role, and to the auditor ----------------------------------------


@pytest.mark.parametrize("decision", sorted(policy.DECISIONS))
def test_every_decision_refused_to_every_role_without_authority(site, make_user, decision):
    allowed = policy.decision_roles(decision, site)
    assert Role.AUDITOR not in allowed
    for role in set(Role.values) - allowed:
        user = make_user(f"u-{role}", roles=[role])
        assert not policy.can_decide(user, decision, site)
        with pytest.raises(PermissionRefused):
            policy.check_decide(user, decision, site)
    for role in allowed:
        user = make_user(f"ok-{role}", roles=[role])
        assert policy.can_decide(user, decision, site)
        for part in policy.DECISIONS[decision].barred:  # ... unless they played a barring part
            with pytest.raises(PermissionRefused, match=str(policy.INVOLVEMENT_LABELS[part])):
                policy.check_decide(user, decision, site, involved={part: {user.pk}})


# --- the decisions page cannot drift from the code ------------------------------------------------------------


def _doc_rows():
    text = (Path(settings.BASE_DIR) / "docs" / "decisions.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and re.fullmatch(r"`[a-z_.]+`", cells[0]) and cells[0] != "`decision`":
            rows[cells[0].strip("`")] = cells
    return rows


def test_docs_decisions_lists_every_decision_with_its_door_and_rule():
    import importlib

    for app in ("traceability", "inspection", "nonconformance", "suppliers", "capa"):
        importlib.import_module(f"{app}.services")
    rows = _doc_rows()
    assert set(rows) == set(policy.DECISIONS) == set(policy.DOORS)
    for key, spec in policy.DECISIONS.items():
        door, perm, barred, meaning = rows[key][1].strip("`"), rows[key][2].strip("`"), rows[key][3], rows[key][4]
        assert door == spec.door == policy.DOORS[key], key
        assert perm == spec.perm, key
        assert {b.strip() for b in barred.split(",") if b.strip() and b.strip() != "—"} == set(spec.barred), key
        assert (meaning.strip("`") if meaning != "—" else "") == spec.meaning, key


# --- the admin is no second door -----------------------------------------------------------------------------


def test_admin_never_edits_a_status_or_decision_field(rf, make_user):
    from django.contrib import admin

    superuser = make_user("root", roles=[Role.ADMINISTRATOR], is_superuser=True, is_staff=True)
    request = rf.get("/admin/")
    request.user = superuser
    checked = 0
    for model, model_admin in admin.site._registry.items():
        names = {f.name for f in model._meta.get_fields()}
        decision_fields = names & {"status", "released_by", "approved_by", "executed_by", "verified_by", "lifted_at"}
        if not decision_fields:
            continue
        checked += 1
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            readonly = set(model_admin.get_readonly_fields(request))
            assert decision_fields <= readonly, f"{model._meta.label}: {decision_fields - readonly} editable in admin"
    assert checked >= 5
