"""Background exports: anything that can grow with the data (audit trails, the access log, traces) is
made by a job, never inside a web request.

    job = export_job_create(user=..., key="audit.trail", params={...}, fmt="csv", language="en")
    # the page polls export_job_status; when ready, export_job_open() serves the file (hash-checked)

The request creates a queued job (one INSERT) and returns; `compliance.tasks.export_job_run` (Celery,
or in-process when there is no REDIS_URL) fills it: CSV and XLSX row by row from a database iterator
(bounded memory at any size); PDFs of the long tabular reports drawn as their entries are read
(compliance.pdf_table, bounded memory, progress as rows are drawn), other PDFs through their template.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.errors import DomainError, PermissionRefused
from qms.core.exports import safe_cell
from qms.core.exports import write_csv as write_csv_rows
from qms.core.scoping import site_scope

from .models import ExportFormat, ExportJob, ExportStatus
from .reports import ReportError, get_report, resolve_params

log = logging.getLogger(__name__)

PROGRESS_EVERY = 500  # rows between progress updates


class ExportRefused(DomainError):
    pass


def max_active_exports() -> int:
    return int(getattr(settings, "QMS_MAX_ACTIVE_EXPORTS", 2))


def may_request(user, report, site_id=None) -> bool:
    return policy.can(user, report.perm, site_id)


def export_job_create(*, user, key: str, params: dict, fmt: str, language: str) -> ExportJob:
    """Queue an export. Checked here: the report exists, the user may export it, its parameters are
    valid, the format exists for it, and the user has fewer than max_active_exports() jobs running."""
    report = get_report(key)
    if not may_request(user, report):
        raise PermissionRefused(
            _("You do not have the right to export “%(title)s” (%(perm)s).")
            % {"title": report.title, "perm": report.perm}
        )
    if fmt not in report.formats:
        raise ExportRefused(
            _("“%(title)s” can be exported as %(formats)s, not as “%(fmt)s”.")
            % {"title": report.title, "formats": ", ".join(f.upper() for f in report.formats), "fmt": fmt},
            field="format",
        )
    languages = [code for code, _name in settings.LANGUAGES]
    if language not in languages:
        language = settings.LANGUAGE_CODE
    resolved = resolve_params(report, params)
    with transaction.atomic():
        # Lock the requester's row so two simultaneous requests cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        active = ExportJob.objects.filter(
            requested_by=user, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
        ).count()
        if active >= max_active_exports():
            raise ExportRefused(
                _(
                    "You already have %(n)s exports in progress. Wait until one is ready (see “My exports”), "
                    "then ask for this one again."
                )
                % {"n": active}
            )
        job = ExportJob.objects.create(
            key=key,
            title=str(report.title)[:300],
            params=resolved,
            format=fmt,
            language=language,
            requested_by=user,
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import export_job_run

    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) and getattr(settings, "QMS_EXPORTS_IN_THREAD", False):
        # The quick start has no worker: run beside the request so the page is answered at once.
        import threading

        threading.Thread(target=_run_in_thread, args=(job_id,), daemon=True).start()
        return
    export_job_run.delay(job_id)


def _run_in_thread(job_id: int) -> None:
    from django.db import connection

    try:
        export_job_run_now(job_id=job_id)
    finally:
        connection.close()


def _set_progress(job_id: int, done: int, total: int) -> None:
    pct = min(99, int(done * 100 / total)) if total else 0
    # Progress is bookkeeping, not a state change: a plain UPDATE of two columns.
    ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(progress=pct, rows=done)


def _start(job_id: int) -> ExportJob | None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ExportStatus.QUEUED:
            return None  # already taken by another worker, or finished: running twice changes nothing
        job.status = ExportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
        return job


def _finish(job_id: int, **fields) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ExportStatus.RUNNING:
            return job
        for name, value in fields.items():
            setattr(job, name, value)
        job.finished_at = timezone.now()
        job.save()
        return job


def export_job_run_now(*, job_id: int) -> ExportJob | None:
    """Make the file of a queued job. Idempotent: a job that is not queued is left as it is."""
    job = _start(job_id)
    if job is None:
        return ExportJob.objects.filter(pk=job_id).first()
    user = job.requested_by
    try:
        report = get_report(job.key)
        if not may_request(user, report):
            raise PermissionRefused(_("The requester no longer has the right to export this report."))
        if job.format == ExportFormat.PDF and report.run is not None:
            with translation.override(job.language), site_scope(policy.sites_for(user, report.perm)):
                return _run_assembled(job, report, user)
        if job.format == ExportFormat.PDF:
            with translation.override(job.language):
                return _run_pdf(job, report, user)  # render_report_pdf opens the requester's site scope
        # The rows are read in the requester's sites only, as on their pages (qms.core.scoping).
        with translation.override(job.language), site_scope(policy.sites_for(user)):
            return _run_table(job, report, user)
    except DomainError as exc:
        return _finish(job_id, status=ExportStatus.FAILED, message=str(exc))
    except PermissionDenied:
        return _finish(job_id, status=ExportStatus.FAILED, message=_("You may not read these records at their site."))
    except Exception as exc:  # noqa: BLE001 - the requester is told, the administrator gets the log
        log.exception("export %s failed", job_id)
        return _finish(
            job_id,
            status=ExportStatus.FAILED,
            message=_("The export failed (%(error)s). Try again; if it fails again, tell the administrator.")
            % {"error": type(exc).__name__},
        )


def _run_pdf(job: ExportJob, report, user) -> ExportJob:
    from .pdf import render_report_pdf

    _set_progress(job.pk, 0, 1)
    pdf, stored, context = render_report_pdf(
        key=job.key,
        params=job.params,
        language=job.language,
        user=user,
        with_context=True,
        progress=lambda done, total: _set_progress(job.pk, done, total),
    )
    site_id = context.get("site_id")
    if site_id is not None and not may_request(user, report, site_id):
        raise PermissionRefused(_("This record belongs to a site where you may not export it."))
    note = ""
    if context.get("truncated"):
        note = _("The PDF lists the first %(shown)s of %(total)s entries. To see them all, %(narrow)s.") % {
            "shown": context["shown"],
            "total": context["total"],
            "narrow": context.get("narrow", ""),
        }
    fields = {
        "status": ExportStatus.READY,
        "progress": 100,
        "rows": context.get("shown") or 0,
        "message": note,
        "title": str(context.get("title") or report.title)[:300],
        "site_id": site_id,
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "size": len(pdf),
        "generated_report": stored,
    }
    if stored is not None:
        fields["file"] = stored.file.name
    else:
        job.file.save(f"{job.key}-{job.pk}.pdf", ContentFile(pdf), save=False)
        fields["file"] = job.file.name
    return _finish(job.pk, **fields)


def _run_assembled(job: ExportJob, report, user) -> ExportJob:
    """A PDF assembled by the report's own runner (sections rendered separately and merged): the runner
    stores it as a GeneratedReport; the job points at that file and hash."""
    _set_progress(job.pk, 0, 1)
    stored = report.run(job, user, lambda done, total: _set_progress(job.pk, done, total))
    if stored.site_id is not None and not may_request(user, report, stored.site_id):
        raise PermissionRefused(_("This record belongs to a site where you may not export it."))
    return _finish(
        job.pk,
        status=ExportStatus.READY,
        progress=100,
        title=stored.title[:300],
        site_id=stored.site_id,
        sha256=stored.sha256,
        size=stored.size,
        generated_report=stored,
        file=stored.file.name,
    )


class _HashingWriter:
    """A binary file that hashes what passes through it."""

    def __init__(self, fh):
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sha.update(data)
        self.size += len(data)
        return self.fh.write(data)


def _cell(value):
    """Cells that start like a formula are written as text (CSV/formula injection in spreadsheets)."""
    return safe_cell(value) if isinstance(value, str) else value


def write_csv(table, fh, progress=None) -> int:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    text.write("\ufeff")  # Excel opens UTF-8 (Chinese) correctly only with the BOM
    counted = {"n": 0}

    def rows():
        for row in table.rows:
            yield row
            counted["n"] += 1
            if progress and counted["n"] % PROGRESS_EVERY == 0:
                progress(counted["n"])

    # The kernel's one CSV writer: every cell through safe_cell (formula injection).
    write_csv_rows(text, table.columns, rows())
    n = counted["n"]
    text.flush()
    text.detach()
    return n


def write_xlsx(table, path: str, progress=None) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)  # rows go to a temporary file as they come: bounded memory
    ws = wb.create_sheet()
    ws.append(list(table.columns))
    n = 0
    for row in table.rows:
        ws.append([_cell(v) for v in row])
        n += 1
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    wb.save(path)
    return n


def _run_table(job: ExportJob, report, user) -> ExportJob:
    table = report.table(job.params, user)
    total = table.count

    def progress(n):
        _set_progress(job.pk, n, total)

    suffix = f".{job.format}"
    fd, path = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    try:
        if job.format == ExportFormat.CSV:
            with open(path, "wb") as fh:
                n = write_csv(table, fh, progress)
        else:
            n = write_xlsx(table, path, progress)
        sha = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
                size += len(block)
            fh.seek(0)
            job.file.save(f"{job.key}-{job.pk}{suffix}", File(fh), save=False)
    finally:
        os.unlink(path)
    return _finish(
        job.pk,
        status=ExportStatus.READY,
        progress=100,
        rows=n,
        file=job.file.name,
        sha256=sha.hexdigest(),
        size=size,
    )


# --- reading --------------------------------------------------------------------------------------------


def export_jobs_for_user(user):
    """The exports a person sees on "My exports": their own."""
    return ExportJob.objects.filter(requested_by=user).select_related("generated_report")


def export_job_for_user(user, job_id) -> ExportJob | None:
    """One export, if `user` may see it: the requester, or someone who could have requested the same
    report at the same site (audit.view-style permission of the report, at the job's site). Fails closed."""
    try:
        job = ExportJob.objects.select_related("generated_report", "requested_by").filter(pk=int(job_id)).first()
    except (TypeError, ValueError):
        return None
    if job is None:
        return None
    if job.requested_by_id == user.pk:
        return job
    try:
        report = get_report(job.key)
    except ReportError:
        return None
    if job.site_id is not None:
        return job if may_request(user, report, job.site_id) else None
    # No single site: the job may hold data of every site of its requester; only someone holding the
    # permission at all those sites may read it.
    requester_sites = set(policy.sites_for(job.requested_by, report.perm))
    mine = set(policy.sites_for(user, report.perm))
    return job if requester_sites and requester_sites <= mine else None


class ExportIntegrityError(DomainError):
    pass


def export_job_open(job: ExportJob):
    """The file of a ready job, opened for streaming, after checking its SHA-256 (streamed too)."""
    if job.status != ExportStatus.READY or not job.file:
        raise ExportRefused(_("This export is not ready."))
    try:
        fh = job.file.open("rb")
    except FileNotFoundError:
        fh = None
    if fh is None:
        raise ExportIntegrityError(_("The file of this export is missing. Ask for the export again."))
    sha = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        sha.update(block)
    if sha.hexdigest() != job.sha256:
        fh.close()
        raise ExportIntegrityError(
            _("The stored file of this export does not match its SHA-256: it is not an authentic copy.")
        )
    fh.seek(0)
    return fh
