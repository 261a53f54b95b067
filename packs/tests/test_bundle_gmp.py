"""The GMP part of the lot bundle: the executed batch record and its deviations (batchrecords app)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from batchrecords import services
from batchrecords.tests import factories as f
from packs.bundle import LotBundle, make_lot_bundle
from qms.core.audit import audit_context
from qms.core.models import Industry, Role, Site
from qms.core.scoping import site_scope


@pytest.fixture
def gmp_site(db):
    with audit_context(reason="test"):
        return Site.objects.create(code="PKPH", name="Pharma plant", industry=Industry.PHARMA, requires_qa_release=True)


@pytest.fixture
def cast(make_user, gmp_site):
    s = [gmp_site]
    return {
        "op": make_user("pk_op", roles=[Role.PRODUCTION_SUPERVISOR], sites=s),
        "qe": make_user("pk_gqe", roles=[Role.QUALITY_ENGINEER], sites=s),
        "qm": make_user("pk_gqm", roles=[Role.QUALITY_MANAGER], sites=s),
        "auditor": make_user("pk_gaud", roles=[Role.AUDITOR], sites=s),
    }


@pytest.mark.django_db
def test_bundle_of_a_batch_holds_its_batch_record_and_deviations(gmp_site, cast):
    record = f.ebr(gmp_site, cast)
    ids = f.param_ids(record)
    services.ebr_step_perform(
        step=f.steps(record)[0],
        user=cast["op"],
        credential=f.cred(cast["op"]),
        values={ids["Inlet temperature"]: "80", ids["Moisture"]: "1"},
    )
    bundle = LotBundle(record.lot, cast["auditor"])
    assert bundle.batch_available and [r.pk for r in bundle.batch_records_list] == [record.pk]
    deviation = bundle.deviations[0]
    assert str(record.pk) in bundle.involved()["batchrecords.executedbatchrecord"]
    with site_scope([gmp_site.pk]):
        stored, row = make_lot_bundle(lot=record.lot, user=cast["auditor"])
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(stored.file.open("rb").read())).pages
    )
    for expected in [record.code, "Inlettemperature", deviation.code, "Batchrecordsanddeviations"]:
        assert expected in text, expected
    assert row.manifest["sections"][5]["section"] == "batch_records"
