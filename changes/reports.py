"""Registered report: the change record (request, impact, board signatures, tasks, effectiveness, outputs)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, register_report
from compliance.signatures import signatures_with_validity, signatures_with_validity_many
from qms.core import policy
from qms.core.models import Role


def build_change(params: dict, user) -> dict:
    from .models import BoardVote, ChangeEffectivenessCheck, ChangeOutput, ChangeRequest, ChangeTask, ImpactItem

    code = params.get("change")
    if not code:
        site_ids = policy.sites_for(user, "changes.view") if user is not None else None
        qs = ChangeRequest.objects.all() if site_ids is None else ChangeRequest.objects.filter(site_id__in=site_ids)
        code = qs.order_by("-created_at", "-pk").values_list("code", flat=True).first()
        if code is None:
            raise ReportError(_("There is no change request yet."))
    change = (
        ChangeRequest.objects.select_related("site", "part", "supplier", "equipment", "requested_by", "assessed_by")
        .prefetch_related(
            Prefetch("impacts", queryset=ImpactItem.objects.filter(included=True).order_by("kind", "reference")),
            Prefetch("votes", queryset=BoardVote.objects.select_related("member")),
            Prefetch("tasks", queryset=ChangeTask.objects.select_related("owner", "ppap")),
            Prefetch("checks", queryset=ChangeEffectivenessCheck.objects.select_related("checked_by")),
            Prefetch("outputs", queryset=ChangeOutput.objects.select_related("linked_by")),
        )
        .filter(code=code)
        .first()
    )
    if change is None:
        raise ReportError(_("No change request has the number %(code)s.") % {"code": code})
    if user is not None and not policy.can(user, "changes.view", change.site):
        raise ReportError(_("You cannot see changes of site %(site)s.") % {"site": change.site.code})
    checks = list(change.checks.all())
    signatures = signatures_with_validity(change)
    signatures += sorted(
        (pair for pairs in signatures_with_validity_many(checks).values() for pair in pairs),
        key=lambda p: (p[0].signed_at, p[0].pk),
    )
    return {
        "title": _("Change record %(code)s") % {"code": change.code},
        "site_id": change.site_id,
        "change": change,
        "votes": [(Role(v.role).label, v) for v in change.votes.all()],
        "checks": checks,
        "signatures": signatures,
    }


def register() -> None:
    register_report(
        Report(
            key="changes.change",
            title=gettext_lazy("Change record"),
            template="changes/pdf/change.html",
            build=build_change,
            params=[ReportParam("change", help=gettext_lazy("change number; the latest when empty"))],
            perm="changes.view",
            document_prefix="CHG",
        )
    )
