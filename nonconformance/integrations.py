"""How nonconformance plugs into the apps below it (listeners, overlays) and into the kernel
(scan resolvers). Connected once from AppConfig.ready()."""

from __future__ import annotations

import logging

from django.urls import reverse

from qms.core import policy

log = logging.getLogger(__name__)


def resolve_ncr_code(user, code: str) -> str | None:
    from .models import Ncr

    ncr = Ncr.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if ncr is None or not policy.can(user, "ncr.view", ncr.site_id):
        return None
    return reverse("nonconformance:ncr_detail", args=[ncr.code])


def resolve_complaint_code(user, code: str) -> str | None:
    from .models import Complaint

    complaint = Complaint.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if complaint is None or not policy.can(user, "ncr.view", complaint.site_id):
        return None
    return reverse("nonconformance:complaint_detail", args=[complaint.code])


def on_inspection_rejected(sender, inspection, **kwargs):
    """A rejected inspection opens an NCR with the failing values and holds the lot."""
    from .services import ncr_open_from_inspection

    ncr_open_from_inspection(inspection=inspection)


def trace_overlay(lot_ids):
    from .selectors import ncrs_for_lots

    return ncrs_for_lots(lot_ids)


def connect() -> None:
    try:
        from traceability.overlays import register_overlay
    except ImportError:  # traceability not installed yet
        pass
    else:
        register_overlay(trace_overlay)
    from django.apps import apps

    if not apps.is_installed("inspection"):
        return
    try:
        from inspection.signals import inspection_rejected
    except ImportError:  # inspection not installed yet
        log.info("inspection.signals not available: NCRs are not opened from rejected inspections")
    else:
        inspection_rejected.connect(on_inspection_rejected, dispatch_uid="nonconformance.inspection_rejected")
