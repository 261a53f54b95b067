"""Import kinds `suppliers` and `certificates` (CSV/XLSX; `manage.py import_data suppliers FILE`).

Every row is validated first; nothing is written unless all rows are good. Imported suppliers start as
prospective (a status is a signed decision, never imported). Imported certificates count only once
reviewed: give `reviewed_by` (a username) when the paper register shows they were reviewed.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.audit import audit_context
from qms.core.importing import (
    Column,
    ImportKind,
    RowError,
    check_unique_in_file,
    codes_taken,
    importable_sites,
    parse_bool,
    parse_choice,
    parse_date,
    require_code,
    require_text,
    unknown_site_error,
)
from qms.core.models import Part, User

from .models import (
    Certificate,
    CertificateStatus,
    CertificateType,
    RiskLevel,
    Supplier,
    SupplierCategory,
)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(";", ",").replace(" ", ",").split(",") if v.strip()]


class SupplierImport(ImportKind):
    name = "suppliers"
    perm = "suppliers.change"
    label = gettext_lazy("Suppliers")
    columns = [
        Column("code"),
        Column("name"),
        Column("category"),
        Column("sites", help=gettext_lazy("site codes, separated by commas")),
        Column("risk_level", required=False),
        Column("contact_name", required=False),
        Column("contact_email", required=False),
        Column("contact_phone", required=False),
        Column("country", required=False),
        Column("address", required=False),
        Column("quality_agreement", required=False),
        Column("quality_agreement_signed_on", required=False),
        Column("sqe", required=False, help=gettext_lazy("username of the responsible SQE")),
    ]

    def prepare(self, rows):
        codes = {r.get("code", "").strip().upper() for r in rows}
        usernames = {r.get("sqe", "").strip() for r in rows if r.get("sqe")}
        return {
            "existing": {s.code: s for s in Supplier.objects.filter(code__in=codes).prefetch_related("sites")},
            "taken": codes_taken(Supplier, "code", codes),
            "sites": importable_sites(),
            "users": {u.username: u for u in User.objects.filter(username__in=usernames)},
        }

    def validate_row(self, row, ctx):
        code = require_code(row, "code", 30).upper()
        check_unique_in_file(ctx, code, _("Supplier %(c)s") % {"c": code})
        if code in ctx["taken"] and code not in ctx["existing"]:
            raise RowError(
                _("Supplier code %(c)s belongs to a supplier that serves none of your sites. Choose another code.")
                % {"c": code}
            )
        site_codes = _split(require_text(row, "sites"))
        sites = []
        for sc in site_codes:
            site = ctx["sites"].get(sc)
            if site is None:
                raise unknown_site_error(sc, ctx["sites"])
            sites.append(site)
        email = row.get("contact_email", "").strip()
        if email and ("@" not in email or " " in email):
            raise RowError(_("“%(v)s” is not an e-mail address.") % {"v": email})
        sqe = None
        if row.get("sqe", "").strip():
            sqe = ctx["users"].get(row["sqe"].strip())
            if sqe is None:
                raise RowError(_("There is no user “%(u)s” for the column sqe.") % {"u": row["sqe"].strip()})
        signed_on = parse_date(row, "quality_agreement_signed_on")
        on_file = parse_bool(row, "quality_agreement") or signed_on is not None
        fields = {
            "name": require_text(row, "name", 200),
            "category": parse_choice(row, "category", SupplierCategory.choices),
            "risk_level": parse_choice(row, "risk_level", RiskLevel.choices, default=RiskLevel.MEDIUM),
            "contact_name": row.get("contact_name", "").strip()[:150],
            "contact_email": email,
            "contact_phone": row.get("contact_phone", "").strip()[:50],
            "country": row.get("country", "").strip()[:60],
            "address": row.get("address", "").strip(),
            "quality_agreement_on_file": on_file,
            "quality_agreement_signed_on": signed_on,
            "sqe": sqe,
        }
        return code, fields, sites, ctx["existing"].get(code)

    def write(self, items, ctx):
        written = 0
        for code, fields, sites, existing in items:
            if existing is None:
                supplier = Supplier(code=code, **fields)
                supplier.save()
                supplier.sites.set(sites)
                written += 1
                continue
            changed = False
            for name, value in fields.items():
                if getattr(existing, name) != value:
                    setattr(existing, name, value)
                    changed = True
            if changed:
                existing.save()
            # The sites the importing user cannot see stay as they are: a row speaks only for the user's sites.
            kept = [s for s in existing.sites.all() if s.code not in ctx["sites"]]
            if {s.pk for s in existing.sites.all()} != {s.pk for s in [*sites, *kept]}:
                existing.sites.set([*sites, *kept])
                changed = True
            written += int(changed)
        return written


class CertificateImport(ImportKind):
    name = "certificates"
    perm = "suppliers.certificates"
    label = gettext_lazy("Supplier certificates")
    columns = [
        Column("supplier", help=gettext_lazy("supplier code")),
        Column("type"),
        Column("number"),
        Column("valid_until", required=False, help=gettext_lazy("YYYY-MM-DD; empty for no expiry")),
        Column("issued_on", required=False),
        Column("issuer", required=False),
        Column("scope", required=False),
        Column("parts", required=False, help=gettext_lazy("part numbers, separated by commas; empty for all")),
        Column("reviewed_by", required=False, help=gettext_lazy("username of the reviewer, if already reviewed")),
    ]

    def prepare(self, rows):
        codes = {r.get("supplier", "").strip().upper() for r in rows}
        usernames = {r.get("reviewed_by", "").strip() for r in rows if r.get("reviewed_by")}
        return {
            "suppliers": {s.code: s for s in Supplier.objects.filter(code__in=codes)},
            "existing": {
                (c.supplier.code, c.cert_type, c.number)
                for c in Certificate.objects.filter(supplier__code__in=codes).select_related("supplier")
            },
            "parts": {p.number: p for p in Part.objects.filter(is_active=True).order_by("revision")},
            "users": {u.username: u for u in User.objects.filter(username__in=usernames)},
        }

    def validate_row(self, row, ctx):
        code = require_text(row, "supplier").upper()
        supplier = ctx["suppliers"].get(code)
        if supplier is None:
            raise RowError(_("Supplier “%(c)s” does not exist; import the suppliers first.") % {"c": code})
        cert_type = parse_choice(row, "type", CertificateType.choices)
        number = require_text(row, "number", 100)
        key = (code, cert_type, number)
        check_unique_in_file(ctx, key, _("Certificate %(n)s of %(c)s") % {"n": number, "c": code})
        if key in ctx["existing"]:
            raise RowError(_("Certificate %(n)s of %(c)s is already registered.") % {"n": number, "c": code})
        issued = parse_date(row, "issued_on")
        valid_until = parse_date(row, "valid_until")
        if issued and valid_until and valid_until < issued:
            raise RowError(_("valid_until is before issued_on."))
        parts = []
        for number_ in _split(row.get("parts", "")):
            part = ctx["parts"].get(number_)
            if part is None:
                raise RowError(_("Part “%(p)s” does not exist.") % {"p": number_})
            parts.append(part)
        reviewer = None
        if row.get("reviewed_by", "").strip():
            reviewer = ctx["users"].get(row["reviewed_by"].strip())
            if reviewer is None:
                raise RowError(_("There is no user “%(u)s” for the column reviewed_by.") % {"u": row["reviewed_by"]})
        cert = Certificate(
            supplier=supplier,
            cert_type=cert_type,
            number=number,
            issuer=row.get("issuer", "").strip()[:200],
            scope=row.get("scope", "").strip(),
            issued_on=issued,
            valid_until=valid_until,
        )
        return cert, parts, reviewer

    def write(self, items, ctx):
        from django.utils import timezone

        for cert, parts, reviewer in items:
            if reviewer is not None:
                cert.status = CertificateStatus.VALID
                cert.reviewed_by = reviewer
                cert.reviewed_at = timezone.now()
                cert.review_comment = _("reviewed before import (paper register)")
            with audit_context():
                cert.save()
            if parts:
                cert.parts.set(parts)
        return len(items)
