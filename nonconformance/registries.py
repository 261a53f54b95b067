"""Registries through which higher apps (capa) add to NCR and complaint pages without being imported.

- `register_related_provider(fn(obj) -> list[dict])`: records related to an NCR or a complaint
  (each dict: label, code, url, status). capa lists its CAPAs and SCARs here.
- `register_related_many_provider(fn(*, ncr_ids, complaint_ids) -> dict[(kind, id), list[dict]])`: the same
  for many NCRs ("ncr", id) and complaints ("complaint", id) at once, in a constant number of queries
  (the complaint's root-cause view lists the CAPAs of every NCR and complaint on the traced lots).
- `register_action_provider(fn(user, obj) -> list[dict])`: buttons on the NCR / complaint page
  (each dict: label, url). capa offers "Open a CAPA" and "Send a SCAR".
"""

from __future__ import annotations

from collections.abc import Callable

RELATED_PROVIDERS: list[Callable] = []
ACTION_PROVIDERS: list[Callable] = []
RELATED_MANY_PROVIDERS: list[Callable] = []


def register_related_provider(fn: Callable) -> None:
    if fn not in RELATED_PROVIDERS:
        RELATED_PROVIDERS.append(fn)


def register_related_many_provider(fn: Callable) -> None:
    if fn not in RELATED_MANY_PROVIDERS:
        RELATED_MANY_PROVIDERS.append(fn)


def related_records_many(*, ncr_ids=(), complaint_ids=()) -> dict[tuple[str, int], list[dict]]:
    rows: dict[tuple[str, int], list[dict]] = {}
    for fn in RELATED_MANY_PROVIDERS:
        for key, items in (fn(ncr_ids=list(ncr_ids), complaint_ids=list(complaint_ids)) or {}).items():
            rows.setdefault(key, []).extend(items)
    return rows


def register_action_provider(fn: Callable) -> None:
    if fn not in ACTION_PROVIDERS:
        ACTION_PROVIDERS.append(fn)


def related_records(obj) -> list[dict]:
    rows: list[dict] = []
    for fn in RELATED_PROVIDERS:
        rows.extend(fn(obj) or [])
    return rows


def actions_for(user, obj) -> list[dict]:
    rows: list[dict] = []
    for fn in ACTION_PROVIDERS:
        rows.extend(fn(user, obj) or [])
    return rows
