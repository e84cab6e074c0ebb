"""A cap on what one address may create on the public pages per hour (applications opened,
proxy bookings): a signed-out page that makes records and books a grid worker's time is
an invitation to flood it.

The project's only other limit on the public side is the login lock (django-axes, which
counts failures, not creates), so this is a small counter in Django's cache: one key per
address and clock hour, added then incremented (both atomic in every cache backend).
The client's address is the one axes uses (`AXES_CLIENT_IP_CALLABLE`, i.e.
`web.login_limits.client_address`: X-Forwarded-For only from trusted proxies), so both
limits see the same person behind a reverse proxy.

The default cache is per process (LocMemCache): with several app processes the cap is per
process, i.e. at most processes × the limit. A deployment that needs an exact cap sets a
shared cache (CACHES, e.g. Django's database or Redis cache); nothing here changes.

Setting: WANGGE_SERVICES_PUBLIC_PER_HOUR (default 10 creates per address per hour;
0 turns the cap off, for a service hall's kiosk behind one address).
"""

from __future__ import annotations

import os

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

DEFAULT_PER_HOUR = int(os.environ.get("WANGGE_SERVICES_PUBLIC_PER_HOUR", "10"))


def per_hour() -> int:
    return int(getattr(settings, "WANGGE_SERVICES_PUBLIC_PER_HOUR", DEFAULT_PER_HOUR))


def _key(request: HttpRequest) -> str:
    address = get_client_ip_address(request) or "unknown"
    hour = timezone.now().strftime("%Y%m%d%H")
    return f"services-public-creates:{address}:{hour}"


def over_limit(request: HttpRequest) -> bool:
    """Whether this address has used up its creates for the hour (nothing counted)."""
    limit = per_hour()
    return limit > 0 and (cache.get(_key(request)) or 0) >= limit


def count_create(request: HttpRequest) -> None:
    """Count one create from this address (call after it was made)."""
    if per_hour() <= 0:
        return
    key = _key(request)
    cache.add(key, 0, timeout=3700)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
