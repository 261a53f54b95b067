"""Issue 10: one gauge past calibration refuses only its own values, says so once at its field (never
green), and a calibration can be recorded on its own page (audited, with a reason)."""

import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from inspection.models import Inspection, Measurement
from inspection.tests import factories as f
from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
        "auditor": make_user("aud", roles=[Role.AUDITOR]),
    }


@pytest.fixture
def setup(site, people):
    from traceability.models import Lot
    from traceability.signals import lot_received

    late = f.gauge(site, "MIC-9", due_in_days=-5)
    good = f.gauge(site, "MIC-1", due_in_days=30)
    p = f.part("G-1")
    f.plan(
        site, p, people["qe"], people["qm"],
        chars=[
            {"name": "Width", "nominal": "5", "tolerance": "0.1", "gauge": late},
            {"name": "Height", "nominal": "3", "tolerance": "0.1", "gauge": good},
        ],
    )  # fmt: skip
    lot = f.lot(site, p, 10, sup=f.supplier(), code="LOT-G")
    lot_received.send(sender=Lot, lot=lot)
    insp = Inspection.objects.get(lot=lot)
    width, height = insp.plan.characteristics.order_by("sequence", "pk")
    return insp, late, width, height


def test_tablet_refuses_only_the_late_gauges_values_and_says_so_once_at_the_field(setup, people, login):
    insp, late, width, height = setup
    client = login(people["inspector"])
    page = client.get(reverse("inspection:detail", args=[insp.code])).content.decode()
    full = "is past its calibration due date"
    assert page.count(full) == 1
    field = page[page.index(f'id="v-{width.pk}-1"') - 300 : page.index(f'id="v-{width.pk}-1"') + 600]
    assert "refused" in field and "disabled" in field and full in field and " ok" not in field

    response = client.post(
        reverse("inspection:record", args=[insp.code]),
        {"submission": str(uuid.uuid4()), f"v-{width.pk}-1": "5.0", f"v-{height.pk}-1": "3.0"},
        follow=True,
    )
    assert response.status_code == 200
    recorded = Measurement.objects.filter(inspection=insp)
    assert [m.characteristic_id for m in recorded] == [height.pk]
    body = response.content.decode()
    assert body.count(full) == 1  # at the field, not again in a banner
    assert "were not recorded" in body and "Width" in body


def test_judging_a_value_of_the_late_gauge_is_never_green(setup, people, login):
    insp, _late, width, _height = setup
    body = (
        login(people["inspector"])
        .post(reverse("inspection:judge", args=[insp.code]), {"characteristic": width.pk, "value": "5.0"})
        .content.decode()
    )
    assert "within limits" not in body and "judge bad" in body and "MIC-9" in body


def test_calibration_page_permissions_and_site(setup, people, login, other_site):
    _insp, late, *_ = setup
    url = reverse("core:equipment_calibrate", args=[late.code])
    client = login(people["inspector"])
    assert client.get(url).status_code == 403
    client = login(people["auditor"])
    assert client.get(url).status_code == 403
    with audit_context(reason="test"):
        elsewhere = Equipment.objects.create(code="MIC-X", name="x", kind=EquipmentKind.GAUGE, site=other_site)
    client = login(people["qe"])
    assert client.get(reverse("core:equipment_calibrate", args=[elsewhere.code])).status_code == 404
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"certificate_number": "  "}, "certificate_number"),
        ({"reason": ""}, "reason"),
        ({"calibrated_on": "2999-01-01"}, "calibrated_on"),
        ({"next_due": "2000-01-01"}, "next_due"),
        ({"calibrated_on": "not a date"}, "calibrated_on"),
    ],
)
def test_bad_calibration_is_refused_at_the_field_and_changes_nothing(setup, people, login, change, field):
    _insp, late, *_ = setup
    today = timezone.localdate()
    data = {
        "calibrated_on": today.isoformat(),
        "certificate_number": "CAL-2026-17",
        "next_due": (today + datetime.timedelta(days=365)).isoformat(),
        "reason": "yearly calibration",
        **change,
    }
    response = login(people["qe"]).post(reverse("core:equipment_calibrate", args=[late.code]), data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    late.refresh_from_db()
    assert late.calibration_overdue() and not late.calibration_certificate


def test_recording_a_calibration_puts_the_gauge_back_into_service_with_an_audited_reason(setup, people, login):
    from compliance.models import AuditEntry

    insp, late, width, _height = setup
    today = timezone.localdate()
    client = login(people["qe"])
    response = client.post(
        reverse("core:equipment_calibrate", args=[late.code]) + f"?next=/inspection/i/{insp.code}/",
        {
            "calibrated_on": today.isoformat(),
            "certificate_number": "CAL-2026-17",
            "next_due": (today + datetime.timedelta(days=365)).isoformat(),
            "reason": "yearly calibration",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/inspection/i/{insp.code}/"
    late.refresh_from_db()
    assert not late.calibration_overdue()
    assert (late.calibrated_on, late.calibration_certificate) == (today, "CAL-2026-17")
    entry = AuditEntry.objects.filter(model="core.equipment", object_id=str(late.pk), action="update").last()
    assert entry.reason == "yearly calibration" and entry.user_id == people["qe"].pk
    # an open redirect is not followed
    response = client.post(
        reverse("core:equipment_calibrate", args=[late.code]) + "?next=https://evil.example/",
        {
            "calibrated_on": today.isoformat(),
            "certificate_number": "CAL-2026-18",
            "next_due": (today + datetime.timedelta(days=300)).isoformat(),
            "reason": "re-check",
        },
    )
    assert "evil" not in response["Location"]
    from inspection import services

    result = services.measurements_record(
        inspection=insp,
        values=[{"characteristic": width.pk, "sample_no": 1, "raw": "5.0"}],
        submission_key=uuid.uuid4(),
        user=people["inspector"],
    )
    assert result.recorded == 1 and not result.refused
