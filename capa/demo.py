"""Demo data (quick start only): a CAPA with an overdue action, an 8D closed after an effective check,
and a SCAR. Builds on the nonconformance demo when present. Idempotent."""

from __future__ import annotations

import datetime

from django.utils import timezone

from qms.core.audit import audit_context
from qms.core.demo import DEMO_PASSWORD
from qms.core.models import Site, User

MARKER = "DEMO-CAPA"


def seed_demo() -> None:
    from compliance.signatures import signature_authenticate
    from nonconformance.models import Complaint, Ncr

    from . import services
    from .models import Capa

    brg = Site.objects.filter(code="BRG").first()
    users = {u.username: u for u in User.objects.filter(username__in=["qm", "qe", "sqe", "supervisor", "mrb"])}
    if brg is None or len(users) < 5 or Capa.objects.filter(source_reference__startswith=MARKER).exists():
        return
    qm, qe, sqe, sup = users["qm"], users["qe"], users["sqe"], users["supervisor"]
    today = timezone.localdate()
    with audit_context(user=qe, reason="demo data", source="seed"):
        # A CAPA with an overdue action (from the complaint when the nonconformance demo made one).
        complaint = Complaint.objects.filter(site=brg).order_by("pk").first()
        overdue = services.capa_create(
            site=brg, title="Bearing noise at customer: heat treatment drift", owner=qe, user=qm,
            complaint=complaint, source_reference=f"{MARKER}-OVERDUE",
            problem_statement="Noise complaints on 6204 bearings.", effectiveness_days=30,
        )  # fmt: skip
        services.capa_update(
            capa=overdue, user=qe, what="Noisy bearings 6204", where="Customer gearbox EOL test", how_many="3 pcs",
            five_whys=["Noise", "Ball track roughness", "Grinding burn", "Coolant concentration low"],
            fishbone={"method": "no coolant check", "machine": "GRD-02 wheel worn"},
        )  # fmt: skip
        services.capa_action_add(
            capa=overdue, description="Install coolant concentration check each shift", owner=sup,
            due_on=today - datetime.timedelta(days=4), user=qe,
        )  # fmt: skip
        # An 8D closed after an effective check.
        ncr = Ncr.objects.filter(site=brg, status="closed").order_by("pk").first()
        closed = services.capa_create(
            site=brg, title="FQC noise failures on line A", owner=qe, user=qm, ncr=ncr,
            source_reference=f"{MARKER}-CLOSED", problem_statement="FQC noise test failures, 120 pcs scrapped.",
        )  # fmt: skip
        services.capa_team_add(capa=closed, member=sup, user=qe, department="Production")
        services.capa_update(
            capa=closed, user=qe, what="Noise test fail", where="Line A FQC", when="Week 44", how_many="120 pcs",
            d0_emergency_response="Line stopped, lot held.", d3_containment="All WIP sorted.",
            five_whys=["Noise", "Ball damage", "Handling drop at assembly", "Chute without damping"],
            fishbone={"machine": "chute without damping", "method": "no drop test in PFMEA"},
            root_cause="Balls damaged by an undamped feed chute at assembly.",
            d5_chosen_actions="Damped chute; drop test added.", d6_validation="3 lots 0 noise failures.",
            d7_prevention="PFMEA and control plan updated.", d7_fmea_updated=True, d7_control_plan_updated=True,
            d8_recognition="Thanks to the line A team.",
        )  # fmt: skip
        action = services.capa_action_add(
            capa=closed, description="Fit damped chute", owner=sup, due_on=today - datetime.timedelta(days=40), user=qe
        )
        services.capa_action_complete(action=action, user=sup, evidence="Chute replaced, photo in MES")
        check = services.capa_actions_close(
            capa=closed, user=qe, criteria="No noise failure in 3 lots", check_due_on=today
        )
        services.effectiveness_check_record(
            check=check, result="effective", evidence="Lots 44-46: 0 failures", user=qm,
            credential=signature_authenticate(user=qm, password=DEMO_PASSWORD),
        )  # fmt: skip
        services.capa_close(capa=closed, user=qe)
        # The SCAR: send the one opened from the return to supplier, or raise one on the IQC reject.
        iqc = Ncr.objects.filter(site=brg, source_reference="DEMO-NCR-IQC").first()
        if iqc is not None and iqc.supplier_id:
            scar = iqc.scars.first() or services.scar_create(
                site=brg, supplier=iqc.supplier, ncr=iqc, title=iqc.title, user=sqe, description=iqc.description
            )
            if scar.contact_email and scar.status == "draft":
                services.scar_send(scar=scar, user=sqe, due_on=today + datetime.timedelta(days=10))
