"""Kernel reads used across apps."""

from __future__ import annotations

from .models import Membership, Notification, Site, User


def users_with_role(*, site, roles) -> list[User]:
    """Active users holding any of `roles` at `site` (recipients of reminders, required signers)."""
    return list(
        User.objects.filter(
            is_active=True, memberships__site=site, memberships__role__in=list(roles), memberships__is_active=True
        )
        .distinct()
        .order_by("username")
    )


def sites_visible_to(user, perm: str = "portal.view"):
    from . import policy

    return Site.objects.filter(pk__in=policy.sites_for(user, perm))


def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def user_roles_by_site(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user, is_active=True).select_related("site").order_by("site__code"))
