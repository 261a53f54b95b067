"""The one place CSV and XLSX files are written.

A spreadsheet runs a cell that starts with = + - @ (or a tab / carriage return before them) as a
formula: a supplier lot number "=HYPERLINK(...)" typed into a form would become a live link or a
command in the auditor's Excel. Every cell goes through `safe_cell`, which prefixes such text with
an apostrophe, and XLSX cells are written as text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_cell(value):
    """The value to write into a CSV/XLSX cell: numbers, dates and booleans as they are; None as
    empty; any text starting with a formula character prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime.date | datetime.datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def safe_filename(text: str, default: str = "export") -> str:
    """A download file name from record codes: only A-Z a-z 0-9 . _ - (no quotes, no line breaks)."""
    name = _UNSAFE_FILENAME.sub("_", str(text or "")).strip("._")[:120]
    return name or default


def write_csv(stream, header: Iterable, rows: Iterable[Iterable]) -> None:
    writer = csv.writer(stream)
    writer.writerow([safe_cell(c) for c in header])
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> HttpResponse:
    """A CSV download (UTF-8 with BOM, so Excel in Chinese Windows reads it right)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response.write("\ufeff")
    write_csv(response, header, rows)
    return response


def xlsx_bytes(header: Iterable, rows: Iterable[Iterable], *, title: str = "Export") -> bytes:
    """An XLSX workbook (write-only, bounded memory). Text cells are typed as strings, never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=safe_filename(title, "Export")[:31])

    def cells(values):
        out = []
        for v in values:
            v = safe_cell(v)
            cell = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # a string cell: openpyxl would otherwise store "=..." as a formula
            out.append(cell)
        return out

    ws.append(cells(header))
    for row in rows:
        ws.append(cells(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, header: Iterable, rows: Iterable[Iterable], *, title: str = "Export") -> HttpResponse:
    response = HttpResponse(
        xlsx_bytes(header, rows, title=title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}.xlsx"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
