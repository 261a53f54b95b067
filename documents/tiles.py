"""Dashboard tiles: documents due for periodic review, overdue training (two queries)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from qms.core import policy


def documents_tiles(user) -> list[dict]:
    from .selectors import documents_due_for_review, overdue_training

    tiles = []
    manage = policy.sites_for(user, "documents.register.view")
    if manage:
        due = documents_due_for_review(manage).count()
        tiles.append(
            {
                "label": _("Documents due for review"),
                "value": due,
                "url": reverse("documents:list") + "?status=review_due",
                "level": "warn" if due else "ok",
            }
        )
    matrix = policy.sites_for(user, "training.matrix.view")
    if matrix:
        overdue = overdue_training(matrix).count()
        url = reverse("documents:training_matrix")
    else:
        overdue = overdue_training(policy.sites_for(user, "training.view")).filter(user=user).count()
        url = reverse("documents:my_training")
    if matrix or overdue:
        tiles.append(
            {"label": _("Overdue training"), "value": overdue, "url": url, "level": "bad" if overdue else "ok"}
        )
    return tiles
