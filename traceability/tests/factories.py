"""Test data for traceability: parts, suppliers, lots and links created directly (history), and
helpers that go through the services."""

import itertools
from decimal import Decimal

from qms.core.audit import audit_context
from qms.core.models import Customer, Part, PartType
from traceability.models import Lot, LotLink, LotStatus

_seq = itertools.count(1)


def part(number=None, part_type=PartType.COMPONENT, unit="pcs", shelf_life_days=None):
    with audit_context(reason="test"):
        return Part.objects.create(
            number=number or f"P-{next(_seq)}",
            name="Test part",
            part_type=part_type,
            unit=unit,
            shelf_life_days=shelf_life_days,
        )


def customer(code=None, language="en"):
    with audit_context(reason="test"):
        code = code or f"C-{next(_seq)}"
        return Customer.objects.create(
            code=code, name=f"Customer {code}", email=f"{code.lower()}@example.com", language=language
        )


def supplier(code=None, **extra):
    from suppliers.models import Supplier

    with audit_context(reason="test"):
        code = code or f"S-{next(_seq)}"
        fields = {"code": code, "name": f"Supplier {code}"}
        names = {f.name for f in Supplier._meta.get_fields()}
        if "category" in names:
            fields["category"] = Supplier._meta.get_field("category").choices[0][0]
        fields.update({k: v for k, v in extra.items() if k in names})
        return Supplier.objects.create(**fields)


def lot(site, code=None, *, part_obj=None, quantity="100", status=LotStatus.RELEASED, supplier=None, **extra):
    with audit_context(reason="test"):
        p = part_obj or part()
        return Lot.objects.create(
            code=code or f"L-{next(_seq)}",
            part=p,
            site=site,
            supplier=supplier,
            quantity=Decimal(quantity),
            unit=p.unit,
            status=status,
            **extra,
        )


def link(parent, child, quantity="1"):
    with audit_context(reason="test"):
        return LotLink.objects.create(parent=parent, child=child, quantity=Decimal(quantity))
