"""Retention: how long each record is kept, per record type and site, never below the legal floor.

Defaults per industry profile (what a new site gets) and the legal floors they may not go below:
- food (Food Safety Law of the PRC, Art. 50/51): lot records 6 months past the end of the shelf life, or
  2 years where the product has no shelf life;
- pharma (EU GMP Part I ch. 4.10 / 21 CFR 211.180): batch and lot records 1 year past expiry and at
  least 5 years after release;
- automotive (IATF 16949 7.5.3.2.1): the part's active life plus one calendar year;
- general: 2 years after the record date.

`retention_until(record)` answers for lots, the records of a lot, generated reports, exports and access
log events; None means "kept while it matters" (no end known yet: the part is still active, the lot has
no date): such a record is never purged.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.models import Industry

from .models import Basis, RecordType, RetentionPolicy


@dataclass(frozen=True)
class Rule:
    basis: str
    months: int
    months_without_basis: int = 0
    months_from_record: int = 0
    note: object = ""


FOOD_ART50 = gettext_lazy("Food Safety Law of the PRC, Art. 50/51: 6 months past the shelf life, else 2 years")
GMP = gettext_lazy("GMP: 1 year past expiry, at least 5 years after release")
IATF = gettext_lazy("IATF 16949 7.5.3.2.1: the part's active life plus one calendar year")

# (industry, record type) -> the legal floor: a policy may keep longer, never shorter.
LEGAL_FLOORS: dict[tuple[str, str], Rule] = {
    (Industry.FOOD, RecordType.LOT): Rule(Basis.EXPIRY, 6, 24, 0, FOOD_ART50),
    (Industry.FOOD, RecordType.REPORT): Rule(Basis.EXPIRY, 6, 24, 0, FOOD_ART50),
    (Industry.PHARMA, RecordType.LOT): Rule(Basis.EXPIRY, 12, 60, 60, GMP),
    (Industry.PHARMA, RecordType.BATCH_RECORD): Rule(Basis.EXPIRY, 12, 60, 60, GMP),
    (Industry.PHARMA, RecordType.REPORT): Rule(Basis.EXPIRY, 12, 60, 60, GMP),
    (Industry.AUTOMOTIVE, RecordType.LOT): Rule(Basis.ACTIVE_LIFE, 12, 0, 0, IATF),
    (Industry.AUTOMOTIVE, RecordType.REPORT): Rule(Basis.ACTIVE_LIFE, 12, 0, 0, IATF),
}

GENERAL = Rule(Basis.RECORD, 24, 0, 0, gettext_lazy("Company default: 2 years"))
EXPORT_DEFAULT = Rule(Basis.RECORD, 3, 0, 0, gettext_lazy("Export copies: 3 months (the stored report stays)"))
ACCESS_DEFAULT = Rule(Basis.RECORD, 36, 0, 0, gettext_lazy("Access log: 3 years"))


def default_rule(industry: str, record_type: str) -> Rule:
    floor = LEGAL_FLOORS.get((industry, record_type))
    if floor is not None:
        return floor
    if record_type == RecordType.EXPORT:
        return EXPORT_DEFAULT
    if record_type == RecordType.ACCESS_LOG:
        return ACCESS_DEFAULT
    return GENERAL


def floor_errors(policy: RetentionPolicy) -> dict:
    """Field -> message for every value below the legal floor of the site's industry."""
    if not policy.site_id:
        return {}
    floor = LEGAL_FLOORS.get((policy.site.industry, policy.record_type))
    if floor is None:
        return {}
    errors = {}
    why = _("The legal minimum for this site is: %(rule)s.") % {"rule": floor.note}
    if policy.basis != floor.basis:
        errors["basis"] = (
            _("Records of this type must be counted %(basis)s.") % {"basis": Basis(floor.basis).label} + " " + why
        )
    for name in ("months", "months_without_basis", "months_from_record"):
        value = getattr(policy, name)
        if value is not None and value < getattr(floor, name):
            errors[name] = (
                _("%(n)s months is below the legal minimum of %(min)s months.")
                % {
                    "n": value,
                    "min": getattr(floor, name),
                }
                + " "
                + why
            )
    return errors


def policy_for(site, record_type: str) -> Rule:
    """The site's policy for this record type, else the default of its industry profile."""
    site_id = getattr(site, "pk", site)
    row = RetentionPolicy.objects.filter(site_id=site_id, record_type=record_type).first()
    if row is not None:
        return Rule(row.basis, row.months, row.months_without_basis, row.months_from_record, row.note)
    industry = getattr(site, "industry", None)
    if industry is None:
        from qms.core.models import Site

        industry = Site.objects.filter(pk=site_id).values_list("industry", flat=True).first()
    return default_rule(industry or Industry.GENERAL, record_type)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    import calendar

    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _as_date(value) -> datetime.date | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _apply(rule: Rule, *, record_date, basis_date, active_life_end=None, active=False) -> datetime.date | None:
    record_date = _as_date(record_date)
    if rule.basis == Basis.ACTIVE_LIFE:
        if active or active_life_end is None:
            return None  # kept while the part is in active production
        until = add_months(_as_date(active_life_end), rule.months)
    elif rule.basis == Basis.EXPIRY and basis_date is not None:
        until = add_months(_as_date(basis_date), rule.months)
    elif rule.basis == Basis.EXPIRY:
        if record_date is None:
            return None
        until = add_months(record_date, rule.months_without_basis or rule.months)
    else:
        if record_date is None:
            return None
        until = add_months(record_date, rule.months)
    if rule.months_from_record and record_date is not None:
        until = max(until, add_months(record_date, rule.months_from_record))
    return until


def lot_expiry(lot) -> datetime.date | None:
    """The end of the lot's shelf life: its expiry date, else production date + the part's shelf life."""
    if lot.expires_on:
        return lot.expires_on
    days = getattr(lot.part, "shelf_life_days", None)
    start = lot.produced_on or lot.received_on
    if days and start:
        return start + datetime.timedelta(days=days)
    return None


def _part_life_end(part, site_id) -> datetime.date | None:
    """When the part's active life ended: its last lot at the site (None while the part is active)."""
    from traceability.models import Lot

    last = Lot.objects.filter(part=part, site_id=site_id).order_by("-created_at").values_list("created_at", flat=True)
    first = last.first()
    return _as_date(first)


def lot_retention_until(lot, record_type: str = RecordType.LOT) -> datetime.date | None:
    rule = policy_for(lot.site, record_type)
    record_date = lot.produced_on or lot.received_on or _as_date(lot.created_at)
    part = lot.part
    return _apply(
        rule,
        record_date=record_date,
        basis_date=lot_expiry(lot),
        active=part.is_active,
        active_life_end=None if part.is_active else _part_life_end(part, lot.site_id),
    )


def retention_until(record) -> datetime.date | None:
    """The first day on which `record` may be purged (None: not yet known, so never purged)."""
    from compliance.models import AccessEvent, ExportJob, GeneratedReport
    from traceability.models import Lot

    if isinstance(record, Lot):
        return lot_retention_until(record)
    lot = getattr(record, "lot", None) if hasattr(record, "lot_id") else None
    if isinstance(lot, Lot):
        return lot_retention_until(lot)
    if isinstance(record, GeneratedReport):
        return _report_until(record)
    if isinstance(record, ExportJob):
        if record.generated_report_id:
            return _report_until(record.generated_report)
        if record.site_id is None:
            rule = EXPORT_DEFAULT
        else:
            rule = policy_for(record.site, RecordType.EXPORT)
        return _apply(rule, record_date=record.finished_at or record.requested_at, basis_date=None)
    if isinstance(record, AccessEvent):
        rule = policy_for(record.site, RecordType.ACCESS_LOG) if record.site_id else ACCESS_DEFAULT
        return _apply(rule, record_date=record.at, basis_date=None)
    site = getattr(record, "site", None)
    if site is not None:
        rule = policy_for(site, RecordType.REPORT)
        return _apply(rule, record_date=getattr(record, "created_at", None), basis_date=None)
    return None


def _report_until(report) -> datetime.date | None:
    from traceability.models import Lot

    if report.site_id is None:
        return _apply(GENERAL, record_date=report.generated_at, basis_date=None)
    rule = policy_for(report.site, RecordType.REPORT)
    until = _apply(rule, record_date=report.generated_at, basis_date=None, active=rule.basis == Basis.ACTIVE_LIFE)
    code = (report.params or {}).get("lot")
    if code:
        lot = Lot.objects.select_related("part", "site").filter(code=code).first()
        if lot is not None:
            lot_until = lot_retention_until(lot, RecordType.REPORT)
            if lot_until is None or until is None:
                return None
            until = max(until, lot_until)
    return until


def purge_guard(instance) -> str | None:
    """Registered with compliance.retention: refuses a purge before the record's retention date."""
    try:
        until = retention_until(instance)
    except Exception:  # noqa: BLE001 - when in doubt, keep the record
        return _("Its retention date cannot be determined, so it is kept.")
    today = datetime.date.today()
    if until is None:
        return _("It is kept while its retention period has no end yet (part still active or no date).")
    if until > today:
        return _("It must be kept until %(date)s (retention policy).") % {"date": until.isoformat()}
    return None


def default_policies_for(site) -> list[RetentionPolicy]:
    """Unsaved policies with the industry defaults for each record type (for the policy page)."""
    out = []
    for value, _label in RecordType.choices:
        rule = default_rule(site.industry, value)
        out.append(
            RetentionPolicy(
                site=site,
                record_type=value,
                basis=rule.basis,
                months=rule.months,
                months_without_basis=rule.months_without_basis,
                months_from_record=rule.months_from_record,
                note=str(rule.note),
            )
        )
    return out
