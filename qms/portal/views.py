from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from qms.core.registries import registry
from qms.core.views_auth import public, require

from .dashboard import dashboard_tiles


@require("portal.view")
def dashboard(request):
    return render(request, "portal/dashboard.html", {"tiles": dashboard_tiles(request.user)})


@require("portal.view")
def scan(request):
    """Global scan box: a scanned or typed code jumps to its record. Apps register resolvers."""
    code = request.GET.get("q", "").strip()
    if not code:
        return redirect("portal:dashboard")
    for resolver in registry.scan_resolvers:
        url = resolver.resolve(request.user, code)
        if url:
            return redirect(url)
    return render(
        request,
        "portal/scan_unknown.html",
        {
            "code": code,
            "kinds": [r.name for r in registry.scan_resolvers],
            "message": _("No lot, serial, supplier, NCR, CAPA or inspection has the code “%(code)s”.") % {"code": code},
        },
        status=404,
    )


@public
def healthz(request):
    """For load balancers: 200 while the database answers, else 503. The broker is reported but does not
    fail the check: without it the web keeps working and jobs wait in the outbox (`outbox_waiting`)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"error: {exc.__class__.__name__}"
    from django.conf import settings

    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"error: {exc.__class__.__name__}"
    ok = checks["database"] == "ok"
    body = {"status": "ok" if ok and checks.get("broker", "ok") == "ok" else ("degraded" if ok else "unavailable")}
    if ok:
        from qms.core.selectors import outbox_waiting

        body["outbox_waiting"] = outbox_waiting()
    return JsonResponse({**body, **checks}, status=200 if ok else 503)
