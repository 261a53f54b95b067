"""Kernel reads used across apps."""

from __future__ import annotations

from .models import Notification, User


def users_with_role(*, site, roles) -> list[User]:
    """Active users holding any of `roles` at `site` (recipients of reminders, required signers)."""
    return list(
        User.objects.filter(
            is_active=True, memberships__site=site, memberships__role__in=list(roles), memberships__is_active=True
        )
        .distinct()
        .order_by("username")
    )


def users_who_can(*, site, perm: str):
    """Active users who hold `perm` at `site` (drop-downs of people who must act: never the read-only
    auditor for a writing permission). A queryset, by username."""
    from . import policy

    return (
        User.objects.filter(
            is_active=True,
            memberships__site=site,
            memberships__is_active=True,
            memberships__role__in=list(policy.PERMISSIONS[perm]),
        )
        .distinct()
        .order_by("username")
    )


def users_who_decide(*, site, decision: str):
    """Active users with the authority for `decision` at `site` (the site's own decision authority, else the
    default roles; never the auditor): drop-downs of people named to take it. A queryset, by username."""
    from . import policy

    return (
        User.objects.filter(
            is_active=True,
            memberships__site=site,
            memberships__is_active=True,
            memberships__role__in=list(policy.decision_roles(decision, site)),
        )
        .distinct()
        .order_by("username")
    )


def unread_notification_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def outbox_waiting() -> int:
    """Background jobs not yet delivered (waiting for the broker or a retry)."""
    from .models import OutboxJob

    return OutboxJob.objects.filter(delivered_at__isnull=True, failed_at__isnull=True).count()
