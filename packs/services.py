"""Writes of the packs app (control plans are generated in packs.iatf.control_plan_generate)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.audit import audit_context
from qms.core.errors import DomainError

from .models import RetentionPolicy
from .retention import floor_errors


def retention_policy_set(
    *,
    site,
    record_type: str,
    basis: str,
    months: int,
    months_without_basis: int,
    months_from_record: int,
    note: str = "",
    user,
    reason: str,
) -> RetentionPolicy:
    """Set how long records of one type are kept at a site. Never below the legal floor of the site's
    industry: the refusal names the minimum. Audited, with the reason."""
    policy.check(user, "packs.retention", site)
    if not (reason or "").strip():
        raise DomainError(_("Give the reason for the change."), field="reason")
    with transaction.atomic(), audit_context(user=user, reason=reason.strip()):
        row = RetentionPolicy.objects.select_for_update().filter(site=site, record_type=record_type).first()
        if row is None:
            row = RetentionPolicy(site=site, record_type=record_type)
        row.basis = basis
        row.months = months
        row.months_without_basis = months_without_basis
        row.months_from_record = months_from_record
        row.note = note[:300]
        errors = floor_errors(row)
        if errors:
            raise DomainError(" ".join(str(v) for v in errors.values()), field=next(iter(errors)))
        try:
            row.full_clean(exclude=["site"])
        except ValidationError as exc:
            raise DomainError("; ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc
        row.save()
    return row
