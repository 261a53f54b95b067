"""The kernel's defences against hostile and careless input: codes, numbers, export cells, uploads,
import limits. Each test would fail if the defence were removed."""

import csv
import io
import re
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from qms.core.codes import clean_code, validate_code
from qms.core.errors import DomainError
from qms.core.exports import csv_response, safe_cell, safe_filename, xlsx_bytes
from qms.core.importing import import_file, read_rows
from qms.core.models import Part
from qms.core.numbers import NumberError, parse_decimal, parse_int_key
from qms.core.uploads import UploadRefused, check_upload, sniff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
HTML = b"<html><script>alert(document.cookie)</script></html>"
ROOT = Path(__file__).resolve().parents[3]


# ------------------------------------------------------------------------------------------ codes


@pytest.mark.parametrize("good", ["L-2026-0001", "A", "sup_lot.7", "0-1", "x" * 64])
def test_codes_in_the_safe_set_pass(good):
    assert clean_code(f"  {good} ") == good
    validate_code(good)


@pytest.mark.parametrize("bad", ["A/B<svg>", "A B", "-lead", ".hidden", "=HYPERLINK(1)", "批次1", "a\nb", "x" * 65, ""])
def test_codes_outside_the_safe_set_are_refused_with_the_allowed_characters(bad):
    with pytest.raises(DomainError, match="|".join(["letters A-Z", "longer than", "Enter the"])):
        clean_code(bad)
    if bad:
        with pytest.raises(ValidationError):
            validate_code(bad)


def test_code_urls_reverse_and_resolve_for_odd_legacy_codes():
    url = reverse("traceability:lot", args=["A/B<svg>"])
    assert "<" not in url and url.count("/") == 4
    from urllib.parse import unquote

    from django.urls import resolve

    assert resolve(unquote(url)).kwargs["code"] == "A/B<svg>"


# ---------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "raw", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "1e999", "9" * 40, "1e-999", "", "1.2.3"]
)
def test_decimal_parser_refuses_what_the_database_cannot_hold(raw):
    with pytest.raises(NumberError):
        parse_decimal(raw, max_digits=14, decimal_places=3)


def test_decimal_parser_accepts_ordinary_input():
    assert parse_decimal("12,5") == Decimal("12.5")
    assert parse_decimal("1e3") == Decimal("1000")
    assert parse_decimal("0.1000000") == Decimal("0.1")
    assert parse_decimal("99999999999.999") == Decimal("99999999999.999")
    with pytest.raises(NumberError, match="greater than zero"):
        parse_decimal("0", positive=True)


def test_field_names_are_parsed_defensively():
    assert parse_int_key("v-12-3", parts=2, prefix="v") == (12, 3)
    for bad in ("v-x-1", "v-1", "v-1-2-3", "v--1-2", "v-١-2", "p-1-2", "v-" + "9" * 30 + "-1"):
        assert parse_int_key(bad, parts=2, prefix="v") is None


# ---------------------------------------------------------------------------------------- exports


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_are_neutralised(cell):
    assert safe_cell(cell) == "'" + cell


def test_plain_cells_and_numbers_are_kept():
    assert safe_cell("L-1") == "L-1" and safe_cell(Decimal("-5")) == Decimal("-5") and safe_cell(None) == ""
    assert safe_filename('trace-A/B"\r\nX') == "trace-A_B_X"


def test_csv_and_xlsx_writers_neutralise_every_cell():
    response = csv_response("t", ["=h"], [["=HYPERLINK(1)", 3]])
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["'=h"], ["'=HYPERLINK(1)", "3"]]
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx_bytes(["a"], [["=1+1"], ["@x"]]))).active
    assert [c.value for c in ws["A"]] == ["a", "'=1+1", "'@x"]
    assert all(c.data_type == "s" for c in ws["A"])


def test_no_csv_writer_outside_the_export_helper():
    """Every CSV goes through qms.core.exports (safe_cell); a new csv.writer elsewhere would bypass it."""
    out = subprocess.run(
        ["git", "grep", "-n", "-E", r"csv\.writer|\.writerow\(|\.writerows\(|openpyxl.*Workbook\(", "--", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    offenders = [
        line
        for line in out.splitlines()
        if not line.startswith(("qms/core/exports.py:", "bench/"))
        and "/tests/" not in line
        and not line.startswith("tests/")
    ]
    assert offenders == []


# ---------------------------------------------------------------------------------------- uploads


def test_uploads_are_sniffed_by_content_per_use():
    assert check_upload(SimpleUploadedFile("c.pdf", PDF), use="attachment").content_type == "application/pdf"
    assert check_upload(SimpleUploadedFile("p.jpg", JPEG), use="photo").extension == "jpg"
    with pytest.raises(UploadRefused, match="Allowed"):
        check_upload(SimpleUploadedFile("evil.pdf", HTML), use="attachment")
    with pytest.raises(UploadRefused, match="Allowed"):
        check_upload(SimpleUploadedFile("doc.pdf", PDF), use="photo")  # a photo must be an image
    with pytest.raises(UploadRefused, match="name ends"):
        check_upload(SimpleUploadedFile("x.png", PDF), use="attachment")
    with pytest.raises(UploadRefused, match="empty"):
        check_upload(SimpleUploadedFile("x.png", b""), use="photo")


def test_upload_size_is_limited_per_use(settings):
    settings.QMS_UPLOAD_MAX_BYTES = {"photo": 1000}
    with pytest.raises(UploadRefused, match="limit"):
        check_upload(SimpleUploadedFile("big.png", PNG + b"0" * 2000), use="photo")


def test_office_files_are_recognised_by_their_package():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w/>")
    assert sniff(buf.getvalue()).key == "docx"
    assert sniff(b"PK\x03\x04garbage") is None


# ---------------------------------------------------------------------------------------- imports


def test_import_refuses_files_over_the_size_limit(settings, db):
    settings.QMS_IMPORT_MAX_BYTES = 100
    report = import_file(kind="parts", filename="p.csv", content=b"number,name,type,unit\n" + b"A,B,raw,kg\n" * 20)
    assert not report.ok and "limit" in report.errors[0][1]


def test_import_refuses_too_many_rows_before_validating(settings, db):
    settings.QMS_IMPORT_MAX_ROWS = 5
    content = ("number,name,type,unit\n" + "".join(f"A{i},B,raw,kg\n" for i in range(6))).encode()
    report = import_file(kind="parts", filename="p.csv", content=content)
    assert not report.ok and "more than 5 data rows" in report.errors[0][1]
    assert Part.objects.count() == 0


def test_xlsx_declaring_a_million_rows_is_refused_without_reading_them(settings, db):
    settings.QMS_IMPORT_MAX_ROWS = 10
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["number", "name", "type", "unit"])
    ws.append(["A", "B", "raw", "kg"])
    buf = io.BytesIO()
    wb.save(buf)
    # Rewrite the declared dimension as a zip bomb would declare it.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:D1000000"', data)
            z.writestr(info, data)
    report = import_file(kind="parts", filename="bomb.xlsx", content=out.getvalue())
    assert not report.ok and "more than 10 data rows" in report.errors[0][1]


def test_xlsx_expanding_beyond_the_limit_is_refused(settings, db):
    settings.QMS_IMPORT_MAX_BYTES = 10_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<x>" + b" " * 500_000 + b"</x>")
    report = import_file(kind="parts", filename="bomb.xlsx", content=out.getvalue())
    assert not report.ok and "expands" in report.errors[0][1]


def test_latin1_csv_is_refused_not_stored_garbled(db):
    content = "number,name,type,unit\nA-1,Kugellager Müller,raw,kg\n".encode("latin-1")
    report = import_file(kind="parts", filename="p.csv", content=content)
    assert not report.ok and "UTF-8" in report.errors[0][1]
    assert Part.objects.count() == 0
    report = import_file(kind="parts", filename="p.csv", content=b"\xef\xbb\xbf" + content.decode("latin-1").encode())
    assert report.ok and Part.objects.get().name == "Kugellager Müller"


@pytest.mark.parametrize(
    "value", ["2027-11-29T99:99garbage", "2027-11-29x", "29/11/2027", "2027-13-01", "2027-11-29T25:00"]
)
def test_dates_are_parsed_strictly_with_row_and_column(db, site, value):
    content = f"code,name,kind,site,calibration_due\nG-1,Caliper,gauge,S1,{value}\n".encode()
    report = import_file(kind="equipment", filename="e.csv", content=content)
    assert report.errors and report.errors[0][0] == 2 and "calibration_due" in report.errors[0][1]


def test_full_iso_datetime_is_a_date(db, site):
    content = b"code,name,kind,site,calibration_due\nG-1,Caliper,gauge,S1,2027-11-29T08:30:00+08:00\n"
    assert import_file(kind="equipment", filename="e.csv", content=content).ok


def test_broken_csv_is_a_message_not_a_traceback(db):
    content = b"number,name,type,unit\nA," + b'"' + b"x" * 200_000 + b'",raw,kg\n'
    report = import_file(kind="parts", filename="p.csv", content=content)
    assert not report.ok
    assert read_rows("p.csv", b"a,b\n1,2\n") == [(2, {"a": "1", "b": "2"})]
