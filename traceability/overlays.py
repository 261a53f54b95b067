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


# Lot page actions: apps above traceability offer a link on the lot page (e.g. "Everything about this lot").
#     register_lot_action(fn(user, lot) -> dict | None)   dict: label (translated), url, optional title
_lot_actions: list[Callable] = []


def register_lot_action(fn: Callable) -> None:
    if fn not in _lot_actions:
        _lot_actions.append(fn)


def lot_actions_for(user, lot) -> list[dict]:
    """The links higher apps offer this user on the lot page; a failing provider is logged and skipped."""
    out = []
    for provider in list(_lot_actions):
        try:
            item = provider(user, lot)
        except Exception:  # noqa: BLE001 - an action link never breaks the lot page
            log.exception("lot action %r failed", provider)
            continue
        if item:
            out.append(item)
    return out
