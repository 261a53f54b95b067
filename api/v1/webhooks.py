"""Webhook subscriptions managed by the integration itself (its token): subscribe to an event (the signing
secret is answered once), list, read with the delivery log, unsubscribe, send a logged event again.
Administrators see the same on the integration's page. A person's browser session may read the
subscriptions of the accounts they administer."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from .. import webhooks
from ..models import Event, WebhookDelivery, WebhookSubscription
from ..selectors import manageable_accounts
from ..services import ApiError
from .base import ApiView, read

TAG = ["webhooks"]


class SubscribeIn(serializers.Serializer):
    event = serializers.ChoiceField(choices=Event.choices)
    url = serializers.CharField(
        max_length=500,
        help_text=gettext_lazy(
            "Where to POST the event: https://… (http:// inside the plant's network). Loopback, link-local and "
            "reserved addresses are refused; an installation may allow only listed hosts."
        ),
    )


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.CharField()
    event_id = serializers.UUIDField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.CharField(source="account.name")
    event = serializers.CharField()
    url = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class SubscriptionCreated(SubscriptionOut):
    secret = serializers.CharField(
        help_text=gettext_lazy("The signing secret, shown this once: keep it to verify X-QMS-Signature.")
    )


class SubscriptionDetailOut(SubscriptionOut):
    deliveries = DeliveryOut(many=True, help_text=gettext_lazy("The last 50 deliveries, newest first."))


def _account_of_token(view):
    token = getattr(view.request, "auth", None)
    account = getattr(token, "account", None)
    if account is None:
        raise ApiError(_("Subscribing needs the integration's own token (Authorization: Bearer qms_…)."))
    return account


def _visible(request):
    """The caller's subscriptions: a token's own; a person's, those of the accounts they administer."""
    qs = WebhookSubscription.objects.select_related("account__user")
    account = getattr(getattr(request, "auth", None), "account", None)
    if account is not None:
        return qs.filter(account=account)
    return qs.filter(account__in=manageable_accounts(request.user))


def _subscription(view, pk: int) -> WebhookSubscription:
    return view.found(_visible(view.request).filter(pk=pk).first())


@read("api.view", post="api.view")
class SubscriptionList(ListModelMixin, ApiView):
    serializer_class = SubscriptionOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no caller
            return WebhookSubscription._base_manager.none()
        return _visible(self.request).order_by("event", "pk")

    @extend_schema(tags=TAG, summary="The integration's webhook subscriptions", operation_id="webhooks_list")
    def get(self, request):
        return self.list(request)

    @extend_schema(
        tags=TAG,
        summary="Subscribe to an event",
        description=(
            "Events: lot.released, lot.held, inspection.rejected, ncr.opened, ncr.closed, alarm.raised, "
            "recall.approved; only events of sites where the integration may read them are sent. The answer "
            "holds the signing `secret` once. Each delivery is a POST with X-QMS-Event, X-QMS-Delivery, "
            "X-QMS-Timestamp and X-QMS-Signature (v1=HMAC-SHA256 of '<timestamp>.<body>')."
        ),
        request=SubscribeIn,
        responses={201: SubscriptionCreated},
        operation_id="webhooks_subscribe",
    )
    def post(self, request):
        ser = SubscribeIn(data=request.data)
        ser.is_valid(raise_exception=True)
        account = _account_of_token(self)
        sub, secret = webhooks.subscription_create(
            account=account, event=ser.validated_data["event"], url=ser.validated_data["url"], user=request.user
        )
        return Response({**SubscriptionOut(sub).data, "secret": secret}, status=201)


@read("api.view", delete="api.view")
class SubscriptionDetail(ApiView):
    serializer_class = SubscriptionDetailOut

    @extend_schema(tags=TAG, summary="A subscription and its delivery log", operation_id="webhooks_retrieve")
    def get(self, request, pk):
        sub = _subscription(self, pk)
        deliveries = DeliveryOut(sub.deliveries.order_by("-created_at", "-pk")[:50], many=True).data
        return Response({**SubscriptionOut(sub).data, "deliveries": deliveries})

    @extend_schema(
        tags=TAG,
        summary="Unsubscribe (the subscription and its log are kept, switched off)",
        responses={204: None},
        operation_id="webhooks_unsubscribe",
    )
    def delete(self, request, pk):
        sub = _subscription(self, pk)
        _account_of_token(self)
        if sub.is_active:
            webhooks.subscription_set_active(
                subscription=sub, active=False, user=request.user, reason=_("unsubscribed through the API")
            )
        return Response(status=204)


@read("api.view", post="api.view")
class DeliveryReplay(ApiView):
    serializer_class = DeliveryOut

    @extend_schema(
        tags=TAG,
        summary="Send a logged delivery again (same event id, a new log entry)",
        request=None,
        responses={202: DeliveryOut},
        operation_id="webhooks_delivery_replay",
    )
    def post(self, request, pk, delivery):
        sub = _subscription(self, pk)
        _account_of_token(self)
        logged = self.found(WebhookDelivery.objects.filter(subscription=sub, pk=delivery).first())
        again = webhooks.delivery_replay(delivery=logged, user=request.user)
        again.refresh_from_db()
        return Response(DeliveryOut(again).data, status=202)
