"""The audit-trail reports every installation has: one record, one user over a period, the whole trail.

Registered when the app is ready (imported from ComplianceConfig.ready)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.scoping import is_site_scoped, visible_or_none

from .audit_trail import chain_quick_check
from .reports import Report, ReportError, ReportParam, register_report
from .selectors import (
    BadFilter,
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
MAX_PDF_ENTRIES = 5000  # a longer trail is cut, with a note to narrow the period
DEFAULT_DAYS = 30


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


def _context(qs, *, title: str, param_rows: list, effective: dict, **extra) -> dict:
    total = qs.count()
    entries = list(qs[:MAX_PDF_ENTRIES])
    check = chain_quick_check()
    return {
        "title": title,
        "rows": entry_rows(entries),
        "total": total,
        "shown": len(entries),
        "truncated": total > len(entries),
        "chain": check,
        "param_rows": param_rows,
        "effective_params": effective,
        **extra,
    }


def build_record(params: dict, user) -> dict:
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
    if not may_view_record_trail(user, label=label, site_id=record_site_id(label, object_id, instance)):
        raise PermissionDenied("audit.view")
    qs = audit_entries(viewer=user, model=label, object_id=object_id)
    if instance is None and (is_site_scoped(model) or not qs.exists()):
        raise ReportError(
            _("There is no %(type)s with id “%(id)s” (parameter “id”) and no audit trail for it.")
            % {"type": model._meta.verbose_name, "id": object_id},
            field="id",
        )
    record = str(instance) if instance is not None else (qs.values_list("object_repr", flat=True).last() or object_id)
    signatures = signatures_with_validity(instance) if instance is not None else []
    return _context(
        qs,
        title=_("Audit trail of %(type)s %(record)s") % {"type": model._meta.verbose_name, "record": record},
        param_rows=[
            (_("Record type"), f"{model_verbose(label)} ({label})"),
            (_("Record id"), object_id),
            (_("Record"), record),
        ],
        effective={"model": label, "id": object_id},
        signatures=signatures,
        show_signatures=True,
    )


def build_user(params: dict, user) -> dict:
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
    return _context(
        qs,
        title=_("Audit trail of user %(user)s, %(from)s to %(to)s") % {"user": who, "from": date_from, "to": date_to},
        param_rows=[(_("User"), who), (_("Period (UTC)"), f"{date_from} – {date_to}")],
        effective={"user": username, "from": date_from.isoformat(), "to": date_to.isoformat()},
    )


def build_trail(params: dict, user) -> dict:
    date_from, date_to = _dates(params)
    qs = audit_entries(viewer=user, date_from=date_from, date_to=date_to)
    return _context(
        qs,
        title=_("Audit trail, %(from)s to %(to)s") % {"from": date_from, "to": date_to},
        param_rows=[(_("Period (UTC)"), f"{date_from} – {date_to}")],
        effective={"from": date_from.isoformat(), "to": date_to.isoformat()},
    )


FROM = ReportParam("from", help=gettext_lazy("first day, YYYY-MM-DD (default: 30 days ago)"), input_type="date")
TO = ReportParam("to", help=gettext_lazy("last day, YYYY-MM-DD (default: today)"), input_type="date")

register_report(
    Report(
        key="audit.record",
        title=gettext_lazy("Audit trail of one record"),
        template=TEMPLATE,
        build=build_record,
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
        build=build_user,
        params=[ReportParam("user", required=True, help=gettext_lazy("username, e.g. qm")), FROM, TO],
        perm="audit.view",
        document_prefix="AUD",
    )
)
register_report(
    Report(
        key="audit.trail",
        title=gettext_lazy("Audit trail"),
        template=TEMPLATE,
        build=build_trail,
        params=[FROM, TO],
        perm="audit.view",
        document_prefix="AUD",
    )
)
