"""Test data for nonconformance (and capa): parts, suppliers, lots, NCRs through the services."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from compliance.signatures import signature_authenticate
from qms.core.audit import audit_context
from qms.core.models import Customer, Part, PartType

PASSWORD = "test-Password-123"
_seq = itertools.count(1)


def part(number=None, **kw):
    with audit_context(reason="test"):
        return Part.objects.create(
            number=number or f"P-{next(_seq)}", name="Ring", part_type=kw.pop("part_type", PartType.COMPONENT), **kw
        )


def customer(code=None, automotive=True):
    with audit_context(reason="test"):
        return Customer.objects.create(code=code or f"C-{next(_seq)}", name="Gearbox Co", is_automotive=automotive)


def supplier(site, code=None):
    from suppliers.models import Supplier

    with audit_context(reason="test"):
        s = Supplier.objects.create(
            code=code or f"S-{next(_seq)}", name="Steel Ltd", category="raw_material", contact_email="q@steel.invalid"
        )
        s.sites.add(site)
    return s


def lot(site, the_part, *, quantity=100, supplier=None, code=None, supplier_lot_code="", status="quarantine", **kw):
    from traceability.models import Lot

    with audit_context(reason="test"):
        return Lot.objects.create(
            code=code or f"L-{next(_seq)}",
            part=the_part,
            site=site,
            supplier=supplier,
            supplier_lot_code=supplier_lot_code,
            quantity=Decimal(quantity),
            status=status,
            received_on=timezone.localdate(),
            **kw,
        )


def link(parent, child, quantity=1):
    from traceability.models import LotLink

    with audit_context(reason="test"):
        return LotLink.objects.create(parent=parent, child=child, quantity=Decimal(quantity))


def credential(user):
    session = SessionStore()
    session["signed_once"] = True
    return signature_authenticate(user=user, password=PASSWORD, session=session)


def open_ncr(site, user, *, lots=None, qty_confirmed=10, unit_value=0, the_supplier=None, the_part=None, **kw):
    from nonconformance.services import ncr_open, ncr_update

    the_part = the_part or (lots[0].part if lots else part())
    if lots is None:
        lots = [lot(site, the_part, supplier=the_supplier)]
    ncr = ncr_open(
        site=site, source=kw.pop("source", "iqc"), part=the_part, title="Bore oversize", user=user, lots=lots,
        supplier=the_supplier, **kw,
    )  # fmt: skip
    if qty_confirmed or unit_value:
        ncr = ncr_update(ncr=ncr, user=user, reason="sorted", quantity_confirmed=qty_confirmed, unit_value=unit_value)
    return ncr


def ncr_in_review(site, author, proposer, lines, **kw):
    """An NCR in MRB review with its disposition submitted for signatures. lines: [(kind, qty, extra)]."""
    from nonconformance.services import disposition_line_add, disposition_submit, ncr_submit_to_mrb

    ncr = open_ncr(site, author, **kw)
    ncr_submit_to_mrb(ncr=ncr, user=proposer)
    for kind, qty, extra in lines:
        disposition_line_add(ncr=ncr, kind=kind, quantity=qty, user=proposer, **extra)
    disposition_submit(ncr=ncr, user=proposer)
    ncr.refresh_from_db()
    return ncr
