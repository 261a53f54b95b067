import datetime

import pytest
from django.utils import timezone

from compliance.models import Signature
from documents import selectors, services
from documents.models import (
    Document,
    DocumentVersion,
    TaskStatus,
    TrainingRecord,
    TrainingTask,
    VersionStatus,
)
from qms.core.errors import DomainError, PermissionRefused
from qms.core.models import Role
from qms.core.uploads import UploadRefused

from .factories import cred, document, draft, effective, in_review, pdf_upload

pytestmark = pytest.mark.django_db


def test_numbering_per_type_and_site(site, other_site, people, make_user):
    a = document(site, people)
    b = document(site, people, title="Second SOP")
    wi = document(site, people, doc_type="wi", title="Noise test")
    other_qm = make_user("qm-other", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    c = services.document_create(site=other_site, doc_type="sop", title="x", owner=other_qm, user=other_qm)
    assert [a.number, b.number, wi.number, c.number] == ["S1-SOP-0001", "S1-SOP-0002", "S1-WI-0001", "S2-SOP-0001"]
    with pytest.raises(DomainError, match="already used"):
        document(site, people, number="S1-SOP-0001")
    with pytest.raises(DomainError, match="may contain only"):
        document(site, people, number="S1/SOP 9")


def test_only_document_managers_register(site, people):
    with pytest.raises(PermissionRefused):
        services.document_create(site=site, doc_type="sop", title="x", owner=people["insp"], user=people["insp"])
    with pytest.raises(PermissionRefused):
        services.document_create(site=site, doc_type="sop", title="x", owner=people["qm"], user=people["auditor"])


def test_full_workflow_supersedes_and_keeps_history(site, people):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    v1 = effective(doc, people)
    assert v1.status == VersionStatus.EFFECTIVE and v1.approved_by == people["qm"]
    doc.refresh_from_db()
    assert doc.next_review_on == services.add_months(timezone.localdate(), 24)
    meanings = sorted(
        Signature.objects.filter(model="documents.documentversion", object_id=str(v1.pk)).values_list(
            "meaning", flat=True
        )
    )
    assert meanings == ["approved", "reviewed"]
    assert TrainingTask.objects.filter(version=v1, status="open").count() == 2  # both inspectors
    v2 = effective(doc, people)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.SUPERSEDED and v2.status == VersionStatus.EFFECTIVE
    # tasks on v1 cancelled, new ones on v2
    assert not TrainingTask.objects.filter(version=v1, status="open").exists()
    assert TrainingTask.objects.filter(version=v2, status="open").count() == 2
    with pytest.raises(DomainError):
        v1.delete()
    assert DocumentVersion.objects.filter(document=doc).count() == 2


def test_scheduled_version_becomes_effective_by_the_job(site, people):
    doc = document(site, people)
    v1 = effective(doc, people)
    v2 = in_review(doc, people)
    services.version_review(version=v2, user=people["sup"], credential=cred(people["sup"]))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.version_approve(version=v2, user=people["qm"], credential=cred(people["qm"]), effective_from=tomorrow)
    v2.refresh_from_db()
    assert v2.status == VersionStatus.APPROVED
    assert services.versions_effective_due() == 0
    assert services.versions_effective_due(today=tomorrow) == 1
    assert services.versions_effective_due(today=tomorrow) == 0  # idempotent
    v1.refresh_from_db(), v2.refresh_from_db()
    assert v1.status == VersionStatus.SUPERSEDED and v2.status == VersionStatus.EFFECTIVE


def test_author_may_not_review_or_approve_and_reviewer_may_not_approve(site, people, make_user):
    doc = document(site, people)
    v = draft(doc, people["qe"])
    with pytest.raises(DomainError, match="author cannot review"):
        services.version_submit(version=v, user=people["qe"], reviewers=[people["qe"]])
    services.version_submit(version=v, user=people["qe"], reviewers=[people["qm"], people["sup"]])
    with pytest.raises(PermissionRefused, match="You authored"):
        services.version_review(version=v, user=people["qe"], credential=cred(people["qe"]))
    with pytest.raises(PermissionRefused, match="not a named reviewer"):
        services.version_review(version=v, user=people["qe2"], credential=cred(people["qe2"]))
    services.version_review(version=v, user=people["qm"], credential=cred(people["qm"]))
    with pytest.raises(DomainError, match="already reviewed"):
        services.version_review(version=v, user=people["qm"], credential=cred(people["qm"]))
    with pytest.raises(DomainError, match="still waiting for: Sup"):
        services.version_approve(version=v, user=people["qe2"], credential=cred(people["qe2"]))
    services.version_review(version=v, user=people["sup"], credential=cred(people["sup"]))
    with pytest.raises(PermissionRefused, match="You authored"):
        services.version_approve(version=v, user=people["qe"], credential=cred(people["qe"]))
    with pytest.raises(PermissionRefused, match="You reviewed"):
        services.version_approve(version=v, user=people["qm"], credential=cred(people["qm"]))
    with pytest.raises(PermissionRefused):
        services.version_approve(version=v, user=people["insp"], credential=cred(people["insp"]))
    with pytest.raises(PermissionRefused, match="own password"):
        services.version_approve(version=v, user=people["qe2"], credential=cred(people["qm"]))
    services.version_approve(version=v, user=people["qe2"], credential=cred(people["qe2"]))
    v.refresh_from_db()
    assert v.status == VersionStatus.EFFECTIVE


def test_send_back_returns_to_draft_and_a_new_round(site, people):
    doc = document(site, people)
    v = in_review(doc, people)
    with pytest.raises(DomainError, match="why"):
        services.version_review(version=v, user=people["sup"], credential=cred(people["sup"]), accept=False)
    services.version_review(version=v, user=people["sup"], credential=cred(people["sup"]), accept=False, comment="typo")
    v.refresh_from_db()
    assert v.status == VersionStatus.DRAFT
    services.version_update(version=v, user=people["qe"], change_summary="fixed typo")
    services.version_submit(version=v, user=people["qe"], reviewers=[people["sup"]])
    assert [r.round for r in services.current_reviews(v)] == [2]


def test_approval_in_another_site_is_refused(site, other_site, people, make_user):
    doc = document(site, people)
    v = in_review(doc, people)
    services.version_review(version=v, user=people["sup"], credential=cred(people["sup"]))
    elsewhere = make_user("qm-else", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    with pytest.raises(PermissionRefused, match="authority"):
        services.version_approve(version=v, user=elsewhere, credential=cred(elsewhere))


def test_hostile_uploads_are_refused_with_nothing_written(site, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    doc = document(site, people)
    fake = SimpleUploadedFile("sop.pdf", b"MZ\x90\x00 this is an exe")
    with pytest.raises(UploadRefused, match="not a file"):
        services.version_create(document=doc, user=people["qe"], change_summary="x", upload=fake)
    renamed = SimpleUploadedFile("sop.docx", pdf_upload().read())
    with pytest.raises(UploadRefused, match="Rename"):
        services.version_create(document=doc, user=people["qe"], change_summary="x", upload=renamed)
    assert not DocumentVersion.objects.filter(document=doc).exists()


def test_upload_size_limit(site, people, settings):
    settings.QMS_UPLOAD_MAX_BYTES = {"document": 1000}
    doc = document(site, people)
    with pytest.raises(UploadRefused, match="limit"):
        services.version_create(document=doc, user=people["qe"], change_summary="x", upload=pdf_upload())


def test_submit_needs_a_file_and_one_version_in_work(site, people):
    doc = document(site, people)
    v = draft(doc, people["qe"], upload=False)
    with pytest.raises(DomainError, match="Attach"):
        services.version_submit(version=v, user=people["qe"], reviewers=[people["sup"]])
    with pytest.raises(DomainError, match="still in work"):
        draft(doc, people["qe"])


def test_obsolete_keeps_versions_and_cancels_training(site, people):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    v = effective(doc, people)
    with pytest.raises(DomainError, match="reason"):
        services.document_obsolete(document=doc, user=people["qm"], credential=cred(people["qm"]), reason=" ")
    services.document_obsolete(document=doc, user=people["qm"], credential=cred(people["qm"]), reason="replaced by WI")
    v.refresh_from_db(), doc.refresh_from_db()
    assert doc.status == "obsolete" and v.status == "obsolete"
    assert not TrainingTask.objects.filter(version=v, status="open").exists()
    with pytest.raises(DomainError, match="already obsolete"):
        services.document_obsolete(document=doc, user=people["qm"], credential=cred(people["qm"]), reason="again")
    with pytest.raises(DomainError, match="obsolete"):
        draft(doc, people["qe"])


def test_version_in_force_on_a_date(site, people):
    doc = document(site, people)
    now = timezone.now()
    v1 = effective(doc, people, at=now - datetime.timedelta(days=100))
    v2 = effective(doc, people, at=now - datetime.timedelta(days=10))
    today = timezone.localdate()
    assert selectors.version_in_force(doc, today - datetime.timedelta(days=200)) is None
    assert selectors.version_in_force(doc, today - datetime.timedelta(days=50)) == v1
    assert selectors.version_in_force(doc, today - datetime.timedelta(days=10)) == v2
    assert selectors.version_in_force(doc, today) == v2


def test_read_and_understood_by_the_trainee_only(site, people):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    v = effective(doc, people)
    task = TrainingTask.objects.get(version=v, user=people["insp"])
    with pytest.raises(PermissionRefused, match="Only the trainee"):
        services.training_acknowledge(task=task, user=people["insp2"], credential=cred(people["insp2"]))
    record = services.training_acknowledge(task=task, user=people["insp"], credential=cred(people["insp"]))
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and record.method == "read"
    sig = Signature.objects.get(model="documents.trainingrecord", object_id=str(record.pk))
    assert sig.signer == people["insp"] and sig.meaning == "reviewed" and sig.role == "read and understood"
    with pytest.raises(DomainError, match="Done"):
        services.training_acknowledge(task=task, user=people["insp"], credential=cred(people["insp"]))
    assert selectors.qualifying_record(people["insp"].pk, v.pk) == record


def test_instructor_led_recorded_by_the_trainer_not_the_trainee(site, people):
    doc = document(site, people)
    services.requirement_set(document=doc, role=Role.INSPECTOR, user=people["qm"], method="instructor", valid_months=12)
    v = effective(doc, people)
    task = TrainingTask.objects.get(version=v, user=people["insp"])
    with pytest.raises(DomainError, match="instructor-led"):
        services.training_acknowledge(task=task, user=people["insp"], credential=cred(people["insp"]))
    with pytest.raises(PermissionRefused):
        services.training_record_instructor(
            version=v,
            trainees=[people["insp2"]],
            user=people["insp"],
            credential=cred(people["insp"]),
            assessment="passed",
        )
    with pytest.raises(PermissionRefused, match="own training"):
        services.training_record_instructor(
            version=v, trainees=[people["sup"]], user=people["sup"], credential=cred(people["sup"]), assessment="passed"
        )
    failed = services.training_record_instructor(
        version=v, trainees=[people["insp"]], user=people["sup"], credential=cred(people["sup"]), assessment="failed"
    )
    task.refresh_from_db()
    assert task.status == "open" and not failed[0].qualifies
    assert selectors.qualifying_record(people["insp"].pk, v.pk) is None
    passed = services.training_record_instructor(
        version=v,
        trainees=[people["insp"]],
        user=people["sup"],
        credential=cred(people["sup"]),
        assessment="passed",
        score="90",
    )
    task.refresh_from_db()
    assert task.status == "done" and passed[0].expires_on == services.add_months(timezone.localdate(), 12)


def test_training_matrix_states(site, people):
    doc = document(site, people, training_roles=[Role.INSPECTOR])
    v = effective(doc, people)
    task = TrainingTask.objects.get(version=v, user=people["insp"])
    services.training_acknowledge(task=task, user=people["insp"], credential=cred(people["insp"]))
    later = timezone.localdate() + datetime.timedelta(days=30)
    matrix = selectors.training_matrix(site, today=later)
    by_user = {u.username: cells for u, cells in matrix.rows}
    assert by_user["insp"][0].state == "trained"
    assert by_user["insp2"][0].state == "overdue"
    assert by_user["qm"][0] is None  # not required for a quality manager
    effective(doc, people)
    matrix = selectors.training_matrix(site)
    by_user = {u.username: cells for u, cells in matrix.rows}
    assert by_user["insp"][0].state == "open" and by_user["insp"][0].record is not None


def test_reminders_once_and_escalated_to_the_manager(site, people):
    from qms.core.models import Notification

    doc = document(site, people, training_roles=[Role.INSPECTOR])
    effective(doc, people)
    late = timezone.localdate() + datetime.timedelta(days=20)
    sent = services.training_reminders_send(today=late)
    assert sent >= 3  # two trainees and the quality manager
    assert services.training_reminders_send(today=late) == 0
    assert Notification.objects.filter(recipient=people["qm"], subject__startswith="Escalation").exists()


def test_review_reminders(site, people):
    from qms.core.models import Notification

    doc = document(site, people, review_period_months=12)
    effective(doc, people)
    doc.refresh_from_db()
    assert services.review_reminders_send() == 0
    due_day = doc.next_review_on - datetime.timedelta(days=5)
    assert services.review_reminders_send(today=due_day) == 1
    assert services.review_reminders_send(today=doc.next_review_on + datetime.timedelta(days=1)) >= 1
    assert Notification.objects.filter(subject__contains="overdue").exists()
    services.document_review_record(document=doc, user=people["qm"], note="still valid", today=doc.next_review_on)
    doc.refresh_from_db()
    assert doc.last_reviewed_on is not None


def test_history_import_of_training_closes_open_task(site, people):
    from qms.core.importing import import_file

    doc = document(site, people, training_roles=[Role.INSPECTOR])
    v = effective(doc, people)
    day = timezone.localdate()
    csv = f"site,user,document,version,trained_on\nS1,insp,{doc.number},{v.label},{day}\n"
    report = import_file(kind="training_records", filename="t.csv", content=csv.encode(), user=people["qm"])
    assert report.ok, report.errors
    assert TrainingRecord.objects.filter(user=people["insp"], version=v, method="imported").exists()
    assert TrainingTask.objects.get(version=v, user=people["insp"]).status == "done"
    bad = f"site,user,document,version,trained_on\nS1,insp,{doc.number},9,{day}\nS2,insp,{doc.number},1,{day}\n"
    report = import_file(kind="training_records", filename="t.csv", content=bad.encode(), user=people["qm"])
    assert len(report.errors) == 2 and report.written == 0


def test_document_import_validates_all_first(site, people):
    from qms.core.importing import import_file

    good = "site,type,title,owner,distribution_roles\nS1,sop,Cleaning,qm,inspector;quality_engineer\nS1,wi,Torque,qe,\n"
    report = import_file(kind="documents", filename="d.csv", content=good.encode(), user=people["qm"])
    assert report.ok, report.errors
    assert set(Document.objects.values_list("number", flat=True)) == {"S1-SOP-0001", "S1-WI-0001"}
    bad = "site,type,title,owner\nS1,sop,Ok,qm\nS1,memo,Bad type,qm\nS1,sop,Bad owner,nobody\n"
    report = import_file(kind="documents", filename="d.csv", content=bad.encode(), user=people["qm"])
    assert [line for line, _ in report.errors] == [3, 4] and Document.objects.count() == 2
