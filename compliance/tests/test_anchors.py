"""Evidence that cannot be quietly cut: TRUNCATE refused, the application role limited to SELECT/INSERT,
and checkpoints anchoring the chain head outside the table (tail deletion, emptied chain, forged or
rewritten checkpoints are all named by verify_audit_trail)."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from pypdf import PdfReader

from compliance import anchors
from compliance.audit_trail import chain_quick_check, verify_chain
from compliance.models import AuditCheckpoint, AuditEntry
from compliance.reports import get_report
from qms.core.audit import audit_context

from .factories import make_part

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers exist on PostgreSQL")


@pytest.fixture
def part_changes(db, make_user):
    qm = make_user("qm")
    part = make_part(user=qm)

    def change(n):
        for i in range(n):
            part.name = f"Ring {AuditEntry.objects.count()}-{i}"
            with audit_context(user=qm):
                part.save(reason="change")

    return change


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def log_lines(settings):
    return [json.loads(line) for line in settings.AUDIT_ANCHOR_LOG.read_text().splitlines()]


def test_checkpoint_signs_the_head_and_writes_the_log(part_changes, settings):
    part_changes(2)
    head = AuditEntry.objects.order_by("-seq").first()
    cp = anchors.checkpoint_create()
    assert (cp.seq, cp.head_hash) == (head.seq, head.hash)
    assert cp.signature == anchors.sign(cp.seq, cp.head_hash, cp.created_at)
    assert anchors.checkpoint_create().pk == cp.pk  # nothing new: no second checkpoint
    [line] = log_lines(settings)
    assert (line["seq"], line["hash"], line["sig"]) == (cp.seq, cp.head_hash, cp.signature)
    result = verify_chain()
    assert result.ok and result.anchors_checked == 1 and not result.warnings


def test_empty_chain_has_nothing_to_anchor(db):
    assert AuditEntry.objects.count() == 0
    assert anchors.checkpoint_create() is None


def test_checkpoint_command_and_periodic_job(part_changes, capsys, settings):
    from qms.core.registries import registry

    part_changes(1)
    call_command("audit_checkpoint")
    assert "Checkpoint #" in capsys.readouterr().out
    assert registry.periodic_jobs["compliance.audit_checkpoint"].task == "compliance.tasks.audit_checkpoint"
    from compliance.tasks import audit_checkpoint

    part_changes(1)
    assert audit_checkpoint() == AuditEntry.objects.order_by("-seq").first().seq
    assert len(log_lines(settings)) == 2


def test_key_from_file_or_value(settings, tmp_path):
    key_file = tmp_path / "anchor.key"
    key_file.write_text("s3cret-from-file\n")
    settings.AUDIT_ANCHOR_KEY = str(key_file)
    assert anchors.anchor_key() == b"s3cret-from-file"
    settings.AUDIT_ANCHOR_KEY = "inline-value"
    assert anchors.anchor_key() == b"inline-value"
    settings.AUDIT_ANCHOR_KEY = ""
    assert len(anchors.anchor_key()) == 32  # derived for the quick start


def test_deploy_check_warns_without_key(settings):
    from compliance.checks import anchor_key_set

    settings.AUDIT_ANCHOR_KEY = ""
    assert [w.id for w in anchor_key_set(None)] == ["compliance.W001"]
    settings.AUDIT_ANCHOR_KEY = "set"
    assert anchor_key_set(None) == []


@postgres_only
def test_truncate_refused_on_every_evidence_table(part_changes):
    part_changes(1)
    for table in (
        "compliance_auditentry",
        "compliance_signature",
        "compliance_generatedreport",
        "compliance_auditcheckpoint",
    ):
        with pytest.raises(DatabaseError, match="TRUNCATE is not allowed"):
            with transaction.atomic():
                sql(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() > 0


@postgres_only
def test_truncate_guard_not_opened_by_the_setting_for_a_non_superuser(part_changes):
    part_changes(1)
    sql("CREATE ROLE qms_test_nosuper NOLOGIN")
    sql("GRANT ALL ON compliance_auditentry TO qms_test_nosuper")
    with pytest.raises(DatabaseError, match="TRUNCATE is not allowed"):
        with transaction.atomic():
            sql("SET LOCAL ROLE qms_test_nosuper")
            sql("SET LOCAL qms.allow_evidence_truncate = 'on'")
            sql("TRUNCATE compliance_auditentry")


@postgres_only
def test_checkpoint_rows_are_append_only(part_changes):
    part_changes(1)
    anchors.checkpoint_create()
    for statement in ("UPDATE compliance_auditcheckpoint SET seq = 99", "DELETE FROM compliance_auditcheckpoint"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                sql(statement)


@postgres_only
def test_application_role_may_only_select_and_insert_evidence(part_changes):
    from compliance.db_roles import app_role_grants

    part_changes(1)
    sql("CREATE ROLE qms_test_app NOLOGIN")
    assert app_role_grants(role="qms_test_app")
    with transaction.atomic():
        sql("SET LOCAL ROLE qms_test_app")
        assert AuditEntry.objects.exists()  # SELECT
        make_part(number="P-APP")  # INSERT on the part and on the audit trail
    for statement in (
        "UPDATE compliance_auditentry SET reason = 'x'",
        "DELETE FROM compliance_auditentry",
        "TRUNCATE compliance_auditentry",
        "UPDATE compliance_signature SET reason = 'x'",
    ):
        with pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic():
                sql("SET LOCAL ROLE qms_test_app")
                sql(statement)


def test_app_role_grants_skip_missing_role(db):
    from compliance.db_roles import app_role_grants

    assert not app_role_grants(role="qms_role_that_does_not_exist")


@postgres_only
def test_tail_deletion_is_named(part_changes):
    part_changes(3)
    cp = anchors.checkpoint_create()
    assert verify_chain().ok
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")  # superuser; undone by the test rollback
    sql("DELETE FROM compliance_auditentry WHERE seq > %s", [cp.seq - 2])
    result = verify_chain()
    assert not result.ok
    assert f"entries #{cp.seq - 1}..#{cp.seq} are missing" in result.problem
    assert result.first_bad_seq == cp.seq - 1
    with pytest.raises(CommandError, match=rf"entries #{cp.seq - 1}\.\.#{cp.seq} are missing"):
        call_command("verify_audit_trail")
    assert not chain_quick_check().ok


@postgres_only
def test_emptied_chain_with_checkpoints_fails(part_changes):
    part_changes(2)
    cp = anchors.checkpoint_create()
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")
    sql("DELETE FROM compliance_auditentry")
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_trail")
    assert "the audit trail is empty" in str(exc.value)
    assert f"entries #1..#{cp.seq} are missing" in str(exc.value)
    assert "intact" not in str(exc.value).lower().replace("not intact", "")


@postgres_only
def test_checkpoint_rows_removed_too_the_log_still_catches_it(part_changes, settings):
    part_changes(2)
    cp = anchors.checkpoint_create()
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")
    sql("ALTER TABLE compliance_auditcheckpoint DISABLE TRIGGER ALL")
    sql("DELETE FROM compliance_auditentry WHERE seq = %s", [cp.seq])
    sql("DELETE FROM compliance_auditcheckpoint")
    result = verify_chain()
    assert not result.ok and f"#{cp.seq}..#{cp.seq} are missing" in result.problem
    assert any("no checkpoint row in the database" in w for w in result.warnings)


def test_forged_checkpoint_fails(part_changes, settings):
    part_changes(2)
    head = AuditEntry.objects.order_by("-seq").first()
    from django.utils import timezone

    now = timezone.now()
    AuditCheckpoint.objects.create(
        seq=head.seq + 50,
        head_hash="f" * 64,
        created_at=now,
        key_id="x",
        signature=anchors.sign(head.seq + 50, "f" * 64, now, key=b"not-the-key"),
    )
    result = verify_chain()
    assert not result.ok
    assert f"checkpoint #{head.seq + 50}" in result.problem and "invalid signature" in result.problem


def test_forged_log_line_fails(part_changes, settings):
    part_changes(1)
    anchors.checkpoint_create()
    with settings.AUDIT_ANCHOR_LOG.open("a") as fh:
        fh.write(
            json.dumps({"seq": 1, "hash": "0" * 64, "at": "2026-01-01T00:00:00.000000Z", "key_id": "", "sig": "00"})
        )
        fh.write("\nnot json\n")
    result = verify_chain()
    assert not result.ok
    assert "log line 2" in result.problem and "invalid signature" in result.problem
    assert "line 3 is unreadable" in result.problem


@postgres_only
def test_rewritten_chain_does_not_match_its_checkpoint(part_changes):
    """Someone rebuilds a consistent chain (all hashes recomputed) after a checkpoint: the checkpoint's
    hash no longer matches the entry at its sequence."""
    from compliance.audit_trail import _hash_of

    part_changes(2)
    cp = anchors.checkpoint_create()
    sql("ALTER TABLE compliance_auditentry DISABLE TRIGGER ALL")
    prev = None
    for e in AuditEntry.objects.order_by("seq"):
        e.reason = "rewritten" if e.seq == cp.seq else e.reason
        if prev is not None:
            e.prev_hash = prev
        e.hash = _hash_of(e)
        sql(
            "UPDATE compliance_auditentry SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [e.reason, e.prev_hash, e.hash, e.pk],
        )
        prev = e.hash
    result = verify_chain()
    assert not result.ok and f"entry #{cp.seq} does not match the checkpoint" in result.problem


def test_missing_log_is_a_warning(part_changes, settings, capsys):
    part_changes(1)
    anchors.checkpoint_create()
    settings.AUDIT_ANCHOR_LOG.unlink()
    call_command("verify_audit_trail")
    captured = capsys.readouterr()
    assert "anchor log" in captured.err and "is missing" in captured.err
    assert "against 1 checkpoint(s)" in captured.out


def test_pdf_footer_prints_latest_checkpoint(part_changes):
    from compliance.pdf import checkpoint_footer

    assert checkpoint_footer() == ""
    part_changes(1)
    cp = anchors.checkpoint_create()
    text = checkpoint_footer()
    assert f"#{cp.seq}" in text and cp.head_hash[:12] in text


def test_every_pdf_footer_carries_the_checkpoint(part_changes, monkeypatch):
    from compliance import pdf

    part_changes(1)
    cp = anchors.checkpoint_create()
    # the long tabular reports, drawn page by page: on every page
    data, _stored = pdf.render_report_pdf(key="audit.trail", params={}, language="en", user=None, store=False)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    assert pages and all(f"Audit trail checkpoint #{cp.seq}" in t and cp.head_hash[:12] in t for t in pages)
    # the reports laid out from HTML: in the running footer of the base layout
    seen = {}
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: seen.setdefault("html", html).encode())
    report = get_report("audit.trail")
    ctx = {"rows": [], "total": 0, "shown": 0}
    pdf._html_pdf(report, ctx, {}, "t", "AUD-1", timezone.now(), None, [])
    footer = seen["html"].split('class="pagefooter"', 1)[1].split("</div>", 1)[0]
    assert f"Audit trail checkpoint #{cp.seq}" in footer and cp.head_hash[:12] in footer
