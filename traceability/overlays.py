"""Overlay registry: apps above traceability (inspection, nonconformance) contribute what they know
about lots to the trace page, in batch.

    register_overlay(fn(lot_ids: list[int]) -> dict[int, list[dict]])

One call per provider per page (one query per provider, never one per lot). Each dict describes one
item shown beside the lot; recognised keys:
    kind:   "inspection" | "ncr" | any short word
    label:  short text, e.g. "IQC-000123 accepted" (translated)
    ok:     True (good) / False (bad) / None (neutral or open)
    url:    optional link to the record
    public_summary: optional bool; when True the item may be counted on the public trace page
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

OverlayProvider = Callable[[list], dict]

_providers: list[OverlayProvider] = []


def register_overlay(fn: OverlayProvider) -> None:
    if fn not in _providers:
        _providers.append(fn)


def unregister_overlay(fn: OverlayProvider) -> None:
    while fn in _providers:
        _providers.remove(fn)


def overlays_for(lot_ids) -> dict[int, list[dict]]:
    """Merge every provider's items per lot id. A failing provider is logged and skipped: the trace
    must answer even when a higher app is broken."""
    lot_ids = list(lot_ids)
    merged: dict[int, list[dict]] = {}
    if not lot_ids:
        return merged
    for provider in list(_providers):
        try:
            result = provider(lot_ids) or {}
        except Exception:  # noqa: BLE001 - an overlay never breaks the trace
            log.exception("trace overlay %r failed", provider)
            continue
        for lot_id, items in result.items():
            merged.setdefault(lot_id, []).extend(items)
    return merged
