"""Issue 10: recall letters are stored as generated reports (one PDF per customer, in its language) with
the product, the sending company (site name and address) and its contact, listed on the recall page and
downloadable there; the e-mailed attachment is the stored file."""

import hashlib
import subprocess

import pytest
from django.core import mail
from django.urls import reverse

from compliance.models import GeneratedReport
from qms.core.audit import audit_context
from qms.core.models import Role
from traceability import services

from .test_recall import credential, plant  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def notified(site, make_user, plant):  # noqa: F811
    with audit_context(reason="test"):
        site.address = "88 Xinghu Street, Suzhou"
        site.contact_name = "Wang Fang"
        site.contact_phone = "+86 512 6000 0000"
        site.contact_email = "quality@plant.example"
        site.save(reason="contact")
        plant["shipped"].part.name = "Deep groove ball bearing"
        plant["shipped"].part.save(reason="test")
    author = make_user("qm_a", roles=[Role.QUALITY_MANAGER])
    approver = make_user("qm_b", roles=[Role.QUALITY_MANAGER])
    recall = services.recall_start(lot=plant["raw"], user=author, reason="Contaminated ingredient")
    recall = services.recall_approve(recall=recall, user=approver, credential=credential(approver), reason="go")
    services.recall_notify(recall=recall, user=author)
    assert services.recall_notifications_send(recall_id=recall.pk) == 2
    return recall, author, plant


def test_each_customer_letter_is_a_stored_generated_report(notified, tmp_path):
    recall, _author, lots = notified
    letters = {rc.customer.code: rc.letter for rc in recall.customers.select_related("customer", "letter")}
    assert all(isinstance(x, GeneratedReport) for x in letters.values())
    assert {x.key for x in letters.values()} == {"traceability.recall_letter"}
    assert (letters["CUST-DE"].language, letters["CUST-CN"].language) == ("en", "zh-hans")
    assert letters["CUST-DE"].params == {"recall": recall.code, "customer": "CUST-DE"}
    de = letters["CUST-DE"]
    with de.file.open("rb") as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == de.sha256
    text = _pdf_text(data, tmp_path)
    for expected in (recall.code, lots["shipped"].code, "Deep groove ball bearing", "Test plant",
                     "88 Xinghu Street", "Wang Fang", "+86 512 6000 0000", "quality@plant.example"):  # fmt: skip
        assert expected in text, expected
    # the e-mail carries the same file as the stored report
    sent = {m.to[0]: m.attachments[0][1] for m in mail.outbox}
    assert hashlib.sha256(sent["cust-de@example.com"]).hexdigest() == de.sha256
    # idempotent: a second run generates no second letter
    before = GeneratedReport.objects.count()
    services.recall_notifications_send(recall_id=recall.pk)
    assert GeneratedReport.objects.count() == before


def test_letters_are_listed_and_downloadable_on_the_recall_page(notified, login, make_user, other_site):
    recall, author, _plant = notified
    client = login(author)
    page = client.get(reverse("traceability:recall", args=[recall.code])).content.decode()
    rcs = list(recall.customers.select_related("letter"))
    for rc in rcs:
        assert rc.letter.document_number in page
        url = reverse("traceability:recall_letter", args=[recall.code, rc.pk])
        assert url in page
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert hashlib.sha256(response.content).hexdigest() == rc.letter.sha256
    url = reverse("traceability:recall_letter", args=[recall.code, rcs[0].pk])
    # an inspector (no recall.manage) and a quality manager of another site get nothing
    assert login(make_user("insp", roles=[Role.INSPECTOR])).get(url).status_code == 403
    assert login(make_user("qm_far", roles=[Role.QUALITY_MANAGER], sites=[other_site])).get(url).status_code in (
        403,
        404,
    )


def test_a_tampered_letter_is_not_handed_out(notified, login):
    recall, author, _plant = notified
    rc = recall.customers.select_related("letter").first()
    with rc.letter.file.open("wb") as fh:
        fh.write(b"%PDF-1.7 forged")
    response = login(author).get(reverse("traceability:recall_letter", args=[recall.code, rc.pk]))
    assert response.status_code == 302
    assert b"forged" not in response.content
