"""Demo data (quick start only) at BRG: a process change on a bearing closed after an effective check (with
its PPAP re-submission task and the inspection plan version it produced), a supplier change waiting for the
board, and a document change in implementation with an overdue task. Idempotent."""

from __future__ import annotations

import datetime

from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Site, User


def seed_demo() -> None:
    from compliance.signatures import signature_authenticate
    from inspection.models import InspectionPlan
    from suppliers.models import Supplier

    from . import services
    from .models import ChangeRequest

    brg = Site.objects.filter(code="BRG").first()
    users = {u.username: u for u in User.objects.filter(username__in=["qm", "qe", "sqe", "supervisor"])}
    if brg is None or len(users) < 4 or ChangeRequest.objects.filter(site=brg).exists():
        return
    qm, qe, sqe, sup = users["qm"], users["qe"], users["sqe"], users["supervisor"]
    plan = InspectionPlan.objects.filter(site=brg, status="approved").select_related("part").order_by("pk").first()
    part = plan.part if plan else None
    today = timezone.localdate()

    def sign(user):
        return signature_authenticate(user=user, password=DEMO_PASSWORD)

    with audit_context(user=sup, reason="demo data", source="seed"):
        # 1. A process change, closed after an effective check.
        done = services.change_request_create(
            site=brg, title="Grinding coolant concentration 5 % → 7 %", change_type="process", urgency="routine",
            reason="Grinding burn found in CAPA investigation; higher concentration lowers wheel temperature.",
            part=part, user=sup,
        )  # fmt: skip
        services.change_submit(change=done, user=sup)
        services.assessment_complete(
            change=done, user=qe, summary="Process parameter change; FQC plan gets a burn check.",
            risk="Foaming at 7 %: anti-foam dosing checked each shift.",
        )  # fmt: skip
        for member in (qm, qe):
            services.change_board_sign(change=done, user=member, credential=sign(member), vote="approve")
        task = services.task_add(
            change=done, description="Update work instruction WI-GRD-01 and the control plan", owner=sup,
            due_on=today + datetime.timedelta(days=7), user=qe,
        )  # fmt: skip
        services.task_complete(task=task, user=sup, evidence="WI-GRD-01 rev C issued, control plan CP-6204 rev E")
        for ppap_task in done.tasks.filter(kind="ppap"):
            services.task_complete(task=ppap_task, user=sqe, evidence="PSW sent to the customer, level 3")
        if plan is not None:
            services.change_output_link(change=done, user=qe, plan=plan)
        check = services.implementation_complete(
            change=done, user=qe, criteria="No grinding burn in 3 lots", check_due_on=today
        )
        services.change_effectiveness_record(
            check=check, result="effective", evidence="Lots sampled: no burn", user=qm, credential=sign(qm)
        )
        services.change_close(change=done, user=qe)
        # 2. A supplier change waiting for the board (the quality manager signed, the engineer has not).
        supplier = Supplier.objects.filter(sites=brg).order_by("pk").first()
        if supplier is not None:
            waiting = services.change_request_create(
                site=brg, title=f"Second steel source for {supplier.name}", change_type="supplier",
                urgency="urgent", reason="Capacity: the mill has a 10-week lead time.", part=part,
                supplier=supplier, user=sqe,
            )  # fmt: skip
            services.change_submit(change=waiting, user=sqe)
            services.assessment_complete(change=waiting, user=qe, summary="New material source: PPAP level 3 needed.")
            services.change_board_sign(change=waiting, user=qm, credential=sign(qm), vote="approve")
        # 3. A document change in implementation with an overdue task.
        doc = services.change_request_create(
            site=brg, title="Merge IQC procedures QP-08 and QP-08A", change_type="document",
            reason="Two procedures for one process confuse inspectors.", part=part, user=qe,
        )  # fmt: skip
        services.change_submit(change=doc, user=qe)
        services.assessment_complete(change=doc, user=qm, summary="Procedures and inspector training affected.")
        services.change_board_sign(change=doc, user=qm, credential=sign(qm), vote="approve")
        # the default board needs a second quality engineer's signature when the requester is the engineer
        if doc.status == "board":
            services.task_add(
                change=doc, description="Train inspectors on the merged procedure", owner=qe,
                due_on=today - datetime.timedelta(days=2), user=qm,
            )  # fmt: skip
