"""Import kinds of the kernel: parts, customers, equipment."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .importing import (
    Column,
    ImportKind,
    RowError,
    check_unique_in_file,
    codes_taken,
    importable_sites,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_int,
    require_code,
    require_text,
    unknown_site_error,
)
from .models import Customer, Equipment, EquipmentKind, Part, PartType
from .registries import register_import_kind


def _upsert(model, items, key_fields) -> int:
    """Create new rows in bulk; change existing ones one by one so each change is in the audit trail."""
    new, written = [], 0
    for obj, existing in items:
        if existing is None:
            new.append(obj)
            continue
        changed = False
        for f in model._meta.concrete_fields:
            if f.primary_key or f.attname in key_fields:
                continue
            value = getattr(obj, f.attname)
            if getattr(existing, f.attname) != value:
                setattr(existing, f.attname, value)
                changed = True
        if changed:
            existing.save()
            written += 1
    model.objects.bulk_create(new, batch_size=2000)
    return written + len(new)


class PartImport(ImportKind):
    name = "parts"
    label = gettext_lazy("Parts")
    columns = [
        Column("number"),
        Column("name"),
        Column("type"),
        Column("unit"),
        Column("revision", required=False),
        Column("shelf_life_days", required=False),
        Column("safety_critical", required=False),
        Column("regulated", required=False),
        Column("standard_cost", required=False),
    ]

    def prepare(self, rows):
        return {"existing": {(p.number, p.revision): p for p in Part.objects.all()}, "costs": {}}

    def validate_row(self, row, ctx):
        number = require_code(row, "number", 60)
        revision = row.get("revision", "").strip() or "A"
        check_unique_in_file(ctx, (number, revision), _("Part %(n)s rev %(r)s") % {"n": number, "r": revision})
        part = Part(
            number=number,
            revision=revision,
            name=require_text(row, "name", 200),
            part_type=parse_choice(row, "type", PartType.choices),
            unit=require_text(row, "unit", 20),
            shelf_life_days=parse_int(row, "shelf_life_days", minimum=1),
            is_safety_critical=parse_bool(row, "safety_critical"),
            is_regulated=parse_bool(row, "regulated"),
        )
        existing = ctx["existing"].get((number, revision))
        # The standard cost keeps its history (PartCost): an empty cell leaves the cost as it is.
        cost = parse_decimal(row, "standard_cost", max_digits=14, decimal_places=4)
        if cost is not None and cost < 0:
            raise RowError(_("Column “%(col)s”: a standard cost cannot be negative.") % {"col": "standard_cost"})
        part.standard_cost = existing.standard_cost if existing else None
        if cost is not None and (existing is None or existing.standard_cost != cost):
            ctx["costs"][(number, revision)] = cost
        return part, existing

    def write(self, items, ctx):
        from .services import part_cost_apply

        written = _upsert(Part, items, {"number", "revision"})
        if ctx["costs"]:
            reason = _("standard cost imported")
            for part in Part.objects.filter(number__in={n for n, _r in ctx["costs"]}):
                cost = ctx["costs"].get((part.number, part.revision))
                if cost is not None:
                    part_cost_apply(part=part, value=cost, user=ctx.get("user"), reason=reason)
        return written


class CustomerImport(ImportKind):
    name = "customers"
    label = gettext_lazy("Customers")
    columns = [
        Column("code"),
        Column("name"),
        Column("email", required=False),
        Column("country", required=False),
        Column("language", required=False),
        Column("automotive", required=False),
    ]

    def prepare(self, rows):
        return {"existing": {c.code: c for c in Customer.objects.all()}}

    def validate_row(self, row, ctx):
        code = require_code(row, "code", 30)
        check_unique_in_file(ctx, code, _("Customer %(c)s") % {"c": code})
        email = row.get("email", "").strip()
        if email and "@" not in email:
            raise RowError(_("“%(v)s” is not an e-mail address.") % {"v": email})
        customer = Customer(
            code=code,
            name=require_text(row, "name", 200),
            email=email,
            country=row.get("country", "").strip(),
            language=parse_choice(row, "language", settings.LANGUAGES, default="en"),
            is_automotive=parse_bool(row, "automotive"),
        )
        return customer, ctx["existing"].get(code)

    def write(self, items, ctx):
        return _upsert(Customer, items, {"code"})


class EquipmentImport(ImportKind):
    name = "equipment"
    label = gettext_lazy("Equipment and gauges")
    columns = [
        Column("code"),
        Column("name"),
        Column("kind"),
        Column("site"),
        Column("calibration_due", required=False),
    ]

    def prepare(self, rows):
        codes = {r.get("code", "").strip() for r in rows} - {""}
        return {
            "existing": {e.code: e for e in Equipment.objects.filter(code__in=codes)},
            "taken": codes_taken(Equipment, "code", codes),
            "sites": importable_sites(),
        }

    def validate_row(self, row, ctx):
        code = require_code(row, "code", 40)
        check_unique_in_file(ctx, code, _("Equipment %(c)s") % {"c": code})
        site_code = require_text(row, "site")
        site = ctx["sites"].get(site_code)
        if site is None:
            raise unknown_site_error(site_code, ctx["sites"])
        if code in ctx["taken"] and code not in ctx["existing"]:
            raise RowError(
                _("Equipment code %(c)s is already used at another site. Choose another code.") % {"c": code}
            )
        kind = parse_choice(row, "kind", EquipmentKind.choices)
        due = parse_date(row, "calibration_due")
        if kind == EquipmentKind.GAUGE and due is None:
            raise RowError(_("A gauge needs a calibration_due date (YYYY-MM-DD)."))
        eq = Equipment(code=code, name=require_text(row, "name", 200), kind=kind, site=site, calibration_due=due)
        return eq, ctx["existing"].get(code)

    def write(self, items, ctx):
        return _upsert(Equipment, items, {"code"})


for _kind in (PartImport(), CustomerImport(), EquipmentImport()):
    register_import_kind(_kind)
