"""Record numbers (NCR-2026-0001, CAPA-2026-0012 ...): one scheme for every app."""

from __future__ import annotations

import secrets

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
