"""Upload checks for certificates and PPAP attachments: size, extension and the content itself."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _

from qms.core.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# (magic bytes, MIME type, allowed extensions)
SIGNATURES = [
    (b"%PDF-", "application/pdf", {"pdf"}),
    (b"\x89PNG\r\n\x1a\n", "image/png", {"png"}),
    (b"\xff\xd8\xff", "image/jpeg", {"jpg", "jpeg"}),
]


class UploadRefused(DomainError):
    pass


def sniff(head: bytes) -> tuple[str, set[str]] | None:
    for magic, mime, exts in SIGNATURES:
        if head.startswith(magic):
            return mime, exts
    return None


def check_upload(upload) -> dict:
    """Read and check an uploaded file. Returns {name, content_type, size, sha256, content}.
    Refuses anything that is not really a PDF, PNG or JPEG, and anything over 10 MB."""
    name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:200]
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            _("“%(name)s” is %(mb).1f MB; the limit is 10 MB. Scan it at a lower resolution or split it.")
            % {"name": name, "mb": size / 1024 / 1024}
        )
    upload.seek(0)
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(_("“%(name)s” is larger than 10 MB, the limit.") % {"name": name})
    if not content:
        raise UploadRefused(_("“%(name)s” is empty.") % {"name": name})
    found = sniff(content[:16])
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if found is None:
        raise UploadRefused(
            _("“%(name)s” is not a PDF, PNG or JPEG file. Upload the certificate as PDF or as a photo.")
            % {"name": name}
        )
    mime, exts = found
    if ext not in exts:
        raise UploadRefused(
            _("“%(name)s” is a %(mime)s file but its name ends in “.%(ext)s”. Rename it and upload it again.")
            % {"name": name, "mime": mime, "ext": ext}
        )
    return {
        "name": name,
        "content_type": mime,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content,
    }
