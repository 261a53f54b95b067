"""Evidence that higher apps offer for PPAP elements (e.g. inspection's capability studies for element 11,
initial process studies). Suppliers sits below them in the layers, so they register a provider here.

A provider is `fn(*, part, site_ids) -> dict[int, list[PpapEvidence]]` (element number -> evidence); it
must read only the given sites and use a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PpapEvidence:
    label: str
    url: str
    note: str = ""


EvidenceProvider = Callable[..., dict[int, list[PpapEvidence]]]
_PROVIDERS: list[EvidenceProvider] = []


def register_ppap_evidence(fn: EvidenceProvider) -> None:
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)


def ppap_evidence_for(*, part, site_ids) -> dict[int, list[PpapEvidence]]:
    found: dict[int, list[PpapEvidence]] = {}
    for provider in _PROVIDERS:
        for number, items in provider(part=part, site_ids=site_ids).items():
            found.setdefault(number, []).extend(items)
    return found
