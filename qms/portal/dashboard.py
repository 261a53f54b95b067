"""Dashboard tiles. Apps contribute tiles through the registry below (a tile is a callable taking the
user and returning None or a dict: label, value, url, level)."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils.translation import gettext as _

from qms.core.models import Notification

TILE_PROVIDERS: list[Callable] = []


def register_tile(provider: Callable) -> None:
    TILE_PROVIDERS.append(provider)


def dashboard_tiles(user) -> list[dict]:
    tiles = [
        {
            "label": _("Unread notifications"),
            "value": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
            "url": reverse("core:inbox"),
            "level": "info",
        }
    ]
    for provider in TILE_PROVIDERS:
        tile = provider(user)
        if tile:
            tiles.extend(tile if isinstance(tile, list) else [tile])
    return tiles
