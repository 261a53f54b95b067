"""Many-to-many changes of regulated records are on the audit trail (an NCR's defect codes)."""

import pytest

from compliance.audit_trail import verify_chain
from compliance.models import AuditEntry
from nonconformance.models import DefectCode
from nonconformance.services import ncr_update
from qms.core.audit import audit_context
from qms.core.models import Role

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def codes(db):
    with audit_context(reason="test"):
        return [
            DefectCode.objects.create(code="DIM-BORE", name="Bore oversize", category="dimensional"),
            DefectCode.objects.create(code="VIS-SCR", name="Scratch", category="visual"),
        ]


def m2m_entries(ncr):
    return list(
        AuditEntry.objects.filter(
            model="nonconformance.ncr", object_id=str(ncr.pk), changes__has_key="defect_codes"
        ).order_by("seq")
    )


def test_defect_code_changes_are_recorded_with_codes(site, make_user, codes):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    ncr = f.open_ncr(site, qe, qty_confirmed=0)
    ncr_update(ncr=ncr, user=qe, reason="classified", defect_codes=[codes[0]])
    ncr_update(ncr=ncr, user=qe, reason="reclassified", defect_codes=[codes[1]])
    entries = m2m_entries(ncr)
    changes = [e.changes["defect_codes"] for e in entries]
    assert changes == [
        [[], ["DIM-BORE Bore oversize"]],  # added
        [["DIM-BORE Bore oversize"], []],  # set() removes first ...
        [[], ["VIS-SCR Scratch"]],  # ... then adds
    ]
    assert all(e.username == "qe" and e.site_id == site.pk for e in entries)
    assert entries[1].reason == "reclassified"
    assert verify_chain().ok


def test_clear_and_reverse_side_are_recorded(site, make_user, codes):
    qe = make_user("qe", roles=[Role.QUALITY_ENGINEER])
    ncr = f.open_ncr(site, qe, qty_confirmed=0)
    with audit_context(user=qe, reason="from the code side"):
        codes[0].ncrs.add(ncr)
    with audit_context(user=qe, reason="cleared"):
        ncr.defect_codes.clear()
    changes = [e.changes["defect_codes"] for e in m2m_entries(ncr)]
    assert changes == [[[], ["DIM-BORE Bore oversize"]], [["DIM-BORE Bore oversize"], []]]
