"""PDF reports: the audit-trail reports render (Chinese included), are stored with their SHA-256, and the
command line lists, renders and explains bad parameters."""

import hashlib
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from compliance.models import AuditEntry, GeneratedReport
from compliance.pdf import page_counter_css, render_report_pdf
from compliance.reports import ReportError
from qms.core.audit import audit_context

from .factories import make_part

pytestmark = pytest.mark.django_db


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def part(make_user):
    qm = make_user("qm", display_name="李伟")
    part = make_part(user=qm, number="BRG-6204", name="深沟球轴承 6204")
    part.name = "深沟球轴承 6204-2RS（双面密封）"
    with audit_context(user=qm):
        part.save(reason="工程变更 ECN-017")
    return part


def test_record_report_in_chinese_is_stored_with_its_hash(part, tmp_path):
    qm = part  # noqa: F841
    from qms.core.models import User

    user = User.objects.get(username="qm")
    pdf, stored = render_report_pdf(
        key="audit.record", params={"model": "core.part", "id": str(part.pk)}, language="zh-hans", user=user
    )
    assert pdf.startswith(b"%PDF")
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
    with stored.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == stored.sha256
    assert stored.key == "audit.record" and stored.language == "zh-hans" and stored.generated_by == user
    assert stored.params == {"model": "core.part", "id": str(part.pk)}
    assert stored.document_number.startswith("AUD-")
    export = AuditEntry.objects.get(model="compliance.generatedreport", object_id=str(stored.pk))
    assert export.action == "export" and export.changes["sha256"] == [None, stored.sha256]

    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "深沟球轴承" in text and "双面密封" in text and "工程变更" in text  # content in Chinese
    assert "审计追踪" in text  # the layout itself is translated
    assert "第 1 页" in text  # page X of Y in the footer
    assert stored.document_number in text
    assert stored.content_sha256 in text.replace(" ", "").replace("\n", "") or stored.content_sha256[:16] in text


def test_report_splits_long_trails_across_pages(make_user, tmp_path):
    qm = make_user("qm")
    part = make_part(user=qm)
    for i in range(60):
        part.name = f"Bearing ring {i}"
        part.shelf_life_days = i + 1
        with audit_context(user=qm):
            part.save(reason=f"change {i}")
    pdf, _stored = render_report_pdf(key="audit.record", params={"model": "core.part", "id": str(part.pk)}, user=qm)
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 2
    text = pdf_text(path)
    assert f"Page {pages} of {pages}" in text
    assert text.count("Field: old → new") == pages  # the header row repeats on every page


def test_missing_unknown_and_bad_parameters_are_named(part):
    with pytest.raises(ReportError, match="“id”"):
        render_report_pdf(key="audit.record", params={"model": "core.part"})
    with pytest.raises(ReportError, match="core.nothing"):
        render_report_pdf(key="audit.record", params={"model": "core.nothing", "id": "1"})
    with pytest.raises(ReportError, match="“from”"):
        render_report_pdf(key="audit.trail", params={"from": "31.12.2026"})
    with pytest.raises(ReportError, match="colour"):
        render_report_pdf(key="audit.trail", params={"colour": "red"})
    with pytest.raises(ReportError, match="Unknown report"):
        render_report_pdf(key="nope")
    with pytest.raises(ReportError, match="language"):
        render_report_pdf(key="audit.trail", language="fr")
    assert not GeneratedReport.objects.exists()


def test_user_report_filters_by_user_and_period(part, make_user, tmp_path):
    other = make_user("other")
    make_part(user=other, number="OTHER-1")
    pdf, stored = render_report_pdf(key="audit.user", params={"user": "qm"}, user=other)
    path = tmp_path / "u.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "BRG-6204" in text and "OTHER-1" not in text
    assert set(stored.params) == {"user", "from", "to"}  # the effective period is stored
    with pytest.raises(ReportError, match="nobody"):
        render_report_pdf(key="audit.user", params={"user": "nobody"})


def test_page_counter_css_is_translated():
    from django.utils import translation

    assert page_counter_css() == '"Page " counter(page) " of " counter(pages)'
    with translation.override("zh-hans"):
        assert page_counter_css() == '"第 " counter(page) " 页，共 " counter(pages) " 页"'


def test_cli_list(capsys):
    call_command("render_report", "--list")
    out = capsys.readouterr().out
    for key in ("audit.record", "audit.user", "audit.trail"):
        assert key in out
    assert "--param model=" in out and "required" in out


def test_cli_default_render(part, tmp_path, capsys):
    out = tmp_path / "trail.pdf"
    call_command("render_report", "audit.trail", "-o", str(out))
    assert out.read_bytes().startswith(b"%PDF")
    stored = GeneratedReport.objects.get()
    assert stored.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert stored.generated_by is None and stored.key == "audit.trail"
    assert stored.document_number in capsys.readouterr().out
    assert "BRG-6204" in pdf_text(out)


def test_cli_chinese_with_params(part, tmp_path):
    out = tmp_path / "rec.pdf"
    call_command(
        "render_report", "audit.record", "--lang", "zh-hans", "-o", str(out), "--param", "model=core.part",
        "--param", f"id={part.pk}", "--user", "qm",
    )  # fmt: skip
    assert "深沟球轴承" in pdf_text(out)


def test_cli_errors(part, tmp_path):
    with pytest.raises(CommandError, match=r"“id”.*--param id=VALUE"):
        call_command("render_report", "audit.record", "--param", "model=core.part", "-o", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="Unknown report “nope”"):
        call_command("render_report", "nope")
    with pytest.raises(CommandError, match="NAME=VALUE"):
        call_command("render_report", "audit.trail", "--param", "from")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("render_report", "audit.trail", "--lang", "fr")
    assert not (tmp_path / "x.pdf").exists()


def test_cli_exit_status_is_non_zero(tmp_path):
    import os
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "render_report", "nope"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert result.returncode != 0
    assert "Unknown report" in result.stderr
