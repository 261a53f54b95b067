"""Every create and change of a regulated record leaves an entry: who, when, old → new, why."""

import pytest
from django.utils import timezone

from compliance.audit_trail import chain_quick_check, record, verify_chain
from compliance.models import AuditEntry, EvidenceImmutable
from qms.core.audit import ReasonRequired, RegulatedDeleteRefused, audit_context
from qms.core.models import Membership, Part, PartType, Role, User

from .factories import make_part

pytestmark = pytest.mark.django_db


def entries_for(obj):
    return list(AuditEntry.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by("seq"))


def test_create_records_who_when_and_values(make_user):
    qm = make_user("qm")
    before = timezone.now()
    part = make_part(user=qm)
    (entry,) = entries_for(part)
    assert entry.action == "create"
    assert entry.user_id == qm.pk and entry.username == "qm"
    assert before <= entry.at <= timezone.now()
    assert entry.changes["number"] == [None, "P-100"]
    assert entry.changes["name"] == [None, "Bearing ring 轴承圈"]
    assert entry.object_repr.startswith("P-100 rev A")


def test_update_records_old_new_and_reason(make_user):
    qm = make_user("qm")
    part = make_part(user=qm)
    part.name = "Bearing ring, ground"
    part.shelf_life_days = 365
    with audit_context(user=qm):
        part.save(reason="ECN-17 drawing rev B")
    entry = entries_for(part)[-1]
    assert entry.action == "update"
    assert entry.changes == {"name": ["Bearing ring 轴承圈", "Bearing ring, ground"], "shelf_life_days": [None, 365]}
    assert entry.reason == "ECN-17 drawing rev B"
    assert entry.username == "qm"


def test_update_without_reason_is_refused_and_nothing_is_written(make_user):
    part = make_part(user=make_user("qm"))
    count = AuditEntry.objects.count()
    part.name = "changed silently"
    with pytest.raises(ReasonRequired):
        part.save()
    assert AuditEntry.objects.count() == count
    assert Part.objects.get(pk=part.pk).name == "Bearing ring 轴承圈"


def test_delete_and_queryset_update_are_refused(make_user):
    part = make_part(user=make_user("qm"))
    with pytest.raises(RegulatedDeleteRefused):
        part.delete()
    with pytest.raises(RegulatedDeleteRefused):
        Part.objects.filter(pk=part.pk).delete()
    with pytest.raises(RegulatedDeleteRefused):
        Part.objects.filter(pk=part.pk).update(name="bypass")
    with pytest.raises(RegulatedDeleteRefused):
        Part.objects.bulk_update([part], ["name"])
    assert Part.objects.filter(pk=part.pk, name="Bearing ring 轴承圈").exists()


def test_bulk_create_is_recorded_one_entry_per_row(make_user):
    qm = make_user("qm")
    with audit_context(user=qm, reason="import parts.xlsx"):
        parts = Part.objects.bulk_create(
            [Part(number=f"B-{i}", name=f"Bulk {i}", part_type=PartType.RAW, unit="kg") for i in range(4)]
        )
    for p in parts:
        (entry,) = entries_for(p)
        assert entry.action == "create" and entry.username == "qm" and entry.reason == "import parts.xlsx"
        assert entry.changes["number"] == [None, p.number]


def test_user_and_membership_changes_are_recorded(make_user, site):
    admin = make_user("admin", roles=[Role.ADMINISTRATOR])
    with audit_context(user=admin, reason="new inspector"):
        user = User.objects.create(username="newbie", display_name="New Bie")
        membership = Membership.objects.create(user=user, site=site, role=Role.INSPECTOR)
    with audit_context(user=admin, reason="left the site"):
        membership.is_active = False
        membership.save()
    assert entries_for(user)[0].changes["username"] == [None, "newbie"]
    created, revoked = entries_for(membership)
    assert created.changes["role"] == [None, "inspector"] and created.username == "admin"
    assert revoked.changes == {"is_active": [True, False]} and revoked.reason == "left the site"
    membership.role = Role.QUALITY_MANAGER
    with pytest.raises(ReasonRequired):
        membership.save()


def test_password_change_is_recorded_masked(make_user):
    user = make_user("secretive")
    user.set_password("another-Password-9")
    user.save()
    entry = entries_for(user)[-1]
    assert entry.changes["password"] == ["***", "***"]


def test_special_events_and_chain_verify(make_user):
    qm = make_user("qm")
    part = make_part(user=qm)
    with audit_context(user=qm):
        entry = record(part, action="release", changes={"status": ["hold", "released"]}, reason="QA release")
    assert entry.action == "release" and entry.reason == "QA release"
    result = verify_chain()
    assert result.ok and result.checked == AuditEntry.objects.count()
    seqs = list(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # gap-free
    check = chain_quick_check()
    assert check.ok and check.total == len(seqs)


def test_evidence_rows_are_refused_by_the_application(make_user):
    part = make_part(user=make_user("qm"))
    entry = entries_for(part)[0]
    entry.reason = "rewritten"
    with pytest.raises(EvidenceImmutable):
        entry.save()
    with pytest.raises(EvidenceImmutable):
        entry.delete()
    with pytest.raises(EvidenceImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(EvidenceImmutable):
        AuditEntry.objects.all().delete()
