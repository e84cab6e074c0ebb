"""Deployment checks for the settings web/ reads: the trusted proxies must parse (else every
login would fail), and an HTTPS site without them would lock logins per proxy, not per
client."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from wangge.web.login_limits import invalid_proxies


@register(Tags.security)
def trusted_proxies_parse(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    bad = invalid_proxies(settings.WANGGE_TRUSTED_PROXIES)
    if not bad:
        return []
    return [Error(f"WANGGE_TRUSTED_PROXIES: {', '.join(bad)} is not an address or network",
                  hint="list proxy addresses or networks, e.g. 10.0.0.5,10.1.0.0/24",
                  id="wangge.E010")]


@register(Tags.security, deploy=True)
def https_behind_a_known_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "HTTPS", False) and not settings.WANGGE_TRUSTED_PROXIES:
        return [Warning(
            "WANGGE_HTTPS is on but WANGGE_TRUSTED_PROXIES is empty: behind a reverse proxy "
            "every login would come from the proxy's address, so the login limits would lock "
            "all users together",
            hint="set WANGGE_TRUSTED_PROXIES to the proxy's address (docs/operations.md)",
            id="wangge.W010")]
    return []
