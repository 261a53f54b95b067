"""Controlled copies: a PDF version is handed out with a header on every page (document number, version,
status, "controlled copy printed by X at T", in English and Chinese) and, when the version is not the
effective one, an UNCONTROLLED watermark across the page.

The stamp is rendered by WeasyPrint on a transparent page of the same size and merged over each page
of the stored file with pypdf; the stored file itself is never changed (its SHA-256 is what was signed).
"""

from __future__ import annotations

import io
import logging

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qms.core.errors import DomainError

log = logging.getLogger(__name__)

MAX_PAGES = 500


class StampError(DomainError):
    pass


def _lines(version, user, at, language: str) -> dict:
    with translation.override(language):
        effective = version.status == "effective"
        return {
            "header": _("%(number)s · %(title)s · version %(v)s · %(status)s")
            % {
                "number": version.document.number,
                "title": version.document.title,
                "v": version.label,
                "status": version.get_status_display(),
            },
            "printed": (
                _("Controlled copy printed by %(who)s at %(when)s")
                if effective
                else _("Uncontrolled copy printed by %(who)s at %(when)s: not the version in force")
            )
            % {"who": user.printed_name, "when": timezone.localtime(at).strftime("%Y-%m-%d %H:%M %Z")},
            "watermark": _("UNCONTROLLED"),
        }


def stamp_pdf(*, version, user, at=None) -> bytes:
    """The stored PDF of `version` with the controlled-copy header (and the watermark when not in force)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError
    from weasyprint import HTML

    at = at or timezone.now()
    with version.file.open("rb") as fh:
        data = fh.read()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise StampError(_("The stored PDF is encrypted, so no controlled copy can be made of it."))
        pages = list(reader.pages)
    except StampError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        log.warning("stamp: unreadable PDF for %s: %s", version, exc)
        raise StampError(_("The stored PDF cannot be read, so no controlled copy can be made of it.")) from exc
    if len(pages) > MAX_PAGES:
        raise StampError(
            _("The PDF has more than %(n)s pages; a controlled copy is made of at most that.") % {"n": MAX_PAGES}
        )
    context = {
        "en": _lines(version, user, at, "en"),
        "zh": _lines(version, user, at, "zh-hans"),
        "watermark": version.status != "effective",
    }
    stamps: dict[tuple, object] = {}
    writer = PdfWriter()
    try:
        for page in pages:
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            key = (round(width), round(height))
            if key not in stamps:
                html = render_to_string("documents/pdf/stamp.html", {**context, "width": width, "height": height})
                stamps[key] = PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages[0]
            page.merge_transformed_page(
                stamps[key], [1, 0, 0, 1, float(box.left), float(box.bottom)], over=True, expand=False
            )
            writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
    except StampError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed page is reported, not a 500
        log.warning("stamp: failed for %s: %s", version, exc)
        raise StampError(_("The stored PDF cannot be read, so no controlled copy can be made of it.")) from exc
    return out.getvalue()
