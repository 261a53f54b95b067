from django.urls import reverse

from qms.core import policy

from .selectors import resolve_code


def resolve_scan(user, code: str):
    """Scan box: a lot code, a serial number (or a supplier lot number naming one lot) opens the lot."""
    lot = resolve_code(code)
    if lot is None or not policy.can(user, "lots.view", lot.site_id):
        return None
    return reverse("traceability:lot", args=[lot.code])
