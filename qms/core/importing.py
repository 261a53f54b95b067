"""Import framework for CSV/XLSX: validate every row first, report each bad one with its line and
reason, write nothing unless all rows are good, and write everything in one transaction.

Apps register an `ImportKind` per kind of record (`registries.register_import_kind`); the browser page
and `manage.py import_data KIND FILE [--dry-run]` both go through `import_file`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_context


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


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """(line number, {column: text}) for each data row; the header is line 1."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is reported the same way
            raise RowError(
                _("The file is not a readable XLSX workbook (%(err)s). Save it again as .xlsx or .csv.") % {"err": exc}
            ) from exc
        sheet = wb.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        header = next(it, None) or ()
        names = [str(h).strip().lower() if h is not None else "" for h in header]
        rows = []
        for line, values in enumerate(it, start=2):
            if values is None or all(v in (None, "") for v in values):
                continue
            rows.append(
                (line, {n: ("" if v is None else _cell_text(v)) for n, v in zip(names, values, strict=False) if n})
            )
        return rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # files saved by Chinese Excel
        except UnicodeDecodeError as exc:
            raise RowError(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")) from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    names = [h.strip().lower() for h in header]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append((reader.line_num, {n: v.strip() for n, v in zip(names, values, strict=False) if n}))
    return rows


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
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
    # A user imports only into the sites where they may import: a row naming another site's record finds
    # nothing (a row error) and a row naming another site is refused. The command line keeps its scope.
    with _import_scope(user):
        ctx = importer.prepare([r for _line, r in rows])
        items = []
        for line, row in rows:
            try:
                items.append(importer.validate_row(row, ctx))
            except RowError as exc:
                report.errors.append((line, str(exc)))
        if report.errors or dry_run:
            return report
        with (
            transaction.atomic(),
            audit_context(user=user, reason=_("imported from %(file)s") % {"file": filename}, source="import"),
        ):
            report.written = importer.write(items, ctx)
    return report


IMPORT_PERM = "masterdata.import"


def _import_scope(user):
    import contextlib

    from . import policy
    from .scoping import site_scope

    if user is None or not getattr(user, "pk", None):
        return contextlib.nullcontext()
    return site_scope(policy.sites_for(user, IMPORT_PERM))


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


def parse_int(row: dict, name: str, *, required: bool = False, minimum: int | None = 0):
    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        value = int(raw)
    except ValueError:
        raise RowError(
            _("Column “%(col)s” must be a whole number, not “%(value)s”.") % {"col": name, "value": raw}
        ) from None
    if minimum is not None and value < minimum:
        raise RowError(_("Column “%(col)s” must be at least %(min)s.") % {"col": name, "min": minimum})
    return value


def parse_date(row: dict, name: str, *, required: bool = False):
    import datetime

    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        return datetime.date.fromisoformat(raw[:10])
    except ValueError:
        raise RowError(
            _("Column “%(col)s” must be a date written YYYY-MM-DD, not “%(value)s”.") % {"col": name, "value": raw}
        ) from None


def parse_decimal(row: dict, name: str, *, required: bool = False, positive: bool = False):
    from decimal import Decimal, InvalidOperation

    raw = row.get(name, "").strip()
    if not raw:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise RowError(_("Column “%(col)s” must be a number, not “%(value)s”.") % {"col": name, "value": raw}) from None
    if positive and value <= 0:
        raise RowError(_("Column “%(col)s” must be greater than zero.") % {"col": name})
    return value


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
    "parse_choice",
    "parse_bool",
    "parse_int",
    "parse_date",
    "parse_decimal",
    "check_unique_in_file",
]
