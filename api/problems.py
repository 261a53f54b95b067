"""Errors as RFC 9457 problem details (`application/problem+json`).

Every refusal has `type`, `title`, `status`, `detail` (the domain's own, translated message) and
`instance`; a gate's refusal adds `reasons` (each reason on its own); validation and bulk refusals add `errors`: one entry per item and field, each with a JSON
`pointer` into the request body ("#/values/17/value") and its `detail`.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django_scopes import ScopeError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from qms.core.errors import DomainError, PermissionRefused

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
TYPE_BASE = "/api/problems/"


class BulkRefused(DomainError):
    """A bulk call refused as a whole because of some of its items (nothing was recorded).
    `errors`: [{"pointer": "#/values/3/value", "detail": "..."}]."""

    def __init__(self, message, *, errors: list[dict], code: str = "bulk_refused"):
        super().__init__(message, code=code)
        self.errors = errors


def _flatten(detail, pointer="#") -> list[dict]:
    out = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            out += _flatten(value, f"{pointer}/{key}" if key != "non_field_errors" else pointer)
    elif isinstance(detail, list):
        if detail and all(not isinstance(d, (dict, list)) for d in detail):
            out += [{"pointer": pointer, "detail": str(d)} for d in detail]
        else:
            for i, value in enumerate(detail):
                if value:
                    out += _flatten(value, f"{pointer}/{i}")
    elif detail:
        out.append({"pointer": pointer, "detail": str(detail)})
    return out


def problem(
    request, *, status_code: int, slug: str, title: str, detail: str, errors=None, headers=None, reasons=None
) -> Response:
    body = {
        "type": TYPE_BASE + slug,
        "title": str(title),
        "status": status_code,
        "detail": str(detail),
        "instance": getattr(request, "path", ""),
    }
    if errors:
        body["errors"] = errors
    if reasons:
        body["reasons"] = [str(r) for r in reasons]
    return Response(body, status=status_code, content_type=PROBLEM, headers=headers)


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, BulkRefused):
        return problem(
            request,
            status_code=422,
            slug="bulk-refused",
            title=_("Some items were refused; nothing was recorded."),
            detail=exc.message,
            errors=exc.errors,
        )
    if isinstance(exc, PermissionRefused):
        return problem(request, status_code=403, slug="forbidden", title=_("Refused"), detail=exc.message)
    if isinstance(exc, DomainError):
        slug = (exc.code or "refused").replace("_", "-")
        status_code = 409 if exc.code == "idempotency_conflict" else 422
        errors = [{"pointer": f"#/{exc.field}", "detail": exc.message}] if exc.field else None
        return problem(
            request,
            status_code=status_code,
            slug=slug,
            title=_("Refused"),
            detail=exc.message,
            errors=errors,
            reasons=getattr(exc, "reasons", None),
        )
    if isinstance(exc, (Http404, ObjectDoesNotExist, ScopeError)):
        if isinstance(exc, ScopeError):
            log.warning("site scope refused an API query on %s: %s", getattr(request, "path", ""), exc)
        return problem(
            request,
            status_code=404,
            slug="not-found",
            title=_("Not found"),
            detail=_("No such record among the sites you may see."),
        )
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return problem(
            request,
            status_code=400,
            slug="invalid",
            title=_("Invalid request"),
            detail=" ".join(" ".join(v) for v in messages.values()),
            errors=_flatten(messages),
        )
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling (logged)
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = errors[0]["detail"] if len(errors) == 1 else _("%(n)s fields are invalid.") % {"n": len(errors)}
        return problem(
            request, status_code=400, slug="invalid", title=_("Invalid request"), detail=detail, errors=errors
        )
    slugs = {
        401: ("unauthorized", _("Not signed in")),
        403: ("forbidden", _("Refused")),
        404: ("not-found", _("Not found")),
        405: ("method-not-allowed", _("Method not allowed")),
        406: ("not-acceptable", _("Not acceptable")),
        415: ("unsupported-media-type", _("Unsupported media type")),
        429: ("throttled", _("Too many requests")),
    }
    slug, title = slugs.get(response.status_code, ("error", _("Error")))
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return problem(request, status_code=response.status_code, slug=slug, title=title, detail=detail, headers=headers)
