"""Retention guard: no purge may remove a record before its retention date.

The retention policies live higher up (packs); they register here, and every purge or void path asks:

    refusal = purge_refusal(instance)   # None when the record may go, else a readable reason
    register_retention_guard(fn(instance) -> str | None)

With no guard registered nothing is refused here; the regulated and evidence tables refuse deletes anyway.
"""

from __future__ import annotations

from collections.abc import Callable

_guards: list[Callable[[object], str | None]] = []


def register_retention_guard(fn: Callable[[object], str | None]) -> None:
    if fn not in _guards:
        _guards.append(fn)


def purge_refusal(instance) -> str | None:
    for guard in list(_guards):
        reason = guard(instance)
        if reason:
            return reason
    return None
