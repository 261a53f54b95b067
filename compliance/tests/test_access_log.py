"""The access log: every kind is written with who, what, where; the database refuses to change it."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse

from compliance.access import client_ip, log_access
from compliance.models import AccessEvent, AccessKind, EvidenceImmutable
from conftest import PASSWORD
from nonconformance.tests import factories as nc
from qms.core.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def qm(make_user):
    return make_user("qm", roles=[Role.QUALITY_MANAGER])


def test_sign_in_sign_out_and_failed_sign_in_are_logged(client, qm):
    ua = {"HTTP_USER_AGENT": "TabletBrowser/1.0", "REMOTE_ADDR": "10.1.2.3"}
    client.post(reverse("core:login"), {"username": "qm", "password": "wrong"}, **ua)
    client.post(reverse("core:login"), {"username": "nobody-here", "password": "x"}, **ua)
    client.post(reverse("core:login"), {"username": "qm", "password": PASSWORD}, **ua)
    client.post(reverse("core:logout"), **ua)
    events = list(AccessEvent.objects.order_by("pk"))
    assert [(e.kind, e.username, e.user_id) for e in events] == [
        (AccessKind.SIGN_IN_FAILED, "qm", None),
        (AccessKind.SIGN_IN_FAILED, "nobody-here", None),
        (AccessKind.SIGN_IN, "qm", qm.pk),
        (AccessKind.SIGN_OUT, "qm", qm.pk),
    ]
    assert all(e.ip == "10.1.2.3" and e.user_agent == "TabletBrowser/1.0" for e in events)


def test_viewing_a_regulated_record_page_logs_one_view_with_its_code_id_and_site(login, site, qm):
    ncr = nc.open_ncr(site, qm)
    client = login(qm)
    assert client.get(reverse("nonconformance:ncr_detail", args=[ncr.code])).status_code == 200
    (event,) = AccessEvent.objects.filter(kind=AccessKind.VIEW)
    assert (event.model, event.object_code, event.object_pk, event.site_id, event.user_id) == (
        "nonconformance.ncr",
        ncr.code,
        str(ncr.pk),
        site.pk,
        qm.pk,
    )
    assert event.path == reverse("nonconformance:ncr_detail", args=[ncr.code])


def test_a_refused_or_missing_record_page_is_not_logged_as_a_view(login, site, other_site, make_user, qm):
    ncr = nc.open_ncr(site, qm)
    stranger = make_user("stranger", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    assert login(stranger).get(reverse("nonconformance:ncr_detail", args=[ncr.code])).status_code in (403, 404)
    assert login(qm).get(reverse("nonconformance:ncr_detail", args=["NCR-NOPE"])).status_code == 404
    assert not AccessEvent.objects.filter(kind=AccessKind.VIEW).exists()


def test_a_lot_page_view_is_logged(login, site, qm):
    lot = nc.lot(site, nc.part())
    login(qm).get(reverse("traceability:lot", args=[lot.code]))
    event = AccessEvent.objects.get(kind=AccessKind.VIEW)
    assert (event.model, event.object_code, event.object_pk) == ("traceability.lot", lot.code, str(lot.pk))


def test_log_access_is_one_insert(qm):
    request = RequestFactory().get("/x", HTTP_USER_AGENT="ua", REMOTE_ADDR="10.0.0.9")
    request.user = qm
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        log_access(request=request, kind=AccessKind.EXPORT, report_key="audit.trail", params={"from": "2026-01-01"})
    assert len(ctx.captured_queries) == 1
    assert ctx.captured_queries[0]["sql"].startswith("INSERT")


def test_access_events_are_append_only_in_the_application_and_the_database(qm):
    event = log_access(kind=AccessKind.SIGN_IN, user=qm)
    with pytest.raises(EvidenceImmutable):
        event.save()
    with pytest.raises(EvidenceImmutable):
        AccessEvent.objects.all().delete()
    if connection.vendor != "postgresql":
        pytest.skip("database triggers exist on PostgreSQL only")
    table = AccessEvent._meta.db_table
    for sql in (f"UPDATE {table} SET username = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL qms.allow_evidence_truncate = 'off'")
        cur.execute(f"TRUNCATE {table}")
    assert AccessEvent.objects.filter(pk=event.pk, username="qm").exists()


@override_settings(QMS_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_forwarded_address_is_believed_only_from_a_trusted_proxy():
    rf = RequestFactory()
    via_proxy = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2")
    assert client_ip(via_proxy) == "203.0.113.7"  # the first hop the trusted proxies saw; 6.6.6.6 is client-written
    direct = rf.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(direct) == "198.51.100.4"
    garbage = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="<script>")
    assert client_ip(garbage) == "10.0.0.1"


def test_without_trusted_proxies_the_header_is_ignored():
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "198.51.100.4"


def test_access_log_page_searches_by_user_record_and_kind_within_the_readers_sites(
    login, site, other_site, make_user, qm
):
    ncr = nc.open_ncr(site, qm)
    elsewhere = make_user("far", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    log_access(kind=AccessKind.VIEW, user=qm, obj=ncr)
    log_access(
        kind=AccessKind.VIEW, user=elsewhere, model="nonconformance.ncr", object_code="NCR-FAR", site_id=other_site.pk
    )
    log_access(kind=AccessKind.SIGN_IN, user=elsewhere)
    auditor = make_user("aud", roles=[Role.AUDITOR])
    client = login(auditor)
    url = reverse("compliance:access_log")
    html = client.get(url).content.decode()
    assert ncr.code in html and "NCR-FAR" not in html and "far" not in html  # another site's events stay there
    by_record = client.get(url, {"record": ncr.code}).content.decode()
    assert ncr.code in by_record
    by_user = client.get(url, {"user": "qm", "kind": "sign_in"}).content.decode()
    assert ncr.code not in by_user
    assert client.get(url, {"date_from": "2026-13-01"}).status_code == 200  # a bad date is a form error
    inspector = make_user("insp", roles=[Role.INSPECTOR])
    assert login(inspector).get(url).status_code == 403


def test_access_log_report_exports_csv(login, site, make_user, qm, django_capture_on_commit_callbacks):
    from compliance.exports import export_job_create
    from compliance.models import ExportJob, ExportStatus

    ncr = nc.open_ncr(site, qm)
    log_access(kind=AccessKind.VIEW, user=qm, obj=ncr)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(user=qm, key="access.log", params={"record": ncr.code}, fmt="csv", language="en")
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == ExportStatus.READY and job.rows == 1
    with job.file.open("rb") as fh:
        assert ncr.code in fh.read().decode("utf-8-sig")


def test_a_generated_report_of_another_site_cannot_be_downloaded(login, site, other_site, make_user, qm):
    from compliance.models import GeneratedReport

    ncr = nc.open_ncr(site, qm)
    client = login(qm)
    response = client.get(
        reverse("compliance:report_pdf", args=["audit.record"]), {"model": "nonconformance.ncr", "id": ncr.pk}
    )
    assert response.status_code == 200
    stored = GeneratedReport.objects.get()
    assert stored.site_id == site.pk
    stranger = make_user("stranger", roles=[Role.AUDITOR], sites=[other_site])
    other = login(stranger)
    refused = other.get(
        reverse("compliance:report_pdf", args=["audit.record"]), {"model": "nonconformance.ncr", "id": ncr.pk}
    )
    assert refused.status_code in (400, 403) and GeneratedReport.objects.count() == 1
    assert other.get(reverse("compliance:generated_download", args=[stored.pk])).status_code == 404
    assert stored.document_number not in other.get(reverse("compliance:generated_reports")).content.decode()
    auditor = make_user("aud", roles=[Role.AUDITOR])
    download = login(auditor).get(reverse("compliance:generated_download", args=[stored.pk]))
    assert download.status_code == 200
    event = AccessEvent.objects.get(kind=AccessKind.DOWNLOAD)
    assert (event.user_id, event.object_code, event.site_id) == (auditor.pk, stored.document_number, site.pk)
    export = AccessEvent.objects.get(kind=AccessKind.EXPORT)
    assert (export.user_id, export.report_key, export.format) == (qm.pk, "audit.record", "pdf")
