"""Record numbers (NCR-2026-0001, CAPA-2026-0012 ...): one scheme for every app."""

from __future__ import annotations

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
