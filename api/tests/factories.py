"""Service accounts and tokens for the API tests, and a client that sends the token."""

from __future__ import annotations

from django.test import Client

from api.services import service_account_create, token_create
from qms.core.models import Role


def account(admin, site, name="mes", roles=(Role.INSPECTOR,), system="mes", sites=None):
    return service_account_create(
        username=name, system=system, roles={s: list(roles) for s in (sites or [site])}, user=admin
    )


def token(admin, acc, days=30):
    return token_create(account=acc, user=admin, name="test", expires_in_days=days)


class TokenClient(Client):
    def __init__(self, raw: str, **kw):
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {raw}", **kw)

    def post_json(self, path, data, **extra):
        return self.post(path, data=data, content_type="application/json", **extra)


def api_client(admin, site, name="mes", roles=(Role.INSPECTOR,), sites=None) -> TokenClient:
    acc = account(admin, site, name=name, roles=roles, sites=sites)
    _tok, raw = token(admin, acc)
    client = TokenClient(raw)
    client.account = acc
    return client
