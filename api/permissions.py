"""Each API view declares its permission per method, as pages do (`qms.core.policy`); the record's site is
checked by the service or by the site-scoped loader inside the view."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from qms.core import policy

SAFE = ("GET", "HEAD", "OPTIONS")


def declared(view, method: str) -> str:
    perms = getattr(view, "permissions", None) or {}
    if method in perms:
        return perms[method]
    if method in SAFE and "GET" in perms:
        return perms["GET"]
    return getattr(view, "qms_permission", None) or "api.manage"


class DeclaredPermission(BasePermission):
    message = _("You do not have the right to do this.")

    def has_permission(self, request, view):
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return False
        perm = declared(view, request.method)
        if perm == "public":
            return True
        if not policy.can(user, perm):
            self.message = _(
                "You do not have the right to do this (%(perm)s). Ask your administrator for the role."
            ) % {"perm": perm}
            return False
        return True
