"""Site isolation: the one mechanism (DESIGN.md trust rules, issue 9 item 4).

Every site-scoped model declares `objects = site_scoped_manager("<path to its site>")`. Its queries are
filtered to the sites of the active scope; with no scope active they raise `ScopeError` (fail closed),
as pretix scopes every query to an organiser with django-scopes.

Who opens the scope:
- web requests: `SiteScopeMiddleware` opens `scope(site=<the user's site ids>)`, anonymous users get `[]`;
- Celery tasks (`QmsTask`), `run_jobs`, management commands, the system actor: `system_scope()`, which is
  named so that `grep system_scope` lists every place that looks across sites;
- tests: the root conftest runs test bodies under `scopes_disabled()`; test-client requests still pass
  through the middleware and are scoped.

Child records are filtered through an `IN (subquery)` on their parent rather than a join, so
`select_for_update()` locks only the child row. Shared suppliers are visible when they serve one of the
scope's sites (an `EXISTS` on the supplier-site link, so no duplicate rows). Django's `_base_manager`
stays plain: following a foreign key from a record already loaded in scope is not refused.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django_scopes import ScopeError, scope, scopes_disabled
from django_scopes.manager import DisabledQuerySet, ScopedManager
from django_scopes.state import get_scope

from .audit import RegulatedManager

__all__ = [
    "ScopeError",
    "current_sites",
    "is_site_scoped",
    "scope",
    "scopes_disabled",
    "site_scope",
    "site_scoped_manager",
    "supplier_scoped_manager",
    "system_scope",
    "visible_or_none",
]

log = logging.getLogger(__name__)

DIMENSION = "site"


@contextlib.contextmanager
def system_scope():
    """Look across every site: background jobs, management commands, the system actor, and the narrow
    public lookups (public trace page). Every use is a deliberate, reviewable exception to isolation."""
    with scopes_disabled():
        yield


@contextlib.contextmanager
def site_scope(site_ids: Iterable[int]):
    """Run the block seeing only `site_ids` (a user's sites, e.g. a report rendered for them in a job)."""
    with scope(**{DIMENSION: sorted({int(s) for s in site_ids})}):
        yield


def current_sites() -> list[int] | None:
    """The site ids of the active scope; None when scopes are disabled (system scope)."""
    state = get_scope()
    if not state.get("_enabled", True):
        return None
    if DIMENSION not in state:
        raise ScopeError("A site scope needs to be active for this query.")
    return list(_sites(state[DIMENSION]))


class RefusedQuerySet(DisabledQuerySet):
    """A query on a site-scoped model outside any scope: every way to read or write in bulk raises."""

    exists = DisabledQuerySet.error
    contains = DisabledQuerySet.error
    explain = DisabledQuerySet.error
    in_bulk = DisabledQuerySet.error
    bulk_create = DisabledQuerySet.error
    bulk_update = DisabledQuerySet.error
    exclude = DisabledQuerySet.error
    select_related = DisabledQuerySet.error
    prefetch_related = DisabledQuerySet.error
    distinct = DisabledQuerySet.error


def _sites(value) -> tuple[int, ...]:
    # A scope value of None would mean "no filter" in django-scopes: never let that happen here.
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(getattr(v, "pk", v) for v in value)
    return (getattr(value, "pk", value),)


def _nested(model, path: str, leaf: Callable[[type[models.Model], str], Q | Exists]) -> Q | Exists:
    """Filter `model` by `path`: the last hop is given to `leaf`, earlier hops become IN (subquery)."""
    head, _, rest = path.partition("__")
    if not rest:
        return leaf(model, head)
    related = model._meta.get_field(head).related_model
    inner = related._base_manager.filter(_nested(related, rest, leaf)).values("pk")
    return Q(**{f"{head}__in": inner})


def _site_leaf(sites, *, null_visible: bool):
    def leaf(model, field):
        q = Q(**{f"{field}__in": sites})
        if null_visible:
            q |= Q(**{f"{field}__isnull": True})
        return q

    return leaf


def _supplier_leaf(sites):
    def leaf(model, field):
        supplier_model = model if field == "pk" else model._meta.get_field(field).related_model
        through = supplier_model._meta.get_field("sites").remote_field.through
        return Exists(through.objects.filter(supplier_id=OuterRef(field), site_id__in=sites))

    return leaf


def _manager(build: Callable[[type[models.Model], tuple[int, ...]], Q | Exists | list], manager_class):
    base = type(ScopedManager(_manager_class=manager_class, **{DIMENSION: DIMENSION}))

    class SiteScopedManager(base):
        site_scoped = True

        def get_queryset(self):
            state = getattr(self, "_override_scope", None) or get_scope()
            qs = super(base, self).get_queryset()
            if not state.get("_enabled", True):
                return qs
            if DIMENSION not in state:
                return RefusedQuerySet(self.model, using=self._db, missing_scopes={DIMENSION})
            sites = _sites(state[DIMENSION])
            if not sites:
                return qs.none()
            conditions = build(self.model, sites)
            return qs.filter(*conditions) if isinstance(conditions, list) else qs.filter(conditions)

    return SiteScopedManager()


def is_site_scoped(model) -> bool:
    """Does `model` belong to sites (its default manager is scoped)?"""
    return getattr(model._default_manager, "site_scoped", False)


def visible_or_none(model, pk):
    """The record `pk` of `model` as the current scope sees it (None when absent, malformed or at
    another site). For generic views that name a record by model label and id (audit trails)."""
    try:
        return model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError, ValidationError):
        return None


def site_scoped_manager(*paths: str, manager_class=RegulatedManager, null_visible: bool = False, all_of: bool = False):
    """The `objects` manager of a model that belongs to a site.

    `paths` lead from the model to its site ("site", "lot__site", "disposition__ncr__site"); with several,
    a row is visible when any of them is (an attachment of an NCR or of a complaint), or with `all_of`
    only when all are (a genealogy link between two lots). `null_visible`: rows without a site (a personal
    notification) stay visible.
    """
    paths = paths or (DIMENSION,)

    def build(model, sites):
        conditions = [_nested(model, path, _site_leaf(sites, null_visible=null_visible)) for path in paths]
        if all_of:
            return conditions
        q = Q()
        for condition in conditions:
            q |= condition
        return q

    return _manager(build, manager_class)


def supplier_scoped_manager(path: str = "", *, manager_class=RegulatedManager):
    """The `objects` manager of a shared supplier (path "") or of a record of one ("supplier",
    "submission__supplier"): visible when the supplier serves one of the scope's sites."""

    def build(model, sites):
        return [_nested(model, path or "pk", _supplier_leaf(sites))]

    return _manager(build, manager_class)
