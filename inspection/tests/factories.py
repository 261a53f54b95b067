"""Test data for inspection: parts, suppliers, lots, approved plans, e-sign credentials."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from compliance.signatures import SignatureCredential
from inspection import services
from inspection.models import Kind, Stage
from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind, Part, PartType


def cred(user):
    return SignatureCredential(user=user, authenticated_at=timezone.now())


def part(number="RG-1", part_type=PartType.COMPONENT):
    with audit_context(reason="test"):
        return Part.objects.get_or_create(
            number=number, revision="A", defaults={"name": number, "part_type": part_type}
        )[0]


def gauge(site, code="BG-1", due_in_days=30):
    with audit_context(reason="test"):
        return Equipment.objects.create(
            code=code,
            name="Bore gauge",
            kind=EquipmentKind.GAUGE,
            site=site,
            calibration_due=timezone.localdate() + datetime.timedelta(days=due_in_days),
        )


def supplier(code="SUP-1"):
    from suppliers.models import Supplier

    with audit_context(reason="test"):
        return Supplier.objects.get_or_create(code=code, defaults={"name": code, "category": "component"})[0]


def lot(site, p, qty=1000, *, sup=None, code=None, work_order=None):
    from traceability.models import Lot

    with audit_context(reason="test"):
        return Lot.objects.create(
            code=code or f"L-{uuid.uuid4().hex[:8]}",
            part=p,
            site=site,
            supplier=sup,
            quantity=Decimal(qty),
            supplier_lot_code="S1" if sup else "",
            work_order=work_order,
        )


def plan(site, p, author, approver, stage=Stage.IQC, *, chars=None, **kw):
    kw.setdefault("aql", "1.0")
    pl = services.plan_create(site=site, part=p, stage=stage, title=f"{p.number} {stage}", user=author, **kw)
    for c in chars or [{"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 3}]:
        services.characteristic_add(plan=pl, user=author, **c)
    return services.plan_approve(plan=pl, user=approver, credential=cred(approver))


def fill(insp, user, *, bad=(), value_ok="10.000", value_bad="10.500"):
    """Record every value; samples in `bad` get an out-of-limit first characteristic."""
    chars = list(insp.plan.characteristics.all())
    values = []
    for n in range(1, insp.sample_size + 1):
        for i, c in enumerate(chars):
            if c.kind == Kind.ATTRIBUTE:
                raw = "fail" if (n in bad and i == 0) else "pass"
            else:
                raw = value_bad if (n in bad and i == 0) else value_ok
            values.append({"characteristic": c.pk, "sample_no": n, "raw": raw})
    return services.measurements_record(inspection=insp, values=values, submission_key=uuid.uuid4(), user=user)
