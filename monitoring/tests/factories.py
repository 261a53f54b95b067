"""Hand-built records with known KPI answers."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from inspection.models import Inspection, IpqcSchedule, Stage
from inspection.tests import factories as insp_f
from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)), datetime.UTC)


def plan(site, author, approver, stage=Stage.IQC, number="RG-1"):
    return insp_f.plan(site, insp_f.part(number), author, approver, stage=stage)


def line(site, code="LINE-1"):
    with audit_context(reason="test"):
        return Equipment.objects.get_or_create(
            code=code, defaults={"name": code, "kind": EquipmentKind.LINE, "site": site}
        )[0]


def schedule(site, the_plan, the_line):
    with audit_context(reason="test"):
        return IpqcSchedule.objects.create(site=site, plan=the_plan, line=the_line, every_minutes=120, pieces=5)


def inspection(the_plan, *, when, accepted=True, sample=10, bad=0, supplier=None, schedule=None, reinspection=False):
    with audit_context(reason="test"):
        return Inspection.objects.create(
            code=f"I-{uuid.uuid4().hex[:10]}",
            stage=the_plan.stage,
            site=the_plan.site,
            part=the_plan.part,
            plan=the_plan,
            supplier=supplier,
            schedule=schedule,
            status="accepted" if accepted else "rejected",
            lot_size=sample,
            sample_size=sample,
            nonconforming=bad,
            is_reinspection=reinspection,
            completed_at=when,
            created_at=when,
        )


def shipment(site, the_part, customer, *, qty, on):
    from traceability.models import Shipment

    lot = insp_f.lot(site, the_part)
    with audit_context(reason="test"):
        return Shipment.objects.create(
            lot=lot, customer=customer, quantity=Decimal(qty), shipped_on=on, created_by=None
        )


def executed_lines(ncr, user, lines):
    """Executed MRB disposition lines of an NCR, as the disposition service leaves them (the signatures and
    the lot moves are nonconformance's tests): lines = [(kind, quantity, executed_at, voided)]."""
    from nonconformance.models import Disposition, DispositionLine

    with audit_context(reason="test"):
        disposition = Disposition.objects.create(ncr=ncr, proposed_by=user)
        return [
            DispositionLine.objects.create(
                disposition=disposition,
                kind=kind,
                quantity=Decimal(qty),
                executed_quantity=Decimal(qty),
                executed_at=when,
                executed_by=user,
                voided=voided,
            )  # fmt: skip
            for kind, qty, when, voided in lines
        ]
