"""Registries through which higher apps plug into lower ones (DESIGN.md: upward news by registries).

Each app registers in its AppConfig.ready(). The kernel and the portal only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScanResolver:
    """Turns a scanned or typed code into a URL, or None when the code is not one of its records."""

    name: str
    resolve: Callable[[object, str], str | None]  # (user, code) -> url | None
    order: int = 100


@dataclass(frozen=True)
class PeriodicJob:
    """A job run by Celery beat, by `manage.py run_jobs`, or by the quick start's in-process loop."""

    name: str
    task: str  # dotted path of the Celery task, which takes no arguments
    every_seconds: int
    description: str = ""


@dataclass(frozen=True)
class NavItem:
    """A top-level page: shown in the navigation to users holding `perm`; checked by the access matrix."""

    key: str
    label: object  # lazy translation
    url_name: str
    perm: str
    order: int = 100
    icon: str = ""


@dataclass(frozen=True)
class DemoSeeder:
    name: str
    seed: Callable[[], None]
    order: int = 100


@dataclass
class Registry:
    scan_resolvers: list[ScanResolver] = field(default_factory=list)
    periodic_jobs: dict[str, PeriodicJob] = field(default_factory=dict)
    nav_items: dict[str, NavItem] = field(default_factory=dict)
    demo_seeders: dict[str, DemoSeeder] = field(default_factory=dict)
    import_kinds: dict[str, object] = field(default_factory=dict)  # kind -> qms.core.importing.ImportKind
    dashboard_tiles: list[Callable] = field(default_factory=list)  # fn(user) -> dict | list[dict] | None
    # The e-signature's re-authentication step (compliance.signatures.signature_authenticate), for kernel
    # code that must take a signature, e.g. `import_data --released-as-history`.
    signature_authenticate: Callable | None = None


registry = Registry()


def register_scan_resolver(resolver: ScanResolver) -> None:
    registry.scan_resolvers = sorted(
        [r for r in registry.scan_resolvers if r.name != resolver.name] + [resolver], key=lambda r: r.order
    )


def register_periodic_job(job: PeriodicJob) -> None:
    registry.periodic_jobs[job.name] = job


def register_nav_item(item: NavItem) -> None:
    registry.nav_items[item.key] = item


def register_demo_seeder(seeder: DemoSeeder) -> None:
    registry.demo_seeders[seeder.name] = seeder


def register_import_kind(kind) -> None:
    registry.import_kinds[kind.name] = kind


def register_dashboard_tile(provider: Callable) -> None:
    """A dashboard tile: provider(user) returns None, a dict (label, value, url, level) or a list of them.
    Keep it to one or two queries: the dashboard calls every provider on each view."""
    if provider not in registry.dashboard_tiles:
        registry.dashboard_tiles.append(provider)


def register_signature_authenticator(fn: Callable) -> None:
    registry.signature_authenticate = fn
