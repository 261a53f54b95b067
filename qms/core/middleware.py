from django.conf import settings

from .audit import audit_context


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
