import datetime

from django.utils import timezone

from audits import services
from nonconformance.tests.factories import credential  # noqa: F401


def programme(site, user, year=None):
    from audits.models import AuditProgramme

    year = year or timezone.localdate().year
    existing = AuditProgramme.objects.filter(site=site, year=year).first()
    return existing or services.programme_create(site=site, year=year, title="Programme", user=user)


def planned_audit(site, people, *, chapters=("9.2", "10.2"), standard="iso9001", lead=None, owner=None):
    prog = programme(site, people["qm"])
    today = timezone.localdate()
    start = max(today, datetime.date(today.year, 1, 1))
    return services.audit_plan(
        programme=prog,
        title="Internal audit process",
        standard=standard,
        area="Quality system",
        area_owner=owner or people["prod"],
        lead_auditor=lead or people["qe"],
        auditors=[people["sqe"]],
        planned_start=start,
        planned_end=start,
        user=people["qm"],
        chapters=list(chapters),
    )


def performed_audit(site, people, **kw):
    audit = planned_audit(site, people, **kw)
    services.audit_start(audit=audit, user=people["qe"])
    for item in audit.items.order_by("sequence"):
        services.item_record(item=item, result="conforming", evidence="sampled records", user=people["qe"])
    return audit
