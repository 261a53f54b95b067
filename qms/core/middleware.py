import logging

from django.conf import settings

from .audit import audit_context

log = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Sends the CSP header (settings.CONTENT_SECURITY_POLICY): scripts and styles from this origin only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        response.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        return response


class AuditUserMiddleware:
    """Every write made while serving a request is attributed to the signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        with audit_context(user=user, source="web"):
            return self.get_response(request)


class SiteScopeMiddleware:
    """Every request runs inside the signed-in user's sites (fail closed: anonymous users see none).

    Placed right after AuthenticationMiddleware. A query that escapes the scope (`ScopeError`) is logged
    and answered "not found", never with a 500 or with the data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from . import policy
        from .scoping import site_scope

        with site_scope(policy.sites_for(request.user)):
            return self.get_response(request)

    def process_exception(self, request, exception):
        from django.http import Http404

        from .scoping import ScopeError

        if isinstance(exception, ScopeError):
            log.warning("site scope refused a query on %s for %s: %s", request.path, request.user, exception)
            raise Http404 from exception
        return None
