"""Issue 10: measured values keep the resolution entered (12.00 stays 12.00) on the tablet, the NCR, the CoA
and the PDFs; limits print with the characteristic's decimals (not 7.944000)."""

import uuid

import pytest
from django.urls import reverse

from inspection import services
from inspection.models import Measurement
from inspection.tests import factories as f
from qms.core.errors import DomainError
from qms.core.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return {
        "qe": make_user("qe", roles=[Role.QUALITY_ENGINEER]),
        "qm": make_user("qm", roles=[Role.QUALITY_MANAGER]),
        "inspector": make_user("insp", roles=[Role.INSPECTOR]),
    }


@pytest.fixture
def iqc(site, people):
    from traceability.models import Lot
    from traceability.signals import lot_received

    p = f.part("RG-RES")
    f.plan(
        site, p, people["qe"], people["qm"],
        chars=[{"name": "Bore", "nominal": "7.954", "tolerance": "0.01", "unit": "mm", "decimals": 3}],
    )  # fmt: skip
    lot = f.lot(site, p, 20, sup=f.supplier(), code="LOT-RES")
    lot_received.send(sender=Lot, lot=lot)
    from inspection.models import Inspection

    return Inspection.objects.get(lot=lot)


def _record(insp, user, raws):
    c = insp.plan.characteristics.get()
    values = [{"characteristic": c.pk, "sample_no": n, "raw": raw} for n, raw in enumerate(raws, start=1)]
    return services.measurements_record(inspection=insp, values=values, submission_key=uuid.uuid4(), user=user)


def test_the_resolution_entered_is_kept_and_printed(iqc, people, login):
    _record(iqc, people["inspector"], ["7.95", "7.9500", "7,951", "8"])
    shown = [m.display_value for m in Measurement.objects.filter(inspection=iqc).order_by("sample_no")]
    assert shown == ["7.95", "7.9500", "7.951", "8"]
    body = login(people["inspector"]).get(reverse("inspection:detail", args=[iqc.code])).content.decode()
    for text in ("7.95<", "7.9500<", "7.951<", ">8<"):
        assert text in body, text


def test_ncr_and_coa_print_values_as_entered_and_limits_with_the_characteristic_decimals(
    iqc, people, login, django_capture_on_commit_callbacks
):
    from inspection.selectors import coa_context
    from nonconformance.models import Ncr

    raws = ["7.954"] * iqc.sample_size
    raws[0] = "7.90"
    raws[1] = "7.9440"  # on the lower limit (inclusive): conforming
    raws[2] = "8.1"
    _record(iqc, people["inspector"], raws[: iqc.sample_size])
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_complete(inspection=iqc, user=people["inspector"], credential=f.cred(people["inspector"]))
    ncr = Ncr.objects.get()
    values = {v["value"]: v for v in ncr.failing_values}
    assert set(values) == {"7.90", "8.1"}
    assert values["7.90"]["lower"] == "7.944" and values["7.90"]["upper"] == "7.964"
    body = login(people["qm"]).get(reverse("nonconformance:ncr_detail", args=[ncr.code])).content.decode()
    assert "7.90" in body and "7.944000" not in body
    row = coa_context(iqc.lot)["sections"][0]["rows"][0]
    assert (row["min"], row["max"]) == ("7.90", "8.1")
    assert row["c"].limits_text == "7.944 … 7.964 mm"


@pytest.mark.parametrize("raw", ["7.1234567", "1e400", "NaN", "Infinity"])
def test_values_the_column_cannot_hold_are_refused_with_a_message(iqc, people, raw):
    with pytest.raises(DomainError):
        _record(iqc, people["inspector"], [raw])
    assert not Measurement.objects.exists()
