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


def control_plans_out_of_date(site_ids) -> int:
    """Parts at these sites whose approved inspection plans are newer than their latest control plan (or
    that have none yet): two queries."""
    from inspection.models import InspectionPlan, PlanStatus

    current: dict[tuple[int, int], set] = {}
    for site_id, part_id, pk, version in InspectionPlan.objects.filter(
        site_id__in=site_ids, status=PlanStatus.APPROVED, site__industry=Industry.AUTOMOTIVE
    ).values_list("site_id", "part_id", "pk", "version"):
        current.setdefault((site_id, part_id), set()).add((pk, version))
    latest: dict[tuple[int, int], set] = {}
    for site_id, part_id, sources in (
        ControlPlan.objects.filter(site_id__in=site_ids)
        .order_by("site_id", "part_id", "-version")
        .distinct("site_id", "part_id")
        .values_list("site_id", "part_id", "sources")
        if _distinct_on()
        else _latest_plans(site_ids)
    ):
        latest[(site_id, part_id)] = {(s["plan"], s["version"]) for s in sources}
    return sum(1 for key, plans in current.items() if latest.get(key) != plans)


def _distinct_on() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _latest_plans(site_ids):
    seen = set()
    for row in (
        ControlPlan.objects.filter(site_id__in=site_ids)
        .order_by("site_id", "part_id", "-version")
        .values_list("site_id", "part_id", "sources")
    ):
        if row[:2] not in seen:
            seen.add(row[:2])
            yield row


def dashboard_tiles(user) -> list[dict]:
    """Control plans behind their inspection plans, for those who generate them."""
    site_ids = policy.sites_for(user, "packs.control_plan")
    if not site_ids or not Site.objects.filter(pk__in=site_ids, industry=Industry.AUTOMOTIVE).exists():
        return []
    n = control_plans_out_of_date(site_ids)
    return [
        {
            "label": _("Control plans to regenerate"),
            "value": n,
            "url": reverse("packs:index"),
            "level": "warning" if n else "ok",
        }
    ]
