"""Issue 15: the training gate. Compliance owns the signature step and a registry of pre-signature checks;
documents registers the training check. Where a site says so, a person signs a lot release (or an MRB
decision, an inspection's completion) only when trained on the version in force of the procedure behind it:
block refuses the signature and the decision with it; warn records both, with the warning audited and sent."""

import pytest

from compliance.models import AuditEntry, Signature
from compliance.signatures import SignatureRefused
from compliance.signing_gates import GateFinding, register_signing_check, unregister_signing_check
from documents import services as doc_services
from documents.models import TrainingTask
from documents.tests import factories as doc_f
from inspection.models import LotRelease
from inspection.tests import factories as insp_f
from qms.core.models import Notification, Role
from tests.test_decisions import fqc_accepted_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER], display_name="Qe"),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER], display_name="Qm"),
        "qm2": make_user("qm2", roles=[Role.QUALITY_MANAGER], display_name="Qm2"),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "sup": make_user("sup", roles=[Role.PRODUCTION_SUPERVISOR], display_name="Sup"),
    }


def release_sop(site, people, mode):
    sop = doc_f.document(site, people, title="Lot release", training_roles=[Role.QUALITY_MANAGER])
    version = doc_f.effective(sop, people)
    doc_services.site_setting_save(
        site=site, user=people["qm"], gate_mode=mode, review_reminder_days=30, rules={"lot.release": sop}, reason="t"
    )
    return sop, version


def test_block_refuses_an_untrained_releaser_and_the_release_with_it(site, people):
    from inspection.services import lot_release_sign

    sop, version = release_sop(site, people, "block")
    lot = fqc_accepted_by(site, people, people["inspector"])
    with pytest.raises(SignatureRefused, match="not trained on S1-SOP-0001"):
        lot_release_sign(lot=lot, user=people["qm2"], credential=insp_f.cred(people["qm2"]))
    lot.refresh_from_db()
    assert lot.status == "quarantine" and not LotRelease.objects.exists()
    task = TrainingTask.objects.get(user=people["qm2"], version=version)
    doc_services.training_acknowledge(task=task, user=people["qm2"], credential=doc_f.cred(people["qm2"]))
    lot_release_sign(lot=lot, user=people["qm2"], credential=insp_f.cred(people["qm2"]))
    lot.refresh_from_db()
    assert lot.status == "released"


def test_block_is_per_site_and_off_by_default(site, other_site, people):
    from inspection.services import lot_release_sign

    lot = fqc_accepted_by(site, people, people["inspector"])
    sop = doc_f.document(site, people, title="Lot release")
    doc_f.effective(sop, people)
    # a rule without the site's gate switched on does nothing
    lot_release_sign(lot=lot, user=people["qm2"], credential=insp_f.cred(people["qm2"]))
    assert LotRelease.objects.count() == 1


def test_warn_records_the_signature_with_an_audited_warning(site, people, django_capture_on_commit_callbacks):
    from inspection.services import lot_release_sign

    release_sop(site, people, "warn")
    lot = fqc_accepted_by(site, people, people["inspector"])
    with django_capture_on_commit_callbacks(execute=True):
        release = lot_release_sign(lot=lot, user=people["qm2"], credential=insp_f.cred(people["qm2"]))
    sig = Signature.objects.get(model="inspection.lotrelease", object_id=str(release.pk))
    entry = AuditEntry.objects.filter(model="inspection.lotrelease", object_id=str(release.pk), action="sign").get()
    assert "not trained on S1-SOP-0001" in entry.changes["warnings"][1][0]
    assert sig.signer == people["qm2"]
    note = Notification.objects.get(recipient=people["qm2"], level="warning", subject__contains="warning")
    assert "S1-SOP-0001" in note.body


def test_an_expired_or_failed_training_does_not_count(site, people):
    from inspection.services import lot_release_sign

    sop, version = release_sop(site, people, "block")
    doc_services.training_record_instructor(
        version=version, trainees=[people["qm2"]], user=people["sup"], credential=doc_f.cred(people["sup"]),
        assessment="failed",
    )  # fmt: skip
    lot = fqc_accepted_by(site, people, people["inspector"])
    with pytest.raises(SignatureRefused):
        lot_release_sign(lot=lot, user=people["qm2"], credential=insp_f.cred(people["qm2"]))


def test_the_registry_is_compliances_and_a_blocking_check_refuses_any_signature(site, people):
    from compliance.signatures import signature_record

    calls = []

    def check(*, meaning, instance, signer, site_id):
        calls.append((meaning, instance._meta.label_lower, signer.username, site_id))
        return [GateFinding("nope", block=True)] if meaning == "verified" else []

    register_signing_check("test.check", check)
    try:
        with pytest.raises(SignatureRefused, match="nope"):
            signature_record(credential=insp_f.cred(people["qm"]), instance=site, meaning="verified")
        sig = signature_record(credential=insp_f.cred(people["qm"]), instance=site, meaning="approved")
        assert sig.warnings == []
    finally:
        unregister_signing_check("test.check")
    assert calls[0] == ("verified", "core.site", "qm", site.pk)


def test_inspection_completion_gate_blocks_an_untrained_inspector(site, people):
    from inspection import services as insp_services
    from inspection.models import Inspection, Stage

    wi = doc_f.document(site, people, doc_type="wi", title="Noise test", training_roles=[Role.INSPECTOR])
    version = doc_f.effective(wi, people)
    doc_services.site_setting_save(
        site=site, user=people["qm"], gate_mode="block", review_reminder_days=30,
        rules={"inspection.complete": wi}, reason="t",
    )  # fmt: skip
    p = insp_f.part("FG-7")
    plan = insp_f.plan(
        site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql=""
    )
    lot = insp_f.lot(site, p, 50, code="FG-LOT-7")
    insp = insp_services.inspection_create(stage=Stage.FQC, plan=plan, lot=lot, user=people["inspector"])
    insp_f.fill(insp, people["inspector"])
    with pytest.raises(SignatureRefused, match="Noise test"):
        insp_services.inspection_complete(
            inspection=insp, user=people["inspector"], credential=insp_f.cred(people["inspector"])
        )
    assert Inspection.objects.get(pk=insp.pk).is_open
    task = TrainingTask.objects.get(user=people["inspector"], version=version)
    doc_services.training_acknowledge(task=task, user=people["inspector"], credential=doc_f.cred(people["inspector"]))
    insp_services.inspection_complete(
        inspection=insp, user=people["inspector"], credential=insp_f.cred(people["inspector"])
    )
    assert not Inspection.objects.get(pk=insp.pk).is_open


@pytest.mark.parametrize("mode", ["block", "warn"])
def test_the_release_page_says_before_signing_what_the_gate_will_do(site, people, client, mode):
    """The signer learns on the page, before typing a password, that the site's training gate will refuse
    (block) or mark (warn) their signature; once trained, the page says nothing."""
    from django.urls import reverse

    sop, version = release_sop(site, people, mode)
    lot = fqc_accepted_by(site, people, people["inspector"])
    client.force_login(people["qm2"])
    url = reverse("inspection:release", args=[lot.code])
    page = client.get(url).content.decode()
    assert 'data-signing-gate="documents.training"' in page and "not trained on S1-SOP-0001" in page
    said = "Signing will be refused" if mode == "block" else "You may sign; the signature will be recorded"
    assert said in page and ("msg-error" if mode == "block" else "msg-warning") in page
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert (
        'data-signing-gate="documents.training"' in zh and ("签名将被拒绝" if mode == "block" else "签名将被记录") in zh
    )
    task = TrainingTask.objects.get(user=people["qm2"], version=version)
    doc_services.training_acknowledge(task=task, user=people["qm2"], credential=doc_f.cred(people["qm2"]))
    assert "data-signing-gate" not in client.get(url).content.decode()


def test_the_completion_page_says_it_too(site, people, client):
    from django.urls import reverse

    from inspection import services as insp_services
    from inspection.models import Stage

    wi = doc_f.document(site, people, doc_type="wi", title="Noise test", training_roles=[Role.INSPECTOR])
    doc_f.effective(wi, people)
    doc_services.site_setting_save(
        site=site, user=people["qm"], gate_mode="block", review_reminder_days=30,
        rules={"inspection.complete": wi}, reason="t",
    )  # fmt: skip
    p = insp_f.part("FG-8")
    plan = insp_f.plan(
        site, p, people["qe"], people["qm"], stage=Stage.FQC, scheme="fixed", fixed_sample_size=2, aql=""
    )
    insp = insp_services.inspection_create(
        stage=Stage.FQC, plan=plan, lot=insp_f.lot(site, p, 50, code="FG-LOT-8"), user=people["inspector"]
    )
    client.force_login(people["inspector"])
    page = client.get(reverse("inspection:detail", args=[insp.code])).content.decode()
    assert 'data-signing-gate="documents.training"' in page and "Noise test" in page


def test_the_mrb_page_says_it_too(site, people, client, make_user):
    from tests.test_decision_offers import mrb_sign_due

    p = {
        **people,
        "qe2": make_user("qe2", roles=[Role.QUALITY_ENGINEER], display_name="Qe2"),
        "sqe": make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER], display_name="Sqe"),
        "sqe2": make_user("sqe2", roles=[Role.SUPPLIER_QUALITY_ENGINEER], display_name="Sqe2"),
        "eng": make_user("eng", roles=[Role.MRB_MEMBER], display_name="Eng"),
        "auditor": make_user("aud", roles=[Role.AUDITOR], display_name="Aud"),
    }
    sop = doc_f.document(site, people, title="MRB procedure", training_roles=[Role.QUALITY_MANAGER])
    doc_f.effective(sop, people)
    doc_services.site_setting_save(
        site=site, user=people["qm"], gate_mode="warn", review_reminder_days=30, rules={"mrb.sign": sop}, reason="t"
    )
    record = mrb_sign_due(site, p)
    client.force_login(people["qm2"])
    page = client.get(record["form_page"]).content.decode()
    assert 'data-signing-gate="documents.training"' in page and "MRB procedure" in page and "msg-warning" in page
