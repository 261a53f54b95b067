"""Who and why for every change of a regulated record.

The kernel only defines the contract; `compliance` (one layer up) listens to the signals below and
writes the hash-chained audit trail. Services wrap their writes in `audit_context(user=..., reason=...)`;
the request middleware supplies the user for web requests.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from functools import cached_property

from django.db import models, transaction
from django.db.models.options import Options
from django.dispatch import Signal
from django.utils.translation import gettext as _

from .errors import DomainError


@dataclass(frozen=True)
class AuditActor:
    user: object | None = None
    reason: str = ""
    source: str = "system"


_NOBODY = AuditActor()
_current: contextvars.ContextVar[AuditActor | None] = contextvars.ContextVar("qms_audit_actor", default=None)

# Sent after a regulated row was created or changed: instance, action ("create"/"update"), changes
# ({field: [old, new]}), actor. Sent inside the same transaction as the write.
regulated_saved = Signal()
# Sent after bulk_create of regulated rows: model, instances, actor.
regulated_bulk_created = Signal()


def current_actor() -> AuditActor:
    return _current.get() or _NOBODY


@contextlib.contextmanager
def audit_context(*, user=None, reason: str | None = None, source: str | None = None):
    """Set who is acting and why for the writes inside the block. Nested blocks inherit what they omit."""
    outer = current_actor()
    actor = AuditActor(
        user=user if user is not None else outer.user,
        reason=reason if reason is not None else outer.reason,
        source=source if source is not None else outer.source,
    )
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


class ReasonRequired(DomainError):
    pass


class RegulatedDeleteRefused(DomainError):
    pass


def _field_value(instance, field):
    value = getattr(instance, field.attname)
    if isinstance(field, models.FileField):
        return str(value) if value else ""
    return value


def snapshot(instance) -> dict:
    return {f.attname: _field_value(instance, f) for f in instance._meta.concrete_fields}


class RegulatedQuerySet(models.QuerySet):
    """Bulk writes that would bypass the audit trail are refused; bulk_create is recorded."""

    def update(self, **kwargs):
        raise RegulatedDeleteRefused(
            _("Bulk updates of %(model)s would bypass the audit trail; change each record through its service.")
            % {"model": self.model._meta.verbose_name}
        )

    def bulk_update(self, objs, fields, batch_size=None):
        raise RegulatedDeleteRefused(
            _("Bulk updates of %(model)s would bypass the audit trail; change each record through its service.")
            % {"model": self.model._meta.verbose_name}
        )

    def delete(self):
        raise RegulatedDeleteRefused(
            _("%(model)s records are regulated and cannot be deleted; void or obsolete them instead.")
            % {"model": self.model._meta.verbose_name}
        )

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        regulated_bulk_created.send(sender=self.model, instances=created, actor=current_actor())
        return created


RegulatedManager = models.Manager.from_queryset(RegulatedQuerySet)


class RegulatedModel(models.Model):
    """Base for every record under the audit trail (master data, users, roles and all domain records).

    Creates need no reason; every change to an existing row needs one (`audit_context(reason=...)` or
    `save(reason=...)`). Rows are never deleted.
    """

    # Django's internal manager (`Model._base_manager`: related lookups, refresh_from_db) is a plain,
    # unfiltered RegulatedManager too, so `_base_manager.update()/delete()` is refused like
    # `objects.update()` (see the class_prepared hook below).
    objects = RegulatedManager()

    # Fields whose change alone is bookkeeping, not a regulated edit (no reason required, still recorded).
    audit_exempt_reason_fields: tuple[str, ...] = ("last_login", "failed_logins", "locked_until")

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = dict(zip(field_names, values, strict=False))
        return instance

    def _audit_old_values(self) -> dict | None:
        loaded = getattr(self, "_audit_loaded", None)
        if loaded is not None and len(loaded) == len(self._meta.concrete_fields):
            return loaded
        if self.pk is None:
            return None
        try:
            old = type(self)._base_manager.get(pk=self.pk)
        except type(self).DoesNotExist:
            return None
        return snapshot(old)

    def save(self, *args, reason: str | None = None, **kwargs):
        adding = self._state.adding
        old = None if adding else self._audit_old_values()
        ctx = audit_context(reason=reason) if reason is not None else contextlib.nullcontext(current_actor())
        with ctx as actor:
            new = snapshot(self)
            changes = {}
            if old is None:
                action = "create"
                changes = {k: [None, v] for k, v in new.items() if v not in (None, "")}
            else:
                action = "update"
                changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    names = {self._meta.get_field(n).attname for n in update_fields}
                    changes = {k: v for k, v in changes.items() if k in names}
                if not changes:
                    return super().save(*args, **kwargs)
                if not actor.reason and not set(changes) <= set(self.audit_exempt_reason_fields):
                    raise ReasonRequired(
                        _("A reason for change is required to edit %(model)s “%(obj)s”.")
                        % {"model": self._meta.verbose_name, "obj": self}
                    )
            # The row and its audit entry commit together or not at all.
            with transaction.atomic():
                super().save(*args, **kwargs)
                if action == "create":
                    changes[self._meta.pk.attname] = [None, self.pk]
                regulated_saved.send(sender=type(self), instance=self, action=action, changes=changes, actor=actor)
            self._audit_loaded = snapshot(self)

    def delete(self, *args, **kwargs):
        raise RegulatedDeleteRefused(
            _("%(model)s records are regulated and cannot be deleted; void or obsolete them instead.")
            % {"model": self._meta.verbose_name}
        )


class _RegulatedOptions(Options):
    """Options of a regulated model: its base manager refuses bulk writes. Not `Meta.base_manager_name`:
    a model's own `class Meta` does not inherit it, and a named base manager would put manager changes
    into every app's migrations; this one is computed like Django's auto-created base manager."""

    @cached_property
    def base_manager(self):
        if self.base_manager_name:
            return super().base_manager
        manager = RegulatedManager()
        manager.name = "_base_manager"
        manager.model = self.model
        manager.auto_created = True
        return manager


def _regulated_base_manager(sender, **kwargs):
    if issubclass(sender, RegulatedModel) and not sender._meta.abstract and type(sender._meta) is Options:
        sender._meta.__class__ = _RegulatedOptions
        sender._meta.__dict__.pop("base_manager", None)


models.signals.class_prepared.connect(_regulated_base_manager, dispatch_uid="qms.core.regulated_base_manager")
