from django.urls import reverse

from qms.core import policy

from .models import Inspection
from .selectors import open_inspection_for_lot


def resolve_scan(user, code: str):
    """Inspection numbers open the inspection; a lot code with an open inspection opens that inspection
    for users who perform inspections (others fall through to the lot page)."""
    code = (code or "").strip()
    if not code:
        return None
    insp = Inspection.objects.filter(code__iexact=code).only("code", "site_id").first()
    if insp is not None:
        return (
            reverse("inspection:detail", args=[insp.code])
            if policy.can(user, "inspection.view", insp.site_id)
            else None
        )
    insp = open_inspection_for_lot(code)
    if insp is not None and policy.can(user, "inspection.perform", insp.site_id):
        return reverse("inspection:detail", args=[insp.code])
    return None
