"""Every write of the API app: service accounts, tokens, idempotent calls (webhooks: api/webhooks.py).

Tokens look like ``qms_<prefix>_<secret>``: the prefix finds the row, the sha256 of the whole token is
compared in constant time. The token is returned once by `token_create` and never stored.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.audit import audit_context
from qms.core.codes import clean_code
from qms.core.errors import DomainError
from qms.core.models import Membership, Role, User

from .models import ApiToken, IdempotentCall, ServiceAccount, System, TokenUse

TOKEN_PREFIX = "qms_"
USE_RECORD_SECONDS = 60  # last-used time and address are written at most this often per token


class ApiError(DomainError):
    pass


class TokenRefused(DomainError):
    pass


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_sites(user, sites) -> None:
    for site in sites:
        policy.check(user, "api.manage", site)


def account_manage_check(user, account: ServiceAccount) -> None:
    """Managing an integration (tokens, webhooks, switching it off) needs the API management permission at
    every site it serves: its webhooks carry those plants' data. An account with no site: any administrator."""
    site_ids = set(account.user.memberships.values_list("site_id", flat=True))
    if not site_ids:
        policy.check(user, "api.manage")
    for site_id in sorted(site_ids):
        policy.check(user, "api.manage", site_id)


def service_account_create(
    *,
    username: str,
    system: str,
    user,
    roles: dict | None = None,
    description: str = "",
    owner=None,
    display_name: str = "",
) -> ServiceAccount:
    """A new integration user with its site-scoped roles ({site: [role, ...]}). The administrator may give
    roles only at the sites where they hold the API management permission."""
    username = clean_code(username, label=_("name"), max_length=60).lower()
    if system not in System.values:
        raise ApiError(_("Unknown system “%(s)s”.") % {"s": system})
    roles = roles or {}
    _check_sites(user, roles.keys())
    for role_list in roles.values():
        for role in role_list:
            if role not in Role.values or role == Role.ADMINISTRATOR:
                raise ApiError(_("A service account cannot hold the role “%(r)s”.") % {"r": role})
    with transaction.atomic(), audit_context(user=user, reason=_("service account created")):
        if User._base_manager.filter(username__iexact=username).exists():
            raise ApiError(_("The name %(n)s is already taken.") % {"n": username})
        account_user = User(username=username, display_name=display_name or username, is_active=True)
        account_user.set_unusable_password()
        account_user.save()
        account = ServiceAccount.objects.create(
            user=account_user, system=system, description=description, owner=owner or user, created_by=user
        )
        for site, role_list in roles.items():
            for role in sorted(set(role_list)):
                Membership.objects.create(user=account_user, site=site, role=role)
    return account


def service_account_deactivate(*, account: ServiceAccount, user, reason: str) -> ServiceAccount:
    """Switch an integration off: its tokens stop working at once (the account is kept, never deleted)."""
    if not (reason or "").strip():
        raise ApiError(_("Give the reason."))
    account_manage_check(user, account)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        account = ServiceAccount.objects.select_for_update().get(pk=account.pk)
        account.is_active = False
        account.save()
        account_user = account.user
        account_user.is_active = False
        account_user.save()
    return account


def token_create(*, account: ServiceAccount, user, name: str = "", expires_in_days: int | None = 365) -> tuple:
    """Issue a token for `account`: returns (token row, the token text shown once)."""
    account_manage_check(user, account)
    if not account.is_active:
        raise ApiError(_("Service account %(n)s is switched off.") % {"n": account.name})
    if expires_in_days is not None and not (1 <= int(expires_in_days) <= 3650):
        raise ApiError(_("A token expires after 1 to 3650 days."))
    expires_at = timezone.now() + datetime.timedelta(days=int(expires_in_days)) if expires_in_days else None
    with transaction.atomic(), audit_context(user=user, reason=_("API token issued")):
        for _attempt in range(5):
            prefix = secrets.token_hex(5)
            raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
            try:
                with transaction.atomic():
                    token = ApiToken.objects.create(
                        account=account,
                        name=(name or "").strip()[:100] or _("token"),
                        prefix=prefix,
                        secret_hash=_hash(raw),
                        created_by=user,
                        expires_at=expires_at,
                    )
                break
            except IntegrityError:  # a prefix collision: draw again
                continue
        else:  # pragma: no cover
            raise ApiError(_("Could not issue a token; try again."))
        TokenUse.objects.create(token=token)
    return token, raw


def token_revoke(*, token: ApiToken, user, reason: str) -> ApiToken:
    if not (reason or "").strip():
        raise ApiError(_("Give the reason for revoking the token."))
    account_manage_check(user, token.account)
    with transaction.atomic(), audit_context(user=user, reason=reason):
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = user
        token.revoke_reason = reason.strip()[:300]
        token.save()
    return token


def token_authenticate(raw: str, *, ip: str | None = None) -> ApiToken:
    """The token row for `raw`, or TokenRefused saying why (unknown, revoked, expired, switched off)."""
    raw = (raw or "").strip()
    parts = raw.split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != TOKEN_PREFIX or not parts[1] or len(raw) > 200:
        raise TokenRefused(_("The token is malformed. Send “Authorization: Bearer qms_…”."))
    token = ApiToken.objects.select_related("account__user", "use").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(raw)):
        raise TokenRefused(_("The token is not valid."))
    now = timezone.now()
    if token.revoked_at:
        raise TokenRefused(_("The token was revoked."))
    if token.expires_at and token.expires_at <= now:
        raise TokenRefused(_("The token expired; ask your administrator for a new one."))
    if not token.account.is_active or not token.account.user.is_active:
        raise TokenRefused(_("The service account is switched off."))
    use = getattr(token, "use", None)
    if use is None or use.last_used_at is None or (now - use.last_used_at).total_seconds() >= USE_RECORD_SECONDS:
        TokenUse.objects.update_or_create(token=token, defaults={"last_used_at": now, "last_used_ip": ip})
    return token


# ------------------------------------------------------------------------------------------ idempotency


def request_hash(method: str, path: str, body) -> str:
    return _hash(method + " " + path + " " + json.dumps(body, sort_keys=True, default=str, separators=(",", ":")))


def idempotent_begin(*, user, key: str, path: str, digest: str) -> tuple[IdempotentCall, bool]:
    """Claim `key` for this call inside the caller's transaction: (row, True) when an earlier call with the
    same key and request finished (answer with its stored response), (new row, False) when this is the
    first. A concurrent call with the same key waits for the first one's transaction."""
    key = (key or "").strip()
    if not key or len(key) > 200:
        raise ApiError(_("Send an Idempotency-Key header of 1 to 200 characters (e.g. a UUID per call)."))
    try:
        with transaction.atomic():
            # A concurrent call with the same key waits here on the unique index until the first commits.
            return IdempotentCall.objects.create(user=user, key=key, path=path, request_hash=digest), False
    except IntegrityError:
        row = IdempotentCall.objects.select_for_update().get(user=user, key=key)
    if row.request_hash != digest or row.path != path:
        raise ApiError(
            _("The Idempotency-Key %(k)s was already used for a different request; use a new key.") % {"k": key},
            code="idempotency_conflict",
        )
    if row.status_code is None:  # pragma: no cover - only a crashed call leaves this
        raise ApiError(_("A call with this Idempotency-Key is still running."), code="idempotency_conflict")
    return row, True


def idempotent_finish(*, call: IdempotentCall, status_code: int, response) -> None:
    call.status_code = status_code
    call.response = response
    call.save(update_fields=["status_code", "response"])


def housekeeping(*, now=None) -> dict:
    """Forget idempotency keys after settings.API_IDEMPOTENCY_KEEP_DAYS (a retry comes within minutes) and
    webhook delivery log rows after settings.API_WEBHOOK_LOG_KEEP_DAYS. Neither is a regulated record."""
    from django.conf import settings

    from .models import WebhookDelivery

    now = now or timezone.now()
    keys, _ = IdempotentCall.objects.filter(
        created_at__lt=now - datetime.timedelta(days=settings.API_IDEMPOTENCY_KEEP_DAYS)
    ).delete()
    log, _ = (
        WebhookDelivery.objects.filter(created_at__lt=now - datetime.timedelta(days=settings.API_WEBHOOK_LOG_KEEP_DAYS))
        .exclude(status="pending")
        .delete()
    )
    return {"idempotency_keys": keys, "deliveries": log}
