"""The base of every API v1 view: declared permission, the caller's site scope and audit actor."""

from __future__ import annotations

from contextlib import ExitStack

from django.http import Http404
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView

from qms.core import policy
from qms.core.audit import audit_context
from qms.core.scoping import site_scope
from qms.core.views_auth import require_site


class ApiView(GenericAPIView):
    """`permissions` maps the HTTP method to the permission it needs at any of the caller's sites
    (`qms_permission` is the read permission the access tests see). Token authentication happens inside
    DRF, after the site-scope middleware ran for an anonymous request, so the caller's sites are entered
    here, once the caller is known; every write is attributed to the caller with source "api"."""

    permissions: dict[str, str] = {}
    qms_permission = "api.view"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._refuse_empty_parameters(request)
        stack = ExitStack()
        stack.enter_context(site_scope(policy.sites_for(request.user)))
        stack.enter_context(audit_context(user=request.user, source="api"))
        self._qms_stack = stack

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Also when an exception escaped DRF's handler: the scope and actor end with the request.
            stack = getattr(self, "_qms_stack", None)
            if stack is not None:
                self._qms_stack = None
                stack.close()

    def _refuse_empty_parameters(self, request) -> None:
        """`?status=` is neither a status nor no filter: say so rather than guess (the schema has no "")."""
        declared = set(getattr(getattr(self, "filterset_class", None), "base_filters", {}) or {})
        if getattr(self, "pagination_class", None) is not None:
            declared |= {"page", "page_size"}
        empty = sorted(k for k in declared if k in request.query_params and request.query_params.get(k) == "")
        if empty:
            raise ValidationError({k: [_("Give a value, or leave the parameter out.")] for k in empty})

    def require_site(self, perm: str, site) -> None:
        """Object level: the record's site must be one where the caller holds `perm`."""
        require_site(self.request, perm, site)

    @staticmethod
    def found(obj):
        if obj is None:
            raise Http404
        return obj


def read(perm: str, **writes):
    """Class decorator: declare the read permission and the write permission per method."""

    def deco(cls):
        cls.qms_permission = perm
        cls.permissions = {"GET": perm, **{m.upper(): p for m, p in writes.items()}}
        for p in cls.permissions.values():
            policy._roles_for(p)  # fail at import on a typo
        return cls

    return deco


@extend_schema(exclude=True)
class NoSuchAddress(ApiView):
    """Any other address under /api/v1/: a problem-details 404 (an integration parses JSON, not a web page)."""

    qms_permission = "api.view"
    permissions = {m: "api.view" for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}

    def _missing(self, request, *args, **kwargs):
        if not request.path_info.endswith("/"):
            try:
                match = resolve(request.path_info + "/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "no_such_address":
                raise NotFound(_("Addresses end with a slash: %(path)s/") % {"path": request.path})
        raise NotFound(_("No such address in the API. The schema at /api/schema/ lists every one."))

    get = post = put = patch = delete = _missing
