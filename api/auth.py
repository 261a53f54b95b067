"""How the API knows who calls: a service account's bearer token, or (read only) a browser session."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from qms.core.security import client_ip

from .services import TokenRefused, token_authenticate


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer qms_<prefix>_<secret>`; the user is the integration's service account."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The token is malformed. Send “Authorization: Bearer qms_…”."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        try:
            token = token_authenticate(raw, ip=client_ip(request._request))
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return token.account.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionReadAuthentication(SessionAuthentication):
    """A signed-in person may read the API (the docs page's "try it"); writes need a token."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise exceptions.PermissionDenied(
                _("Writes through the API need a service account's token; a browser session may only read.")
            )
        return result

    def enforce_csrf(self, request):  # reads only: nothing to forge
        return None
