"""PDF rendering with WeasyPrint: one base layout for every report (header with document number and
title, footer with page X of Y, generated at/by and the content SHA-256), signature blocks, tables that
split across pages. Chinese renders with the bundled CJK font (fonts-wqy-microhei, installed by set-up)."""

from __future__ import annotations

import hashlib
import logging
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qms.core.audit import audit_context

from . import audit_trail
from .models import GeneratedReport
from .reports import ReportError, get_report, resolve_params

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # one line per rendering step otherwise

_TAGS = re.compile(r"<[^>]+>|\s+")


def _document_number(prefix: str) -> str:
    now = timezone.now()
    return f"{prefix}-{now:%Y%m%d-%H%M%S}-{now.microsecond:06d}"


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_counter_css() -> str:
    """The CSS `content` value for "Page X of Y" in the active language (counters inside the sentence)."""
    sentence = _("Page %(page)s of %(pages)s") % {"page": "\x00page\x00", "pages": "\x00pages\x00"}
    parts = []
    for chunk in sentence.split("\x00"):
        if chunk in ("page", "pages"):
            parts.append(f"counter({chunk})")
        elif chunk:
            parts.append(_css_string(chunk))
    return " ".join(parts)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _user_label(user) -> str:
    if user is not None and getattr(user, "pk", None):
        return f"{user.printed_name} ({user.get_username()})"
    return _("system")


def render_report_pdf(
    *, key: str, params: dict[str, str] | None = None, language: str = "en", user=None, store: bool = True
):
    """Render a registered report. Returns (pdf_bytes, GeneratedReport | None)."""
    report = get_report(key)
    languages = [code for code, _name in settings.LANGUAGES]
    if language not in languages:
        raise ReportError(
            _("Unknown language “%(lang)s”. Choose one of: %(known)s.")
            % {"lang": language, "known": ", ".join(languages)},
            field="lang",
        )
    resolved = resolve_params(report, params or {})
    with translation.override(language):
        context = report.build(resolved, user)
        title = str(context.get("title") or report.title)
        number = _document_number(report.document_prefix)
        generated_at = timezone.now()
        body = render_to_string(report.template, {**context, "report": report, "params": resolved})
        content_sha = hashlib.sha256(_TAGS.sub(" ", body).strip().encode("utf-8")).hexdigest()
        labels = {p.name: str(p.help or p.name) for p in report.params}
        html = render_to_string(
            "compliance/pdf/base.html",
            {
                "body": body,
                "title": title,
                "document_number": number,
                "generated_at": generated_at,
                "generated_by": _user_label(user),
                "content_sha256": content_sha,
                "language": language,
                "site_name": settings.QMS_SITE_NAME,
                "page_counter_css": page_counter_css(),
                "param_rows": context.get("param_rows")
                or [(labels.get(k, k).capitalize(), v) for k, v in resolved.items()],
            },
        )
    pdf = html_to_pdf(html)
    effective = {k: str(v) for k, v in (context.get("effective_params") or resolved).items()}
    stored = None
    if store and report.regulated:
        with transaction.atomic(), audit_context(user=user, reason=f"report {key} generated"):
            stored = GeneratedReport(
                key=key,
                title=title[:300],
                document_number=number,
                params=effective,
                language=language,
                generated_by=user if getattr(user, "pk", None) else None,
                generated_at=generated_at,
                sha256=hashlib.sha256(pdf).hexdigest(),
                content_sha256=content_sha,
                size=len(pdf),
            )
            stored.file.save(f"{number}.pdf", ContentFile(pdf), save=False)
            stored.save()
            audit_trail.record(
                stored,
                action="export",
                changes={"sha256": [None, stored.sha256], "params": [None, effective], "language": [None, language]},
            )
    return pdf, stored


def stored_report_bytes(stored: GeneratedReport) -> bytes | None:
    """The stored file of a generated report, or None when it is missing or no longer matches its SHA-256
    (not an authentic copy: never hand it out)."""
    try:
        with stored.file.open("rb") as fh:
            data = fh.read()
    except (FileNotFoundError, ValueError):
        return None
    return data if hashlib.sha256(data).hexdigest() == stored.sha256 else None
