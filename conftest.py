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


@pytest.fixture(autouse=True)
def _anchor_log_per_test(settings, tmp_path):
    """Audit checkpoints go to a log file of this test only (the database rolls back, the file would not)."""
    settings.AUDIT_ANCHOR_LOG = tmp_path / "audit-anchors.jsonl"


@pytest.fixture(autouse=True)
def _evidence_truncate_for_flush(request):
    """Transactional tests end with a flush (TRUNCATE), which the evidence tables refuse; the test
    database's superuser session may pass by setting qms.allow_evidence_truncate (see compliance 0004)."""
    marker = request.node.get_closest_marker("django_db")
    if not marker or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET qms.allow_evidence_truncate = 'on'")


@pytest.fixture
def celery_broker():
    """Point Celery at a real broker URL (not in-process) for the test: `celery_broker("redis://...")`.
    Restores in-process mode afterwards."""
    from qms.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)

    def reset_pools():
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    def point(url: str):
        from qms.core import jobs

        jobs._broker_down_until = 0.0  # a previous test's outage is not this one's
        reset_pools()
        app.conf.task_always_eager = False
        app.conf.broker_url = url
        return app

    yield point
    reset_pools()
    app.conf.task_always_eager, app.conf.broker_url = saved
