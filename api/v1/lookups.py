"""Find the records a call names, inside the caller's site scope (a record of another site is "not
found", never shown). Unknown names are refused with a pointer to the field."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from qms.core import policy
from qms.core.models import Customer, Equipment, Part, Site, User
from suppliers.models import Supplier
from traceability.models import Lot, WorkOrder
from traceability.selectors import lot_by_code


def _missing(field: str, message) -> ValidationError:
    return ValidationError({field: [str(message)]})


def site(user, code: str, perm: str, field: str = "site") -> Site:
    obj = Site.objects.filter(code=code).first()
    if obj is None or not policy.can(user, perm, obj):
        raise _missing(field, _("No site %(c)s among the sites where you may do this.") % {"c": code})
    return obj


def part(number: str, revision: str = "", field: str = "part") -> Part:
    qs = Part.objects.filter(number=number, is_active=True)
    if revision:
        qs = qs.filter(revision=revision)
    found = list(qs.order_by("-revision")[:2])
    if not found:
        raise _missing(field, _("No active part %(n)s.") % {"n": f"{number} {revision}".strip()})
    if len(found) > 1 and not revision:
        raise _missing(field, _("Part %(n)s has several revisions: give part_revision.") % {"n": number})
    return found[0]


def supplier(code: str, field: str = "supplier") -> Supplier:
    obj = Supplier.objects.filter(code=code).first()
    if obj is None:
        raise _missing(field, _("No supplier %(c)s serves your sites.") % {"c": code})
    return obj


def customer(code: str, field: str = "customer") -> Customer:
    obj = Customer.objects.filter(code=code).first()
    if obj is None:
        raise _missing(field, _("No customer %(c)s.") % {"c": code})
    return obj


def lot(code: str, field: str = "lot") -> Lot:
    obj = lot_by_code(code)
    if obj is None:
        raise _missing(field, _("No lot %(c)s among your sites.") % {"c": code})
    return obj


def equipment(code: str, field: str = "equipment") -> Equipment:
    obj = Equipment.objects.filter(code=code).first()
    if obj is None:
        raise _missing(field, _("No equipment %(c)s among your sites.") % {"c": code})
    return obj


def users(names, field: str = "operators") -> list:
    names = sorted({n.strip() for n in names if n.strip()})
    found = list(User.objects.filter(username__in=names, is_active=True))
    missing = set(names) - {u.username for u in found}
    if missing:
        raise _missing(field, _("Unknown users: %(n)s.") % {"n": ", ".join(sorted(missing))})
    return found


def work_order(code: str) -> WorkOrder | None:
    return WorkOrder.objects.select_related("site", "part", "line").filter(code=code).first()
