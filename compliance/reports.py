"""Report registry and rendering. Domain apps register their reports in AppConfig.ready():

    register_report(Report(key="suppliers.scorecard", title=_("Supplier scorecard"),
                           template="suppliers/pdf/scorecard.html", build=build_scorecard,
                           params=[ReportParam("supplier", required=True, help=_("supplier code"))],
                           perm="suppliers.scorecard"))

`build(params: dict[str, str], user) -> dict` returns the template context (raise ReportError with a
readable message for a bad parameter). Rendering, storage with SHA-256, and the command line
(`manage.py render_report`) are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from qms.core.errors import DomainError


class ReportError(DomainError):
    pass


@dataclass(frozen=True)
class ReportParam:
    name: str
    required: bool = False
    help: object = ""
    default: str | None = None
    input_type: str = "text"  # HTML input type on the reports page: text, date, number


@dataclass
class Table:
    """The rows of a report for CSV/XLSX (and the long PDFs): column headings, the number of rows (for
    progress), and an iterator that reads the database in chunks, so memory stays bounded at any size."""

    columns: list
    count: int
    rows: Iterable[list]


@dataclass(frozen=True)
class Report:
    key: str
    title: object  # lazy translation
    template: str
    build: Callable[[dict, object], dict]
    params: list[ReportParam] = field(default_factory=list)
    perm: str = "reports.export"
    regulated: bool = True  # stored with its hash when generated
    document_prefix: str = "RPT"
    # Reports that grow with the data run as background export jobs (compliance.exports), never in a request.
    background: bool = False
    # For CSV and XLSX: table(params, user) -> Table. Reports without it export as PDF only.
    table: Callable[[dict, object], Table] | None = None
    # For PDFs assembled from several sections (packs, bundles): run(job, user, progress) -> GeneratedReport,
    # called by the export job instead of rendering `template`; progress(done, total) reports the progress.
    run: Callable | None = None
    # A long tabular report may draw its PDF itself in bounded memory instead of through `template`:
    # pdf(context, frame, progress) -> (pdf bytes, content SHA-256); see compliance.pdf_table.
    pdf: Callable | None = None

    @property
    def formats(self) -> list[str]:
        return ["pdf", "csv", "xlsx"] if self.table is not None else ["pdf"]


REPORTS: dict[str, Report] = {}


def register_report(report: Report) -> None:
    REPORTS[report.key] = report


def get_report(key: str) -> Report:
    try:
        return REPORTS[key]
    except KeyError:
        raise ReportError(
            _("Unknown report “%(key)s”. Known reports: %(known)s.") % {"key": key, "known": ", ".join(sorted(REPORTS))}
        ) from None


def resolve_params(report: Report, given: dict[str, str]) -> dict[str, str]:
    known = {p.name for p in report.params}
    unknown = set(given) - known
    if unknown:
        raise ReportError(
            _("Report %(key)s has no parameter %(names)s. Its parameters: %(known)s.")
            % {"key": report.key, "names": ", ".join(sorted(unknown)), "known": ", ".join(sorted(known)) or "-"}
        )
    resolved = {}
    for p in report.params:
        value = given.get(p.name)
        if value is not None:
            value = str(value).strip()
        if value in (None, ""):
            value = p.default
        if (value is None or value == "") and p.required:
            raise ReportError(
                _("Report %(key)s needs the parameter “%(name)s” (%(help)s).")
                % {"key": report.key, "name": p.name, "help": p.help or p.name},
                field=p.name,
            )
        if value not in (None, "") and p.input_type == "date":
            import datetime

            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ReportError(
                    _("“%(value)s” is not a date for “%(name)s”: write it as YYYY-MM-DD, e.g. 2026-03-31.")
                    % {"value": value, "name": p.name},
                    field=p.name,
                ) from None
        if value not in (None, ""):
            resolved[p.name] = value
    return resolved


def reports_for(user) -> list[Report]:
    """The registered reports `user` may export, by title."""
    from qms.core import policy

    return sorted((r for r in REPORTS.values() if policy.can(user, r.perm)), key=lambda r: str(r.title))
