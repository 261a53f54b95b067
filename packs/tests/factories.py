"""Hand-built data for the packs: a lot made from `ancestors` lots, with inspections and values spread
over them, an NCR on one ancestor, a signed-looking release of the lot, a shipment."""

from __future__ import annotations

import datetime
import itertools
import uuid
from decimal import Decimal

from django.utils import timezone

from inspection.models import Inspection, InspectionStatus, LotRelease, Measurement, Stage
from inspection.tests import factories as insp_f
from qms.core.audit import audit_context
from qms.core.models import Customer, Part, PartType
from traceability.models import Lot, LotLink, LotStatus, Shipment

_seq = itertools.count(1)


def part(number=None, *, shelf_life_days=None, name="Widget"):
    with audit_context(reason="test"):
        return Part.objects.create(
            number=number or f"PK-{next(_seq)}",
            name=name,
            part_type=PartType.FINISHED,
            shelf_life_days=shelf_life_days,
        )


def lot_world(site, author, approver, *, ancestors=3, inspections=4, samples=3, ncr=True, code=None, chain=False):
    """The lot (returned) with its ancestors, inspections with values, NCR, release and a shipment."""
    p = part()
    plan = insp_f.plan(
        site,
        p,
        author,
        approver,
        chars=[
            {"name": "Bore", "nominal": "10", "tolerance": "0.02", "unit": "mm", "decimals": 3},
            {"name": "Length", "nominal": "50", "tolerance": "0.1", "unit": "mm", "decimals": 2},
        ],
    )
    chars = list(plan.characteristics.all())
    n = next(_seq)
    with audit_context(user=author, reason="test"):
        top = Lot.objects.create(
            code=code or f"PKFG-{n}", part=p, site=site, quantity=Decimal("1000"), status=LotStatus.RELEASED,
            produced_on=timezone.localdate(),
        )  # fmt: skip
        parents = []
        previous = top
        for i in range(ancestors):
            parent = Lot.objects.create(
                code=f"PKRM-{n}-{i}", part=p, site=site, quantity=Decimal("500"), status=LotStatus.CONSUMED,
                received_on=timezone.localdate() - datetime.timedelta(days=3),
            )  # fmt: skip
            LotLink.objects.create(parent=parent, child=previous if chain else top, quantity=Decimal("1"))
            parents.append(parent)
            if chain:
                previous = parent
        lots = [top, *parents]
        insps = []
        for k in range(inspections):
            target = lots[k % len(lots)]
            insps.append(
                Inspection(
                    code=f"PKI-{n}-{k:04d}",
                    stage=Stage.IQC,
                    site=site,
                    part=p,
                    plan=plan,
                    lot=target,
                    status=InspectionStatus.ACCEPTED,
                    sample_size=samples,
                    inspector=author,
                    completed_at=timezone.now(),
                )  # fmt: skip
            )
        insps = Inspection.objects.bulk_create(insps)
        values = []
        for insp in insps:
            for s in range(1, samples + 1):
                for c in chars:
                    values.append(
                        Measurement(
                            inspection=insp,
                            characteristic=c,
                            sample_no=s,
                            value=(c.nominal or Decimal(0)) + Decimal("0.001") * s,
                            ok=True,
                            submission=uuid.uuid4(),
                            recorded_by=author,
                        )  # fmt: skip
                    )
        Measurement.objects.bulk_create(values)
        LotRelease.objects.create(lot=top, note_number=f"PKRN-{n}", released_by=approver, reason="test release")
        customer = Customer.objects.create(code=f"PKCU-{n}", name="Acme Foods", email="buyer@acme.example")
        Shipment.objects.create(lot=top, customer=customer, quantity=Decimal("10"), delivery_note=f"DN-{n}")
    if ncr and parents:
        from nonconformance.tests.factories import open_ncr

        open_ncr(site, author, lots=[parents[0]], the_part=p)
    return top
