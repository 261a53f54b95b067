"""Service accounts, their tokens, idempotent calls and webhooks of the integration API.

A service account is an ordinary `core.User` (unusable password, so no browser sign-in) with site-scoped
`Membership` roles like a person's; the `ServiceAccount` row is what flags it as an integration (MES, ERP,
WMS ...). Tokens are shown once and stored as the sha256 of their secret, found by a short prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qms.core.audit import RegulatedModel


class System(models.TextChoices):
    MES = "mes", _("MES (production)")
    ERP = "erp", _("ERP (purchasing and stock)")
    WMS = "wms", _("WMS (warehouse)")
    SCM = "scm", _("SCM (suppliers)")
    CRM = "crm", _("CRM (customers)")
    CMM = "cmm", _("Measuring machine (CMM, gauges)")
    OTHER = "other", _("Other system")


class ServiceAccount(RegulatedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_account", verbose_name=_("user")
    )
    system = models.CharField(_("system"), max_length=10, choices=System.choices)
    description = models.TextField(_("description"), blank=True)
    # Told when one of the account's webhook subscriptions is disabled after repeated failures.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("owner"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")
        ordering = ["user__username"]

    def __str__(self):
        return f"{self.user.username} ({self.get_system_display()})"

    @property
    def name(self) -> str:
        return self.user.username


class ApiToken(RegulatedModel):
    account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="tokens", verbose_name=_("service account")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} (qms_{self.prefix}_…)"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= now:
            return "expired"
        return "active"


class TokenUse(models.Model):
    """When and from where a token was last used (bookkeeping, not a regulated record; updated at most
    once a minute per token)."""

    token = models.OneToOneField(ApiToken, on_delete=models.CASCADE, related_name="use", primary_key=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)


class IdempotentCall(models.Model):
    """A call made with an `Idempotency-Key`: the same key with the same request gets the stored answer
    (nothing is recorded twice); with a different request it is refused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_api_idempotency_key")]


class Event(models.TextChoices):
    LOT_RELEASED = "lot.released", _("Lot released")
    LOT_HELD = "lot.held", _("Lot held")
    INSPECTION_REJECTED = "inspection.rejected", _("Inspection rejected")
    NCR_OPENED = "ncr.opened", _("NCR opened")
    NCR_CLOSED = "ncr.closed", _("NCR closed")
    ALARM_RAISED = "alarm.raised", _("Alarm raised")
    RECALL_APPROVED = "recall.approved", _("Recall approved")


class WebhookSubscription(RegulatedModel):
    account = models.ForeignKey(
        ServiceAccount, on_delete=models.PROTECT, related_name="webhooks", verbose_name=_("service account")
    )
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    url = models.URLField(_("address"), max_length=500)
    # The signing key: shown once when the subscription is made, kept to sign each delivery.
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    audit_exempt_reason_fields = ("consecutive_failures",)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["account", "event", "pk"]

    def __str__(self):
        return f"{self.event} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one subscription: the delivery log."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.UUIDField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["subscription", "-created_at"])]

    def __str__(self):
        return f"{self.event} #{self.pk} {self.status}"
