"""Sign-in protection around django-axes, and a small fail-open rate limiter on the cache.

How the two lock-outs share the work (one source of truth each):
- The *account* lock is the kernel's: `User.locked_until`, set by `user_record_failed_attempt` after
  LOCKOUT_THRESHOLD failed sign-ins or e-signatures in a row (21 CFR 11.300(d)); signatures check it,
  administrators see and lift it (`user_unlock`, which also clears the axes counters of that name).
- The *throttle* is axes': attempts per client address and per username string (known or not, so a locked
  name does not reveal that an account exists), the same threshold and cool-off. Axes keeps no account
  state; it only refuses to try a password while an address or a name is over the limit.
"""

from __future__ import annotations

import ipaddress
import logging

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


class AxesBackend(AxesStandaloneBackend):
    """Axes' check before every password test of a request. E-signature re-authentication has no request
    (it runs inside services); it is counted by the kernel account lock instead, so it passes through."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _trusted_networks() -> list:
    nets = []
    for item in getattr(settings, "QMS_TRUSTED_PROXIES", []) or []:
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return nets


def client_ip(request) -> str | None:
    """The client's address, for the sign-in throttle and the access log alike. X-Forwarded-For is believed
    only behind a trusted proxy: with TRUSTED_PROXIES (addresses or networks) up to the first untrusted hop,
    else with TRUSTED_PROXY_COUNT the hop that many proxies back. Anyone can send the header, so by default
    (neither set) it is ignored."""
    if request is None:
        return None
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    hops = [h for h in (request.META.get("HTTP_X_FORWARDED_FOR", "") or "").split(",") if h.strip()]
    nets = _trusted_networks()
    if nets:
        if not remote or not any(ipaddress.ip_address(remote) in net for net in nets):
            return remote
        for hop in reversed(hops):
            ip = _valid_ip(hop)
            if ip is None:
                return remote
            if not any(ipaddress.ip_address(ip) in net for net in nets):
                return ip
        return remote
    count = settings.TRUSTED_PROXY_COUNT
    if count and len(hops) >= count:
        return _valid_ip(hops[-count]) or remote
    return remote


def axes_username(request, credentials) -> str:
    """Count `Alice` and `alice` as one name (sign-in matches usernames case-insensitively)."""
    name = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or (credentials or {}).get("username") or ""
    return name.strip().lower()


def rate_limited(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """True when `key` was hit more than `limit` times in the current window. Fails open: when the cache
    (Redis) is unreachable the request is allowed and a warning logged, never a 500."""
    import time

    bucket = f"rl:{key}:{int(time.time() // window_seconds)}"
    try:
        cache.add(bucket, 0, window_seconds + 10)
        hits = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        hits = 1
    except Exception as exc:  # noqa: BLE001 - any cache outage: allow, do not fail the page
        log.warning("rate limit %s not checked, cache unavailable: %s", key, exc)
        return False
    return hits > limit


def on_axes_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """A name throttled by axes is signed out everywhere too (the account lock does the same)."""
    from .models import User
    from .services import user_sessions_end

    if username:
        for user in User.objects.filter(username__iexact=username):
            user_sessions_end(user=user)
