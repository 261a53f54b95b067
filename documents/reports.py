"""Registered reports: the document register and the training matrix (PDF, CSV, XLSX)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.reports import Report, ReportError, ReportParam, Table, register_report
from qms.core import policy
from qms.core.models import Site


def _site(params, user, perm) -> Site:
    code = params.get("site")
    site_ids = policy.sites_for(user, perm) if user is not None and getattr(user, "pk", None) else None
    qs = Site.objects.all() if site_ids is None else Site.objects.filter(pk__in=site_ids)
    site = qs.filter(code=code).first() if code else qs.order_by("code").first()
    if site is None:
        raise ReportError(_("No site %(s)s among your sites.") % {"s": code or "-"})
    return site


def _register_rows(site):
    from .models import Document, DocumentVersion

    effective = {v.document_id: v for v in DocumentVersion.objects.filter(document__site=site, status="effective")}
    docs = Document.objects.filter(site=site).select_related("owner").order_by("number")
    for d in docs:
        v = effective.get(d.pk)
        yield [
            d.number,
            d.title,
            d.get_doc_type_display(),
            d.get_status_display(),
            v.label if v else "",
            timezone.localtime(v.effective_at).strftime("%Y-%m-%d") if v and v.effective_at else "",
            v.approved_by.printed_name if v and v.approved_by else "",
            d.owner.printed_name,
            d.next_review_on.isoformat() if d.next_review_on else "",
            ", ".join(d.distribution_role_labels),
        ]


REGISTER_COLUMNS = [
    gettext_lazy("Number"),
    gettext_lazy("Title"),
    gettext_lazy("Type"),
    gettext_lazy("Status"),
    gettext_lazy("Version in force"),
    gettext_lazy("Effective since"),
    gettext_lazy("Approved by"),
    gettext_lazy("Owner"),
    gettext_lazy("Next review due"),
    gettext_lazy("Distribution"),
]


def build_register(params, user) -> dict:
    site = _site(params, user, "documents.register.view")
    return {
        "title": _("Document register %(s)s") % {"s": site.code},
        "site_id": site.pk,
        "site": site,
        "columns": [str(c) for c in REGISTER_COLUMNS],
        "rows": list(_register_rows(site)),
        "effective_params": {"site": site.code},
    }


def table_register(params, user) -> Table:
    from .models import Document

    site = _site(params, user, "documents.register.view")
    return Table(
        columns=[str(c) for c in REGISTER_COLUMNS],
        count=Document.objects.filter(site=site).count(),
        rows=_register_rows(site),
    )


STATE_TEXT = {
    "trained": gettext_lazy("trained"),
    "expired": gettext_lazy("expired"),
    "old_version": gettext_lazy("older version only"),
    "overdue": gettext_lazy("overdue"),
    "open": gettext_lazy("open"),
    "missing": gettext_lazy("not trained"),
}


def _cell_text(cell) -> str:
    if cell is None:
        return ""
    text = str(STATE_TEXT[cell.state])
    if cell.record is not None:
        text += f" v{cell.record.version.label} {timezone.localtime(cell.record.trained_at):%Y-%m-%d}"
        if cell.record.expires_on:
            text += " → " + cell.record.expires_on.isoformat()
    elif cell.task is not None:
        text += " " + cell.task.due_on.isoformat()
    return text


def _matrix(params, user):
    from .selectors import training_matrix

    site = _site(params, user, "training.matrix.view")
    return site, training_matrix(site)


def build_matrix(params, user) -> dict:
    site, matrix = _matrix(params, user)
    return {
        "title": _("Training matrix %(s)s") % {"s": site.code},
        "site_id": site.pk,
        "site": site,
        "columns": [_("Person")] + [d.number for d in matrix.documents],
        "rows": [[u.printed_name] + [_cell_text(c) for c in cells] for u, cells in matrix.rows],
        "effective_params": {"site": site.code},
    }


def table_matrix(params, user) -> Table:
    site, matrix = _matrix(params, user)
    rows = [[u.printed_name] + [_cell_text(c) for c in cells] for u, cells in matrix.rows]
    return Table(columns=[_("Person")] + [d.number for d in matrix.documents], count=len(rows), rows=iter(rows))


def register() -> None:
    register_report(
        Report(
            key="documents.register",
            title=gettext_lazy("Document register"),
            template="documents/pdf/table.html",
            build=build_register,
            params=[ReportParam("site", help=gettext_lazy("site code; your first site when empty"))],
            perm="documents.register.view",
            document_prefix="DOCREG",
            table=table_register,
        )
    )
    register_report(
        Report(
            key="documents.training_matrix",
            title=gettext_lazy("Training matrix"),
            template="documents/pdf/table.html",
            build=build_matrix,
            params=[ReportParam("site", help=gettext_lazy("site code; your first site when empty"))],
            perm="training.matrix.view",
            document_prefix="TRMX",
            table=table_matrix,
        )
    )
