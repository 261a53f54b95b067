"""The registry documents owns (plain registration functions, called from the higher apps' ready()).

Version links: a higher app (change control) names the records of its own that produced a document
version, so a version's page answers "which change made this version, and which change replaced it"
without documents importing upwards. A provider takes a list of DocumentVersion ids and returns
{version_id: [(text, url), ...]}; it is called once per page for all the versions shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

VersionLinks = Callable[[list[int]], dict[int, list[tuple[str, str]]]]

_VERSION_LINKS: list[VersionLinks] = []


def register_version_links(fn: VersionLinks) -> None:
    if fn not in _VERSION_LINKS:
        _VERSION_LINKS.append(fn)


def version_links(version_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    ids = [i for i in version_ids if i is not None]
    links: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if not ids:
        return links
    for provider in _VERSION_LINKS:
        for vid, items in provider(ids).items():
            links.setdefault(vid, []).extend(items)
    return links
