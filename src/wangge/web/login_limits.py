"""Who is locked out after failed logins (django-axes, configured in settings).

Two limits, so that a stranger can lock out only themselves:
- a user name from one address: WANGGE_LOGIN_FAILURE_LIMIT failures (5) lock that pair,
  not the user's own logins from their office or phone;
- one address, whatever user names it tries: WANGGE_LOGIN_ADDRESS_LIMIT failures (30) lock
  that address — the slower, global limit against guessing many names from one place.
Both last AXES_COOLOFF_TIME. The client's address is the peer's, unless the peer is a
trusted reverse proxy (WANGGE_TRUSTED_PROXIES), whose X-Forwarded-For is then read.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(spec: str) -> Network | None:
    try:
        return ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return None


def invalid_proxies(specs: list[str]) -> list[str]:
    """The entries of WANGGE_TRUSTED_PROXIES that are no address or network (a start-up
    error, web/checks.py); until fixed they are ignored rather than failing every login."""
    return [s for s in specs if _network(s) is None]


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(net for s in spec if (net := _network(s)) is not None)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(request: HttpRequest) -> str | None:
    """The address a login came from. X-Forwarded-For is believed only as far as it was
    written by trusted proxies: the first hop from the right that is not one is the client."""
    peer = request.META.get("REMOTE_ADDR")
    networks = _networks(tuple(settings.WANGGE_TRUSTED_PROXIES))
    if not peer or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a forged or broken header: fall back to the proxy itself
    return peer


class LoginLimitHandler(AxesDatabaseHandler):
    """Axes' per (user name, address) lock, plus the per-address limit above."""

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= max(settings.WANGGE_LOGIN_ADDRESS_LIMIT, 1)

    def user_login_failed(self, sender: object, credentials: dict,
                          request: HttpRequest | None = None, **kwargs: object) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # Axes flags a lockout (the 429 page) only for its own limit: flag ours too.
        if request is not None and not getattr(request, "axes_locked_out", False) and (
                address_failures(request) >= max(settings.WANGGE_LOGIN_ADDRESS_LIMIT, 1)):
            request.axes_locked_out = True


def address_failures(request: HttpRequest) -> int:
    """Failures from the request's address within the cool-off; 0 when the address limit is
    off (WANGGE_LOGIN_ADDRESS_LIMIT=0, for offices where many people share one address)."""
    address = getattr(request, "axes_ip_address", None)
    if not address or settings.WANGGE_LOGIN_ADDRESS_LIMIT <= 0:
        return 0
    total = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    ).aggregate(n=Sum("failures_since_start"))["n"]
    return total or 0
