"""Release waivers: an authority above inspection may release a lot whose inspection was rejected.
The MRB's concession (特采) is the one case: nonconformance registers a provider that answers, for a lot
being released under a signed concession, the text of that concession. Requirements that no waiver
lifts (a separate QA release where the site requires it, active holds) still apply."""

from __future__ import annotations

from collections.abc import Callable

PROVIDERS: list[Callable] = []


def register_release_waiver(provider: Callable) -> None:
    """provider(lot) -> str | None: the waiver's text when it applies to this release of the lot."""
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def release_waiver(lot) -> str | None:
    for provider in PROVIDERS:
        text = provider(lot)
        if text:
            return text
    return None
