"""Reads of the API app: the accounts an administrator manages, the dashboard tile."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.models import Site

from .models import ApiToken, ServiceAccount, WebhookSubscription


def manageable_accounts(user):
    """Service accounts `user` administers: every site the account serves (its memberships, active or not)
    is one where `user` holds the API management permission; an account with no site, any administrator.
    An administrator of one plant never sees another plant's integration (its webhooks carry that plant's
    data)."""
    sites = policy.sites_for(user, "api.manage")
    if not sites:
        return ServiceAccount.objects.none()
    return ServiceAccount.objects.exclude(user__memberships__site__in=Site.objects.exclude(pk__in=sites))


def dashboard_tiles(user) -> list[dict] | None:
    """For administrators: webhooks disabled after failures and tokens expiring within 14 days (2 queries)."""
    if not policy.can(user, "api.manage"):
        return None
    soon = timezone.now() + datetime.timedelta(days=14)
    mine = manageable_accounts(user).values("pk")  # as the Integrations page
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
