"""Reads of the audit trail shared by the pages and the PDF reports: filtering, and turning entries into
rows a person can read (record type and field names in their language, old → new values)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from functools import lru_cache

from django.apps import apps
from django.core.exceptions import ValidationError
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
def _fields(label: str) -> dict[str, object]:
    """attname (and name, for many-to-many) -> model field of an audited model."""
    model = get_model_or_none(label)
    if model is None:
        return {}
    fields = {f.attname: f for f in model._meta.concrete_fields}
    fields.update({f.name: f for f in model._meta.many_to_many})
    return fields


def field_label(label: str, attname: str):
    f = _fields(label).get(attname)
    return f.verbose_name if f is not None else attname


def format_value(value) -> str | None:
    """How an old or new value reads in a table; None stays None (shown as an empty mark)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = str(_("yes") if value else _("no"))
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
    user_label: str = ""

    @property
    def who(self) -> str:
        return self.user_label or self.entry.username or f"({self.entry.source or 'system'})"


CODE_ATTRS = ("code", "number", "document_number")
NAME_ATTRS = ("name", "title")


def record_label(obj) -> str:
    """A related record as a person names it: its code and name ("BRG-6204 · Deep groove bearing"), a
    person's printed name and username, else its own text."""
    from django.contrib.auth import get_user_model

    if isinstance(obj, get_user_model()):
        return f"{obj.printed_name} ({obj.get_username()})"
    code = next((str(getattr(obj, a)) for a in CODE_ATTRS if getattr(obj, a, None)), "")
    name = next((str(getattr(obj, a)) for a in NAME_ATTRS if getattr(obj, a, None)), "")
    if code or name:
        return " · ".join(p for p in (code, name) if p)
    return str(obj)


def _relation_target(f):
    if f is None or not getattr(f, "is_relation", False) or f.related_model is None:
        return None
    return f.related_model if (f.many_to_one or f.one_to_one or f.many_to_many) else None


def _as_list(value) -> list:
    return list(value) if isinstance(value, list | tuple) else [value]


def resolve_references(entries) -> dict:
    """{model: {str(pk): label}} for every related record the entries mention (foreign keys in their
    changes, their users): one query per related model, whatever the number of entries."""
    from django.contrib.auth import get_user_model

    wanted: dict = {}
    for e in entries:
        fields = _fields(e.model)
        data = e.changes if isinstance(e.changes, dict) else {}
        for name, pair in data.items():
            target = _relation_target(fields.get(name))
            if target is None:
                continue
            for value in pair if isinstance(pair, list | tuple) and len(pair) == 2 else [pair]:
                for pk in _as_list(value) if value is not None else []:
                    if isinstance(pk, int | str) and str(pk):
                        wanted.setdefault(target, set()).add(str(pk))
        if e.user_id:
            wanted.setdefault(get_user_model(), set()).add(str(e.user_id))
    labels: dict = {}
    for model, pks in wanted.items():
        clean = []
        for pk in pks:
            try:
                clean.append(model._meta.pk.to_python(pk))
            except ValidationError:  # an id of the wrong type is simply shown as it is
                continue
        one_level = [f.name for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]
        qs = model._base_manager.filter(pk__in=clean)
        attrs = [getattr(model, a, None) for a in CODE_ATTRS + NAME_ATTRS]
        if all(a is None for a in attrs) or any(isinstance(a, property) for a in attrs):
            # str() of code-less records often names their parent; a computed name reads a related record
            qs = qs.select_related(*one_level)
        labels[model] = {str(obj.pk): record_label(obj) for obj in qs}
    return labels


class _Words:
    """Translated words for one call of entry_rows: each field name, choice label and record type is
    translated once, not once per entry (gettext dominated the cost of long exports)."""

    def __init__(self):
        self.cache: dict = {}

    def get(self, key, make):
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = make()
        return value

    def choices(self, f) -> dict:
        return self.get(("choices", id(f)), lambda: {k: str(v) for k, v in f.flatchoices})

    def yes_no(self, value: bool) -> str:
        return self.get(("bool", value), lambda: str(_("yes") if value else _("no")))


def _readable(f, value, labels: dict, words: _Words) -> str | None:
    if value is None:
        return None
    target = _relation_target(f)
    if target is not None:
        names = labels.get(target, {})
        parts = [names.get(str(pk), f"#{pk}") for pk in _as_list(value)]
        return format_value(", ".join(parts))
    if f is not None and f.choices:
        label = words.choices(f).get(value)
        if label is not None:
            return format_value(label)
    if isinstance(value, bool):
        return words.yes_no(value)
    return format_value(value)


def entry_rows(entries) -> list[EntryRow]:
    """Entries as rows a person reads: field names, related records by code and name, choice values by
    their (translated) labels, users by name. Queries: one per related record type, not per entry."""
    from django.contrib.auth import get_user_model

    entries = list(entries)
    labels = resolve_references(entries)
    users = labels.get(get_user_model(), {})
    words = _Words()
    rows = []
    for e in entries:
        changes = []
        fields = _fields(e.model)
        data = e.changes if isinstance(e.changes, dict) else {}
        for name in sorted(data):
            pair = data[name]
            old, new = (pair[0], pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
            f = fields.get(name)
            label = words.get(("field", e.model, name), lambda f=f, name=name: str(f.verbose_name) if f else name)
            changes.append(Change(name, label, _readable(f, old, labels, words), _readable(f, new, labels, words)))
        rows.append(
            EntryRow(
                e,
                words.get(("model", e.model), lambda e=e: str(model_verbose(e.model))),
                words.get(("action", e.action), lambda e=e: str(ACTION_LABELS.get(e.action, e.action))),
                changes,
                users.get(str(e.user_id), "") if e.user_id else "",
            )
        )
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
    record: str = "",
) -> QuerySet[AuditEntry]:
    """Entries `viewer` may read (audit_scope) matching the filters, in chain order. Dates are whole UTC
    days, both ends included. `viewer` is required: pass None only for the command line / system."""
    qs = AuditEntry.objects.filter(audit_scope(viewer))
    if record:
        qs = qs.filter(object_repr__icontains=record.strip())
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


def access_events(
    *,
    user,
    username: str = "",
    record: str = "",
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet:
    """Access events `user` may read (audit.view): those at their sites, and those without a site
    (sign-ins, exports across sites) of people who share one of their sites. Newest first."""
    from django.db.models import Q

    from qms.core import policy
    from qms.core.models import Membership

    from .models import AccessEvent

    sites = policy.sites_for(user, "audit.view")
    if not sites:
        return AccessEvent.objects.none()
    colleagues = Membership.objects.filter(site_id__in=sites).values("user_id")
    qs = AccessEvent.objects.filter(
        Q(site_id__in=sites) | Q(site__isnull=True, user_id__in=colleagues) | Q(site__isnull=True, user__isnull=True)
    )
    if username:
        qs = qs.filter(username__iexact=username.strip())
    if record:
        qs = qs.filter(object_code__iexact=record.strip())
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=day_start(date_to + datetime.timedelta(days=1)))
    return qs.order_by("-at", "-pk")
