"""The reports every installation has: the audit trail (one record, one user over a period, the whole
trail) and the access log. All can grow with the data: they run as background export jobs, export to
CSV/XLSX in chunks of any size, and draw their PDFs with compliance.pdf_table while the entries are read
in chunks (bounded memory, ~3 ms an entry). Past `pdf_max_entries()` (100,000, a safety net) a PDF is
cut with a note naming the filters that narrow the selection.

Registered when the app is ready (imported from ComplianceConfig.ready)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from qms.core.scoping import is_site_scoped, visible_or_none

from .audit_trail import chain_quick_check
from .models import AccessKind
from .reports import Report, ReportError, ReportParam, Table, register_report
from .selectors import (
    BadFilter,
    access_events,
    audit_entries,
    entry_rows,
    get_model_or_none,
    may_view_record_trail,
    model_verbose,
    parse_date,
    record_site_id,
)
from .signatures import signatures_with_validity

TEMPLATE = "compliance/pdf/audit_trail.html"
ACCESS_TEMPLATE = "compliance/pdf/access_log.html"
DEFAULT_DAYS = 30
CHUNK = 2000  # rows read and made readable at a time for CSV/XLSX


def pdf_max_entries() -> int:
    """Past this many entries a PDF is cut with a note (CSV/XLSX have no limit): a safety net, far above
    what a reader pages through (10,000 entries draw in about 30 s; bench/compliance_exports.py)."""
    return int(getattr(settings, "QMS_PDF_MAX_ENTRIES", 100_000))


def _dates(params: dict, *, default_days: int = DEFAULT_DAYS) -> tuple[datetime.date, datetime.date]:
    try:
        date_from = parse_date("from", params.get("from"))
        date_to = parse_date("to", params.get("to"))
    except BadFilter as exc:
        raise ReportError(exc.message, field=exc.name) from None
    today = timezone.now().astimezone(datetime.UTC).date()
    date_to = date_to or today
    date_from = date_from or (date_to - datetime.timedelta(days=default_days - 1))
    if date_from > date_to:
        raise ReportError(
            _("The period is empty: “from” (%(from)s) is after “to” (%(to)s).") % {"from": date_from, "to": date_to},
            field="from",
        )
    return date_from, date_to


def _context(qs, *, title: str, param_rows: list, effective: dict, narrow: str, **extra) -> dict:
    """The report's context; its entries stay a query (`entries`), read in chunks while the PDF is drawn."""
    total = qs.count()
    shown = min(total, pdf_max_entries())
    return {
        "title": title,
        "entries": qs[:shown],
        "total": total,
        "shown": shown,
        "truncated": total > shown,
        "narrow": narrow,
        "chain": chain_quick_check(),
        "param_rows": param_rows,
        "effective_params": effective,
        **extra,
    }


# --- the audit trail ---------------------------------------------------------------------------------


def _record_query(params: dict, user=None):
    label = params["model"].strip().lower()
    object_id = params["id"].strip()
    model = get_model_or_none(label)
    if model is None:
        raise ReportError(
            _("Unknown record type “%(model)s” (parameter “model”). Write it as app.model, e.g. core.part.")
            % {"model": params["model"]},
            field="model",
        )
    instance = visible_or_none(model, object_id)
    allowed = may_view_record_trail(user, label=label, site_id=record_site_id(label, object_id, instance))
    qs = audit_entries(viewer=user, model=label, object_id=object_id)
    # Another site's record reads as "not found", like every other report (no hint that it exists).
    if not allowed or (instance is None and (is_site_scoped(model) or not qs.exists())):
        raise ReportError(
            _("There is no %(type)s with id “%(id)s” (parameter “id”) and no audit trail for it.")
            % {"type": model._meta.verbose_name, "id": object_id},
            field="id",
        )
    record = str(instance) if instance is not None else (qs.values_list("object_repr", flat=True).last() or object_id)
    return label, object_id, model, instance, record, qs


def build_record(params: dict, user) -> dict:
    label, object_id, model, instance, record, qs = _record_query(params, user)
    return _context(
        qs,
        title=_("Audit trail of %(type)s %(record)s") % {"type": model._meta.verbose_name, "record": record},
        param_rows=[(_("Record type"), f"{model_verbose(label)} ({label})"), (_("Record"), record)],
        effective={"model": label, "id": object_id},
        narrow=_("export CSV or XLSX for every entry"),
        signatures=signatures_with_validity(instance) if instance is not None else [],
        show_signatures=True,
        site_id=getattr(instance, "site_id", None),
    )


def _user_query(params: dict, user):
    username = params["user"].strip()
    date_from, date_to = _dates(params)
    User = get_user_model()
    person = User._base_manager.filter(username__iexact=username).first()
    if person is None and not audit_entries(viewer=user, username=username).exists():
        raise ReportError(
            _("There is no user “%(user)s” (parameter “user”). Give the username, e.g. qm.") % {"user": username},
            field="user",
        )
    if person is not None:
        qs = audit_entries(viewer=user, user_id=person.pk, date_from=date_from, date_to=date_to)
        who = f"{person.printed_name} ({person.get_username()})"
    else:
        qs = audit_entries(viewer=user, username=username, date_from=date_from, date_to=date_to)
        who = username
    return username, who, date_from, date_to, qs


def build_user(params: dict, user) -> dict:
    username, who, date_from, date_to, qs = _user_query(params, user)
    return _context(
        qs,
        title=_("Audit trail of user %(user)s, %(from)s to %(to)s") % {"user": who, "from": date_from, "to": date_to},
        param_rows=[(_("User"), who), (_("Period (UTC)"), f"{date_from} – {date_to}")],
        effective={"user": username, "from": date_from.isoformat(), "to": date_to.isoformat()},
        narrow=_("choose a shorter period (“from”, “to”), or export CSV or XLSX for every entry"),
    )


def build_trail(params: dict, user) -> dict:
    date_from, date_to = _dates(params)
    qs = audit_entries(viewer=user, date_from=date_from, date_to=date_to)
    return _context(
        qs,
        title=_("Audit trail, %(from)s to %(to)s") % {"from": date_from, "to": date_to},
        param_rows=[(_("Period (UTC)"), f"{date_from} – {date_to}")],
        effective={"from": date_from.isoformat(), "to": date_to.isoformat()},
        narrow=_(
            "choose a shorter period (“from”, “to”), one user (report “Audit trail of one user”) or one record,"
            " or export CSV or XLSX for every entry"
        ),
    )


def _chunks(qs, size: int = CHUNK) -> Iterator[list]:
    batch = []
    for obj in qs.iterator(chunk_size=size):
        batch.append(obj)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


AUDIT_COLUMNS = [
    gettext_lazy("Sequence"),
    gettext_lazy("Time (UTC)"),
    gettext_lazy("User"),
    gettext_lazy("Record type"),
    gettext_lazy("Record"),
    gettext_lazy("Action"),
    gettext_lazy("Field: old → new"),
    gettext_lazy("Reason"),
    gettext_lazy("Entry SHA-256"),
]


def _change_text(ch) -> str:
    return f"{ch.label}: {'∅' if ch.old is None else ch.old} → {'∅' if ch.new is None else ch.new}"


def audit_table_rows(qs) -> Iterator[list]:
    for batch in _chunks(qs):
        for row in entry_rows(batch):
            e = row.entry
            yield [
                e.seq,
                e.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                row.who,
                str(row.record_type),
                e.object_repr,
                str(row.action_label),
                "\n".join(_change_text(ch) for ch in row.changes),
                e.reason,
                e.hash,
            ]


def _audit_table(qs) -> Table:
    return Table(columns=[str(c) for c in AUDIT_COLUMNS], count=qs.count(), rows=audit_table_rows(qs))


def table_record(params, user) -> Table:
    return _audit_table(_record_query(params, user)[-1])


def table_user(params, user) -> Table:
    return _audit_table(_user_query(params, user)[-1])


def table_trail(params, user) -> Table:
    date_from, date_to = _dates(params)
    return _audit_table(audit_entries(viewer=user, date_from=date_from, date_to=date_to))


# --- the access log ----------------------------------------------------------------------------------


def _access_query(params: dict, user):
    date_from, date_to = _dates(params)
    kind = (params.get("kind") or "").strip()
    if kind and kind not in AccessKind.values:
        raise ReportError(
            _("Unknown kind “%(kind)s” (parameter “kind”). Choose one of: %(known)s.")
            % {"kind": kind, "known": ", ".join(AccessKind.values)},
            field="kind",
        )
    qs = access_events(
        user=user,
        username=params.get("user", ""),
        record=params.get("record", ""),
        kind=kind,
        date_from=date_from,
        date_to=date_to,
    ).order_by("at", "pk")
    rows = [(_("Period (UTC)"), f"{date_from} – {date_to}")]
    if params.get("user"):
        rows.append((_("User"), params["user"]))
    if params.get("record"):
        rows.append((_("Record"), params["record"]))
    if kind:
        rows.append((_("Kind"), str(AccessKind(kind).label)))
    effective = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    effective.update({k: params[k] for k in ("user", "record", "kind") if params.get(k)})
    return qs, date_from, date_to, rows, effective


def access_rows(events) -> list[dict]:
    events = list(events)
    return [{"event": e, "what": access_what(e)} for e in events]


def access_what(e) -> str:
    if e.report_key:
        params = ", ".join(f"{k}={v}" for k, v in sorted(e.params.items()))
        fmt = f" ({e.format.upper()})" if e.format else ""
        return f"{e.report_key}{fmt}" + (f": {params}" if params else "")
    if e.model:
        return f"{str(model_verbose(e.model)).capitalize()} {e.object_code}".strip()
    return ""


def build_access(params: dict, user) -> dict:
    qs, date_from, date_to, param_rows, effective = _access_query(params, user)
    total = qs.count()
    shown = min(total, pdf_max_entries())
    return {
        "title": _("Access log, %(from)s to %(to)s") % {"from": date_from, "to": date_to},
        "events": qs[:shown],
        "total": total,
        "shown": shown,
        "truncated": total > shown,
        "narrow": _("choose a shorter period (“from”, “to”), a user, a record or a kind, or export CSV or XLSX"),
        "param_rows": param_rows,
        "effective_params": effective,
    }


ACCESS_COLUMNS = [
    gettext_lazy("Time (UTC)"),
    gettext_lazy("Kind"),
    gettext_lazy("User"),
    gettext_lazy("What"),
    gettext_lazy("Site"),
    gettext_lazy("IP address"),
    gettext_lazy("Browser"),
    gettext_lazy("Address"),
]


def access_table_rows(qs) -> Iterator[list]:
    """Access events as table rows, read in chunks (one query for the sites of each chunk)."""
    sites = {}
    for batch in _chunks(qs):
        missing = {e.site_id for e in batch if e.site_id and e.site_id not in sites}
        if missing:
            from qms.core.models import Site

            sites.update({s.pk: s.code for s in Site.objects.filter(pk__in=missing)})
        kinds = {}
        for e in batch:
            kind = kinds.get(e.kind)
            if kind is None:
                kind = kinds[e.kind] = str(e.get_kind_display())
            yield [
                e.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                kind,
                e.username,
                access_what(e),
                sites.get(e.site_id, ""),
                e.ip or "",
                e.user_agent,
                e.path,
            ]


def table_access(params, user) -> Table:
    qs, *_rest = _access_query(params, user)
    return Table(columns=[str(c) for c in ACCESS_COLUMNS], count=qs.count(), rows=access_table_rows(qs))


# --- the PDFs: drawn while the entries are read, in bounded memory (compliance.pdf_table) ---------------


def _cut_note(context: dict, kind: str) -> str:
    if kind == "events":
        text = _("Only the first %(shown)s of %(total)s events are listed.")
    else:
        text = _("Only the first %(shown)s of %(total)s entries are listed.")
    return (
        text % {"shown": context["shown"], "total": context["total"]}
        + " "
        + _("To see them all:")
        + f" {context.get('narrow', '')}."
    )


def _progress(progress, total: int):
    if progress is None:
        return None
    return lambda n: progress(n, total)


def _closing(doc) -> None:
    from .pdf_table import MUTED

    doc.paragraph(
        _(
            "This document was generated electronically. The SHA-256 of the PDF file is stored with its document "
            "number; a copy whose hash differs is not an authentic copy."
        ),
        size=7.5,
        color=MUTED,
        hashed=False,
    )


def audit_pdf_rows(qs) -> Iterator[list]:
    """The audit trail as the PDF's rows: read and made readable a chunk at a time."""
    from .pdf_table import Labelled

    for batch in _chunks(qs):
        for row in entry_rows(batch):
            e = row.entry
            yield [
                str(e.seq),
                e.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                row.who,
                [capfirst(str(row.record_type)), e.object_repr],
                str(row.action_label),
                [
                    Labelled(
                        capfirst(str(ch.label)),
                        f" {'∅' if ch.old is None else ch.old} → {'∅' if ch.new is None else ch.new}",
                    )
                    for ch in row.changes
                ],
                e.reason,
            ]


def audit_pdf(context: dict, frame, progress=None) -> tuple[bytes, str]:
    """The audit-trail reports' PDF (audit.record, audit.user, audit.trail)."""
    from .pdf_table import BAD, OK, Column, TablePdf

    doc = TablePdf(
        frame,
        [
            Column("#", 0.07),
            Column(_("Time (UTC)"), 0.11),
            Column(_("User"), 0.11),
            Column(_("Record"), 0.18),
            Column(_("Action"), 0.08),
            Column(_("Field: old → new"), 0.29),
            Column(_("Reason"), 0.16),
        ],
    )
    total = context["total"]
    doc.paragraph(
        ngettext("%(counter)s audit trail entry.", "%(counter)s audit trail entries.", total) % {"counter": total}
    )
    chain = context.get("chain")
    if chain is not None:
        if chain.ok:
            doc.paragraph(
                _("Hash chain: no gap in the %(n)s entries and the newest entries verified.") % {"n": chain.total},
                color=OK,
            )
        else:
            doc.paragraph(
                f"{_('Hash chain: PROBLEM FOUND')}: {chain.problem}"
                + (f" (#{chain.bad_seq})" if chain.bad_seq else ""),
                color=BAD,
            )
    if context["truncated"]:
        doc.paragraph(_cut_note(context, "entries"), color=BAD)
    if context["shown"]:
        doc.table(audit_pdf_rows(context["entries"]), progress=_progress(progress, context["shown"]))
    else:
        doc.paragraph(_("No audit trail entries for this selection."))
    if context.get("show_signatures"):
        _signature_paragraphs(doc, context.get("signatures") or [])
    _closing(doc)
    return doc.finish()


def _signature_paragraphs(doc, signatures) -> None:
    from .pdf_table import BAD, MUTED

    doc.paragraph(_("Electronic signatures"), size=11)
    if not signatures:
        doc.paragraph(_("No signatures."), size=7.5, color=MUTED)
    for sig, valid in signatures:
        head = f"{sig.printed_name} ({sig.signer.username}) · {sig.get_meaning_display()}"
        if sig.role:
            head += f" · {sig.role}"
        when = sig.signed_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
        if sig.reason:
            when += f" · {sig.reason}"
        doc.paragraph(head)
        doc.paragraph(when)
        doc.paragraph(f"{_('Record hash')} {sig.record_hash}", size=7.5, color=MUTED)
        if not valid:
            doc.paragraph(_("NO LONGER VALID: the signed content changed after this signature."), color=BAD)
        elif getattr(sig, "state", "") in ("superseded", "obsolete"):
            doc.paragraph(str(sig.state_label), size=7.5, color=MUTED)


def access_pdf(context: dict, frame, progress=None) -> tuple[bytes, str]:
    """The access log's PDF."""
    from .pdf_table import BAD, Column, TablePdf

    doc = TablePdf(
        frame,
        [
            Column(_("Time (UTC)"), 0.16),
            Column(_("Kind"), 0.11),
            Column(_("User"), 0.10),
            Column(_("What"), 0.31),
            Column(_("Site"), 0.08),
            Column(_("From where"), 0.24),
        ],
    )
    total = context["total"]
    doc.paragraph(ngettext("%(counter)s access event.", "%(counter)s access events.", total) % {"counter": total})
    if context["truncated"]:
        doc.paragraph(_cut_note(context, "events"), color=BAD)
    if context["shown"]:
        rows = (row[:6] for row in access_table_rows(context["events"]))
        doc.table(rows, progress=_progress(progress, context["shown"]))
    else:
        doc.paragraph(_("No access events for this selection."))
    _closing(doc)
    return doc.finish()


FROM = ReportParam("from", help=gettext_lazy("first day, YYYY-MM-DD (default: 30 days ago)"), input_type="date")
TO = ReportParam("to", help=gettext_lazy("last day, YYYY-MM-DD (default: today)"), input_type="date")

register_report(
    Report(
        key="audit.record",
        title=gettext_lazy("Audit trail of one record"),
        template=TEMPLATE,
        pdf=audit_pdf,
        build=build_record,
        table=table_record,
        params=[
            ReportParam("model", required=True, help=gettext_lazy("record type, e.g. core.part")),
            ReportParam("id", required=True, help=gettext_lazy("record id")),
        ],
        perm="audit.view",
        document_prefix="AUD",
    )
)
register_report(
    Report(
        key="audit.user",
        title=gettext_lazy("Audit trail of one user"),
        template=TEMPLATE,
        pdf=audit_pdf,
        build=build_user,
        table=table_user,
        params=[ReportParam("user", required=True, help=gettext_lazy("username, e.g. qm")), FROM, TO],
        perm="audit.view",
        document_prefix="AUD",
        background=True,
    )
)
register_report(
    Report(
        key="audit.trail",
        title=gettext_lazy("Audit trail"),
        template=TEMPLATE,
        pdf=audit_pdf,
        build=build_trail,
        table=table_trail,
        params=[FROM, TO],
        perm="audit.view",
        document_prefix="AUD",
        background=True,
    )
)
register_report(
    Report(
        key="access.log",
        title=gettext_lazy("Access log"),
        template=ACCESS_TEMPLATE,
        pdf=access_pdf,
        build=build_access,
        table=table_access,
        params=[
            FROM,
            TO,
            ReportParam("user", help=gettext_lazy("username (optional)")),
            ReportParam("record", help=gettext_lazy("record code, e.g. an NCR or lot number (optional)")),
            ReportParam("kind", help=gettext_lazy("sign_in, sign_out, sign_in_failed, view, export or download")),
        ],
        perm="audit.view",
        document_prefix="ACC",
        background=True,
    )
)
