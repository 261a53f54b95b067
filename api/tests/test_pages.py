"""The integrations page: administrators only, token shown once, revoke, webhooks; EN and ZH."""

import pytest
from django.urls import reverse

from api.models import ApiToken, ServiceAccount, WebhookSubscription
from qms.core.idempotency import new_token
from qms.core.models import Role

from .factories import account

pytestmark = pytest.mark.django_db


def test_only_administrators_see_the_page(client, make_user, site):
    client.force_login(make_user("qm", roles=[Role.QUALITY_MANAGER]))
    assert client.get(reverse("api:accounts")).status_code == 403
    assert client.get(reverse("api:account_create")).status_code == 403


def test_create_account_issue_token_once_and_revoke(client, admin, site):
    client.force_login(admin)
    form = {
        "username": "mes-line3",
        "system": "mes",
        "sites": [site.pk],
        "roles": [Role.INSPECTOR],
        "form_token": new_token(),
    }
    response = client.post(reverse("api:account_create"), form)
    assert response.status_code == 302
    again = client.post(reverse("api:account_create"), form)  # the same form sent twice creates one account
    assert again.status_code == 302 and ServiceAccount.objects.filter(user__username="mes-line3").count() == 1
    acc = ServiceAccount.objects.get(user__username="mes-line3")
    url = reverse("api:account", args=[acc.pk])
    response = client.post(
        url, {"action": "token", "name": "gateway", "expires_in_days": 30, "form_token": new_token()}
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    token = ApiToken.objects.get(account=acc)
    assert f"qms_{token.prefix}_" in page and "shown only this once" in page
    assert "shown only this once" not in client.get(url).content.decode()  # once
    client.post(url, {"action": "revoke", "token": token.pk, "reason": "rotated"})
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoke_reason == "rotated"


def test_webhook_subscription_on_the_page_in_chinese(client, admin, site):
    acc = account(admin, site)
    client.force_login(admin)
    url = reverse("api:account", args=[acc.pk])
    client.post(
        url,
        {"action": "webhook", "event": "lot.held", "url": "https://wms.example.com/hook", "form_token": new_token()},
    )
    assert WebhookSubscription.objects.filter(account=acc, event="lot.held").exists()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "推送日志" in page and "whsec_" in page


def test_api_errors_follow_accept_language(admin, site):
    from .factories import api_client

    client = api_client(admin, site)
    response = client.get("/api/v1/lots/NOPE/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404 and response.json()["detail"] == "在您可查看的站点中没有该记录。"


def test_dashboard_tile_for_administrators(client, admin, site):
    client.force_login(admin)
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_the_dashboard_tile_counts_only_the_administrators_sites(admin, site, other_site, make_user):
    from api.selectors import dashboard_tiles

    from .factories import token

    token(admin, account(admin, other_site, name="erp-away", sites=[other_site]), days=3)
    home_admin = make_user("home-admin", roles=[Role.ADMINISTRATOR], sites=[site])
    expiring = lambda u: next(t["value"] for t in dashboard_tiles(u) if "expir" in str(t["label"]).lower())  # noqa: E731
    assert expiring(admin) == 1
    assert expiring(home_admin) == 0
