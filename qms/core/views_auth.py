"""How a view declares its permission. Every view in the project uses `require` (or is public by
`public`, which the access tests enumerate)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from . import policy


def require(perm: str):
    """Login plus `perm` at any of the user's sites; object-level site checks happen in the view."""
    policy._roles_for(perm)  # fail at import time on a typo

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not policy.can(request.user, perm):
                raise PermissionDenied(perm)
            return view(request, *args, **kwargs)

        wrapped.qms_permission = perm
        return wrapped

    return decorator


def public(view):
    """Mark a view as intentionally open (login page, health check, public trace page)."""
    view.qms_permission = "public"
    return view


def require_site(request, perm: str, site) -> None:
    """Object-level: the record's site must be one where the user holds `perm`."""
    if not policy.can(request.user, perm, site):
        raise PermissionDenied(perm)
