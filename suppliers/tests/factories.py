"""Test helpers for suppliers: suppliers in a given state, certificates, signatures, files."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.signatures import signature_authenticate
from qms.core.audit import audit_context
from qms.core.models import Part, PartType
from suppliers import services
from suppliers.models import AuditResult, CertificateType, Supplier

CT = CertificateType
PASSWORD = "test-Password-123"  # as in the root conftest

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def pdf(name="cert.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def cred(user):
    return signature_authenticate(user=user, password=PASSWORD)


def make_part(number="ST-52100"):
    with audit_context(reason="test"):
        part, _ = Part.objects.get_or_create(
            number=number, revision="A", defaults={"name": number, "part_type": PartType.RAW, "unit": "kg"}
        )
    return part


def reviewer_for(user, supplier=None):
    """A second person with the same roles at the same sites: segregation of duties means the one who
    uploads or creates is not the one who accepts or approves."""
    from qms.core.models import Membership, User

    other = User.objects.filter(username=f"{user.username}-2nd").first()
    if other is None:
        with audit_context(reason="test"):
            other = User(username=f"{user.username}-2nd", display_name=f"{user.printed_name} (2nd)")
            other.set_password(PASSWORD)
            other.save()
            for m in Membership.objects.filter(user=user, is_active=True):
                Membership.objects.get_or_create(user=other, site=m.site, role=m.role)
    return other


def make_supplier(user, site, code="SUP-1", risk="medium", **fields) -> Supplier:
    return services.supplier_create(
        user=user, code=code, name=f"Supplier {code}", category="raw_material", sites=[site], risk_level=risk, **fields
    )


def add_cert(supplier, user, cert_type, *, valid_until=None, days=400, accept=True, number=None, parts=(), on=None):
    today = timezone.localdate()
    if valid_until is None and days is not None:
        valid_until = today + datetime.timedelta(days=days)
    cert = services.certificate_upload(
        supplier=supplier,
        user=user,
        cert_type=cert_type,
        number=number or f"{cert_type}-{supplier.code}-{valid_until}",
        issued_on=today - datetime.timedelta(days=800),
        valid_until=valid_until,
        upload=pdf(),
        parts=parts,
    )
    if accept:
        cert = services.certificate_accept(certificate=cert, user=reviewer_for(user), on=on or cert.issued_on)
    return cert


def qualify(supplier, user, industry="automotive", *, certs_days=400):
    """Everything the checklist asks for, for an automotive (or food) site."""
    add_cert(supplier, user, CT.BUSINESS_LICENCE, days=None)
    if industry == "automotive":
        add_cert(supplier, user, CT.ISO_9001, days=certs_days)
        add_cert(supplier, user, CT.IATF_16949, days=certs_days)
    else:
        add_cert(supplier, user, CT.SC_LICENCE, days=certs_days)
        add_cert(supplier, user, CT.TEST_REPORT, days=certs_days)
    services.supplier_audit_record(
        supplier=supplier,
        user=user,
        audited_on=timezone.localdate() - datetime.timedelta(days=30),
        auditor="Auditor",
        result=AuditResult.PASSED,
    )
    services.supplier_update(
        supplier=supplier,
        user=user,
        reason="agreement signed",
        quality_agreement_on_file=True,
        quality_agreement_signed_on=timezone.localdate() - datetime.timedelta(days=10),
    )
    supplier.refresh_from_db()
    return supplier


def approved_supplier(user, site, code="SUP-1", part=None, industry="automotive"):
    supplier = make_supplier(user, site, code=code)
    qualify(supplier, user, industry)
    services.supplier_start_evaluation(supplier=supplier, user=user, credential=cred(user), reason="start")
    approver = reviewer_for(user)
    services.supplier_approve(supplier=supplier, user=approver, credential=cred(approver), reason="qualified")
    if part is not None:
        entry = services.asl_entry_create(supplier=supplier, part=part, user=user)
        services.asl_approve(entry=entry, user=user, credential=cred(user), reason="ok", evidence="FA report 1")
    supplier.refresh_from_db()
    return supplier
