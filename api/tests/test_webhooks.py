"""Webhooks against a local HTTP server on 127.0.0.1: signed, logged, retried, disabled, replayed."""

import http.server
import json
import threading

import pytest

from api import webhooks
from api.models import DeliveryStatus, WebhookDelivery
from qms.core.models import Notification, Role
from traceability.services import lot_hold_place
from traceability.tests import factories as tf

from .factories import account

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self, status=200):
        self.status = status
        self.calls = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((self.headers, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    settings.API_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the plant lists its receiver (here, on this machine)
    r = Receiver()
    yield r
    r.close()


def test_a_hold_is_delivered_signed(admin, site, make_user, receiver, django_capture_on_commit_callbacks):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    acc = account(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
    sub, secret = webhooks.subscription_create(account=acc, event="lot.held", url=receiver.url, user=admin)
    lot = tf.lot(site)
    with django_capture_on_commit_callbacks(execute=True):
        lot_hold_place(lot=lot, source="manual", reason="burr", user=qm)
    assert len(receiver.calls) == 1
    headers, body = receiver.calls[0]
    assert headers["X-QMS-Event"] == "lot.held"
    assert webhooks.verify(secret, headers["X-QMS-Timestamp"], body, headers["X-QMS-Signature"])
    assert not webhooks.verify("whsec_wrong", headers["X-QMS-Timestamp"], body, headers["X-QMS-Signature"])
    payload = json.loads(body)
    assert payload["data"]["lot"] == lot.code and payload["site"] == site.code
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.last_status_code == 200


def test_events_of_another_site_are_not_sent(
    admin, site, other_site, make_user, receiver, django_capture_on_commit_callbacks
):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER], sites=[other_site])
    acc = account(admin, site, name="wms", roles=[Role.PRODUCTION_SUPERVISOR])
    webhooks.subscription_create(account=acc, event="lot.held", url=receiver.url, user=admin)
    with django_capture_on_commit_callbacks(execute=True):
        lot_hold_place(lot=tf.lot(other_site), source="manual", reason="burr", user=qm)
    assert receiver.calls == [] and not WebhookDelivery.objects.exists()


def test_failures_retry_then_disable_and_tell_the_owner(admin, site, settings, receiver):
    settings.API_WEBHOOK_MAX_FAILURES = 3
    receiver.status = 500
    acc = account(admin, site, name="mes", roles=[Role.INSPECTOR])
    sub, _secret = webhooks.subscription_create(account=acc, event="lot.held", url=receiver.url, user=admin)
    lot = tf.lot(site)
    (delivery_id,) = webhooks.emit("lot.held", site=site, data={"lot": lot.code})
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 500 and delivery.attempts == 1
    assert webhooks.delivery_attempt(delivery_id=delivery_id) == "retry"
    assert webhooks.delivery_attempt(delivery_id=delivery_id) == "failed"
    sub.refresh_from_db()
    assert not sub.is_active and sub.consecutive_failures == 3
    assert Notification.objects.filter(recipient=admin, subject__contains="Webhook disabled").exists()
    # Fixed receiver, subscription enabled again, replay from the log.
    receiver.status = 204
    webhooks.subscription_set_active(subscription=sub, active=True, user=admin, reason="receiver fixed")
    again = webhooks.delivery_replay(delivery=WebhookDelivery.objects.get(pk=delivery_id), user=admin)
    again.refresh_from_db()
    assert again.status == DeliveryStatus.DELIVERED and str(again.event_id) == str(delivery.event_id)


def test_retry_back_off_is_exponential():
    assert [webhooks.retry_delay(n) for n in (1, 2, 3, 4, 5)] == list(webhooks.RETRY_DELAYS)
