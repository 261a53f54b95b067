"""NCR attachments go through the kernel's one upload path: sniffed, size-limited, stored privately under
a random name, downloaded only by users who may see the NCR at its site, each download signalled."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from nonconformance.models import Attachment
from qms.core.models import Role
from qms.core.signals import file_downloaded

from . import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
HTML = b"<html><script>alert(1)</script></html>"


def _upload(client, ncr, name, content):
    return client.post(
        reverse("nonconformance:attachment_add", args=[ncr.code]),
        {"file": SimpleUploadedFile(name, content), "caption": "evidence"},
    )


def test_html_named_pdf_is_refused_and_nothing_is_stored(site, people, login):
    ncr = f.open_ncr(site, people["qe"])
    response = _upload(login(people["qe"]), ncr, "report.pdf", HTML)
    assert response.status_code == 302
    assert not Attachment.objects.exists()


def test_attachment_link_downloads_for_the_site_and_is_logged(site, other_site, people, login, make_user):
    ncr = f.open_ncr(site, people["qe"])
    client = login(people["qe"])
    _upload(client, ncr, "Report 1.pdf", PDF)
    att = Attachment.objects.get()
    assert att.file_name == "Report 1.pdf" and "Report" not in att.file.name and att.file.name.startswith("private/")
    page = client.get(reverse("nonconformance:ncr_detail", args=[ncr.code])).content.decode()
    url = reverse("nonconformance:attachment_download", args=[att.pk])
    assert url in page
    seen = []
    file_downloaded.connect(lambda **kw: seen.append(kw), weak=False, dispatch_uid="t-att")
    try:
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
        assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]
        assert seen and seen[0]["record"] == att and seen[0]["user"] == people["qe"]
        from compliance.models import AccessEvent

        logged = AccessEvent.objects.get(kind="download", object_pk=str(att.pk))
        assert logged.user == people["qe"] and logged.site_id == ncr.site_id
    finally:
        file_downloaded.disconnect(dispatch_uid="t-att")
    stranger = make_user("elsewhere", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    assert login(stranger).get(url).status_code in (403, 404)


def test_missing_file_answers_404_with_a_message(site, people, login):
    ncr = f.open_ncr(site, people["qe"])
    client = login(people["qe"])
    _upload(client, ncr, "r.pdf", PDF)
    att = Attachment.objects.get()
    att.file.storage.delete(att.file.name)
    response = client.get(reverse("nonconformance:attachment_download", args=[att.pk]))
    assert response.status_code == 404 and "missing from the file store" in response.content.decode()
