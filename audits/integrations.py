"""audits plugs into the kernel: scan resolver, dashboard tile, nonconformance's related records."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy


def resolve_audit_code(user, code: str) -> str | None:
    from .models import Audit

    audit = Audit.objects.filter(code__iexact=code.strip()).only("code", "site_id").first()
    if audit is None or not policy.can(user, "audits.view", audit.site_id):
        return None
    return reverse("audits:audit_detail", args=[audit.code])


def audit_tiles(user) -> list[dict]:
    from .models import Audit, AuditStatus, Finding, FindingStatus

    site_ids = policy.sites_for(user, "audits.view")
    if not site_ids:
        return []
    today = timezone.localdate()
    due = Audit.objects.filter(
        site_id__in=site_ids,
        status__in=[AuditStatus.PLANNED, AuditStatus.IN_PROGRESS],
        planned_start__lte=today + timedelta(days=30),
    )
    due_count = due.count()
    overdue = due.filter(planned_end__lt=today).count()
    findings = Finding.objects.filter(audit__site_id__in=site_ids, status=FindingStatus.OPEN).count()
    url = reverse("audits:audit_list")
    return [
        {
            "label": _("Audits due (30 days) / overdue"),
            "value": f"{due_count} / {overdue}",
            "url": url + "?status=active",
            "level": "bad" if overdue else "info",
        },
        {"label": _("Open audit findings"), "value": findings, "url": url, "level": "warn" if findings else "ok"},
    ]


def related_records(obj) -> list[dict]:
    """The audit finding that opened an NCR (shown on the NCR page)."""
    from nonconformance.models import Ncr

    from .models import Finding

    if not isinstance(obj, Ncr):
        return []
    return [
        {
            "label": _("Audit finding"),
            "code": f.code,
            "title": f.description[:120],
            "status": f.get_status_display(),
            "url": reverse("audits:audit_detail", args=[f.audit.code]) + f"#finding-{f.pk}",
        }
        for f in Finding.objects.filter(ncr=obj).select_related("audit")
    ]


def connect() -> None:
    from nonconformance.registries import register_related_provider

    register_related_provider(related_records)
