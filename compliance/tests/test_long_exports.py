"""Big evidence stays cheap: long audit trails as complete PDFs (every entry, the footer on every page),
CSV streamed with every row and formula cells neutralised, and a query count that does not grow with
the number of entries (no N+1). Speed itself is measured in bench/compliance_exports.py, not here."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from compliance.anchors import checkpoint_create
from compliance.exports import export_job_create, export_job_run_now, write_csv
from compliance.models import ExportStatus
from compliance.pdf import render_report_pdf
from compliance.reports_builtin import _audit_table
from compliance.selectors import audit_entries
from qms.core.audit import audit_context
from qms.core.models import Equipment, EquipmentKind, Part, PartType, Role

pytestmark = pytest.mark.django_db


def _parts(n, *, user=None, prefix="LP", name="Bearing ring 轴承圈", reason="bulk"):
    with audit_context(user=user, reason=reason):
        Part.objects.bulk_create(
            [Part(number=f"{prefix}-{i:05d}", name=name, part_type=PartType.RAW, unit="kg") for i in range(n)]
        )


def _pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_trail_of_more_than_500_entries_is_printed_complete_with_the_footer_on_every_page(make_user):
    qm = make_user("qm")
    _parts(620, user=qm)
    checkpoint = checkpoint_create()
    seqs = list(audit_entries(viewer=qm).values_list("seq", flat=True))
    assert len(seqs) > 620

    pdf, stored, ctx = render_report_pdf(key="audit.trail", user=qm, with_context=True)
    assert ctx["shown"] == ctx["total"] == len(seqs) and not ctx["truncated"]
    pages = _pages_text(pdf)
    assert len(pages) > 20
    text = "\n".join(pages)
    # the first and the last entry are both there, and so is every part
    assert re.search(rf"(?m)^{seqs[0]}\b", text) and re.search(rf"(?m)^{seqs[-1]}\b", text)
    assert all(f"LP-{i:05d}" in text for i in (0, 1, 310, 619))
    # every page: header row, page X of Y, document number, content hash and the audit-trail checkpoint
    for i, page in enumerate(pages, start=1):
        flat = re.sub(r"\s+", " ", page)
        assert f"Page {i} of {len(pages)}" in flat
        assert stored.document_number in flat
        assert stored.content_sha256 in flat.replace(" ", "")
        assert f"checkpoint #{checkpoint.seq}" in flat and checkpoint.head_hash[:12] in flat
        assert "Field: old → new" in flat or i == len(pages)  # the last page may hold only the closing note
    # readable, not ids: the user by name, field names and choice values by their labels
    assert "Qm (qm)" in text and "Part number" in text and "Raw material" in text


def test_the_long_trail_in_chinese_prints_cjk_and_the_translated_layout(make_user):
    qm = make_user("qm", display_name="李伟")
    _parts(40, user=qm, name="深沟球轴承 6204-2RS（双面密封）", reason="工程变更 ECN-017")
    pdf, _stored = render_report_pdf(key="audit.trail", user=qm, language="zh-hans")
    pages = _pages_text(pdf)
    text = "\n".join(pages)
    assert "深沟球轴承" in text and "工程变更" in text and "李伟" in text
    assert "审计追踪" in text and f"第 1 页，共 {len(pages)} 页" in re.sub(r"\s+", " ", text)


def test_the_pdf_reports_progress_to_its_export_job(make_user, monkeypatch):
    from compliance import exports

    qm = make_user("qm")
    _parts(1200, user=qm)
    seen = []
    real = exports._set_progress
    monkeypatch.setattr(
        exports, "_set_progress", lambda job_id, done, total: (seen.append(done), real(job_id, done, total))
    )
    job = export_job_create(user=qm, key="audit.trail", params={}, fmt="pdf", language="en")
    before = audit_entries(viewer=qm).count()
    job = export_job_run_now(job_id=job.pk)
    assert job.status == ExportStatus.READY and job.message == ""
    assert job.rows == before > 1200  # every entry, none cut
    assert 500 in seen and 1000 in seen  # as chunks of rows are drawn


def test_the_cap_stays_as_a_safety_net_with_its_message(make_user, settings):
    settings.QMS_PDF_MAX_ENTRIES = 50
    qm = make_user("qm")
    _parts(80, user=qm)
    pdf, _stored, ctx = render_report_pdf(key="audit.trail", user=qm, with_context=True)
    assert ctx["truncated"] and ctx["shown"] == 50
    text = re.sub(r"\s+", " ", "\n".join(_pages_text(pdf)))
    assert f"Only the first 50 of {ctx['total']} entries are listed." in text and "shorter period" in text


def test_csv_streams_every_row_and_neutralises_formula_cells(make_user):
    qm = make_user("qm")
    _parts(300, user=qm, name='=HYPERLINK("http://evil.example","x")', reason="+cmd|' /C calc'!A0")
    qs = audit_entries(viewer=qm)
    fh = io.BytesIO()
    n = write_csv(_audit_table(qs), fh)
    rows = list(csv.reader(io.StringIO(fh.getvalue().decode("utf-8-sig"))))
    assert n == qs.count() == len(rows) - 1
    body = "\n".join(",".join(r) for r in rows)
    assert "'+cmd" in body and not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r)
    assert any(r[7].startswith("'+cmd") for r in rows[1:])


def _entries_of_many_kinds(make_user, site, n):
    """n parts and n gauges (a foreign key to the site) created by n different people."""
    for i in range(n):
        person = make_user(f"p{i}-{n}")
        with audit_context(user=person, reason="mixed"):
            Part.objects.create(number=f"MX-{n}-{i}", name="mixed", part_type=PartType.RAW, unit="kg")
            Equipment.objects.create(code=f"G-{n}-{i}", name="gauge", kind=EquipmentKind.GAUGE, site=site)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_no_query_per_entry_in_csv_or_pdf(make_user, site):
    qm = make_user("qm", roles=[Role.QUALITY_MANAGER])
    _entries_of_many_kinds(make_user, site, 3)
    mark = audit_entries(viewer=qm).order_by("-seq").values_list("seq", flat=True).first()
    _entries_of_many_kinds(make_user, site, 30)

    def csv_of(qs):
        return lambda: write_csv(_audit_table(qs), io.BytesIO())

    small = audit_entries(viewer=qm).filter(seq__lte=mark)
    large = audit_entries(viewer=qm)
    assert large.count() > 5 * small.count()
    assert _queries(csv_of(large)) == _queries(csv_of(small))

    def pdf_of(qs):
        from compliance.pdf_table import Frame
        from compliance.reports_builtin import audit_pdf

        ctx = {"entries": qs, "total": qs.count(), "shown": qs.count(), "truncated": False, "chain": None}
        frame = Frame(title="t", document_number="D", generated_at_text="now", generated_by="qm", site_name="S")
        return lambda: audit_pdf(ctx, frame)

    assert _queries(pdf_of(large)) == _queries(pdf_of(small))
    # and the gauge's site reads by its code and name, not as an id
    text = "\n".join(_pages_text(pdf_of(large)()[0]))
    assert f"{site.code} · {site.name}" in text
