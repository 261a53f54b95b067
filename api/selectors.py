"""Reads of the API app: the administrator's dashboard tile."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy

from .models import ApiToken, ServiceAccount, WebhookSubscription


def dashboard_tiles(user) -> list[dict] | None:
    """For administrators: webhooks disabled after failures and tokens expiring within 14 days (2 queries)."""
    if not policy.can(user, "api.manage"):
        return None
    soon = timezone.now() + datetime.timedelta(days=14)
    # Only the accounts this administrator manages (as the Integrations page): one of their sites, or none.
    sites = policy.sites_for(user, "api.manage")
    mine = ServiceAccount.objects.filter(
        Q(user__memberships__site_id__in=sites) | Q(user__memberships__isnull=True)
    ).values("pk")
    expiring = ApiToken.objects.filter(
        account__in=mine, revoked_at__isnull=True, expires_at__isnull=False, expires_at__lte=soon
    ).count()
    disabled = WebhookSubscription.objects.filter(account__in=mine, is_active=False, disabled_at__isnull=False).count()
    url = reverse("api:accounts")
    return [
        {
            "label": _("Integrations: webhooks disabled"),
            "value": disabled,
            "url": url,
            "level": "warning" if disabled else "ok",
        },
        {
            "label": _("Integrations: tokens expiring within 14 days"),
            "value": expiring,
            "url": url,
            "level": "warning" if expiring else "ok",
        },
    ]
