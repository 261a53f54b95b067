"""Record numbers (NCR-2026-0001, CAPA-2026-0012 ...): one scheme for every app."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote, unquote

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError


def next_code(model, prefix: str, field: str = "code") -> str:
    """The next sequential number of the year: PREFIX-YYYY-NNNN."""
    stem = f"{prefix}-{timezone.localdate().year}-"
    last = (
        model._base_manager.filter(**{f"{field}__startswith": stem})
        .order_by(f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{number:04d}"


def create_with_code(model, prefix: str, field: str = "code", **fields):
    """Create a record with the next number; two people creating at once each get their own number."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return model.objects.create(**{field: next_code(model, prefix, field)}, **fields)
        except IntegrityError:
            continue
    raise DomainError(_("Could not allocate a record number; try again."))


def random_code(model, prefix: str, field: str = "code") -> str:
    """PREFIX-YYMMDD-XXXXXX for records created in bulk or from many stations (lots, inspections),
    where a yearly counter would be a hot row. Checked free before it is returned."""
    stamp = timezone.now().strftime("%y%m%d")
    for _attempt in range(20):
        candidate = f"{prefix}-{stamp}-{secrets.token_hex(3).upper()}"
        if not model._base_manager.filter(**{field: candidate}).exists():
            return candidate
    raise DomainError(_("Could not allocate a record number; try again."))


# ------------------------------------------------------------------------------------------------
# Codes people type or scan (lot, supplier lot, serial, supplier, part, work order, customer,
# equipment). They end up in URLs, file names, barcodes, CSV cells and other systems' keys, so they
# keep to a small character set that is safe everywhere: letters A-Z a-z, digits, dot, underscore and
# hyphen, starting with a letter or a digit, at most 64 characters (less where the field is shorter).

CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
CODE_MAX_LENGTH = 64
_CODE_RE = re.compile(rf"\A{CODE_PATTERN}\Z")


def code_problem(value, *, label=None, max_length: int | None = None) -> str | None:
    """The readable reason `value` is not a valid code, or None when it is."""
    label = label or _("code")
    limit = min(max_length or CODE_MAX_LENGTH, CODE_MAX_LENGTH)
    text = "" if value is None else str(value)
    if not text:
        return _("Enter the %(label)s.") % {"label": label}
    if len(text) > limit:
        return _("The %(label)s “%(value)s…” is longer than %(n)s characters.") % {
            "label": label,
            "value": text[:20],
            "n": limit,
        }
    if not _CODE_RE.match(text):
        return _(
            "The %(label)s “%(value)s” may contain only letters A-Z, digits 0-9, dot (.), underscore (_) and "
            "hyphen (-), and must start with a letter or a digit."
        ) % {"label": label, "value": text[:64]}
    return None


def clean_code(value, *, label=None, max_length: int | None = None) -> str:
    """Strip and check a code a person typed; raise DomainError with the allowed characters otherwise.
    Services call it so every door (form, import, API) refuses the same codes."""
    text = "" if value is None else str(value).strip()
    problem = code_problem(text, label=label, max_length=max_length)
    if problem:
        raise DomainError(problem, code="invalid_code")
    return text


def validate_code(value) -> None:
    """Model-field validator (forms and full_clean use it)."""
    problem = code_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_code")


class CodeConverter:
    """URL converter for record codes. Records saved before codes were validated may hold any
    character ("/" included); the code is percent-encoded into one path segment so that reversing
    a URL for such a record never fails and the page still opens."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value) -> str:
        return quote(str(value), safe="")
