"""Shared pytest fixtures: sites, users with roles, logged-in clients."""

import pytest

from qms.core.audit import audit_context
from qms.core.models import Industry, Membership, Role, Site, User

PASSWORD = "test-Password-123"


@pytest.fixture
def site(db):
    with audit_context(reason="test"):
        return Site.objects.create(code="S1", name="Test plant", industry=Industry.AUTOMOTIVE)


@pytest.fixture
def other_site(db):
    with audit_context(reason="test"):
        return Site.objects.create(code="S2", name="Other plant", industry=Industry.FOOD)


@pytest.fixture
def make_user(db, site):
    def make(username="u", roles=(Role.QUALITY_MANAGER,), sites=None, **extra):
        with audit_context(reason="test"):
            user = User(
                username=username,
                display_name=extra.pop("display_name", username.title()),
                email=f"{username}@example.com",
                **extra,
            )
            user.set_password(PASSWORD)
            user.save()
            for s in sites or [site]:
                for role in roles:
                    Membership.objects.create(user=user, site=s, role=role)
        return user

    return make


@pytest.fixture
def login(client):
    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture(autouse=True)
def _system_scope_for_test_bodies():
    """Test bodies set up and inspect data across sites; requests made through the test client still
    pass the site-scope middleware, which is what the isolation tests exercise."""
    from qms.core.scoping import scopes_disabled

    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _english_by_default():
    """A request in Chinese leaves its language active on the thread; start every test in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()
