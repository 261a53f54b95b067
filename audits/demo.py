"""Demo data (quick start only): the BRG 2026 programme with a closed ISO 9001 audit (a minor finding that
opened a CAPA), an IATF process audit in progress and an overdue one; the FOOD plant an SC audit.
Idempotent."""

from __future__ import annotations

import datetime

from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Site, User


def seed_demo() -> None:
    from compliance.signatures import signature_authenticate

    from . import services
    from .models import AuditProgramme

    brg = Site.objects.filter(code="BRG").first()
    food = Site.objects.filter(code="FOOD").first()
    users = {u.username: u for u in User.objects.filter(username__in=["qm", "qe", "sqe", "supervisor", "food_qm"])}
    if brg is None or len(users) < 4 or AuditProgramme.objects.filter(site=brg).exists():
        return
    qm, qe, sqe, sup = users["qm"], users["qe"], users["sqe"], users["supervisor"]
    today = timezone.localdate()
    year = today.year
    start_of_year = datetime.date(year, 1, 1)

    def in_year(days: int) -> datetime.date:
        day = today + datetime.timedelta(days=days)
        return min(max(day, start_of_year), datetime.date(year, 12, 31))

    with audit_context(user=qm, reason="demo data", source="seed"):
        programme = services.programme_create(
            site=brg, year=year, title=f"BRG internal audit programme {year}", user=qm
        )
        # 1. ISO 9001 system audit, performed, a minor finding that opened a CAPA, closed by the lead auditor.
        done = services.audit_plan(
            programme=programme, title="Document control and internal audit", standard="iso9001",
            area="Quality system", area_owner=qm, lead_auditor=qe, auditors=[sqe],
            planned_start=in_year(-40), planned_end=in_year(-38), user=qm, chapters=["7.5", "9.2", "10.2"],
            scope="Procedures QP-07, QP-09, QP-10; records of the last 12 months.",
        )  # fmt: skip
        services.audit_start(audit=done, user=qe)
        items = list(done.items.order_by("sequence"))
        for item in items:
            result = "finding" if item.clause == "7.5" else "conforming"
            services.item_record(item=item, result=result, evidence=f"Records sampled for §{item.clause}", user=qe)
        services.finding_raise(
            audit=done, classification="minor", item=items[0], user=qe, owner=qm, opens="capa",
            description="Two obsolete work instructions found at the grinding line.",
            evidence="WI-GRD-03 rev B and WI-GRD-05 rev A at station GRD-02.",
        )  # fmt: skip
        services.finding_raise(
            audit=done, classification="opportunity", user=sqe, owner=qm,
            description="Audit schedule could be risk-based per process.",
        )  # fmt: skip
        services.audit_perform_complete(audit=done, user=qe, summary="System effective; one minor nonconformity.")
        services.audit_close(
            audit=done, user=qe, credential=signature_authenticate(user=qe, password=DEMO_PASSWORD),
            reason="All findings owned; CAPA opened.",
        )  # fmt: skip
        # 2. IATF process audit in progress.
        running = services.audit_plan(
            programme=programme, title="Manufacturing process audit, line A", standard="iatf16949",
            area="Line A grinding and assembly", area_owner=sup, lead_auditor=qe, auditors=[sqe],
            planned_start=in_year(-1), planned_end=in_year(2), user=qm, chapters=["8.5", "9.1", "9.2"],
        )  # fmt: skip
        services.audit_start(audit=running, user=qe)
        first = running.items.order_by("sequence").first()
        services.item_record(
            item=first, result="conforming", evidence="Control plan CP-6204 rev D at the line", user=qe
        )
        # 3. A supplier-control audit whose dates passed without it being performed (overdue).
        services.audit_plan(
            programme=programme, title="Purchasing and supplier control", standard="iso9001",
            area="Purchasing", area_owner=sqe, lead_auditor=qe, planned_start=in_year(-10), planned_end=in_year(-9),
            user=qm, chapters=["8.4"],
        )  # fmt: skip
    if food is not None and "food_qm" in users:
        with audit_context(user=users["food_qm"], reason="demo data", source="seed"):
            food_programme = services.programme_create(
                site=food, year=year, title=f"FOOD internal audit programme {year}", user=users["food_qm"]
            )
            services.audit_plan(
                programme=food_programme, title="SC licence self-inspection", standard="sc",
                area="Dairy filling hall", area_owner=sup, lead_auditor=users["food_qm"], auditors=[qe],
                planned_start=in_year(5), planned_end=in_year(6), user=users["food_qm"],
            )  # fmt: skip
