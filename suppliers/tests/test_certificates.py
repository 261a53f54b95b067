import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.models import AuditEntry
from qms.core.errors import PermissionRefused
from qms.core.models import Notification
from qms.core.uploads import UploadRefused, check_upload, max_bytes
from suppliers import services
from suppliers.models import (
    AslSuspension,
    CertificateReminder,
    CertificateStatus,
    CertificateType,
    CertificateTypePolicy,
)
from suppliers.tests.factories import (
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    add_cert,
    approved_supplier,
    make_part,
    pdf,
    reviewer_for,
)

CT = CertificateType
TODAY = datetime.date(2026, 3, 2)


def test_upload_content_is_sniffed():
    assert check_upload(pdf()).content_type == "application/pdf"
    assert check_upload(SimpleUploadedFile("a.png", PNG_BYTES)).content_type == "image/png"
    assert check_upload(SimpleUploadedFile("a.JPG", JPEG_BYTES)).content_type == "image/jpeg"
    with pytest.raises(UploadRefused, match="Allowed: PDF, PNG, JPEG"):
        check_upload(SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 windows program"))
    with pytest.raises(UploadRefused, match="name ends"):
        check_upload(SimpleUploadedFile("photo.pdf", PNG_BYTES))
    with pytest.raises(UploadRefused, match="10 MB"):
        check_upload(SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * max_bytes("certificate")))


@pytest.mark.django_db
def test_upload_review_and_renewal_supersedes(site, sqe):
    supplier = approved_supplier(sqe, site)
    old = supplier.certificates.get(cert_type=CT.IATF_16949)
    new = add_cert(supplier, sqe, CT.IATF_16949, days=900, accept=False, number="IATF-RENEWED")
    assert new.status == CertificateStatus.PENDING_REVIEW and new.file_sha256 and new.file_type == "application/pdf"
    with pytest.raises(PermissionRefused, match="uploaded certificate IATF-RENEWED"):  # issue 9
        services.certificate_accept(certificate=new, user=sqe, comment="checked")
    new.refresh_from_db()
    assert new.status == CertificateStatus.PENDING_REVIEW
    reviewer = reviewer_for(sqe)
    new = services.certificate_accept(certificate=new, user=reviewer, comment="checked")
    assert new.reviewed_by == reviewer
    old.refresh_from_db()
    assert old.status == CertificateStatus.SUPERSEDED


def _expiring(site, sqe, days_left):
    part = make_part()
    with time_machine.travel(TODAY, tick=False):
        supplier = approved_supplier(sqe, site, part=part)
        iatf = supplier.certificates.get(cert_type=CT.IATF_16949, status=CertificateStatus.VALID)
        services.certificate_void(certificate=iatf, user=sqe, reason="replace for test")
        cert = add_cert(
            supplier, sqe, CT.IATF_16949, valid_until=TODAY + datetime.timedelta(days=days_left), number="IATF-T"
        )
    return supplier, part, cert


@pytest.mark.django_db
def test_reminders_sent_once_at_each_threshold(site, sqe):
    supplier, _part, cert = _expiring(site, sqe, 100)
    expiry = cert.valid_until
    sent_stages = []
    for offset in range(0, 110):
        day = TODAY + datetime.timedelta(days=offset)
        with time_machine.travel(day, tick=False):
            if services.certificate_reminders_send(today=day):
                sent_stages.append(((expiry - day).days, day))
            services.certificate_reminders_send(today=day)  # a repeated run sends nothing new
    assert [d for d, _day in sent_stages] == [90, 30, 7, -1]
    stages = list(CertificateReminder.objects.filter(certificate=cert).values_list("stage", flat=True).order_by("pk"))
    assert stages == ["90", "30", "7", "expired"]
    notes = Notification.objects.filter(recipient=sqe, dedup_key__startswith=f"suppcert:{cert.pk}:")
    assert notes.count() == 4
    assert "expires in 90 days" in notes.order_by("created_at").first().subject


@pytest.mark.django_db
def test_reminder_days_configurable_and_late_job_sends_only_the_tightest(site, sqe):
    supplier, _part, cert = _expiring(site, sqe, 100)
    with time_machine.travel(TODAY, tick=False):
        from qms.core.audit import audit_context

        with audit_context(reason="test"):
            CertificateTypePolicy.objects.create(cert_type=CT.IATF_16949, reminder_days="60, 14")
    # The job did not run until 10 days before expiry: one reminder (14), not 60 as well.
    day = cert.valid_until - datetime.timedelta(days=10)
    with time_machine.travel(day, tick=False):
        assert services.certificate_reminders_send(today=day) >= 1  # one stage, to each SQE of the site
    assert list(CertificateReminder.objects.filter(certificate=cert).values_list("stage", flat=True)) == ["14"]


@pytest.mark.django_db
def test_expiry_suspends_approval_and_renewal_lifts_it(site, sqe):
    supplier, part, cert = _expiring(site, sqe, 5)
    assert services.supplier_can_supply(supplier=supplier, part=part, on=TODAY).ok
    after = TODAY + datetime.timedelta(days=6)
    with time_machine.travel(after, tick=False):
        # Even before the job runs, the gate sees the expired mandatory certificate.
        verdict = services.supplier_can_supply(supplier=supplier, part=part)
        assert not verdict.ok and "IATF 16949" in verdict.reasons[0]
        assert services.certificate_expiry_process(today=after) == {"suspended": 1, "lifted": 0}
        assert services.certificate_expiry_process(today=after) == {"suspended": 0, "lifted": 0}  # idempotent
        susp = AslSuspension.objects.get()
        assert susp.lifted_at is None and susp.certificate == cert
        assert AuditEntry.objects.filter(model="suppliers.aslentry", action="suspend").exists()
        verdict = services.supplier_can_supply(supplier=supplier, part=part)
        assert not verdict.ok and "suspended" in verdict.reasons[0]
        # Renewal: upload and accept the new certificate -> suspension lifted.
        add_cert(supplier, sqe, CT.IATF_16949, days=365, number="IATF-2027", on=after)
        susp.refresh_from_db()
        assert susp.lifted_at is not None and susp.lifted_by_certificate.number == "IATF-2027"
        assert AuditEntry.objects.filter(model="suppliers.aslentry", action="reinstate").exists()
        assert services.supplier_can_supply(supplier=supplier, part=part).ok


@pytest.mark.django_db
def test_expiry_of_non_suspending_type_does_not_suspend(site, sqe):
    supplier, part, cert = _expiring(site, sqe, 5)
    with time_machine.travel(TODAY, tick=False):
        from qms.core.audit import audit_context

        with audit_context(reason="test"):
            CertificateTypePolicy.objects.create(cert_type=CT.IATF_16949, suspends_on_expiry=False)
    after = TODAY + datetime.timedelta(days=6)
    with time_machine.travel(after, tick=False):
        assert services.certificate_expiry_process(today=after)["suspended"] == 0
        assert services.supplier_can_supply(supplier=supplier, part=part).ok


@pytest.mark.django_db
def test_certificate_for_other_parts_does_not_suspend_this_part(site, sqe):
    part = make_part()
    other = make_part("RG-OTHER")
    with time_machine.travel(TODAY, tick=False):
        supplier = approved_supplier(sqe, site, part=part)
        add_cert(supplier, sqe, CT.ISO_14001, valid_until=TODAY + datetime.timedelta(days=3), parts=[other], number="X")
    after = TODAY + datetime.timedelta(days=10)
    with time_machine.travel(after, tick=False):
        assert services.certificate_expiry_process(today=after)["suspended"] == 0
        assert services.supplier_can_supply(supplier=supplier, part=part).ok
