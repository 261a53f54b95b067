"""Non-trivial reads of the suppliers app: lists filtered by the user's sites, detail pages loaded in a
constant number of queries, signatures in batch, scorecard trends."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Case, CharField, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.utils import timezone

from compliance.models import Signature
from compliance.signatures import signatures_with_validity_many
from qms.core import policy

from .models import (
    AslEntry,
    AslSuspension,
    Certificate,
    CertificateStatus,
    PpapElement,
    PpapSubmission,
    Scorecard,
    Supplier,
    SupplierStatusChange,
)

SORTS = {
    "code": ["code"],
    "-code": ["-code"],
    "name": ["name"],
    "status": ["status", "code"],
    "risk": ["risk_level", "code"],
    "grade": [F("latest_grade").asc(nulls_last=True), "code"],
    "-grade": [F("latest_grade").desc(nulls_last=True), "code"],
    "score": [F("latest_score").desc(nulls_last=True), "code"],
}


def supplier_ids_visible(user, perm: str = "suppliers.view"):
    return Supplier.sites.through.objects.filter(site_id__in=policy.sites_for(user, perm)).values("supplier_id")


def suppliers_visible(user, perm: str = "suppliers.view"):
    return Supplier.objects.filter(pk__in=supplier_ids_visible(user, perm))


def _latest_scorecards():
    # Latest month first; within it the worst grade first (a supplier delivering to two plants is
    # graded by its weaker performance).
    return Scorecard.objects.filter(supplier=OuterRef("pk")).exclude(grade="").order_by("-month", "-grade")


def supplier_list(user, *, q="", status="", category="", risk="", grade="", site="", sort="code"):
    latest = _latest_scorecards()
    qs = suppliers_visible(user).annotate(
        latest_grade=Subquery(latest.values("grade")[:1]),
        latest_score=Subquery(latest.values("score")[:1]),
        latest_month=Subquery(latest.values("month")[:1]),
    )
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(contact_name__icontains=q))
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if risk:
        qs = qs.filter(risk_level=risk)
    if grade:
        qs = qs.filter(latest_grade=grade)
    if site:
        qs = qs.filter(sites__code=site)
    return qs.order_by(*SORTS.get(sort, SORTS["code"])).prefetch_related("sites")


def supplier_for_detail(pk: int) -> Supplier:
    return (
        Supplier.objects.select_related("sqe", "created_by")
        .prefetch_related(
            "sites",
            Prefetch(
                "certificates",
                queryset=Certificate.objects.select_related("uploaded_by", "reviewed_by")
                .prefetch_related("parts")
                .order_by("cert_type", "-valid_until", "-pk"),
            ),
            "audits__recorded_by",
        )
        .get(pk=pk)
    )


def asl_entries(supplier):
    return list(
        AslEntry.objects.filter(supplier=supplier)
        .select_related("part", "ppap", "decided_by")
        .prefetch_related(Prefetch("suspensions", queryset=AslSuspension.objects.select_related("certificate")))
    )


def ppaps_for(supplier):
    return list(PpapSubmission.objects.filter(supplier=supplier).select_related("part", "submitted_by", "decided_by"))


def status_history(supplier) -> list[tuple[SupplierStatusChange, list]]:
    changes = list(SupplierStatusChange.objects.filter(supplier=supplier).select_related("decided_by", "supplier"))
    sigs = signatures_for_many(changes)
    return [(c, sigs.get(c.pk, [])) for c in changes]


def signatures_for_many(instances) -> dict[int, list[tuple[Signature, bool]]]:
    """(signature, still valid) per instance, in one query (states as compliance.signatures decides)."""
    return signatures_with_validity_many(instances)


def certificates_expiring(user, *, days: int | None = 30, status: str = "", q: str = "", today=None):
    """Certificates still in force (valid or awaiting review) that end within `days` (or have ended and
    are not yet marked expired), soonest first. The dashboard tile counts this same list."""
    today = today or timezone.localdate()
    qs = Certificate.objects.filter(supplier__in=supplier_ids_visible(user)).select_related(
        "supplier", "reviewed_by", "uploaded_by"
    )
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=[CertificateStatus.VALID, CertificateStatus.PENDING_REVIEW])
    if days is not None:
        qs = qs.filter(valid_until__isnull=False, valid_until__lte=today + datetime.timedelta(days=days))
    if q:
        qs = qs.filter(Q(supplier__code__icontains=q) | Q(supplier__name__icontains=q) | Q(number__icontains=q))
    return qs.order_by(F("valid_until").asc(nulls_last=True), "supplier__code")


def expiring_certificate_count(user, days: int = 30, today=None) -> int:
    """The number the tile shows: the length of the list it links to (one selector for both)."""
    return certificates_expiring(user, days=days, today=today).count()


def month_list(last: datetime.date, n: int = 12) -> list[datetime.date]:
    months = []
    m = last.replace(day=1)
    for _i in range(n):
        months.append(m)
        m = (m - datetime.timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def scorecard_trend(supplier, months: int = 12, today=None) -> dict:
    """Chart data: the last `months` months per site, score and lot acceptance rate."""
    today = today or timezone.localdate()
    last = (
        Scorecard.objects.filter(supplier=supplier, lots_received__gt=0, month__lte=today)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    span = month_list(last or today, months)
    cards = list(
        Scorecard.objects.filter(supplier=supplier, month__gte=span[0], month__lte=span[-1]).select_related("site")
    )
    by_site: dict[str, dict] = defaultdict(dict)
    for c in cards:
        by_site[c.site.code][c.month] = c
    series = []
    for code, rows in sorted(by_site.items()):
        series.append(
            {
                "site": code,
                "score": [float(rows[m].score) if m in rows and rows[m].score is not None else None for m in span],
                "lar": [float(rows[m].lar) if m in rows and rows[m].lar is not None else None for m in span],
            }
        )
    table = sorted(cards, key=lambda c: (c.month, c.site.code), reverse=True)
    return {"labels": [m.strftime("%Y-%m") for m in span], "series": series, "table": table}


# No deliveries in the month (no grade) sorts after D.
_GRADE_KEY = Case(When(grade="", then=Value("Z")), default=F("grade"), output_field=CharField())
SCORECARD_SORTS = {
    "grade": [_GRADE_KEY.asc(), F("score").desc(nulls_last=True), "supplier__code"],
    "-grade": [_GRADE_KEY.desc(), F("score").asc(nulls_last=True), "supplier__code"],
    "score": [F("score").desc(nulls_last=True), "supplier__code"],
    "lar": [F("lar").asc(nulls_last=True), "supplier__code"],
    "ppm": [F("ppm").desc(nulls_last=True), "supplier__code"],
    "supplier": ["supplier__code", "site__code"],
}


def latest_scorecard_month(user, today=None) -> datetime.date | None:
    """The last closed month with graded scorecards (the running month only when there is no other)."""
    qs = Scorecard.objects.filter(supplier__in=supplier_ids_visible(user, "suppliers.scorecard")).exclude(grade="")
    current = (today or timezone.localdate()).replace(day=1)
    months = qs.order_by("-month").values_list("month", flat=True)
    return months.filter(month__lt=current).first() or months.first()


def scorecards_for_month(user, *, month, site="", grade="", sort="grade"):
    qs = Scorecard.objects.filter(
        month=month,
        site_id__in=policy.sites_for(user, "suppliers.scorecard"),
    ).select_related("supplier", "site")
    if site:
        qs = qs.filter(site__code=site)
    if grade:
        qs = qs.filter(grade=grade)
    return qs.order_by(*SCORECARD_SORTS.get(sort, SCORECARD_SORTS["grade"]))


def ppap_for_detail(pk: int) -> PpapSubmission:
    return (
        PpapSubmission.objects.select_related("supplier", "part", "created_by", "submitted_by", "decided_by")
        .prefetch_related(
            "supplier__sites",
            Prefetch(
                "elements",
                queryset=PpapElement.objects.select_related("reviewed_by", "submission").prefetch_related(
                    "attachments__uploaded_by"
                ),
            ),
        )
        .get(pk=pk)
    )
