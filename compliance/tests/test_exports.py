"""Background exports: queued by the request, made by the job, downloaded by the right people only."""

import csv
import hashlib
import io
import tracemalloc

import pytest
from django.test import override_settings
from django.urls import reverse

from compliance.exports import ExportRefused, export_job_create, export_job_run_now, write_csv
from compliance.models import AccessEvent, AccessKind, ExportJob, ExportStatus
from compliance.reports import Table
from compliance.selectors import audit_entries
from qms.core.errors import PermissionRefused
from qms.core.models import Role

from .factories import make_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_user):
    return make_user("auditor", roles=[Role.AUDITOR])


@pytest.fixture
def parts(auditor):
    return [make_part(number=f"BRG-{i:03d}", name=f"Bearing {i}") for i in range(5)]


def _start(client, key, fmt, **params):
    return client.post(reverse("compliance:report_pdf", args=[key]), {"format": fmt, "lang": "en", **params})


def test_the_request_only_queues_then_the_job_makes_a_csv_with_every_entry(
    login, auditor, parts, django_capture_on_commit_callbacks
):
    client = login(auditor)
    page = client.get(reverse("compliance:report_pdf", args=["audit.trail"]))
    assert page.status_code == 200 and b'name="format"' in page.content  # a start page, not a PDF
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _start(client, "audit.trail", "csv")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("compliance:export_detail", args=[job.pk])
    assert job.status == ExportStatus.QUEUED and len(callbacks) == 1  # nothing heavy ran in the request
    progress = client.get(reverse("compliance:export_detail", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert b"hx-trigger" in progress.content  # the page polls while the job waits

    callbacks[0]()  # the worker
    job.refresh_from_db()
    total = audit_entries(viewer=auditor).count()
    assert job.status == ExportStatus.READY and job.progress == 100 and job.rows == total
    assert b"hx-trigger" not in client.get(reverse("compliance:export_detail", args=[job.pk])).content

    download = client.get(reverse("compliance:export_download", args=[job.pk]))
    assert download.status_code == 200 and download.streaming  # a FileResponse: sent in blocks
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == job.sha256 == download["X-Content-SHA256"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == total + 1 and rows[0][0] == "Sequence"
    assert any("BRG-000" in r[4] for r in rows[1:])
    kinds = list(
        AccessEvent.objects.exclude(kind=AccessKind.SIGN_IN).order_by("pk").values_list("kind", "report_key", "format")
    )
    assert kinds == [(AccessKind.EXPORT, "audit.trail", "csv"), (AccessKind.DOWNLOAD, "audit.trail", "csv")]


def test_xlsx_export_is_written(auditor, parts, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(user=auditor, key="audit.trail", params={}, fmt="xlsx", language="zh-hans")
    job.refresh_from_db()
    assert job.status == ExportStatus.READY
    with job.file.open("rb") as fh:
        ws = load_workbook(fh, read_only=True).active
        rows = list(ws.values)
    assert len(rows) == audit_entries(viewer=auditor).count() + 1


def test_download_is_refused_to_another_site_and_allowed_to_a_colleague(
    login, auditor, make_user, other_site, site, parts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(user=auditor, key="audit.trail", params={}, fmt="csv", language="en")
    stranger = make_user("stranger", roles=[Role.AUDITOR], sites=[other_site])
    colleague = make_user("colleague", roles=[Role.QUALITY_MANAGER])
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    for who in (stranger, inspector):
        client = login(who)
        assert client.get(reverse("compliance:export_download", args=[job.pk])).status_code in (403, 404)
        assert client.get(reverse("compliance:export_detail", args=[job.pk])).status_code in (403, 404)
    assert login(colleague).get(reverse("compliance:export_download", args=[job.pk])).status_code == 200
    assert not AccessEvent.objects.filter(user=stranger, kind=AccessKind.DOWNLOAD).exists()


def test_a_tampered_export_file_is_refused(login, auditor, parts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(user=auditor, key="audit.trail", params={}, fmt="csv", language="en")
    job.refresh_from_db()
    with open(job.file.path, "ab") as fh:
        fh.write(b"forged,row\n")
    response = login(auditor).get(reverse("compliance:export_download", args=[job.pk]))
    assert response.status_code == 409 and "not an authentic copy" in response.content.decode()


@override_settings(QMS_MAX_ACTIVE_EXPORTS=2)
def test_a_person_runs_only_a_few_exports_at_once(login, auditor, parts):
    # No on-commit callbacks run here: the jobs stay queued, as while a worker is busy.
    client = login(auditor)
    assert _start(client, "audit.trail", "csv").status_code == 302
    assert _start(client, "audit.trail", "pdf").status_code == 302
    third = _start(client, "audit.trail", "xlsx")
    assert third.status_code == 400 and "2 exports in progress" in third.content.decode()
    assert ExportJob.objects.count() == 2


def test_bad_requests_are_refused_with_a_message(login, auditor, make_user):
    client = login(auditor)
    bad_date = _start(client, "audit.trail", "csv", **{"from": "31.12.2026"})
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.content.decode()
    assert _start(client, "audit.trail", "docx").status_code == 400
    sqe = make_user("sqe", roles=[Role.SUPPLIER_QUALITY_ENGINEER])
    with pytest.raises(PermissionRefused):
        export_job_create(user=sqe, key="audit.trail", params={}, fmt="csv", language="en")
    with pytest.raises(ExportRefused):
        export_job_create(user=auditor, key="nonconformance.ncr", params={}, fmt="csv", language="en")
    assert not ExportJob.objects.exists()


@override_settings(QMS_PDF_MAX_ENTRIES=3)
def test_a_long_pdf_is_cut_with_a_message_naming_the_filters(auditor, parts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(user=auditor, key="audit.trail", params={}, fmt="pdf", language="en")
    job.refresh_from_db()
    assert job.status == ExportStatus.READY and job.rows == 3 < audit_entries(viewer=auditor).count()
    assert "first 3 of" in job.message and "shorter period" in job.message and "CSV" in job.message
    assert job.generated_report is not None and job.sha256 == job.generated_report.sha256


def test_running_a_job_twice_changes_nothing(auditor, parts):
    job = export_job_create(user=auditor, key="audit.trail", params={}, fmt="csv", language="en")
    first = export_job_run_now(job_id=job.pk)
    second = export_job_run_now(job_id=job.pk)
    assert first.status == second.status == ExportStatus.READY and first.sha256 == second.sha256


def test_csv_is_written_row_by_row_in_bounded_memory():
    n = 50_000

    def rows():
        for i in range(n):
            yield [i, "2026-01-01 00:00:00", "qm", "NCR-2026-%05d" % i, "x" * 80]

    class Sink:  # counts bytes without keeping them
        size = 0

        def write(self, data):
            Sink.size += len(data)
            return len(data)

        def flush(self):
            pass

        writable = lambda self: True  # noqa: E731
        readable = lambda self: False  # noqa: E731
        seekable = lambda self: False  # noqa: E731
        closed = False

    tracemalloc.start()
    written = write_csv(Table(columns=["a", "b", "c", "d", "e"], count=n, rows=rows()), Sink())
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert written == n and Sink.size > 5_000_000
    assert peak < 1_000_000, peak  # far below the 5 MB body: nothing accumulates


def test_a_failing_job_says_why(auditor, parts):
    job = export_job_create(user=auditor, key="audit.user", params={"user": "qm"}, fmt="csv", language="en")
    # The user named in the parameters does not exist: the job fails with the report's own message.
    ExportJob.objects.filter(pk=job.pk).update(params={"user": "ghost"})
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.FAILED and "ghost" in job.message
