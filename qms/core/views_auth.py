"""How a view declares its permission. Every view in the project uses `require` (or is public by
`public`, which the access tests enumerate)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import policy


def require(perm: str, *, or_deciding: tuple[str, ...] = ()):
    """Login plus `perm` at any of the user's sites; object-level site checks happen in the view.
    `or_deciding`: decisions taken on this page; whoever a site gives one of them (a deputy without `perm`)
    may open the page too, to read what they decide."""
    policy._roles_for(perm)  # fail at import time on a typo
    for decision in or_deciding:
        policy.DECISIONS[decision]  # idem

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not policy.can(request.user, perm) and not any(
                policy.decides_anywhere(request.user, d) for d in or_deciding
            ):
                raise PermissionDenied(perm)
            return view(request, *args, **kwargs)

        wrapped.qms_permission = perm
        return wrapped

    return decorator


def require_decision(decision: str):
    """Login plus the authority for `decision` at one of the user's sites: the guard of a page that exists to
    take one decision. It follows the site's own decision authority (policy.DECISIONS, DecisionAuthority), so
    a page that offers the decision (policy.decision_offer) never leads to a refused page. The record's own
    site: `require_decision_site`; state, segregation and signature: the decision's door."""
    spec = policy.DECISIONS[decision]  # fail at import time on a typo

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not policy.decides_anywhere(request.user, decision):
                raise PermissionDenied(decision)
            return view(request, *args, **kwargs)

        wrapped.qms_permission = spec.perm
        wrapped.qms_decision = decision
        return wrapped

    return decorator


def require_decision_site(request, decision: str, site) -> None:
    """Object-level: the user holds the authority for `decision` at the record's site."""
    if not policy.can_decide(request.user, decision, site):
        raise PermissionDenied(decision)


def public(view):
    """Mark a view as intentionally open (login page, health check, public trace page)."""
    view.qms_permission = "public"
    return view


def require_site(request, perm: str, site, *, or_deciding: tuple[str, ...] = ()) -> None:
    """Object-level: the record's site must be one where the user holds `perm` (or, with `or_deciding`, the
    authority for one of those decisions)."""
    if not policy.can(request.user, perm, site) and not any(
        policy.can_decide(request.user, d, site) for d in or_deciding
    ):
        raise PermissionDenied(perm)
