"""Webhooks: subscriptions per event, signed deliveries, retries, the delivery log, replay.

The domains announce their events with signals sent after commit (traceability.signals, inspection.signals,
nonconformance.signals, monitoring.signals); `connect()` listens. For each active subscription whose service
account may see the event's site, one `WebhookDelivery` row is written and the Celery task
`api.tasks.webhook_deliver(delivery_id)` is queued through the outbox.

Each delivery is a POST of the JSON payload with the headers
  X-QMS-Event: lot.released
  X-QMS-Delivery: <event id, a UUID: the same for a retry or a replay, so a receiver can de-duplicate>
  X-QMS-Timestamp: <unix seconds>
  X-QMS-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret>
A 2xx answer is success. Anything else is retried with exponential back-off (`RETRY_DELAYS`); after
`settings.API_WEBHOOK_MAX_FAILURES` failed attempts in a row the subscription is disabled and the account's
owner is told in their inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core import policy
from qms.core.audit import audit_context
from qms.core.i18n import LazyFormat
from qms.core.services import notification_send

from .models import DeliveryStatus, Event, ServiceAccount, WebhookDelivery, WebhookSubscription
from .services import ApiError, account_manage_check
from .webhook_address import AddressRefused, resolve_checked, url_check

log = logging.getLogger(__name__)

RETRY_DELAYS = (10, 60, 300, 1800, 7200)  # seconds before attempts 2..6


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300) -> bool:
    """What a receiver does (docs/integration.md has the same in a few lines)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


# ------------------------------------------------------------------------------------ subscriptions


def _check_manage(user, account: ServiceAccount) -> None:
    """An integration manages its own subscriptions; otherwise an administrator of every site it serves."""
    if user.pk == account.user_id:
        if not account.is_active:
            raise ApiError(_("Service account %(n)s is switched off.") % {"n": account.name})
        return
    account_manage_check(user, account)


def subscription_create(*, account: ServiceAccount, event: str, url: str, user) -> tuple[WebhookSubscription, str]:
    """Subscribe `account` to `event` at `url`; returns (subscription, secret shown once)."""
    _check_manage(user, account)
    if event not in Event.values:
        raise ApiError(
            _("Unknown event “%(e)s”. Choose one of: %(all)s.") % {"e": event, "all": ", ".join(Event.values)}
        )
    url = (url or "").strip()
    if len(url) > 500:
        raise ApiError(_("The address is longer than 500 characters."))
    url_check(url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic(), audit_context(user=user, reason=_("webhook subscribed")):
        ServiceAccount.objects.select_for_update().get(pk=account.pk)  # two identical calls: one subscription
        if WebhookSubscription.objects.filter(account=account, event=event, url=url, is_active=True).exists():
            raise ApiError(_("%(n)s already receives %(e)s at this address.") % {"n": account.name, "e": event})
        sub = WebhookSubscription.objects.create(account=account, event=event, url=url, secret=secret, created_by=user)
    return sub, secret


def subscription_set_active(*, subscription: WebhookSubscription, active: bool, user, reason: str):
    _check_manage(user, subscription.account)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        sub = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        sub.is_active = active
        if active:
            url_check(sub.url)  # the allow-list may have changed since
            sub.consecutive_failures = 0
            sub.disabled_at = None
            sub.disabled_reason = ""
        else:
            sub.disabled_at = timezone.now()
            sub.disabled_reason = reason[:300]
        sub.save()
    return sub


# ------------------------------------------------------------------------------------------- events


def _site_perm(event: str) -> str:
    return {
        Event.INSPECTION_REJECTED: "inspection.view",
        Event.NCR_OPENED: "ncr.view",
        Event.NCR_CLOSED: "ncr.view",
        Event.ALARM_RAISED: "portal.view",
        Event.RECALL_APPROVED: "recall.view",
    }.get(event, "lots.view")


def emit(event: str, *, site, data: dict) -> list[int]:
    """Queue `event` for every active subscription whose account may see `site`. Returns delivery ids."""
    subs = list(
        WebhookSubscription.objects.filter(event=event, is_active=True, account__is_active=True).select_related(
            "account__user"
        )
    )
    perm = _site_perm(event)
    subs = [s for s in subs if s.account.user.is_active and policy.can(s.account.user, perm, site)]
    if not subs:
        return []
    payload = {
        "id": str(uuid.uuid4()),
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "site": site.code,
        "data": data,
    }
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    ids = []
    from .tasks import webhook_deliver

    with transaction.atomic():
        for sub in subs:
            delivery = WebhookDelivery.objects.create(
                subscription=sub, event=event, event_id=payload["id"], payload=payload
            )
            ids.append(delivery.pk)
        for delivery_id in ids:
            webhook_deliver.delay(delivery_id)
    return ids


def delivery_replay(*, delivery: WebhookDelivery, user) -> WebhookDelivery:
    """Send a logged event again (same event id, a new log row), e.g. after the receiver was fixed."""
    _check_manage(user, delivery.subscription.account)
    from .tasks import webhook_deliver

    with transaction.atomic():
        # Under the lock: a subscription switched off at the same moment is not sent to.
        sub = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        if not sub.is_active:
            raise ApiError(
                _("The subscription is switched off: switch it on (or subscribe again) before sending again.")
            )
        again = WebhookDelivery.objects.create(
            subscription=sub,
            event=delivery.event,
            event_id=delivery.event_id,
            payload=delivery.payload,
            replay_of=delivery,
        )
        webhook_deliver.delay(again.pk)
    return again


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST to the address the policy admitted (`webhook_address`), connecting to the checked IP (a second
    lookup could answer otherwise), verifying TLS against the host name, following no redirect."""
    try:
        host, port, scheme = url_check(url)
        ip = resolve_checked(host, port)
    except AddressRefused as exc:
        return None, exc.message[:500]
    parts = urlsplit(url.strip())
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = settings.API_WEBHOOK_TIMEOUT_SECONDS
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn._create_connection = lambda _addr, t, source=None: socket.create_connection((ip, port), t, source)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read(4096)
        reason = "" if 200 <= response.status < 300 else f"{response.status} {response.reason}"[:500]
        return response.status, reason
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, str(exc)[:500] or exc.__class__.__name__
    finally:
        conn.close()


def delivery_attempt(*, delivery_id: int) -> str:
    """One attempt: "delivered", "retry" (the task tries again later), "failed" (gave up) or "skipped"."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__account")
            .get(pk=delivery_id)
        )
        if delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        sub = delivery.subscription
        if not sub.is_active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = _("The subscription is disabled.")
            delivery.save()
            return "failed"
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "QMS-Portal-Webhooks/1",
        "X-QMS-Event": delivery.event,
        "X-QMS-Delivery": str(delivery.event_id),
        "X-QMS-Timestamp": str(ts),
        "X-QMS-Signature": sign(sub.secret, ts, body),
    }
    code, error = _post(sub.url, body, headers)
    ok = code is not None and 200 <= code < 300
    with transaction.atomic(), audit_context(reason=_("webhook delivery"), source="job"):
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        sub = (
            WebhookSubscription.objects.select_for_update(of=("self",)).select_related("account__owner").get(pk=sub.pk)
        )
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_error = "" if ok else (error or _("HTTP status %(c)s") % {"c": code})
        delivery.last_attempt_at = timezone.now()
        if ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = delivery.last_attempt_at
            delivery.save()
            if sub.consecutive_failures:
                sub.consecutive_failures = 0
                sub.save(update_fields=["consecutive_failures"])
            return "delivered"
        sub.consecutive_failures += 1
        outcome = "retry" if delivery.attempts <= len(RETRY_DELAYS) else "failed"
        if sub.consecutive_failures >= settings.API_WEBHOOK_MAX_FAILURES and sub.is_active:
            _disable(sub)
            outcome = "failed"
        else:
            sub.save(update_fields=["consecutive_failures"])
        if outcome == "failed":
            delivery.status = DeliveryStatus.FAILED
        delivery.save()
        return outcome


def _disable(sub: WebhookSubscription) -> None:
    why = _("%(n)s deliveries failed in a row") % {"n": sub.consecutive_failures}
    sub.is_active = False
    sub.disabled_at = timezone.now()
    sub.disabled_reason = why
    sub.save(reason=why)
    owner = sub.account.owner
    if owner is not None:
        notification_send(
            recipients=[owner],
            level="warning",
            subject=LazyFormat(
                gettext_lazy("Webhook disabled: %(event)s to %(url)s (%(account)s)"),
                event=sub.event,
                url=sub.url[:120],
                account=sub.account.name,
            ),
            body=why,
            link=f"/api/integrations/{sub.account_id}/",
            dedup_key=f"api-webhook-disabled-{sub.pk}-{sub.disabled_at:%Y%m%d%H%M%S}",
        )


def retry_delay(attempts: int) -> int:
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


# ------------------------------------------------------------------------------------------ listeners


def _lot_data(lot) -> dict:
    return {"lot": lot.code, "part": lot.part.number, "status": lot.status, "quantity": str(lot.quantity)}


def on_lot_released(sender, lot, **kwargs):
    emit(Event.LOT_RELEASED, site=lot.site, data=_lot_data(lot))


def on_hold_placed(sender, hold, **kwargs):
    lot = hold.lot
    emit(
        Event.LOT_HELD,
        site=lot.site,
        data={**_lot_data(lot), "hold": {"source": hold.source, "reference": hold.reference, "reason": hold.reason}},
    )


def on_inspection_rejected(sender, inspection, **kwargs):
    emit(
        Event.INSPECTION_REJECTED,
        site=inspection.site,
        data={
            "inspection": inspection.code,
            "stage": inspection.stage,
            "lot": inspection.lot.code if inspection.lot_id else None,
            "work_order": inspection.work_order.code if inspection.work_order_id else None,
            "nonconforming": inspection.nonconforming,
            "note": inspection.result_note,
        },
    )


def _ncr_data(ncr) -> dict:
    return {"ncr": ncr.code, "title": ncr.title, "status": ncr.status}


def on_ncr_opened(sender, ncr, **kwargs):
    emit(Event.NCR_OPENED, site=ncr.site, data=_ncr_data(ncr))


def on_ncr_closed(sender, ncr, **kwargs):
    emit(Event.NCR_CLOSED, site=ncr.site, data=_ncr_data(ncr))


def on_alarm_raised(sender, alarm, **kwargs):
    emit(
        Event.ALARM_RAISED,
        site=alarm.site,
        data={
            "alarm": alarm.code,
            "rule": alarm.rule.name,
            "kpi": alarm.rule.kpi,
            "scope": alarm.dim_value,
            "value": alarm.value,
        },
    )


def on_recall_approved(sender, recall, **kwargs):
    emit(
        Event.RECALL_APPROVED,
        site=recall.site,
        data={"recall": recall.code, "reason": recall.reason, "mock": recall.is_mock},
    )


def _safe(fn):
    """A listener never breaks the domain's request: a failure is logged (the event is in the log to replay)."""

    def run(sender, **kwargs):
        try:
            from qms.core.scoping import system_scope

            with system_scope():
                fn(sender, **kwargs)
        except Exception:  # noqa: BLE001
            log.exception("webhook listener %s failed", fn.__name__)

    run.__name__ = fn.__name__
    return run


_LISTENERS = []


def connect() -> None:
    from inspection.signals import inspection_rejected
    from monitoring.signals import alarm_raised
    from nonconformance.signals import ncr_closed, ncr_opened
    from traceability.signals import lot_hold_placed, lot_released, recall_approved

    for signal, fn in (
        (lot_released, on_lot_released),
        (lot_hold_placed, on_hold_placed),
        (inspection_rejected, on_inspection_rejected),
        (ncr_opened, on_ncr_opened),
        (ncr_closed, on_ncr_closed),
        (alarm_raised, on_alarm_raised),
        (recall_approved, on_recall_approved),
    ):
        receiver = _safe(fn)
        _LISTENERS.append(receiver)  # signals hold weak references
        signal.connect(receiver, dispatch_uid=f"api.webhooks.{fn.__name__}")


def deliveries_due(now=None, limit: int = 200) -> list[int]:
    """Pending deliveries tried before whose back-off (RETRY_DELAYS by attempt) has passed."""
    now = now or timezone.now()
    due = []
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, attempts__gte=1).order_by("last_attempt_at")
    for pk, attempts, last in pending.values_list("pk", "attempts", "last_attempt_at")[: limit * 5]:
        if last is None or (now - last).total_seconds() >= retry_delay(attempts):
            due.append(pk)
        if len(due) >= limit:
            break
    return due
