from django.conf import settings

from . import policy
from .registries import registry
from .selectors import unread_notification_count


def shell(request):
    """What the base layout needs: navigation for the user's roles, unread count, read-only flag."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"qms_site_name": settings.QMS_SITE_NAME, "nav_items": []}
    items = sorted((item for item in registry.nav_items.values() if policy.can(user, item.perm)), key=lambda i: i.order)
    return {
        "qms_site_name": settings.QMS_SITE_NAME,
        "nav_items": items,
        "unread_count": unread_notification_count(user),
        "read_only": policy.is_read_only(user),
    }
