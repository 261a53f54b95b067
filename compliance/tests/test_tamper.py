"""Tamper evidence on PostgreSQL: the database refuses UPDATE and DELETE; when someone with superuser
rights switches the guard off and edits rows anyway, the hash chain names the first altered row."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from compliance.audit_trail import chain_quick_check, verify_chain
from compliance.models import AuditEntry, GeneratedReport, Signature
from qms.core.audit import audit_context
from qms.core.models import User

from .factories import make_part

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers exist on PostgreSQL only"),
]


@pytest.fixture
def trail(make_user):
    qm = make_user("qm")
    part = make_part(user=qm)
    for i in range(3):
        part.name = f"Bearing ring v{i}"
        with audit_context(user=qm):
            part.save(reason=f"change {i}")
    assert verify_chain().ok
    return list(AuditEntry.objects.order_by("seq"))


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_auditentry SET reason = 'rewritten' WHERE seq = %s",
        "DELETE FROM compliance_auditentry WHERE seq = %s",
    ],
)
def test_database_refuses_update_and_delete(trail, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            sql(statement, [trail[2].seq])
    assert AuditEntry.objects.get(seq=trail[2].seq).reason == trail[2].reason


def test_database_refuses_changes_to_signatures_and_reports(trail):
    signer = User.objects.get(username="qm")
    Signature.objects.create(
        signer=signer, printed_name="Qm", meaning="approved", model="core.part", object_id="1", object_repr="x"
    )
    GeneratedReport.objects.create(key="k", title="t", document_number="D-1", language="en", sha256="0" * 64, file="x")
    for table in ("compliance_signature", "compliance_generatedreport"):
        for statement in (f"UPDATE {table} SET object_id = object_id", f"DELETE FROM {table}"):  # noqa: S608
            if table == "compliance_generatedreport":
                statement = statement.replace("object_id = object_id", "title = 'forged'")
            with pytest.raises(DatabaseError, match="append-only"):
                with transaction.atomic():
                    sql(statement)
    assert Signature.objects.count() == 1 and GeneratedReport.objects.get().title == "t"


def disable_guard():
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")  # superuser only; undone by the test rollback


def test_altered_reason_is_detected_and_named(trail):
    victim = trail[2]
    disable_guard()
    assert sql("UPDATE compliance_auditentry SET reason = 'nothing to see' WHERE seq = %s", [victim.seq]) == 1
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_trail")
    message = str(exc.value)
    assert f"row #{victim.seq} (id {victim.pk})" in message
    assert "content altered" in message
    result = verify_chain()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, victim.seq, victim.seq - 1)


def test_deleted_row_is_detected_and_named(trail):
    victim = trail[2]
    disable_guard()
    assert sql("DELETE FROM compliance_auditentry WHERE seq = %s", [victim.seq]) == 1
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_trail")
    message = str(exc.value)
    assert f"expected #{victim.seq}, found #{victim.seq + 1}" in message
    assert "rows removed" in message
    assert not chain_quick_check().ok  # the page's cheap check sees the gap too


def test_intact_chain_passes(trail, capsys):
    call_command("verify_audit_trail")
    assert f"{len(trail)} entries verified" in capsys.readouterr().out


def test_scheduled_check_alerts_quality_managers_once(trail, make_user):
    from compliance.audit_trail import audit_chain_check_and_alert
    from qms.core.models import Notification, Role

    qm = make_user("qm_alert", roles=[Role.QUALITY_MANAGER])
    assert audit_chain_check_and_alert().ok
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")
    sql("UPDATE compliance_auditentry SET reason = 'forged' WHERE seq = %s", [trail[1].seq])
    sql("ALTER TABLE compliance_auditentry ENABLE TRIGGER ALL")
    assert not audit_chain_check_and_alert().ok
    assert not audit_chain_check_and_alert().ok
    assert Notification.objects.filter(recipient=qm, level="error").count() == 1
