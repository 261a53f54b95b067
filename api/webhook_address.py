"""Where a webhook may be sent. A subscription's address is chosen by an administrator or by the
integration itself (through the API), so the portal must not become a way to reach what the integration
cannot: the host it runs on (loopback), a cloud's metadata service (link-local 169.254.169.254), multicast.

`settings.API_WEBHOOK_ALLOWED_HOSTS`, when set, is the plant's allow-list: exact host names, `.example.com`
for a domain and its sub-domains, or IP networks (`10.20.0.0/16`); nothing else is accepted, and a listed
host may be anywhere (a receiver on the same machine, say). Unset, any host is accepted whose addresses are
not loopback, link-local, multicast, unspecified or reserved (receivers on the plant's private network are).

The address is checked when subscribing and again at every delivery, on the addresses the name resolves to
then; the delivery connects to the address it checked (no second lookup) and follows no redirect.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from .services import ApiError


class AddressRefused(ApiError):
    pass


def _allow_list() -> tuple[set[str], tuple[str, ...], list]:
    names, suffixes, networks = set(), [], []
    for entry in getattr(settings, "API_WEBHOOK_ALLOWED_HOSTS", None) or ():
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        if entry.startswith("."):
            suffixes.append(entry)
        else:
            names.add(entry)
    return names, tuple(suffixes), networks


def _forbidden(ip) -> bool:
    ip = getattr(ip, "ipv4_mapped", None) or ip
    return ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved


def _host_listed(host: str, names, suffixes) -> bool:
    return host in names or any(host.endswith(s) or host == s[1:] for s in suffixes)


def url_check(url: str) -> tuple[str, int, str]:
    """(host, port, scheme) of a well-formed http(s) address the policy admits by name; raises AddressRefused."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise AddressRefused(_("The address is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused(_("The address must start with https:// (or http:// inside the plant's network)."))
    if parts.username or parts.password:
        raise AddressRefused(_("Put no user name or password in the address; deliveries are signed instead."))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise AddressRefused(_("The address has no host."))
    port = port or (443 if parts.scheme == "https" else 80)
    names, suffixes, networks = _allow_list()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if names or suffixes or networks:
        listed = _host_listed(host, names, suffixes) or (literal is not None and any(literal in n for n in networks))
        if not listed and not (literal is None and networks):  # a name may still resolve into a listed network
            raise AddressRefused(
                _("%(host)s is not on this installation's list of webhook receivers (API_WEBHOOK_ALLOWED_HOSTS).")
                % {"host": host}
            )
    elif (literal is not None and _forbidden(literal)) or host == "localhost" or host.endswith(".localhost"):
        raise AddressRefused(
            _("Webhooks are not sent to %(host)s (loopback, link-local or reserved).") % {"host": host}
        )
    return host, port, parts.scheme


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to for `host`, once every address it resolves to passes the policy."""
    names, suffixes, networks = _allow_list()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(_("%(host)s cannot be resolved: %(e)s") % {"host": host, "e": exc}) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise AddressRefused(_("%(host)s cannot be resolved.") % {"host": host})
    if names or suffixes or networks:
        if not _host_listed(host, names, suffixes) and not all(any(a in n for n in networks) for a in addresses):
            raise AddressRefused(
                _("%(host)s is not on this installation's list of webhook receivers (API_WEBHOOK_ALLOWED_HOSTS).")
                % {"host": host}
            )
    else:
        bad = [str(a) for a in addresses if _forbidden(a)]
        if bad:
            raise AddressRefused(
                _("Webhooks are not sent to %(host)s: it resolves to %(ip)s (loopback, link-local or reserved).")
                % {"host": host, "ip": ", ".join(bad)}
            )
    return str(addresses[0])
