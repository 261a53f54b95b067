"""Demo SPC data: 30 patrol checks of the bearing line's radial clearance, limits frozen on the first 25
(signed by the quality engineer), then a drift that the chart flags. Idempotent."""

from __future__ import annotations

import random
import uuid

from django.utils import timezone

from compliance.signatures import SignatureCredential
from qms.core.audit import audit_context
from qms.core.models import User

from . import services
from .models import Characteristic, ControlLimits, InspectionPlan, Stage
from .spc_services import control_limits_freeze

PLAN_TITLE = "Bearing 6204 patrol check"


def seed_spc() -> None:
    plan = InspectionPlan.objects.filter(title=PLAN_TITLE, status="approved").first()
    inspector = User.objects.filter(username="inspector").first()
    qe = User.objects.filter(username="qe").first()
    if plan is None or inspector is None or qe is None:
        return
    char = Characteristic.objects.filter(plan=plan).first()
    if char is None or ControlLimits.objects.filter(characteristic=char).exists():
        return
    rng = random.Random(6204)
    with audit_context(user=inspector, reason="demo SPC data", source="seed"):
        for i in range(30):
            centre = 0.0130 if i < 25 else 0.0130 + 0.0009 * (i - 24)  # the last five drift upwards
            _check(plan, char, inspector, [round(rng.gauss(centre, 0.0009), 4) for _ in range(5)])
            if i == 24:
                control_limits_freeze(
                    characteristic=char,
                    user=qe,
                    credential=SignatureCredential(user=qe, authenticated_at=timezone.now()),
                    reason="Phase II after 25 stable subgroups (demo)",
                )


def _check(plan, char, user, values) -> None:
    insp = services.inspection_create(stage=Stage.IPQC, plan=plan, lot_size=len(values), user=user, reason="demo")
    services.measurements_record(
        inspection=insp,
        values=[{"characteristic": char.pk, "sample_no": n, "raw": f"{v:.4f}"} for n, v in enumerate(values, 1)],
        submission_key=uuid.uuid4(),
        user=user,
    )
    services.inspection_complete(
        inspection=insp, user=user, credential=SignatureCredential(user=user, authenticated_at=timezone.now())
    )
