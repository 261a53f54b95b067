"""Assemble one PDF from sections rendered separately (bounded memory: each section, or each chunk of a
long one, is rendered alone and written to a temporary file), with a bookmark per section, a manifest of
SHA-256 hashes (of every section and of the manifest itself) printed as the last section and embedded as
`manifest.json`, stored as a GeneratedReport with the SHA-256 of the whole file and a PackManifest row.

    sections = [Section("trace", _("Trace"), parts=iter_of_html_bodies), ...]
    stored, manifest = assemble(sections, title=..., kind=..., subject=..., site=..., user=..., progress=...)
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from compliance import audit_trail
from compliance.models import GeneratedReport
from compliance.pdf import _document_number, _user_label, checkpoint_footer, html_to_pdf, page_counter_css
from qms.core.audit import audit_context

from .fastpdf import PageMeta
from .models import PackManifest

log = logging.getLogger(__name__)
_TAGS = re.compile(r"<[^>]+>|\s+")
MANIFEST_NAME = "manifest.json"


@dataclass
class Section:
    key: str
    title: str
    # HTML bodies, or callables taking a fastpdf.PageMeta and returning a fastpdf.RenderedPart; a long
    # section yields several chunks (each becomes its own PDF)
    parts: Iterable


def content_hash(body: str, sha=None):
    sha = sha or hashlib.sha256()
    sha.update(_TAGS.sub(" ", body).strip().encode("utf-8"))
    return sha


def _wrap(body: str, *, title: str, number: str, generated_at, user, first: bool, param_rows) -> str:
    return render_to_string(
        "packs/pdf/section_base.html",
        {
            "body": body,
            "title": title,
            "document_number": number,
            "generated_at": generated_at,
            "generated_by": _user_label(user),
            "checkpoint": checkpoint_footer(),
            "language": get_language(),
            "site_name": settings.QMS_SITE_NAME,
            "page_counter_css": page_counter_css(),
            "first": first,
            "param_rows": param_rows,
        },
    )


def manifest_sha(manifest: dict) -> str:
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def assemble(
    sections: list[Section],
    *,
    title: str,
    kind: str,
    subject: str,
    site,
    user,
    params: dict,
    key: str,
    prefix: str = "PACK",
    progress: Callable[[int, int], None] | None = None,
    param_rows=(),
    attachments: Iterable[tuple[str, str, Callable[[], bytes | None]]] = (),
) -> tuple[GeneratedReport, PackManifest]:
    """Render, merge, hash and store. `attachments`: (section title, file name, reader) of PDF files to
    append as pages after the sections (e.g. PPAP test reports); their own SHA-256 goes in the manifest."""
    from pypdf import PdfReader, PdfWriter

    number = _document_number(prefix)
    generated_at = timezone.now()
    tmpdir = tempfile.mkdtemp(prefix="pack-")
    meta = PageMeta(
        title=title,
        document_number=number,
        generated=f"{generated_at.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC · {_user_label(user)}",
        site_name=settings.QMS_SITE_NAME,
    )
    entries = []
    total = len(sections) + 2
    paths: list[tuple[str, str, int]] = []  # (path, bookmark title or "", level)
    try:
        for i, section in enumerate(sections):
            sha = hashlib.sha256()
            pdf_sha = hashlib.sha256()
            pages = 0
            chunk_no = 0
            for body in section.parts:
                if callable(body):  # a part rendered by packs.fastpdf: it needs the page header data
                    rendered = body(meta)
                    sha.update(rendered.text.encode("utf-8"))
                    pdf = rendered.pdf
                    del rendered
                else:
                    content_hash(body, sha)
                    html = _wrap(
                        body,
                        title=f"{title} · {section.title}",
                        number=number,
                        generated_at=generated_at,
                        user=user,
                        first=(i == 0 and chunk_no == 0),
                        param_rows=param_rows,
                    )
                    pdf = html_to_pdf(html)
                    del html
                pdf_sha.update(pdf)
                path = os.path.join(tmpdir, f"{i:03d}-{chunk_no:04d}.pdf")
                with open(path, "wb") as fh:
                    fh.write(pdf)
                n = len(PdfReader(io.BytesIO(pdf)).pages)
                del pdf
                paths.append((path, section.title if chunk_no == 0 else "", n))
                pages += n
                chunk_no += 1
            entries.append(
                {
                    "section": section.key,
                    "title": str(section.title),
                    "pages": pages,
                    "content_sha256": sha.hexdigest(),
                    "pdf_sha256": pdf_sha.hexdigest(),
                }
            )
            if progress:
                progress(i + 1, total)
        files = []
        for att_title, name, reader in attachments:
            data = reader()
            if data is None:
                files.append({"title": str(att_title), "file": name, "sha256": "", "appended": False})
                continue
            entry = {"title": str(att_title), "file": name, "sha256": hashlib.sha256(data).hexdigest()}
            try:
                n = len(PdfReader(io.BytesIO(data)).pages)
            except Exception:  # noqa: BLE001 - not a readable PDF: listed, not appended
                entry["appended"] = False
            else:
                path = os.path.join(tmpdir, f"att-{len(files):03d}.pdf")
                with open(path, "wb") as fh:
                    fh.write(data)
                paths.append((path, f"{att_title}: {name}", n))
                entry["appended"] = True
                entry["pages"] = n
            files.append(entry)
        manifest = {
            "document_number": number,
            "title": title,
            "kind": kind,
            "subject": subject,
            "site": site.code,
            "language": get_language(),
            "generated_at": generated_at.astimezone(datetime.UTC).isoformat(),
            "generated_by": _user_label(user),
            "sections": entries,
            "attachments": files,
        }
        digest = manifest_sha(manifest)
        body = render_to_string("packs/pdf/manifest.html", {"manifest": manifest, "manifest_sha256": digest})
        mpath = os.path.join(tmpdir, "manifest.pdf")
        with open(mpath, "wb") as fh:
            fh.write(
                html_to_pdf(
                    _wrap(
                        body,
                        title=f"{title} · {_('Manifest')}",
                        number=number,
                        generated_at=generated_at,
                        user=user,
                        first=False,
                        param_rows=(),
                    )
                )
            )
        paths.append((mpath, _("Manifest"), 0))
        if progress:
            progress(total - 1, total)
        writer = PdfWriter()
        for path, bookmark, _n in paths:
            writer.append(path, outline_item=bookmark or None)
        writer.add_metadata({"/Title": title, "/Subject": f"{number} {subject}"})
        writer.add_attachment(
            MANIFEST_NAME,
            json.dumps({"manifest": manifest, "manifest_sha256": digest}, ensure_ascii=False, indent=1).encode(),
        )
        out_path = os.path.join(tmpdir, "out.pdf")
        with open(out_path, "wb") as fh:
            writer.write(fh)
        del writer
        whole = hashlib.sha256()
        size = 0
        with open(out_path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                whole.update(block)
                size += len(block)
        with open(out_path, "rb") as fh, transaction.atomic(), audit_context(user=user, reason=f"pack {key}"):
            stored = GeneratedReport(
                key=key,
                title=title[:300],
                document_number=number,
                params=params,
                language=get_language(),
                generated_by=user if getattr(user, "pk", None) else None,
                generated_at=generated_at,
                site_id=site.pk,
                sha256=whole.hexdigest(),
                content_sha256=digest,
                size=size,
            )
            stored.file.save(f"{number}.pdf", File(fh), save=False)
            stored.save()
            audit_trail.record(
                stored,
                action="export",
                changes={"sha256": [None, stored.sha256], "params": [None, params], "manifest": [None, digest]},
            )
            row = PackManifest.objects.create(
                site=site,
                kind=kind,
                subject=subject[:100],
                generated_report=stored,
                manifest=manifest,
                manifest_sha256=digest,
            )
        return stored, row
    finally:
        for name in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)


@dataclass
class Verification:
    ok: bool
    problems: list


def verify_pack(row: PackManifest) -> Verification:
    """Check a stored pack: the file's SHA-256, the embedded manifest equal to the stored one and its hash,
    one bookmark per section, and the page count."""
    from pypdf import PdfReader

    problems = []
    stored = row.generated_report
    try:
        with stored.file.open("rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return Verification(False, [_("The file is missing.")])
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        problems.append(_("The file does not match its SHA-256."))
    if manifest_sha(row.manifest) != row.manifest_sha256:
        problems.append(_("The stored manifest does not match its SHA-256."))
    try:
        reader = PdfReader(io.BytesIO(data))
        embedded = reader.attachments.get(MANIFEST_NAME) or []
    except Exception:  # noqa: BLE001 - whatever is wrong with it, it is not the stored pack
        problems.append(_("The file is not a readable PDF."))
        return Verification(False, problems)
    if not embedded:
        problems.append(_("The PDF has no embedded manifest."))
    else:
        doc = json.loads(embedded[0])
        if doc.get("manifest") != row.manifest or doc.get("manifest_sha256") != row.manifest_sha256:
            problems.append(_("The embedded manifest differs from the stored one."))
    titles = [getattr(o, "title", None) for o in reader.outline if not isinstance(o, list)]
    for entry in row.manifest.get("sections", []):
        if entry["title"] not in titles:
            problems.append(_("No bookmark for section “%(s)s”.") % {"s": entry["title"]})
    expected = sum(e["pages"] for e in row.manifest.get("sections", [])) + sum(
        a.get("pages", 0) for a in row.manifest.get("attachments", [])
    )
    if len(reader.pages) <= expected - 1:
        problems.append(_("The PDF has fewer pages than its manifest lists."))
    return Verification(not problems, problems)
