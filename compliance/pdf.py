"""PDF rendering with WeasyPrint: one base layout for every report (header with document number and
title, footer with page X of Y, generated at/by and the content SHA-256), signature blocks, tables that
split across pages. Chinese renders with the bundled CJK font (fonts-wqy-microhei, installed by set-up)."""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from qms.core.audit import audit_context

from . import audit_trail
from .models import GeneratedReport
from .reports import get_report, resolve_params

_TAGS = re.compile(r"<[^>]+>|\s+")


def _document_number(prefix: str) -> str:
    now = timezone.now()
    return f"{prefix}-{now:%Y%m%d-%H%M%S}-{now.microsecond:06d}"


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_report_pdf(
    *, key: str, params: dict[str, str] | None = None, language: str = "en", user=None, store: bool = True
):
    """Render a registered report. Returns (pdf_bytes, GeneratedReport | None)."""
    report = get_report(key)
    resolved = resolve_params(report, params or {})
    with translation.override(language):
        context = report.build(resolved, user)
        number = _document_number(report.document_prefix)
        generated_at = timezone.now()
        body = render_to_string(report.template, {**context, "report": report, "params": resolved})
        content_sha = hashlib.sha256(_TAGS.sub(" ", body).strip().encode("utf-8")).hexdigest()
        html = render_to_string(
            "compliance/pdf/base.html",
            {
                "body": body,
                "title": context.get("title") or str(report.title),
                "document_number": number,
                "generated_at": generated_at,
                "generated_by": user.printed_name if user else "system",
                "content_sha256": content_sha,
                "language": language,
            },
        )
    pdf = html_to_pdf(html)
    stored = None
    if store and report.regulated:
        with transaction.atomic(), audit_context(user=user, reason=f"report {key} generated"):
            stored = GeneratedReport(
                key=key,
                title=str(context.get("title") or report.title)[:300],
                document_number=number,
                params=resolved,
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
                stored, action="export", changes={"sha256": [None, stored.sha256], "params": [None, resolved]}
            )
    return pdf, stored
