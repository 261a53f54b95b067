"""Sign-in hardening (issue 10): throttle per address and per name, lock-out signs out, password reset."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from qms.core.models import Role
from qms.core.services import user_unlock

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()  # rate-limit counters live in the cache, which outlives each test's transaction


THROTTLED = "Too many failed sign-in attempts"


def _post(client, username, password, ip):
    return client.post(reverse("core:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_username_throttled_after_five_failures_from_many_addresses(client, make_user, settings):
    settings.LOCKOUT_THRESHOLD = 100  # the account lock out of the way: this is axes' per-name throttle
    make_user("insp", roles=[Role.INSPECTOR])
    for n in range(5):
        assert _post(client, "insp", "wrong", f"10.0.0.{n + 1}").status_code in (200, 429)
    response = _post(client, "INSP", PASSWORD, "10.0.0.99")  # right password, new address, other case
    assert response.status_code == 200 or response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_unknown_name_throttled_like_a_known_one(client):
    for n in range(5):
        _post(client, "ghost", "wrong", f"10.0.1.{n + 1}")
    response = _post(client, "ghost", "wrong", "10.0.1.99")
    assert THROTTLED in response.content.decode()  # the same answer: no hint whether "ghost" exists


@pytest.mark.django_db
def test_address_throttled_after_five_failures_with_different_names(client, make_user):
    make_user("qm1")
    for n in range(5):
        _post(client, f"guess{n}", "wrong", "10.0.2.1")
    response = _post(client, "qm1", PASSWORD, "10.0.2.1")  # right password, same address: refused
    assert THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session
    other = Client()
    assert _post(other, "qm1", PASSWORD, "10.0.2.2").status_code == 302  # another address signs in


@pytest.mark.django_db
def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(client, make_user):
    make_user("mallory")
    for n in range(4):
        _post(Client(), f"victim{n}", "wrong", "10.0.9.1")
    assert _post(Client(), "mallory", PASSWORD, "10.0.9.1").status_code == 302
    assert THROTTLED in _post(client, "victim9", "wrong", "10.0.9.1").content.decode()


@pytest.mark.django_db
def test_fifth_failure_answers_429_with_the_sign_in_page(client):
    for n in range(4):
        assert _post(client, f"x{n}", "wrong", "10.0.3.1").status_code == 200
    response = _post(client, "x5", "wrong", "10.0.3.1")
    assert response.status_code == 429
    assert response["Retry-After"]
    assert THROTTLED in response.content.decode() and 'name="username"' in response.content.decode()


@pytest.mark.django_db
def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, make_user, settings):
    make_user("qm1")
    for n in range(5):  # an attacker rotating X-Forwarded-For is still one address
        client.post(
            reverse("core:login"),
            {"username": f"g{n}", "password": "x"},
            REMOTE_ADDR="10.0.4.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}",
        )
    assert THROTTLED in _post(client, "qm1", PASSWORD, "10.0.4.1").content.decode()
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.post(
        reverse("core:login"),
        {"username": "qm1", "password": PASSWORD},
        REMOTE_ADDR="10.0.4.1",
        HTTP_X_FORWARDED_FOR="8.8.8.8",
    )
    assert response.status_code == 302  # behind a trusted proxy the client address is the forwarded one


@pytest.mark.django_db
def test_lockout_ends_the_accounts_open_sessions(make_user, settings):
    settings.LOCKOUT_THRESHOLD = 3
    user = make_user("insp", roles=[Role.INSPECTOR])
    tablet, other_user = Client(), Client()
    tablet.force_login(user)
    other_user.force_login(make_user("qe"))
    assert tablet.get(reverse("portal:dashboard")).status_code == 200
    attacker = Client()
    for n in range(3):
        _post(attacker, "insp", "wrong", f"10.0.5.{n + 1}")
    user.refresh_from_db()
    assert user.is_locked
    response = tablet.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and LOGIN in response["Location"]  # signed out on the tablet
    assert other_user.get(reverse("portal:dashboard")).status_code == 200  # nobody else
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]


@pytest.mark.django_db
def test_unlock_lifts_account_lock_and_name_throttle(client, make_user):
    user = make_user("insp", roles=[Role.INSPECTOR])
    admin = make_user("adm", roles=[Role.ADMINISTRATOR])
    for n in range(5):
        _post(client, "insp", "wrong", f"10.0.7.{n + 1}")
    user.refresh_from_db()
    assert user.is_locked
    user_unlock(user=user, by=admin, reason="called the help desk")
    assert _post(Client(), "insp", PASSWORD, "10.0.7.50").status_code == 302


# ------------------------------------------------------------------------------------ password reset


def _reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_password_reset_by_mail(client, make_user):
    user = make_user("insp", roles=[Role.INSPECTOR])
    response = client.post(reverse("core:password_reset"), {"email": "INSP@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("core:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["insp@example.com"]
    assert "insp" in mail.outbox[0].body
    link = _reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert b'name="new_password1"' in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Brand-new-Secret-42", "new_password2": "Brand-new-Secret-42"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("core:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Brand-new-Secret-42")
    again = Client().get(link, follow=True)  # the token works once
    assert b'name="new_password1"' not in again.content and b"invalid" in again.content


@pytest.mark.django_db
def test_password_reset_unknown_address_answers_the_same(client, make_user):
    make_user("insp")
    known = client.post(reverse("core:password_reset"), {"email": "insp@example.com"})
    unknown = client.post(reverse("core:password_reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_password_reset_throttled_per_address(client, make_user, settings):
    settings.PASSWORD_RESET_PER_HOUR = 2
    make_user("insp")
    for _ in range(5):
        response = client.post(reverse("core:password_reset"), {"email": "insp@example.com"}, REMOTE_ADDR="10.0.8.1")
        assert response.status_code == 302  # the same answer, but no more mail
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_password_reset_pages_in_chinese(client):
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("core:password_reset")).content.decode()
    assert "重置密码" in body
    assert "忘记密码" in client.get(reverse("core:login")).content.decode()


# ------------------------------------------------------------------------------------ production settings


def _prod_settings(**env) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings; from django.urls import reverse;"
        "print(json.dumps({'secure': settings.LANGUAGE_COOKIE_SECURE, 'httponly': settings.LANGUAGE_COOKIE_HTTPONLY,"
        "'samesite': settings.LANGUAGE_COOKIE_SAMESITE, 'admin': reverse('admin:index'),"
        "'axes_limit': settings.AXES_FAILURE_LIMIT}))"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("ADMIN_URL",)}
    base.update({"DJANGO_SETTINGS_MODULE": "qms.settings", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "qms.example.com"})
    base.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=base, cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_language_cookie_flags_in_production():
    prod = _prod_settings(DEBUG="0")
    assert prod["secure"] is True and prod["httponly"] is True and prod["samesite"] == "Lax"
    assert _prod_settings(DEBUG="1")["secure"] is False  # plain-HTTP quick start keeps working


def test_admin_url_and_lockout_threshold_from_environment():
    assert _prod_settings(DEBUG="0")["admin"] == "/admin/"
    custom = _prod_settings(DEBUG="0", ADMIN_URL="/backoffice-7f3a", LOCKOUT_THRESHOLD="7")
    assert custom["admin"] == "/backoffice-7f3a/"
    assert custom["axes_limit"] == 7


@pytest.mark.django_db
def test_language_cookie_set_at_sign_in_is_httponly(client, make_user):
    make_user("zh3", preferred_language="zh-hans")
    response = client.post(reverse("core:login"), {"username": "zh3", "password": PASSWORD})
    cookie = response.cookies["django_language"]
    assert cookie.value == "zh-hans" and cookie["httponly"] and cookie["samesite"] == "Lax"
