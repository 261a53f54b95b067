"""changes plugs into the kernel: scan resolver and dashboard tiles."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy


def resolve_change_code(user, code: str) -> str | None:
    from .models import ChangeRequest

    change = ChangeRequest.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if change is None or not policy.can(user, "changes.view", change.site_id):
        return None
    return reverse("changes:change_detail", args=[change.code])


def change_tiles(user) -> list[dict]:
    from .models import CHANGE_OPEN, ChangeRequest, ChangeTask, TaskStatus

    site_ids = policy.sites_for(user, "changes.view")
    if not site_ids:
        return []
    open_changes = ChangeRequest.objects.filter(site_id__in=site_ids, status__in=CHANGE_OPEN).count()
    overdue = ChangeTask.objects.filter(
        change__site_id__in=site_ids, status=TaskStatus.OPEN, due_on__lt=timezone.localdate()
    ).count()
    url = reverse("changes:change_list")
    return [
        {"label": _("Open changes"), "value": open_changes, "url": url + "?status=open", "level": "info"},
        {
            "label": _("Overdue change tasks"),
            "value": overdue,
            "url": url + "?status=overdue",
            "level": "bad" if overdue else "ok",
        },
    ]


def document_version_changes(version_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The changes that produced these controlled document versions (documents' version-links registry)."""
    from .models import ChangeOutput, OutputKind

    outputs = (
        ChangeOutput.objects.filter(
            kind=OutputKind.DOCUMENT_VERSION, model="documents.documentversion", object_id__in=version_ids
        )
        .select_related("change")
        .order_by("pk")
    )
    links: dict[int, list[tuple[str, str]]] = {}
    for out in outputs:
        url = reverse("changes:change_detail", args=[out.change.code])
        links.setdefault(out.object_id, []).append((f"{out.change.code} · {out.change.title}", url))
    return links
