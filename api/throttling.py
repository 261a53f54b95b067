"""Throttling per token (a service account with two tokens has two budgets); sessions per user."""

from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        if getattr(token, "prefix", None):
            ident = f"t:{token.prefix}"
        elif getattr(request.user, "is_authenticated", False):
            ident = f"u:{request.user.pk}"
        else:
            ident = f"a:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
