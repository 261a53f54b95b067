"""Webhook subscriptions through the API (the integration's own token) and where webhooks may be sent:
loopback, link-local and reserved addresses refused, the plant's allow-list, re-checked at delivery, no
redirect followed; other accounts' and other plants' subscriptions out of reach."""

import http.server
import threading

import pytest
from django.db import connection
from django.urls import reverse

from api import webhooks
from api.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from api.webhook_address import AddressRefused, resolve_checked, url_check
from compliance.models import AuditEntry
from qms.core.models import Role

from .factories import account, api_client
from .test_webhooks import Receiver

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"


@pytest.fixture
def wms(admin, site):
    return api_client(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])


@pytest.fixture
def local(settings):
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    r = Receiver()
    yield r
    r.close()


def test_an_integration_subscribes_itself_and_gets_the_secret_once(wms, site, local):
    response = wms.post_json(HOOKS, {"event": "lot.held", "url": local.url})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["active"] is True and created["account"] == "wms"
    listed = wms.get(HOOKS).json()["results"]
    assert [r["id"] for r in listed] == [created["id"]] and "secret" not in listed[0]
    entry = AuditEntry.objects.filter(model="api.webhooksubscription").order_by("-seq").first()
    assert entry.source == "api" and entry.username == "wms"
    # an event arrives signed with that secret, and the log is readable through the API
    webhooks.emit("lot.held", site=site, data={"lot": "L-1"})
    headers, body = local.calls[0]
    assert webhooks.verify(created["secret"], headers["X-QMS-Timestamp"], body, headers["X-QMS-Signature"])
    detail = wms.get(f"{HOOKS}{created['id']}/").json()
    assert detail["deliveries"][0]["status"] == "delivered" and detail["deliveries"][0]["last_status_code"] == 200
    replay = wms.post_json(f"{HOOKS}{created['id']}/deliveries/{detail['deliveries'][0]['id']}/replay/", {})
    assert replay.status_code == 202 and replay.json()["event_id"] == detail["deliveries"][0]["event_id"]
    assert len(local.calls) == 2
    # unsubscribe: switched off and kept, with its log
    assert wms.delete(f"{HOOKS}{created['id']}/").status_code == 204
    sub = WebhookSubscription.objects.get(pk=created["id"])
    assert not sub.is_active and sub.disabled_reason == "unsubscribed through the API"
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 2
    assert webhooks.emit("lot.held", site=site, data={"lot": "L-2"}) == []


def test_the_same_subscription_twice_is_refused(wms, local):
    body = {"event": "lot.held", "url": local.url}
    assert wms.post_json(HOOKS, body).status_code == 201
    again = wms.post_json(HOOKS, body)
    assert again.status_code == 422 and "already receives" in again.json()["detail"]
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://240.0.0.1/hook", "reserved"),
        ("https://user:pw@mes.example.com/hook", "no user name"),
        ("ftp://mes.example.com/hook", "https://"),
        ("javascript:alert(1)", "https://"),
        ("https://", "no host"),
        ("http://mes.example.com:99999/", "not a valid URL"),
    ],
)
def test_addresses_the_portal_never_sends_to(wms, url, says):
    response = wms.post_json(HOOKS, {"event": "lot.held", "url": url})
    assert response.status_code == 422, (url, response.content)
    assert says in response.json()["detail"]
    assert not WebhookSubscription.objects.exists()


def test_the_plants_allow_list(wms, settings):
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["mes.plant.example", ".wms.example"]
    for ok in ("https://mes.plant.example/h", "https://a.wms.example/h", "https://wms.example/h"):
        url_check(ok)
    for refused in ("https://evil.example/h", "https://mes.plant.example.evil.com/h", "http://10.20.3.4/h"):
        with pytest.raises(AddressRefused, match="API_WEBHOOK_ALLOWED_HOSTS"):
            url_check(refused)
    response = wms.post_json(HOOKS, {"event": "lot.held", "url": "https://evil.example/h"})
    assert response.status_code == 422 and "API_WEBHOOK_ALLOWED_HOSTS" in response.json()["detail"]
    # networks: an address inside is accepted, one outside refused; a name is judged on what it resolves to
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["10.20.0.0/16"]
    url_check("http://10.20.3.4/h")
    with pytest.raises(AddressRefused, match="API_WEBHOOK_ALLOWED_HOSTS"):
        url_check("http://10.30.0.1/h")
    with pytest.raises(AddressRefused, match="API_WEBHOOK_ALLOWED_HOSTS"):
        resolve_checked("127.0.0.1", 80)
    assert resolve_checked("10.20.3.4", 80) == "10.20.3.4"


def test_the_address_is_checked_again_at_delivery(admin, site, settings, local):
    acc = account(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
    sub, _secret = webhooks.subscription_create(account=acc, event="lot.held", url=local.url, user=admin)
    settings.API_WEBHOOK_ALLOWED_HOSTS = []  # the plant removed the receiver from its list
    (delivery_id,) = webhooks.emit("lot.held", site=site, data={"lot": "L-1"})
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert local.calls == [] and delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None and "not sent to 127.0.0.1" in delivery.last_error


def test_a_redirect_is_not_followed(admin, site, settings):
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    target = Receiver()
    calls = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            calls.append(self.path)
            self.send_response(307)
            self.send_header("Location", target.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        acc = account(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
        url = f"http://127.0.0.1:{server.server_port}/hook?x=1"
        webhooks.subscription_create(account=acc, event="lot.held", url=url, user=admin)
        (delivery_id,) = webhooks.emit("lot.held", site=site, data={"lot": "L-1"})
    finally:
        server.shutdown()
        target.close()
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert calls == ["/hook?x=1"] and target.calls == []
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 307


def test_other_accounts_and_other_plants_are_out_of_reach(admin, site, other_site, wms, local, make_user, client):
    mes_away = account(admin, other_site, name="mes-away", sites=[other_site])
    theirs, _secret = webhooks.subscription_create(account=mes_away, event="lot.held", url=local.url, user=admin)
    delivery = WebhookDelivery.objects.create(
        subscription=theirs, event="lot.held", event_id="6f1c7a52-3f0e-4d55-9a3c-2b7c1d0e9a11", payload={}
    )
    assert wms.get(HOOKS).json()["results"] == []
    assert wms.get(f"{HOOKS}{theirs.pk}/").status_code == 404
    assert wms.delete(f"{HOOKS}{theirs.pk}/").status_code == 404
    assert wms.post_json(f"{HOOKS}{theirs.pk}/deliveries/{delivery.pk}/replay/", {}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active and WebhookDelivery.objects.count() == 1
    # an administrator of this plant only: neither the page nor the API shows the other plant's integration
    home_admin = make_user("home-admin", roles=[Role.ADMINISTRATOR], sites=[site])
    client.force_login(home_admin)
    assert client.get(reverse("api:account", args=[mes_away.pk])).status_code == 404
    assert "mes-away" not in client.get(reverse("api:accounts")).content.decode()
    assert client.get(HOOKS).json()["results"] == []
    # an administrator of both sees it, reads it through the session, but a session never writes
    client.force_login(admin)
    assert [r["id"] for r in client.get(HOOKS).json()["results"]] == [theirs.pk]
    assert client.delete(f"{HOOKS}{theirs.pk}/").status_code == 403


def test_an_account_serving_two_plants_is_managed_only_by_an_administrator_of_both(admin, site, other_site, make_user):
    both = account(admin, site, name="erp-both", sites=[site, other_site])
    home_admin = make_user("home-admin", roles=[Role.ADMINISTRATOR], sites=[site])
    from qms.core.errors import PermissionRefused

    with pytest.raises(PermissionRefused):
        webhooks.subscription_create(account=both, event="lot.held", url="https://erp.example/h", user=home_admin)
    assert not WebhookSubscription.objects.exists()


def test_hostile_subscriptions(wms):
    for body in (
        {},
        {"event": "lot.exploded", "url": "https://mes.example/h"},
        {"event": "lot.held", "url": "https://mes.example/" + "x" * 600},
        {"event": "lot.held", "url": "https://mes.exa\x00mple/h"},
        ["lot.held"],
    ):
        response = wms.post_json(HOOKS, body)
        assert response.status_code in (400, 422), (body, response.content)
        assert response["Content-Type"] == "application/problem+json"
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_identical_subscribe_calls_at_once_make_one_subscription(admin, site, settings):
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["mes.example"]
    wms = api_client(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
    barrier, statuses = threading.Barrier(2), []

    def call():
        try:
            barrier.wait()
            statuses.append(wms.post_json(HOOKS, {"event": "lot.held", "url": "https://mes.example/h"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 422], statuses
    assert WebhookSubscription.objects.count() == 1
