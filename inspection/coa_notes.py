"""Notes printed on a lot's Certificate of Analysis by apps above inspection (e.g. a concession /
特采 granted by the MRB). A provider takes lot ids and returns {lot_id: [{"text": ...}, ...]} in one query."""

from __future__ import annotations

from collections.abc import Callable

PROVIDERS: list[Callable] = []


def register_coa_note_provider(provider: Callable) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def coa_notes(lot_ids) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for provider in PROVIDERS:
        for lot_id, notes in provider(list(lot_ids)).items():
            out.setdefault(lot_id, []).extend(notes)
    return out
