"""The one upload path: every file a person uploads (certificates, PPAP documents, NCR and complaint
attachments, inspection photos) is

- checked by its content (magic bytes), not its name, against the kinds allowed for that use;
- limited in size per use (settings.QMS_UPLOAD_MAX_BYTES);
- stored under MEDIA_ROOT (outside the static / web root, never served by URL) under a random name;
- handed out only by `file_response`, called from a view that checked the user's permission at the
  record's site; each download is announced with `signals.file_downloaded` (the access log).
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError
from .signals import file_downloaded

logger = logging.getLogger(__name__)


class UploadRefused(DomainError):
    pass


@dataclass(frozen=True)
class FileKind:
    key: str
    mime: str
    extensions: frozenset
    label: object


KINDS = {
    k.key: k
    for k in (
        FileKind("pdf", "application/pdf", frozenset({"pdf"}), "PDF"),
        FileKind("png", "image/png", frozenset({"png"}), "PNG"),
        FileKind("jpeg", "image/jpeg", frozenset({"jpg", "jpeg"}), "JPEG"),
        FileKind("webp", "image/webp", frozenset({"webp"}), "WebP"),
        FileKind("heic", "image/heic", frozenset({"heic", "heif"}), "HEIC"),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            frozenset({"docx"}),
            "Word (DOCX)",
        ),
        FileKind(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            frozenset({"xlsx"}),
            "Excel (XLSX)",
        ),
    )
}

# What each use accepts. Photos are shown to people on tablets: images only.
USES = {
    "certificate": ("pdf", "png", "jpeg"),
    "ppap": ("pdf", "png", "jpeg", "docx", "xlsx"),
    "attachment": ("pdf", "png", "jpeg", "webp", "heic"),
    "photo": ("png", "jpeg", "webp", "heic"),
    "document": ("pdf", "docx", "xlsx", "png", "jpeg"),
}
USE_LABELS = {
    "certificate": gettext_lazy("certificate"),
    "ppap": gettext_lazy("PPAP document"),
    "attachment": gettext_lazy("attachment"),
    "photo": gettext_lazy("photo"),
    "document": gettext_lazy("controlled document"),
}
DEFAULT_MAX_BYTES = {
    "certificate": 10 * 1024 * 1024,
    "ppap": 20 * 1024 * 1024,
    "attachment": 10 * 1024 * 1024,
    "photo": 5 * 1024 * 1024,
    "document": 20 * 1024 * 1024,
}


def max_bytes(use: str) -> int:
    configured = getattr(settings, "QMS_UPLOAD_MAX_BYTES", {}) or {}
    return int(configured.get(use, DEFAULT_MAX_BYTES[use]))


def sniff(content: bytes) -> FileKind | None:
    """The kind of file the bytes really are, or None."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return KINDS["webp"]
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif"):
        return KINDS["heic"]
    if head.startswith(b"PK\x03\x04"):
        # Office files are zip packages; only the member names are read (no decompression).
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return KINDS["docx"]
            if any(n.startswith("xl/") for n in names):
                return KINDS["xlsx"]
    return None


def _allowed_labels(use: str) -> str:
    return ", ".join(str(KINDS[k].label) for k in USES[use])


@dataclass
class CheckedUpload:
    name: str
    content_type: str
    extension: str
    size: int
    sha256: str
    content: bytes

    def content_file(self) -> ContentFile:
        return ContentFile(self.content, name=random_name(self.extension))


def random_name(extension: str) -> str:
    """A stored file's name: random, so it cannot be guessed and never carries the uploader's name."""
    return f"{uuid.uuid4().hex}.{extension}"


def check_upload(upload, *, use: str = "certificate") -> CheckedUpload:
    """Read and check an uploaded file for `use`. Raises UploadRefused with a message saying what is
    allowed; returns the checked content otherwise."""
    if use not in USES:
        raise ValueError(f"unknown upload use {use!r}")
    limit = max_bytes(use)
    label = USE_LABELS[use]
    name = (getattr(upload, "name", "") or "file").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "file"
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise UploadRefused(
            _(
                "“%(name)s” is %(mb).1f MB; the limit for a %(use)s is %(limit)s MB. Scan it at a lower resolution or split it."
            )
            % {"name": name, "mb": size / 1024 / 1024, "use": label, "limit": limit // (1024 * 1024)}
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise UploadRefused(
            _("“%(name)s” is larger than %(limit)s MB, the limit for a %(use)s.")
            % {"name": name, "limit": limit // (1024 * 1024), "use": label}
        )
    if not content:
        raise UploadRefused(_("“%(name)s” is empty.") % {"name": name})
    kind = sniff(content)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind is None or kind.key not in USES[use]:
        raise UploadRefused(
            _("“%(name)s” is not a file this %(use)s accepts. Allowed: %(kinds)s.")
            % {"name": name, "use": label, "kinds": _allowed_labels(use)}
        )
    if ext not in kind.extensions:
        raise UploadRefused(
            _("“%(name)s” is a %(kind)s file but its name ends in “.%(ext)s”. Rename it and upload it again.")
            % {"name": name, "kind": kind.label, "ext": ext}
        )
    return CheckedUpload(
        name=name,
        content_type=kind.mime,
        extension=sorted(kind.extensions)[0] if kind.key != "jpeg" else "jpg",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )


def content_type_for(stored_name: str) -> str:
    """The type of a stored file from its extension (set by `check_upload`, so it can be trusted)."""
    ext = stored_name.rsplit(".", 1)[-1].lower() if "." in stored_name else ""
    for kind in KINDS.values():
        if ext in kind.extensions:
            return kind.mime
    return "application/octet-stream"


def file_response(request, field, *, name: str, content_type: str = "", record=None):
    """Hand out a stored file. The calling view has checked the permission at the record's site.
    A file missing from storage answers 404 with a page that says so (not a traceback)."""
    if not field:
        raise Http404(_("This record has no file."))
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError):
        logger.error("stored file missing: %s (%s)", field.name, record.__class__.__name__ if record else "-")
        return render(
            request,
            "core/file_missing.html",
            {"name": name, "record": record},
            status=404,
        )
    content_type = content_type or content_type_for(field.name)
    file_downloaded.send(
        sender=type(record) if record is not None else None,
        user=request.user,
        record=record,
        file_name=name,
        content_type=content_type,
        request=request,
    )
    response = FileResponse(handle, content_type=content_type, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
