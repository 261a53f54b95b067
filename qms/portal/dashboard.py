"""Dashboard tiles. Apps contribute tiles through `qms.core.registries.register_dashboard_tile` (a
provider takes the user and returns None, a dict (label, value, url, level) or a list of them)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from qms.core.registries import registry
from qms.core.selectors import unread_notification_count


def dashboard_tiles(user) -> list[dict]:
    tiles = [
        {
            "label": _("Unread notifications"),
            "value": unread_notification_count(user),
            "url": reverse("core:inbox"),
            "level": "info",
        }
    ]
    for provider in registry.dashboard_tiles:
        tile = provider(user)
        if tile:
            tiles.extend(tile if isinstance(tile, list) else [tile])
    return tiles
