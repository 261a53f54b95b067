import pytest
from django.test import override_settings
from django.urls import reverse

from conftest import PASSWORD
from qms.core.models import Role


@pytest.mark.django_db
def test_login_then_lockout_after_repeated_failures(client, make_user, settings):
    settings.LOCKOUT_THRESHOLD = 3
    user = make_user("insp", roles=[Role.INSPECTOR])
    for _ in range(3):
        response = client.post(reverse("core:login"), {"username": "insp", "password": "wrong"})
        assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_locked
    response = client.post(reverse("core:login"), {"username": "insp", "password": PASSWORD})
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_success_redirects_to_dashboard(client, make_user):
    make_user("qm1")
    response = client.post(reverse("core:login"), {"username": "qm1", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")


@pytest.mark.django_db
def test_security_headers(client):
    response = client.get(reverse("core:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_broker_down_is_degraded_not_down(client):
    """Without the broker the web keeps working (jobs wait in the outbox): load balancers keep the node."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"].startswith("error")
    assert response.json()["status"] == "degraded"
    assert response.json()["outbox_waiting"] == 0


@pytest.mark.django_db(transaction=True)
def test_healthz_database_down_is_503_and_back_to_200_when_it_answers(client):
    """A PostgreSQL restart, without restarting the shared server: the connection points at a closed port,
    healthz answers 503; pointed back (the server is up again), the next request answers 200."""
    from django.db import connection

    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"
    connection.settings_dict["HOST"] = "127.0.0.1"
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"].startswith("error")
    finally:
        connection.close()
        connection.settings_dict.update(original)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


@pytest.mark.django_db
def test_language_switch_renders_chinese(client, make_user):
    client.force_login(make_user("zh"))
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert "退出" in body or "欢迎" in body


@pytest.mark.django_db
def test_language_chosen_on_login_page_is_kept(client, make_user):
    make_user("zh2")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    client.post(reverse("core:login"), {"username": "zh2", "password": PASSWORD})
    assert "欢迎" in client.get(reverse("portal:dashboard")).content.decode()
