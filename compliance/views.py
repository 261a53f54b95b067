"""Audit trail pages, the record-trail fragment for domain pages, and the shared report download."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qms.core import policy
from qms.core.errors import DomainError
from qms.core.scoping import is_site_scoped, visible_or_none
from qms.core.views_auth import require

from .access import log_access
from .audit_trail import chain_quick_check, chain_verify_and_record, last_verification
from .exports import (
    ExportIntegrityError,
    export_job_create,
    export_job_for_user,
    export_job_open,
    export_jobs_for_user,
)
from .forms import AccessFilterForm, AuditFilterForm
from .models import AccessKind, ExportFormat, GeneratedReport
from .pdf import render_report_pdf
from .reports import REPORTS, ReportError, reports_for
from .reports_builtin import access_rows
from .selectors import (
    access_events,
    audit_entries,
    entry_rows,
    get_model_or_none,
    may_view_record_trail,
    model_verbose,
    record_site_id,
)

PAGE_SIZE = 50
RECORD_TRAIL_LIMIT = 100


def may_verify_chain(user) -> bool:
    """Running the full verification is for quality managers and administrators (policy: audit.verify)."""
    return policy.can(user, "audit.verify")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _pdf_link(report_key: str, params: dict, lang: str) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "")}
    query["lang"] = lang
    return reverse("compliance:report_pdf", args=[report_key]) + "?" + urlencode(query)


@require("audit.view")
def audit_trail(request):
    form = AuditFilterForm(request.GET)
    if form.is_valid():
        filters = form.filters()
        qs = audit_entries(viewer=request.user, **filters).order_by("-seq")
    else:
        filters, qs = {}, audit_entries(viewer=request.user).none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    pdf_url = None
    if form.is_valid() and policy.can(request.user, "reports.export"):
        lang = request.LANGUAGE_CODE
        day = lambda d: d.isoformat() if d else ""  # noqa: E731
        if filters.get("model") and filters.get("object_id"):
            pdf_url = _pdf_link("audit.record", {"model": filters["model"], "id": filters["object_id"]}, lang)
        elif filters.get("username"):
            pdf_url = _pdf_link(
                "audit.user",
                {"user": filters["username"], "from": day(filters["date_from"]), "to": day(filters["date_to"])},
                lang,
            )
        else:
            pdf_url = _pdf_link("audit.trail", {"from": day(filters["date_from"]), "to": day(filters["date_to"])}, lang)
    return render(
        request,
        "compliance/audit_trail.html",
        {
            "form": form,
            "page_obj": page,
            "rows": entry_rows(page.object_list),
            "chain": chain_quick_check(),
            "last_verification": last_verification(),
            "may_verify": may_verify_chain(request.user),
            "pdf_url": pdf_url,
        },
    )


@require_POST
@require("audit.view")
def audit_verify(request):
    if not may_verify_chain(request.user):
        raise PermissionDenied("audit.verify")
    result = chain_verify_and_record(user=request.user)
    if result.ok:
        messages.success(
            request, _("Audit trail intact: %(n)s entries verified, every hash recomputed.") % {"n": result.checked}
        )
    else:
        if result.first_bad_seq is None:  # a forged checkpoint, not a row of the chain
            text = _("Audit trail NOT intact: %(problem)s. Tell the quality manager and the administrator.") % {
                "problem": result.problem
            }
        else:
            text = _(
                "Audit trail NOT intact at entry #%(seq)s: %(problem)s. Tell the quality manager and the administrator."
            ) % {"seq": result.first_bad_seq, "problem": result.problem}
        messages.error(request, text)
    return redirect("compliance:audit_trail")


def _record_or_404(model_label: str, object_id: str):
    model = get_model_or_none(model_label)
    if model is None:
        raise Http404(_("Unknown record type."))
    instance = visible_or_none(model, object_id)
    if instance is None and is_site_scoped(model):
        # Another site's record (or none): its trail is not shown either.
        raise Http404(_("No such record at your sites."))
    return model, instance


@require("audit.view")
def record_trail(request, model: str, object_id: str):
    """The trail of one record: a fragment for `hx-get` from any domain page, or a page of its own."""
    label = model.lower()
    model_cls, instance = _record_or_404(label, object_id)
    if not may_view_record_trail(request.user, label=label, site_id=record_site_id(label, object_id, instance)):
        raise PermissionDenied("audit.view")
    qs = audit_entries(viewer=request.user, model=label, object_id=object_id).order_by("-seq")
    entries = list(qs[: RECORD_TRAIL_LIMIT + 1])
    context = {
        "rows": entry_rows(entries[:RECORD_TRAIL_LIMIT]),
        "more": len(entries) > RECORD_TRAIL_LIMIT,
        "model_label": label,
        "object_id": object_id,
        "record_type": model_verbose(label),
        "record": str(instance) if instance is not None else (entries[0].object_repr if entries else object_id),
        "full_url": reverse("compliance:audit_trail") + "?" + urlencode({"model": label, "object_id": object_id}),
        "pdf_url": _pdf_link("audit.record", {"model": label, "id": object_id}, request.LANGUAGE_CODE)
        if policy.can(request.user, "reports.export")
        else None,
    }
    template = "compliance/partials/_record_trail.html" if _is_htmx(request) else "compliance/record_trail.html"
    return render(request, template, context)


def _report_param_values(request, report) -> dict[str, str]:
    return {k: v for k, v in request.GET.items() if k not in ("lang", "page")}


@require("reports.export")
def report_pdf(request, key: str):
    """A registered report. Small ones are rendered here, stored (document number, SHA-256) and sent;
    reports that grow with the data (report.background) are made by an export job: GET shows what will
    be exported and the formats, POST queues the job and goes to its page."""
    report = REPORTS.get(key)
    if report is None:
        raise Http404(_("Unknown report."))
    if not policy.can(request.user, report.perm):
        raise PermissionDenied(report.perm)
    lang = request.GET.get("lang") or request.POST.get("lang") or request.LANGUAGE_CODE
    if report.background:
        return _export_start(request, report, lang)
    params = _report_param_values(request, report)
    try:
        pdf, stored = render_report_pdf(key=key, params=params, language=lang, user=request.user)
    except ReportError as exc:
        return _reports_page(request, error_key=key, error=str(exc), values=params, status=400)
    log_access(
        request=request,
        kind=AccessKind.EXPORT,
        report_key=key,
        params=stored.params if stored else params,
        format="pdf",
        obj=stored,
        site_id=stored.site_id if stored else None,
    )
    filename = f"{stored.document_number}.pdf" if stored else f"{key}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if stored:
        response["X-Document-Number"] = stored.document_number
        response["X-PDF-SHA256"] = stored.sha256
    return response


def _export_start(request, report, lang: str):
    source = request.POST if request.method == "POST" else request.GET
    params = {k: v for k, v in source.items() if k not in ("lang", "page", "format", "csrfmiddlewaretoken")}
    error = ""
    if request.method == "POST":
        try:
            job = export_job_create(
                user=request.user,
                key=report.key,
                params=params,
                fmt=request.POST.get("format", "pdf"),
                language=lang,
            )
        except DomainError as exc:
            error = str(exc)
        else:
            log_access(
                request=request,
                kind=AccessKind.EXPORT,
                report_key=job.key,
                params=job.params,
                format=job.format,
                model="compliance.exportjob",
                object_pk=job.pk,
            )
            return redirect("compliance:export_detail", pk=job.pk)
    labels = {p.name: p.help or p.name for p in report.params}
    return render(
        request,
        "compliance/export_start.html",
        {
            "report": report,
            "params": params,
            "param_rows": [(labels.get(k, k), v) for k, v in params.items() if k in labels and v],
            "formats": [(f, ExportFormat(f).label) for f in report.formats],
            "lang": lang,
            "error": error,
        },
        status=400 if error else 200,
    )


def _reports_page(request, *, error_key: str = "", error: str = "", values=None, status: int = 200):
    reports = []
    for report in reports_for(request.user):
        given = (values or {}) if report.key == error_key else {}
        reports.append(
            {
                "report": report,
                "params": [(p, given.get(p.name, "")) for p in report.params],
                "error": error if report.key == error_key else "",
            }
        )
    return render(
        request,
        "compliance/reports.html",
        {"reports": reports, "lang": request.GET.get("lang") or request.LANGUAGE_CODE},
        status=status,
    )


@require("reports.export")
def reports_index(request):
    return _reports_page(request)


def _visible_generated(user):
    """Generated reports a person may see and download: their own, and, for holders of the report's
    permission, those about a site where they hold it, or (reports across sites) those whose requester's
    sites are all among theirs. Fails closed: another site's report is never offered."""
    from django.db.models import Q

    from qms.core.models import Membership

    qs = GeneratedReport.objects.select_related("generated_by")
    if not policy.can(user, "audit.view"):
        return qs.filter(generated_by=user)
    sites = policy.sites_for(user, "audit.view")
    outsiders = Membership.objects.filter(is_active=True).exclude(site_id__in=sites).values("user_id")
    return qs.filter(
        Q(generated_by=user)
        | Q(site_id__in=sites)
        | (Q(site__isnull=True) & Q(generated_by__isnull=False) & ~Q(generated_by_id__in=outsiders))
    )


@require("reports.export")
def generated_reports(request):
    page = Paginator(_visible_generated(request.user).order_by("-generated_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "compliance/generated_reports.html", {"page_obj": page})


@require("reports.export")
def generated_download(request, pk: int):
    """A stored copy, checked against its SHA-256 before it leaves: a changed file is refused."""
    stored = get_object_or_404(_visible_generated(request.user), pk=pk)
    report = REPORTS.get(stored.key)
    if report is not None and not policy.can(request.user, report.perm, stored.site_id):
        raise PermissionDenied(report.perm)
    try:
        with stored.file.open("rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != stored.sha256:
        return render(
            request,
            "compliance/generated_reports.html",
            {
                "page_obj": None,
                "integrity_error": _(
                    "The stored file of %(number)s is missing or does not match its SHA-256: it is not an authentic copy."
                )
                % {"number": stored.document_number},
            },
            status=409,
        )
    log_access(request=request, kind=AccessKind.DOWNLOAD, obj=stored, report_key=stored.key, format="pdf")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{stored.document_number}.pdf"'
    response["X-PDF-SHA256"] = stored.sha256
    return response


# --- background exports ----------------------------------------------------------------------------------


@require("reports.export")
def exports(request):
    page = Paginator(export_jobs_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "compliance/exports.html", {"page_obj": page})


def _job_or_404(request, pk):
    job = export_job_for_user(request.user, pk)
    if job is None:
        raise Http404(_("There is no such export, or it is not yours to see."))
    return job


@require("reports.export")
def export_detail(request, pk: int):
    """The page of one export; while it runs, an htmx fragment polls its progress."""
    job = _job_or_404(request, pk)
    template = "compliance/partials/_export_progress.html" if _is_htmx(request) else "compliance/export_detail.html"
    return render(request, template, {"job": job})


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@require("reports.export")
def export_download(request, pk: int):
    """The file of a ready export: only for the requester or someone who could have requested it at that
    site; its SHA-256 is checked, then it is streamed (any size, bounded memory) and the download logged."""
    job = _job_or_404(request, pk)
    try:
        fh = export_job_open(job)
    except ExportIntegrityError as exc:
        return render(request, "compliance/export_detail.html", {"job": job, "error": str(exc)}, status=409)
    except DomainError as exc:
        return render(request, "compliance/export_detail.html", {"job": job, "error": str(exc)}, status=400)
    log_access(
        request=request,
        kind=AccessKind.DOWNLOAD,
        report_key=job.key,
        params=job.params,
        format=job.format,
        model="compliance.exportjob",
        object_code=job.filename,
        object_pk=job.pk,
        site_id=job.site_id,
    )
    response = FileResponse(fh, as_attachment=True, filename=job.filename, content_type=CONTENT_TYPES[job.format])
    response["X-Content-SHA256"] = job.sha256
    return response


# --- the access log --------------------------------------------------------------------------------------


@require("audit.view")
def access_log(request):
    """Who signed in, viewed, exported or downloaded what: by user, record code, kind and period."""
    form = AccessFilterForm(request.GET)
    qs = (
        access_events(user=request.user, **form.filters())
        if form.is_valid()
        else access_events(user=request.user).none()
    )
    page = Paginator(qs.select_related("site"), PAGE_SIZE).get_page(request.GET.get("page"))
    export_url = None
    if form.is_valid() and policy.can(request.user, "reports.export"):
        export_url = reverse("compliance:report_pdf", args=["access.log"]) + "?" + urlencode(form.report_params())
    return render(
        request,
        "compliance/access_log.html",
        {"form": form, "page_obj": page, "rows": access_rows(page.object_list), "export_url": export_url},
    )
