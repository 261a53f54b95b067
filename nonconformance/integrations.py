"""How nonconformance plugs into the apps below it (listeners, overlays) and into the kernel
(scan resolvers). Connected once from AppConfig.ready()."""

from __future__ import annotations

from django.urls import reverse

from qms.core import policy


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
    from inspection.coa_notes import register_coa_note_provider
    from inspection.signals import inspection_rejected
    from traceability.overlays import register_overlay

    from .selectors import concessions_for_lots

    register_overlay(trace_overlay)
    register_coa_note_provider(concessions_for_lots)
    inspection_rejected.connect(on_inspection_rejected, dispatch_uid="nonconformance.inspection_rejected")
