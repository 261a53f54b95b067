"""Factories for the documents tests: people by role, a PDF, documents taken through their workflow."""

from __future__ import annotations

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.signatures import SignatureCredential
from documents import services

_PDF_CACHE: dict[str, bytes] = {}


def cred(user):
    return SignatureCredential(user=user, authenticated_at=timezone.now())


def pdf_bytes(text: str = "SOP") -> bytes:
    if text not in _PDF_CACHE:
        from weasyprint import HTML

        _PDF_CACHE[text] = HTML(string=f"<h1>{text}</h1><p>content</p>").write_pdf()
    return _PDF_CACHE[text]


def pdf_upload(name: str = "sop.pdf", text: str = "SOP") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def docx_upload(name: str = "wi.docx") -> SimpleUploadedFile:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return SimpleUploadedFile(name, buf.getvalue())


def document(site, people, *, doc_type="sop", title="Lot release", training_roles=(), **extra):
    return services.document_create(
        site=site,
        doc_type=doc_type,
        title=title,
        owner=people["qm"],
        user=people["qm"],
        training_roles=training_roles,
        **extra,
    )


def draft(doc, author, *, summary="First issue", upload=True):
    return services.version_create(
        document=doc, user=author, change_summary=summary, upload=pdf_upload() if upload else None
    )


def in_review(doc, people, *, reviewers=None):
    version = draft(doc, people["qe"])
    return services.version_submit(version=version, user=people["qe"], reviewers=reviewers or [people["sup"]])


def effective(doc, people, *, at=None):
    """A new version of `doc`: authored by the QE, reviewed by the supervisor, approved by the QM."""
    version = in_review(doc, people)
    services.version_review(version=version, user=people["sup"], credential=cred(people["sup"]))
    if at is None:
        services.version_approve(version=version, user=people["qm"], credential=cred(people["qm"]))
    else:
        services.version_approve(
            version=version,
            user=people["qm"],
            credential=cred(people["qm"]),
            effective_from=timezone.localdate() + datetime.timedelta(days=1),
        )
        services.version_effective_apply(version=version, at=at)
    version.refresh_from_db()
    return version
