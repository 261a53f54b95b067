"""Import framework for CSV/XLSX: validate every row first, report each bad one with its line and
reason, write nothing unless all rows are good, and write everything in one transaction.

Apps register an `ImportKind` per kind of record (`registries.register_import_kind`); the browser page
and `manage.py import_data KIND FILE [--dry-run]` both go through `import_file`.

Hostile or careless files are refused before any row is read, with a message that says what to do:
larger than settings.QMS_IMPORT_MAX_BYTES (5 MB), more data rows than settings.QMS_IMPORT_MAX_ROWS
(10,000), an XLSX whose sheet declares or expands beyond that (zip bombs), CSV not in UTF-8 (Excel:
"CSV UTF-8"; a Latin-1 or GBK file would otherwise be stored garbled), dates not in ISO form.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from . import numbers
from .audit import audit_context
from .codes import code_problem
from .errors import DomainError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
# Trailing empty rows are skipped, but only this many past the row limit are looked at.
BLANK_ROWS_TOLERATED = 1_000
MAX_COLUMNS = 60
MAX_CELL_CHARS = 10_000


class RowError(Exception):
    """Raised by ImportKind.validate_row with a message that says what is wrong and what to write."""


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = True
    help: object = ""


@dataclass
class ImportReport:
    kind: str
    row_count: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False
    written: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportKind:
    name: str = ""
    label: object = ""
    columns: list[Column] = []
    # An importing user's rows may name only the sites where they hold this permission (or may import
    # master data).
    perm: str = "masterdata.import"

    def columns_help(self) -> str:
        return ", ".join(c.name + ("" if c.required else "?") for c in self.columns)

    def prepare(self, rows: list[dict]) -> dict:
        """Load, in a few queries, whatever validation needs to look up (so 100,000 rows are not
        100,000 queries)."""
        return {}

    def validate_row(self, row: dict, ctx: dict):
        """Return what write() needs for this row, or raise RowError."""
        raise NotImplementedError

    def write(self, items: list, ctx: dict) -> int:
        raise NotImplementedError


def max_bytes() -> int:
    return int(getattr(settings, "QMS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "QMS_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def _too_many_rows(limit: int) -> RowError:
    return RowError(
        _("The file has more than %(n)s data rows, the limit for one import. Split it into smaller files.")
        % {"n": f"{limit:,}"}
    )


def _check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise RowError(
            _("The file is %(mb).1f MB; the limit for one import is %(limit).1f MB. Split it into smaller files.")
            % {"mb": size / 1024 / 1024, "limit": limit / 1024 / 1024}
        )


def _names(header) -> list[str]:
    names = [str(h).strip().lower()[:60] if h is not None else "" for h in header]
    if len([n for n in names if n]) > MAX_COLUMNS:
        raise RowError(_("The first line names more than %(n)s columns; is it the right file?") % {"n": MAX_COLUMNS})
    return names


def _xlsx_rows(content: bytes, limit: int) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook

    # A few KB of XLSX can expand to gigabytes: check what the package declares before parsing.
    try:
        infos = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise RowError(_("The file is not a readable XLSX workbook. Save it again as .xlsx or .csv.")) from exc
    if sum(i.file_size for i in infos) > max_bytes() * 20:
        raise RowError(
            _(
                "The workbook expands to more than %(mb)s MB when opened. Save only the rows to import, as .xlsx or .csv."
            )
            % {"mb": max_bytes() * 20 // (1024 * 1024)}
        )
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        declared = sheet.max_row  # from the sheet's <dimension>; may be missing or false, so also counted below
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is reported the same way
        raise RowError(_("The file is not a readable XLSX workbook. Save it again as .xlsx or .csv.")) from exc
    if declared and declared > limit + 1 + BLANK_ROWS_TOLERATED:
        raise _too_many_rows(limit)
    try:
        it = sheet.iter_rows(values_only=True)
        header = next(it, None) or ()
        names = _names(header[: MAX_COLUMNS * 2])
        width = len(names)
        rows = []
        for line, values in enumerate(it, start=2):
            if line > limit + 1 + BLANK_ROWS_TOLERATED:
                raise _too_many_rows(limit)
            values = (values or ())[:width]
            if all(v in (None, "") for v in values):
                continue
            if len(rows) >= limit:
                raise _too_many_rows(limit)
            rows.append(
                (line, {n: ("" if v is None else _cell_text(v)) for n, v in zip(names, values, strict=False) if n})
            )
    except RowError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet is reported, not a traceback
        raise RowError(_("The workbook could not be read to the end. Save it again as .xlsx or .csv.")) from exc
    finally:
        wb.close()
    return rows


def _decode(content: bytes) -> str:
    """UTF-8 with or without BOM. Anything else is refused: a Latin-1 or GBK file cannot be told apart
    reliably, and guessing wrong stores garbled names in regulated records."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise RowError(
            _(
                "The file is not UTF-8 text (line %(line)s). In Excel choose Save As › “CSV UTF-8 (comma delimited)”; "
                "in WPS or LibreOffice choose the character set UTF-8; then upload it again."
            )
            % {"line": line}
        ) from None
    if "\x00" in text:
        raise RowError(_("The file contains binary data. Upload a CSV text file or an XLSX workbook."))
    return text


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """(line number, {column: text}) for each data row; the header is line 1. Raises RowError for a
    file that is too large, too long, not UTF-8 or unreadable."""
    _check_size(len(content))
    limit = max_rows()
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(content, limit)
    reader = csv.reader(io.StringIO(_decode(content)))
    rows = []
    try:
        header = next(reader, None) or []
        names = _names(header)
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= limit:
                raise _too_many_rows(limit)
            rows.append((reader.line_num, {n: v.strip() for n, v in zip(names, values, strict=False) if n}))
    except csv.Error as exc:
        raise RowError(
            _("Line %(line)s is not valid CSV (%(err)s). Check the quotes in that line.")
            % {"line": reader.line_num, "err": exc}
        ) from None
    return rows


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.isoformat() if value.time() != datetime.time(0) else value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def import_file(*, kind: str, filename: str, content: bytes, dry_run: bool = False, user=None) -> ImportReport:
    from .registries import registry

    report = ImportReport(kind=kind, dry_run=dry_run)
    importer = registry.import_kinds.get(kind)
    if importer is None:
        known = ", ".join(sorted(registry.import_kinds))
        report.errors.append((0, _("Unknown kind “%(kind)s”. Use one of: %(known)s.") % {"kind": kind, "known": known}))
        return report
    try:
        rows = read_rows(filename, content)
    except RowError as exc:
        report.errors.append((1, str(exc)))
        return report
    return _import_rows(report, importer, rows, filename=filename, dry_run=dry_run, user=user, source="import")


def import_records(*, kind: str, records: list[dict], user, dry_run: bool = False, source: str = "api") -> ImportReport:
    """The same import from records already parsed (the integration API's master-data upserts): record i is
    reported as line i (0-based); values are taken as text, as from a file."""
    from .registries import registry

    report = ImportReport(kind=kind, dry_run=dry_run)
    importer = registry.import_kinds.get(kind)
    if importer is None:
        report.errors.append((0, _("Unknown kind “%(kind)s”.") % {"kind": kind}))
        return report
    if len(records) > max_rows():
        report.errors.append((0, str(_too_many_rows(max_rows()))))
        return report
    rows = [
        (i, {str(k): "" if v is None else ("1" if v is True else "0" if v is False else str(v)) for k, v in r.items()})
        for i, r in enumerate(records)
    ]
    return _import_rows(report, importer, rows, filename="API", dry_run=dry_run, user=user, source=source)


def _import_rows(report, importer, rows, *, filename: str, dry_run: bool, user, source: str) -> ImportReport:
    report.row_count = len(rows)
    if not rows:
        report.errors.append(
            (
                1,
                _("The file has no data rows. The first line must name the columns: %(cols)s.")
                % {"cols": importer.columns_help()},
            )
        )
        return report
    present = set(rows[0][1])
    missing = [c.name for c in importer.columns if c.required and c.name not in present]
    if missing:
        report.errors.append(
            (
                1,
                _("Missing column(s): %(cols)s. The first line must name the columns: %(all)s.")
                % {"cols": ", ".join(missing), "all": importer.columns_help()},
            )
        )
        return report
    for line, row in rows:
        long = [n for n, v in row.items() if len(v) > MAX_CELL_CHARS]
        if long:
            report.errors.append(
                (line, _("Column “%(col)s” holds more than %(n)s characters.") % {"col": long[0], "n": MAX_CELL_CHARS})
            )
    if report.errors:
        return report
    # A user imports only into the sites where they may import: a row naming another site's record finds
    # nothing (a row error) and a row naming another site is refused. The command line keeps its scope.
    with _import_scope(user, importer.perm):
        ctx = importer.prepare([r for _line, r in rows])
        ctx.setdefault("user", user)
        items = []
        for line, row in rows:
            try:
                items.append(importer.validate_row(row, ctx))
            except RowError as exc:
                report.errors.append((line, str(exc)))
            except DomainError as exc:  # a kernel check (code, number) refused the cell
                report.errors.append((line, exc.message))
        if report.errors or dry_run:
            return report
        try:
            with (
                transaction.atomic(),
                audit_context(user=user, reason=_("imported from %(file)s") % {"file": filename}, source=source),
            ):
                report.written = importer.write(items, ctx)
        except DomainError as exc:  # a service refused while writing: everything was rolled back
            report.written = 0
            report.errors.append((0, _("Nothing was imported: %(why)s") % {"why": exc.message}))
    return report


def _import_scope(user, perm: str):
    import contextlib

    from . import policy
    from .scoping import site_scope

    if user is None or not getattr(user, "pk", None):
        return contextlib.nullcontext()
    # Where the user may import master data, or do what this kind of record needs (a supplier engineer
    # importing suppliers); never a site the user holds neither at.
    return site_scope(set(policy.sites_for(user, "masterdata.import")) | set(policy.sites_for(user, perm)))


def importable_sites() -> dict:
    """code -> Site rows of this import may name: the importing user's sites (every site from the
    command line)."""
    from .models import Site
    from .scoping import current_sites

    allowed = current_sites()
    qs = Site.objects.all() if allowed is None else Site.objects.filter(pk__in=allowed)
    return {s.code: s for s in qs}


def unknown_site_error(code: str, sites: dict) -> RowError:
    return RowError(
        _("Site “%(s)s” does not exist or is not one of the sites you may import into. Use one of: %(known)s.")
        % {"s": code, "known": ", ".join(sites) or "-"}
    )


def codes_taken(model, field: str, values) -> set:
    """Which of `values` are already used as `field` of `model` at any site (codes are unique across
    sites, so a code at a site the user cannot see is still taken; only its existence is revealed)."""
    values = list(values)
    taken = set()
    for i in range(0, len(values), 5000):
        taken.update(model._base_manager.filter(**{f"{field}__in": values[i : i + 5000]}).values_list(field, flat=True))
    return taken


def require_text(row: dict, name: str, max_length: int | None = None) -> str:
    value = row.get(name, "").strip()
    if not value:
        raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
    if max_length and len(value) > max_length:
        raise RowError(_("Column “%(col)s” is longer than %(n)s characters.") % {"col": name, "n": max_length})
    return value


def parse_choice(row: dict, name: str, choices, default=None) -> str:
    """Accept a choice by its code or its label in English or Chinese, case-insensitively."""
    from django.utils import translation

    raw = row.get(name, "").strip()
    if not raw:
        if default is not None:
            return default
        raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
    wanted = raw.lower()
    for value, label in choices:
        names = {str(value).lower()}
        for lang in ("en", "zh-hans"):
            with translation.override(lang):
                names.add(str(label).lower())
        if wanted in names:
            return value
    allowed = ", ".join(str(v) for v, _l in choices)
    raise RowError(
        _("“%(value)s” is not a valid %(col)s. Use one of: %(allowed)s.")
        % {"value": raw, "col": name, "allowed": allowed}
    )


def parse_bool(row: dict, name: str) -> bool:
    raw = row.get(name, "").strip().lower()
    if raw in ("", "0", "no", "n", "false", "否"):
        return False
    if raw in ("1", "yes", "y", "true", "是", "x"):
        return True
    raise RowError(_("Column “%(col)s” must be yes or no, not “%(value)s”.") % {"col": name, "value": raw})


def require_code(row: dict, name: str, max_length: int | None = None, *, required: bool = True) -> str:
    """A record code (lot, supplier, part ...) in the kernel's safe character set (qms.core.codes)."""
    value = row.get(name, "").strip()
    if not value and not required:
        return ""
    if not value:
        raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
    problem = code_problem(value, label=name, max_length=max_length)
    if problem:
        raise RowError(problem)
    return value


def parse_int(
    row: dict, name: str, *, required: bool = False, minimum: int | None = 0, maximum: int | None = 2_147_483_647
):
    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        if len(raw) > 20:
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise RowError(
            _("Column “%(col)s” must be a whole number, not “%(value)s”.") % {"col": name, "value": raw[:40]}
        ) from None
    if minimum is not None and value < minimum:
        raise RowError(_("Column “%(col)s” must be at least %(min)s.") % {"col": name, "min": minimum})
    if maximum is not None and value > maximum:
        raise RowError(_("Column “%(col)s” must be at most %(max)s.") % {"col": name, "max": maximum})
    return value


_ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_ISO_DATETIME = re.compile(r"\A\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?\Z")


def parse_date(row: dict, name: str, *, required: bool = False):
    """A date written YYYY-MM-DD, or a full ISO date-time (its date is taken). Nothing else: a
    "2027-11-29T99:99garbage" is refused, not read as 29 November."""
    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        if _ISO_DATE.match(raw):
            return datetime.date.fromisoformat(raw)
        if _ISO_DATETIME.match(raw):
            return datetime.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
        raise ValueError(raw)
    except ValueError:
        raise RowError(
            _("Column “%(col)s” must be a date written YYYY-MM-DD, not “%(value)s”.") % {"col": name, "value": raw[:40]}
        ) from None


def parse_decimal(
    row: dict,
    name: str,
    *,
    required: bool = False,
    positive: bool = False,
    max_digits: int = 14,
    decimal_places: int = 3,
):
    """A finite number that fits the model field (numeric(max_digits, decimal_places)); the kernel's
    one decimal parser decides, so NaN, Infinity, 1e999 and 40-digit values are refused here."""
    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        return numbers.parse_decimal(
            raw,
            label=name,
            max_digits=max_digits,
            decimal_places=decimal_places,
            positive=positive,
            comma_decimal=False,  # "1,000" in a file is a thousands separator as often as a decimal comma
        )
    except numbers.NumberError as exc:
        raise RowError(_("Column “%(col)s”: %(why)s") % {"col": name, "why": exc.message}) from None


def check_unique_in_file(ctx: dict, key, label: str) -> None:
    seen = ctx.setdefault("_seen", set())
    if key in seen:
        raise RowError(_("%(what)s appears more than once in the file; keep one row for it.") % {"what": label})
    seen.add(key)


__all__ = [
    "Column",
    "ImportKind",
    "ImportReport",
    "RowError",
    "import_file",
    "read_rows",
    "require_text",
    "require_code",
    "parse_choice",
    "parse_bool",
    "parse_int",
    "parse_date",
    "parse_decimal",
    "check_unique_in_file",
]
