"""Every role against every top-level page (anonymous included), and every URL declares a permission."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from qms.core import policy
from qms.core.models import Role
from qms.core.registries import registry


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, *Role.values])
def test_role_page_matrix(client, make_user, role):
    if role is not None:
        user = make_user(f"user_{role}", roles=[role])
        client.force_login(user)
    items = list(registry.nav_items.values())
    assert len(items) >= 3
    for item in items:
        url = reverse(item.url_name)
        response = client.get(url)
        if role is None:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        else:
            expected = 200 if policy.can(user, item.perm) else 403
            assert response.status_code == expected, f"{role} {url}: {response.status_code} != {expected}"


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_view_declares_its_permission():
    undeclared = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "view_class", callback)
        if not (getattr(callback, "qms_permission", None) or getattr(view, "qms_permission", None)):
            undeclared.append(route)
    assert undeclared == [], f"views without a declared permission: {undeclared}"


def test_auditor_holds_no_write_permission():
    writes = [p for p, roles in policy.PERMISSIONS.items() if Role.AUDITOR in roles]
    assert all(p.endswith((".view", ".export", ".scorecard")) for p in writes), writes
