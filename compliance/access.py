"""The access log: who signed in (or tried), viewed a regulated record, exported or downloaded what, when
and from where. Every event is one INSERT (`log_access`), so logging never slows a page.

    from compliance.access import log_access, access_logged

    @require("ncr.view")
    @access_logged("nonconformance.ncr")          # one line on a regulated record's detail view
    def ncr_detail(request, code): ...

    log_access(request=request, kind=AccessKind.DOWNLOAD, obj=attachment)   # where a file is served
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from functools import wraps

from django.db.models.signals import post_init

from qms.core.security import client_ip

from .models import AccessEvent, AccessKind

__all__ = ["AccessKind", "access_logged", "client_ip", "log_access"]


def _label(obj) -> str:
    return obj._meta.label_lower


def _code(obj) -> str:
    for attr in ("code", "number", "document_number", "username"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)[:100]
    return str(obj.pk)


def log_access(
    *,
    kind: str,
    request=None,
    user=None,
    username: str = "",
    obj=None,
    model: str = "",
    object_code: str = "",
    object_pk="",
    site_id: int | None = None,
    report_key: str = "",
    params: dict | None = None,
    format: str = "",  # noqa: A002 - the export format, named as users see it
) -> AccessEvent:
    """Append one access event (one INSERT). `request` supplies the user, address, browser and path when
    given; `obj` supplies the record type, code, id and site."""
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if getattr(candidate, "is_authenticated", False) else None
    if obj is not None:
        model = model or _label(obj)
        object_code = object_code or _code(obj)
        object_pk = object_pk or obj.pk
        site_id = site_id if site_id is not None else getattr(obj, "site_id", None)
    meta = request.META if request is not None else {}
    return AccessEvent.objects.create(
        kind=kind,
        user_id=user.pk if user is not None else None,
        username=(user.get_username() if user is not None else username)[:150],
        site_id=site_id,
        model=model[:100],
        object_code=str(object_code or "")[:100],
        object_pk=str(object_pk if object_pk not in (None, "") else "")[:64],
        report_key=report_key[:100],
        params={str(k): str(v)[:200] for k, v in (params or {}).items()},
        format=format[:10],
        ip=client_ip(request),
        user_agent=(meta.get("HTTP_USER_AGENT", "") or "")[:300],
        path=(request.path if request is not None else "")[:300],
    )


# --- record page views -------------------------------------------------------------------------------


@dataclass
class _Viewing:
    model: type
    lookup: str
    value: str
    instance: object = None


_viewing: contextvars.ContextVar[_Viewing | None] = contextvars.ContextVar("qms_access_viewing", default=None)


def _capture(sender, instance, **kwargs):
    """While a logged view runs, remember the first instance of its record type whose lookup field
    matches the URL: the page's own record, loaded by the view's site-scoped loader (no extra query)."""
    viewing = _viewing.get()
    if viewing is None or viewing.instance is not None or not isinstance(instance, viewing.model):
        return
    value = instance.pk if viewing.lookup == "pk" else instance.__dict__.get(viewing.lookup)
    if value is not None and str(value) == viewing.value:
        viewing.instance = instance


def access_logged(model_label: str, *, kwarg: str = "code", lookup: str | None = None):
    """Log a successful GET of a regulated record's page as a "view" access event.

    `kwarg` names the URL argument that identifies the record, `lookup` the model field it matches
    (default: the same name; "pk" for primary keys). The record's id and site come from the instance the
    view itself loads; only pages answered with 200 are logged, htmx fragments are not."""
    field = lookup or kwarg
    state: dict = {}

    def model_cls():
        if "model" not in state:
            from django.apps import apps

            state["model"] = apps.get_model(model_label)
            post_init.connect(_capture, sender=state["model"], dispatch_uid=f"access-capture-{model_label}")
        return state["model"]

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != "GET" or request.headers.get("HX-Request") == "true":
                return view(request, *args, **kwargs)
            viewing = _Viewing(model_cls(), field, str(kwargs.get(kwarg, "")))
            token = _viewing.set(viewing)
            try:
                response = view(request, *args, **kwargs)
            finally:
                _viewing.reset(token)
            if response.status_code == 200:
                instance = viewing.instance
                log_access(
                    request=request,
                    kind=AccessKind.VIEW,
                    model=model_label.lower(),
                    obj=instance,
                    object_code="" if instance is not None else viewing.value,
                )
            return response

        return wrapped

    return decorator


# --- sign-in, sign-out, failed sign-in (Django auth signals, connected in ComplianceConfig.ready) ------


def on_user_logged_in(sender, request, user, **kwargs):
    log_access(kind=AccessKind.SIGN_IN, request=request, user=user)


def on_user_logged_out(sender, request, user, **kwargs):
    if user is not None and getattr(user, "is_authenticated", False):
        log_access(kind=AccessKind.SIGN_OUT, request=request, user=user)


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    tried = str((credentials or {}).get("username", "") or "")
    log_access(kind=AccessKind.SIGN_IN_FAILED, request=request, username=tried)


def on_file_downloaded(sender, user=None, record=None, file_name="", content_type="", request=None, **kwargs):
    """Receiver of the kernel's `file_downloaded`: every stored file handed out is in the access log."""
    site = getattr(record, "site", None)
    log_access(
        kind=AccessKind.DOWNLOAD,
        request=request,
        user=user,
        obj=record,
        site_id=getattr(record, "site_id", None) or getattr(site, "pk", None),
        params={"file": file_name},
    )
