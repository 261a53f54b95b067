"""Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.100, §11.200).

One reusable step for every domain, in two calls: `signature_authenticate(...)` re-authenticates the
signer (password, and the username on the first signature of a session) outside any transaction, so
failed attempts are kept even when the decision rolls back; `signature_record(...)` then records the
meaning, the server time and a SHA-256 of the record's signed content, with an audit entry.

What a signature covers is declared on the signable model (the content its signer reviewed):

    signed_fields = ("part", "version", "title", "aql", ...)            # own fields, by name
    signed_children = {"characteristics": ("name", "lower_limit", ...)}  # related rows (reverse FK, m2m,
                                                                        # or a path "disposition__lines")
    signature_closed_states = {"obsolete": "superseded"}               # status -> "superseded"/"obsolete"

Later workflow bookkeeping (status, closing dates, notification times) is left out, so it does not
invalidate the signature; any change of the declared content does. `signature_state` gives one of
VALID, CHANGED (no longer valid), SUPERSEDED (a newer version or a later signed decision replaced it) and
OBSOLETE; superseded and obsolete signatures stay valid for the version signed. Models without a
declaration hash every concrete field except VOLATILE_FIELDS (hash version 1, also used for signatures
made before declarations existed).

Views use `compliance.forms.SignatureForm` (its clean() authenticates and exposes `.credential`); domain
services take the credential and call `signature_record` inside their transaction, after changing the
record, so the signature binds the version that results from the decision.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import authenticate
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.audit import audit_context, snapshot
from qms.core.errors import DomainError, PermissionRefused
from qms.core.services import user_record_failed_attempt, user_record_success

from . import audit_trail
from .models import Signature, SignatureAttempt, SignatureMeaning
from .signing_gates import signing_findings


class SignatureRefused(DomainError):
    pass


CREDENTIAL_TTL = timedelta(minutes=5)


# Fields that change without changing what was signed (bookkeeping), per model label; extend by app.
VOLATILE_FIELDS: dict[str, set[str]] = {}
DEFAULT_VOLATILE = {"updated_at", "modified_at", "last_login", "failed_logins", "locked_until"}


def _canonical(field, value):
    """The value as the database gives it back, so an instance hashes the same before and after a save
    (a Decimal's places, a date or number assigned as a string, an aware time in another zone)."""
    if value is None:
        return None
    try:
        value = field.to_python(value)
    except Exception:  # noqa: BLE001 - an unconvertible value is hashed as it is
        return value
    if isinstance(value, decimal.Decimal) and getattr(field, "decimal_places", None) is not None:
        try:
            value = value.quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
        except decimal.InvalidOperation:
            pass
    elif isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = value.astimezone(datetime.UTC)
    return value


def _legacy_hash(instance) -> str:
    """Hash version 1: the record's concrete field values except the volatile ones."""
    volatile = DEFAULT_VOLATILE | VOLATILE_FIELDS.get(instance._meta.label_lower, set())
    fields = {f.attname: f for f in instance._meta.concrete_fields}
    values = {k: _canonical(fields[k], v) for k, v in snapshot(instance).items() if k not in volatile}
    payload = json.dumps(
        [instance._meta.label_lower, values], cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _values(obj, names) -> dict:
    out = {}
    for name in names:
        f = obj._meta.get_field(name)
        value = getattr(obj, f.attname)
        if isinstance(f, models.FileField):
            out[name] = str(value) if value else ""
        else:
            out[name] = _canonical(f, value)
    return out


def _children(instance, path: str, names) -> list:
    """Rows of a declared child relation, fresh from the database and ordered by pk (a prefetch cache
    or an unsaved change must not decide). `path` is a reverse FK or m2m on the record, optionally after
    forward foreign keys ("disposition__lines"). Queried directly, not through relation descriptors."""
    model, pk = type(instance), instance.pk
    *hops, last = path.split("__")
    for i, hop in enumerate(hops):
        f = model._meta.get_field(hop)
        if i == 0:
            pk = getattr(instance, f.attname)
        else:
            pk = model._base_manager.filter(pk=pk).values_list(f.attname, flat=True).first()
        model = f.related_model
        if pk is None:
            return []
    f = model._meta.get_field(last)
    child = f.related_model
    if f.many_to_many and not f.auto_created:  # forward m2m declared on the record
        lookup = f.related_query_name()
    else:  # reverse FK or reverse m2m
        lookup = f.field.name
    rows = child._base_manager.filter(**{lookup: pk}).order_by("pk")
    return [[row.pk, _values(row, names)] for row in rows]


def is_declared(instance) -> bool:
    return getattr(type(instance), "signed_fields", None) is not None


def signed_content(instance) -> dict:
    """The canonical signed content of a declared record: its declared fields and children."""
    model = type(instance)
    return {
        "record": [instance._meta.label_lower, instance.pk],
        "fields": _values(instance, model.signed_fields),
        "children": {
            path: _children(instance, path, names)
            for path, names in (getattr(model, "signed_children", None) or {}).items()
        },
    }


HASH_VERSION = 2


def record_hash(instance, version: int | None = None) -> str:
    """SHA-256 of what a signature on `instance` covers (the version being signed). Version 2 (declared
    content) when the model declares it, else version 1 (every concrete field but the volatile ones)."""
    version = version or (HASH_VERSION if is_declared(instance) else 1)
    if version == 1 or not is_declared(instance):
        return _legacy_hash(instance)
    payload = json.dumps(signed_content(instance), cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignatureCredential:
    """Proof that the signer re-authenticated just now. Made only by `signature_authenticate`."""

    user: object
    authenticated_at: object


def signature_authenticate(
    *, user, password: str, username: str | None = None, session=None, purpose: str = ""
) -> SignatureCredential:
    """Step 1, outside any transaction: check the signer's password (and username on the first signature
    of a session). Failures are logged and count towards the lock-out; called outside the decision's
    transaction (as SignatureForm does in a view), they stay recorded even when the decision rolls back."""
    if user.is_locked:
        SignatureAttempt.objects.create(
            user=user, username_given=(username or "")[:150], model=purpose[:100], object_id="", reason="account locked"
        )
        raise SignatureRefused(
            _("Your account is locked after repeated failed attempts. Ask an administrator to unlock it.")
        )
    needs_username = session is not None and not session.get("signed_once")
    if needs_username and (username or "").strip().lower() != user.get_username().lower():
        _failed(user, username or "", purpose, "username mismatch")
        raise SignatureRefused(_("Enter your own username and password to sign (first signature of this session)."))
    if not password or authenticate(username=user.get_username(), password=password) is None:
        _failed(user, username or "", purpose, "wrong password")
        if user.is_locked:
            raise SignatureRefused(
                _(
                    "Wrong password. Your account is now locked after repeated failures; ask an administrator to unlock it."
                )
            )
        raise SignatureRefused(_("Wrong password: the signature was not recorded. Enter your password again."))
    user_record_success(user=user)
    if session is not None:
        session["signed_once"] = True
    return SignatureCredential(user=user, authenticated_at=timezone.now())


def _signer(credential, meaning: str):
    """The person behind a fresh credential, for a known meaning; refused otherwise (sign again)."""
    if not isinstance(credential, SignatureCredential):
        raise SignatureRefused(_("The signature needs your password. Sign again."))
    if timezone.now() - credential.authenticated_at > CREDENTIAL_TTL:
        raise SignatureRefused(_("The signing step took too long. Enter your password and sign again."))
    if meaning not in SignatureMeaning.values:
        raise SignatureRefused(_("Unknown signature meaning “%(m)s”.") % {"m": meaning})
    return credential.user


def _signature_row(user, instance, *, meaning: str, role: str, reason: str) -> Signature:
    return Signature(
        signer=user,
        printed_name=user.printed_name,
        meaning=meaning,
        role=role,
        model=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        record_hash=record_hash(instance),
        hash_version=HASH_VERSION if is_declared(instance) else 1,
        reason=reason,
    )


def _sign_changes(sig: Signature, warnings) -> dict:
    """The audit entry of a signature: what was signed, by whom, the record's hash, the gate's warnings."""
    return {
        "meaning": [None, sig.meaning],
        "signer": [None, sig.signer.get_username()],
        "record_hash": [None, sig.record_hash],
        **({"warnings": [None, warnings]} if warnings else {}),
    }


def signature_record(
    *, credential: SignatureCredential, instance, meaning: str, reason: str = "", role: str = ""
) -> Signature:
    """Step 2, inside the domain service's transaction, after the record reached the state being signed."""
    user = _signer(credential, meaning)
    findings = signing_findings(meaning=meaning, instance=instance, signer=user)
    refusals = [f.message for f in findings if f.block]
    if refusals:
        raise SignatureRefused(" ".join(refusals))
    warnings = [f.message for f in findings if not f.block]
    with transaction.atomic(), audit_context(user=user, reason=reason):
        sig = _signature_row(user, instance, meaning=meaning, role=role, reason=reason)
        sig.save()
        audit_trail.record(instance, action="sign", changes=_sign_changes(sig, warnings), reason=reason)
        if warnings:
            _warn_signer(user, sig, instance, warnings)
    sig.warnings = warnings
    return sig


def signature_record_many(
    *, credential: SignatureCredential, instances: list, meaning: str, reason: str = "", role: str = ""
) -> list[Signature]:
    """Step 2 for many records signed with one re-authentication (a history import of released lots):
    the same checks and the same rows as `signature_record` for each record, written in bulk (one INSERT
    per 2,000 signatures, one append to the audit trail for all). Returned in the order of `instances`."""
    user = _signer(credential, meaning)
    # The same pre-signature checks as one signature each: any refusal refuses them all.
    findings = [signing_findings(meaning=meaning, instance=i, signer=user) for i in instances]
    refusals = [f.message for found in findings for f in found if f.block]
    if refusals:
        raise SignatureRefused(" ".join(dict.fromkeys(refusals)))
    warnings = [[f.message for f in found if not f.block] for found in findings]
    with transaction.atomic(), audit_context(user=user, reason=reason):
        sigs = [_signature_row(user, i, meaning=meaning, role=role, reason=reason) for i in instances]
        Signature.objects.bulk_create(sigs, batch_size=2000)
        audit_trail.append(
            [
                audit_trail.PendingEntry(
                    instance._meta.label_lower,
                    str(instance.pk),
                    str(instance),
                    "sign",
                    _sign_changes(sig, warned),
                    reason,
                    audit_trail.site_of(instance),
                )
                for instance, sig, warned in zip(instances, sigs, warnings, strict=True)
            ]
        )
        for instance, sig, warned in zip(instances, sigs, warnings, strict=True):
            sig.warnings = warned
            if warned:
                _warn_signer(user, sig, instance, warned)
    return sigs


def _warn_signer(user, sig, instance, warnings) -> None:
    """A pre-signature check warned: the signature stands; the signer reads why in the inbox."""
    from qms.core.i18n import LazyFormat
    from qms.core.models import Site
    from qms.core.services import notification_send

    from .audit_trail import site_of

    site = Site.objects.filter(pk=site_of(instance)).first()
    transaction.on_commit(
        lambda: notification_send(
            recipients=[user],
            subject=LazyFormat(
                gettext_lazy("Your signature on %(record)s was recorded with a warning"), record=str(instance)[:200]
            ),
            body="\n".join(warnings),
            dedup_key=f"signature-warning:{sig.pk}",
            site=site,
            level="warning",
        )
    )


def _failed(user, username_given: str, purpose: str, why: str) -> None:
    SignatureAttempt.objects.create(
        user=user, username_given=username_given[:150], model=purpose[:100], object_id="", reason=why
    )
    user_record_failed_attempt(user=user, what=f"failed signature: {why}")


def signatures_for(instance) -> list[Signature]:
    return list(
        Signature.objects.filter(model=instance._meta.label_lower, object_id=str(instance.pk)).select_related("signer")
    )


VALID = "valid"
CHANGED = "changed"
SUPERSEDED = "superseded"
OBSOLETE = "obsolete"

STATE_LABELS = {
    VALID: gettext_lazy("Valid"),
    CHANGED: gettext_lazy("No longer valid: the signed content changed after signing."),
    SUPERSEDED: gettext_lazy(
        "Superseded: a newer version or a later signed decision replaced this one; valid for the version signed."
    ),
    OBSOLETE: gettext_lazy("Record obsolete; the signature stays valid for the version signed."),
}


class _Hashes:
    """Current hashes of one record, per hash version, computed once."""

    def __init__(self, instance):
        self.instance, self._by_version = instance, {}

    def __call__(self, version: int) -> str:
        if version not in self._by_version:
            self._by_version[version] = record_hash(self.instance, version)
        return self._by_version[version]


def _closed_state(instance) -> str | None:
    """SUPERSEDED or OBSOLETE when the record declares it is (a method `signature_closed_state()` or a
    status map `signature_closed_states`), else None."""
    hook = getattr(instance, "signature_closed_state", None)
    if callable(hook):
        state = hook()
        if state:
            return state
    states = getattr(type(instance), "signature_closed_states", None) or {}
    return states.get(getattr(instance, "status", None))


def signature_state(signature: Signature, instance, *, later_signed: bool = False, hashes=None) -> str:
    """VALID, CHANGED, SUPERSEDED or OBSOLETE (the last two are valid for the version signed).
    `later_signed`: a later signature on the same record exists (a later decision replaced this one)."""
    hashes = hashes or _Hashes(instance)
    closed = _closed_state(instance)
    if signature.record_hash != hashes(signature.hash_version or 1):
        if later_signed:
            return SUPERSEDED
        if closed == SUPERSEDED and getattr(type(instance), "signed_content_shared_with_successor", False):
            return SUPERSEDED  # its content now belongs to the version that replaced it
        return CHANGED
    return closed or VALID


def is_state_valid(state: str) -> bool:
    return state != CHANGED


def signature_is_valid(signature: Signature, instance) -> bool:
    later = Signature.objects.filter(
        model=signature.model, object_id=signature.object_id, signed_at__gt=signature.signed_at
    ).exists()
    return is_state_valid(signature_state(signature, instance, later_signed=later))


def _annotate(sigs: list[Signature], instance) -> list[tuple[Signature, bool]]:
    hashes = _Hashes(instance)
    out = []
    ordered = sorted(sigs, key=lambda s: (s.signed_at, s.pk))
    for i, sig in enumerate(ordered):
        sig.state = signature_state(sig, instance, later_signed=i < len(ordered) - 1, hashes=hashes)
        sig.state_label = STATE_LABELS[sig.state]
        out.append((sig, is_state_valid(sig.state)))
    return out


def signatures_with_validity(instance) -> list[tuple[Signature, bool]]:
    """(signature, valid) per signature of the record, oldest first; each signature also carries
    `.state` (VALID/CHANGED/SUPERSEDED/OBSOLETE) and `.state_label` for display."""
    return _annotate(signatures_for(instance), instance)


def signatures_with_validity_many(instances) -> dict:
    """The same for several records of one model, in one query: {pk: [(signature, valid), ...]}."""
    if not instances:
        return {}
    label = instances[0]._meta.label_lower
    by_id = {str(i.pk): i for i in instances}
    grouped: dict[str, list] = {}
    for sig in Signature.objects.filter(model=label, object_id__in=list(by_id)).select_related("signer"):
        grouped.setdefault(sig.object_id, []).append(sig)
    return {by_id[oid].pk: _annotate(sigs, by_id[oid]) for oid, sigs in grouped.items()}


def credential_check_owner(*, user, credential) -> None:
    """The signature belongs to the person deciding: refuse a credential made for someone else."""
    if credential is None or getattr(credential, "user", None) is None or credential.user.pk != user.pk:
        raise PermissionRefused(_("Sign with your own password: the signature belongs to the person deciding."))
