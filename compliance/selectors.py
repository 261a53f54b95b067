"""Reads of the audit trail shared by the pages and the PDF reports: filtering, and turning entries into
rows a person can read (record type and field names in their language, old → new values)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from functools import lru_cache

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry

ACTION_LABELS = {
    "create": _("created"),
    "update": _("changed"),
    "sign": _("signed"),
    "export": _("exported"),
    "verify": _("chain verified"),
    "void": _("voided"),
    "release": _("released"),
    "reject": _("rejected"),
    "approve": _("approved"),
    "obsolete": _("made obsolete"),
    "import": _("imported"),
}

MAX_VALUE_CHARS = 400


class BadFilter(ValueError):
    """A filter value a person typed is not valid; the message says which and why."""

    def __init__(self, name: str, message):
        super().__init__(str(message))
        self.name = name
        self.message = message


def parse_date(name: str, value: str | None) -> datetime.date | None:
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadFilter(
            name,
            _("“%(value)s” is not a date for “%(name)s”: write it as YYYY-MM-DD, e.g. 2026-03-31.")
            % {"value": value, "name": name},
        ) from None


def day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def audited_model_choices() -> list[tuple[str, str]]:
    """(label, verbose name) of every model whose changes go into the trail, without touching the table."""
    from qms.core.audit import RegulatedModel

    labels = [m._meta.label_lower for m in apps.get_models() if issubclass(m, RegulatedModel)]
    labels += ["compliance.generatedreport", "compliance.auditentry"]
    return sorted(((label, str(model_verbose(label))) for label in set(labels)), key=lambda c: c[1].lower())


def get_model_or_none(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def model_verbose(label: str):
    model = get_model_or_none(label)
    return model._meta.verbose_name if model is not None else label


@lru_cache(maxsize=256)
def _field_names(label: str) -> dict[str, object]:
    model = get_model_or_none(label)
    if model is None:
        return {}
    return {f.attname: f.verbose_name for f in model._meta.concrete_fields}


def field_label(label: str, attname: str):
    return _field_names(label).get(attname, attname)


def format_value(value) -> str | None:
    """How an old or new value reads in a table; None stays None (shown as an empty mark)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


@dataclass
class Change:
    name: str
    label: object
    old: str | None
    new: str | None


@dataclass
class EntryRow:
    entry: AuditEntry
    record_type: object
    action_label: object
    changes: list[Change] = field(default_factory=list)

    @property
    def who(self) -> str:
        return self.entry.username or f"({self.entry.source or 'system'})"


def entry_rows(entries) -> list[EntryRow]:
    rows = []
    for e in entries:
        changes = []
        data = e.changes if isinstance(e.changes, dict) else {}
        for name in sorted(data):
            pair = data[name]
            old, new = (pair[0], pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            changes.append(Change(name, field_label(e.model, name), format_value(old), format_value(new)))
        rows.append(EntryRow(e, model_verbose(e.model), ACTION_LABELS.get(e.action, e.action), changes))
    return rows


# Entries without a site describe global records. Master data (parts, customers, suppliers, defect codes)
# is visible to everyone who may read the trail; user accounts are personal data, visible only to those who
# hold audit.verify (quality managers, administrators).
RESTRICTED_GLOBAL_MODELS = frozenset({"core.user"})


def audit_scope(viewer) -> Q:
    """The entries `viewer` may read: those of the sites where they hold audit.view, and global ones as
    above. `viewer=None` is the command line / system (everything)."""
    from qms.core import policy

    if viewer is None:
        return Q()
    q = Q(site_id__in=policy.sites_for(viewer, "audit.view"))
    if policy.can(viewer, "audit.verify"):
        q |= Q(site_id__isnull=True)
    elif policy.can(viewer, "audit.view"):
        q |= Q(site_id__isnull=True) & ~Q(model__in=RESTRICTED_GLOBAL_MODELS)
    return q


def may_view_record_trail(viewer, *, label: str, site_id: int | None) -> bool:
    """May `viewer` see the trail of a record of type `label` filed under `site_id`?"""
    from qms.core import policy

    if viewer is None:
        return True
    if site_id is not None:
        return policy.can(viewer, "audit.view", site_id)
    if label in RESTRICTED_GLOBAL_MODELS:
        return policy.can(viewer, "audit.verify")
    return policy.can(viewer, "audit.view")


def record_site_id(label: str, object_id: str, instance=None) -> int | None:
    """The site a record's trail is filed under: from the record, else from its newest entry."""
    from .audit_trail import site_of

    if instance is not None:
        return site_of(instance)
    return (
        AuditEntry.objects.filter(model=label, object_id=str(object_id), site_id__isnull=False)
        .order_by("-seq")
        .values_list("site_id", flat=True)
        .first()
    )


def audit_entries(
    *,
    viewer,
    model: str = "",
    object_id: str = "",
    username: str = "",
    user_id: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    action: str = "",
) -> QuerySet[AuditEntry]:
    """Entries `viewer` may read (audit_scope) matching the filters, in chain order. Dates are whole UTC
    days, both ends included. `viewer` is required: pass None only for the command line / system."""
    qs = AuditEntry.objects.filter(audit_scope(viewer))
    if model:
        qs = qs.filter(model=model.strip().lower())
    if object_id:
        qs = qs.filter(object_id=str(object_id).strip())
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    elif username:
        qs = qs.filter(username__iexact=username.strip())
    if date_from:
        qs = qs.filter(at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=day_start(date_to + datetime.timedelta(days=1)))
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("seq")
