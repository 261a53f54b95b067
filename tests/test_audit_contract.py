import pytest

from compliance.models import AuditEntry
from qms.core.audit import ReasonRequired, RegulatedDeleteRefused, audit_context
from qms.core.models import Part, PartType


@pytest.fixture
def part(db, make_user):
    with audit_context(user=make_user("author"), reason="test"):
        return Part.objects.create(number="P-1", name="Bore ring", part_type=PartType.COMPONENT, unit="pcs")


def test_create_is_recorded_with_who_and_values(part):
    entry = AuditEntry.objects.get(model="core.part", object_id=str(part.pk))
    assert entry.action == "create"
    assert entry.username == "author"
    assert entry.changes["number"] == [None, "P-1"]


def test_edit_needs_a_reason_and_records_old_and_new(part):
    part.name = "Bore ring, ground"
    with pytest.raises(ReasonRequired):
        part.save()
    part.save(reason="drawing rev B")
    entry = AuditEntry.objects.filter(model="core.part", object_id=str(part.pk)).last()
    assert entry.action == "update"
    assert entry.changes == {"name": ["Bore ring", "Bore ring, ground"]}
    assert entry.reason == "drawing rev B"


def test_unchanged_save_writes_no_entry(part):
    before = AuditEntry.objects.count()
    part.save()
    assert AuditEntry.objects.count() == before


def test_regulated_rows_cannot_be_deleted_or_bulk_updated(part):
    with pytest.raises(RegulatedDeleteRefused):
        part.delete()
    with pytest.raises(RegulatedDeleteRefused):
        Part.objects.filter(pk=part.pk).delete()
    with pytest.raises(RegulatedDeleteRefused):
        Part.objects.filter(pk=part.pk).update(name="x")
    assert Part.objects.get(pk=part.pk).name == "Bore ring"


def test_bulk_create_is_recorded(db):
    with audit_context(reason="import"):
        parts = Part.objects.bulk_create(
            [Part(number=f"B-{i}", name="n", part_type=PartType.RAW, unit="kg") for i in range(5)]
        )
    ids = {str(p.pk) for p in parts}
    assert set(AuditEntry.objects.filter(model="core.part").values_list("object_id", flat=True)) >= ids


def test_password_hash_never_enters_the_trail(make_user):
    user = make_user("secretive")
    user.set_password("another-Password-9")
    user.save()
    for entry in AuditEntry.objects.filter(model="core.user", object_id=str(user.pk)):
        if "password" in entry.changes:
            assert entry.changes["password"] == ["***", "***"]
