"""Reads of the packs app: what each site's profile offers, the site-scoped loaders, the lot page link."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.models import Industry, Site

from .models import ControlPlan, PackManifest, RetentionPolicy


def lot_bundle_action(user, lot) -> dict | None:
    """The lot page's "Everything about this lot" button, for people who may take the bundle away."""
    if not policy.can(user, "packs.export", lot.site):
        return None
    return {
        "label": _("Everything about this lot"),
        "url": reverse("packs:lot_bundle") + f"?lot={lot.code}",
        "title": _(
            "One PDF with bookmarks and a SHA-256 manifest: trace, inspections, NCRs, releases, CoA, audit trail"
        ),
    }


def sites_for_packs(user) -> list[Site]:
    return list(Site.objects.filter(pk__in=policy.sites_for(user, "packs.view")).order_by("code"))


def packs_offered(site) -> list[str]:
    """The packs a site's industry profile gets (every site gets the lot bundle and retention)."""
    offered = ["lot_bundle"]
    if site.industry == Industry.AUTOMOTIVE:
        offered += ["control_plan", "ppap", "complaint"]
    elif site.industry == Industry.FOOD:
        offered += ["sc_records", "trace_record", "recall_record"]
    elif site.industry == Industry.PHARMA:
        offered += ["batch_disposition"]
    else:
        offered += ["complaint"]
    offered.append("retention")
    return offered


def manifests_for_site(site, limit: int = 20):
    return list(
        PackManifest.objects.filter(site=site).select_related("generated_report", "generated_report__generated_by")[
            :limit
        ]
    )


def manifest_for_user(user, pk) -> PackManifest | None:
    """One pack's manifest, if it is at one of the scope's sites and the user may take packs there."""
    row = PackManifest.objects.select_related("generated_report", "site").filter(pk=pk).first()
    if row is None or not policy.can(user, "packs.export", row.site):
        return None
    return row


def control_plans_for_site(site):
    latest = {}
    for plan in ControlPlan.objects.filter(site=site).select_related("part").order_by("part__number", "-version"):
        latest.setdefault(plan.part_id, plan)
    return latest


def control_plan_by_pk(pk) -> ControlPlan | None:
    return ControlPlan.objects.select_related("part", "site", "generated_by").filter(pk=pk).first()


def policies_for_site(site) -> list[RetentionPolicy]:
    """The effective policy per record type: the site's saved row, else its industry default (unsaved)."""
    from .retention import default_policies_for

    saved = {p.record_type: p for p in RetentionPolicy.objects.filter(site=site)}
    return [saved.get(d.record_type, d) for d in default_policies_for(site)]
