"""Test data for compliance: a regulated record to audit and sign (core.Part)."""

from qms.core.audit import audit_context
from qms.core.models import Part, PartType


def make_part(*, user=None, number="P-100", name="Bearing ring 轴承圈", **extra) -> Part:
    with audit_context(user=user, reason="test data"):
        return Part.objects.create(number=number, name=name, part_type=PartType.COMPONENT, unit="pcs", **extra)
