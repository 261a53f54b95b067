"""Builders for batch record tests: an approved master batch record with a critical step, a parameter,
an IPC and one material; a running work order with its batch record; released material lots."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.utils import timezone

from batchrecords import services
from compliance.signatures import SignatureCredential
from qms.core.audit import audit_context
from qms.core.models import Part, PartType


def cred(user):
    return SignatureCredential(user=user, authenticated_at=timezone.now())


def part(number, part_type=PartType.FINISHED, unit="kg"):
    with audit_context(reason="test"):
        return Part.objects.get_or_create(
            number=number, revision="A", defaults={"name": number, "part_type": part_type, "unit": unit}
        )[0]


def material_lot(site, p, qty="100", *, code=None, status="released"):
    from traceability.models import Lot

    with audit_context(reason="test"):
        return Lot.objects.create(
            code=code or f"M-{uuid.uuid4().hex[:8]}",
            part=p,
            site=site,
            quantity=Decimal(qty),
            unit=p.unit,
            status=status,
        )


def mbr(site, author, approver=None, *, product="TAB-1", material="API-1"):
    """Granulation (critical: second person) with a temperature parameter 60–70 °C and a moisture IPC ≤ 2 %;
    compression with a hardness IPC 40–60 N. 10 kg of the material ± 2 %; theoretical yield 100, 95–102 %."""
    prod = part(product)
    mat = part(material)
    m = services.mbr_create(
        site=site, part=prod, title=f"{product} tablets", theoretical_yield="100", unit="kg", user=author
    )
    s1 = services.mbr_step_add(mbr=m, title="Granulation", instructions="Mix 10 min", is_critical=True, user=author)
    s2 = services.mbr_step_add(mbr=m, title="Compression", instructions="Press tablets", user=author)
    services.mbr_parameter_add(
        step=s1, name="Inlet temperature", unit="°C", lower_limit="60", upper_limit="70", user=author
    )
    services.mbr_parameter_add(step=s1, name="Moisture", kind="ipc", unit="%", upper_limit="2", user=author)
    services.mbr_parameter_add(
        step=s2, name="Hardness", kind="ipc", unit="N", lower_limit="40", upper_limit="60", user=author
    )
    services.mbr_material_add(mbr=m, part=mat, quantity="10", tolerance_percent="2", step=s1, user=author)
    if approver is not None:
        m = services.mbr_approve(mbr=m, user=approver, credential=cred(approver))
    return m


def running_work_order(site, product_part, user, code=None):
    from traceability.services import work_order_advance, work_order_create

    wo = work_order_create(
        site=site, part=product_part, code=code or f"WO-{uuid.uuid4().hex[:6]}", quantity_planned=100, user=user
    )
    return work_order_advance(work_order=wo, step="run", user=user)


def ebr(site, cast, master=None, **kw):
    master = master or mbr(site, cast["qe"], cast["qm"])
    wo = running_work_order(site, master.part, cast["op"])
    from batchrecords.models import ExecutedBatchRecord

    started = ExecutedBatchRecord.objects.filter(work_order=wo).first()  # made on commit (transactional tests)
    return started or services.ebr_create(work_order=wo, user=cast["op"], **kw)


def param_ids(record):
    from batchrecords.models import MbrParameter

    return {p.name: p.pk for p in MbrParameter.objects.filter(mbr=record.mbr)}


def steps(record):
    return list(record.steps.order_by("sequence"))
