"""Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.100, §11.200).

One reusable step for every domain, in two calls: `signature_authenticate(...)` re-authenticates the
signer (password, and the username on the first signature of a session) outside any transaction, so
failed attempts are kept even when the decision rolls back; `signature_record(...)` then records the
meaning, the server time and a SHA-256 of the record's content, with an audit entry. `signature_is_valid` recomputes the hash: when the
record changed after signing, the signature shows as no longer valid.

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
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core.audit import audit_context, snapshot
from qms.core.errors import DomainError, PermissionRefused
from qms.core.services import user_record_failed_attempt, user_record_success

from . import audit_trail
from .models import Signature, SignatureAttempt, SignatureMeaning


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


def record_hash(instance) -> str:
    """SHA-256 over the record's concrete field values (the version being signed)."""
    volatile = DEFAULT_VOLATILE | VOLATILE_FIELDS.get(instance._meta.label_lower, set())
    fields = {f.attname: f for f in instance._meta.concrete_fields}
    values = {k: _canonical(fields[k], v) for k, v in snapshot(instance).items() if k not in volatile}
    payload = json.dumps(
        [instance._meta.label_lower, values], cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False
    )
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


def signature_record(
    *, credential: SignatureCredential, instance, meaning: str, reason: str = "", role: str = ""
) -> Signature:
    """Step 2, inside the domain service's transaction, after the record reached the state being signed."""
    if not isinstance(credential, SignatureCredential):
        raise SignatureRefused(_("The signature needs your password. Sign again."))
    if timezone.now() - credential.authenticated_at > CREDENTIAL_TTL:
        raise SignatureRefused(_("The signing step took too long. Enter your password and sign again."))
    if meaning not in SignatureMeaning.values:
        raise SignatureRefused(_("Unknown signature meaning “%(m)s”.") % {"m": meaning})
    user = credential.user
    with transaction.atomic(), audit_context(user=user, reason=reason):
        sig = Signature.objects.create(
            signer=user,
            printed_name=user.printed_name,
            meaning=meaning,
            role=role,
            model=instance._meta.label_lower,
            object_id=str(instance.pk),
            object_repr=str(instance)[:300],
            record_hash=record_hash(instance),
            reason=reason,
        )
        audit_trail.record(
            instance,
            action="sign",
            changes={
                "meaning": [None, meaning],
                "signer": [None, user.get_username()],
                "record_hash": [None, sig.record_hash],
            },
            reason=reason,
        )
    return sig


def _failed(user, username_given: str, purpose: str, why: str) -> None:
    SignatureAttempt.objects.create(
        user=user, username_given=username_given[:150], model=purpose[:100], object_id="", reason=why
    )
    user_record_failed_attempt(user=user, what=f"failed signature: {why}")


def signatures_for(instance) -> list[Signature]:
    return list(
        Signature.objects.filter(model=instance._meta.label_lower, object_id=str(instance.pk)).select_related("signer")
    )


def signature_is_valid(signature: Signature, instance) -> bool:
    return signature.record_hash == record_hash(instance)


def signatures_with_validity(instance) -> list[tuple[Signature, bool]]:
    current = record_hash(instance)
    return [(s, s.record_hash == current) for s in signatures_for(instance)]


def credential_check_owner(*, user, credential) -> None:
    """The signature belongs to the person deciding: refuse a credential made for someone else."""
    if credential is None or getattr(credential, "user", None) is None or credential.user.pk != user.pk:
        raise PermissionRefused(_("Sign with your own password: the signature belongs to the person deciding."))
