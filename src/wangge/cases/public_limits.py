"""Abuse protection for residents' reports (/report/, and Open311 POST through the same two
calls): counters per client address and per phone in Django's cache.

- a burst from one address (more than WANGGE_RESIDENT_CHALLENGE_AFTER reports within
  WANGGE_RESIDENT_CHALLENGE_WINDOW_S seconds) makes the form ask for a captcha
  (django-simple-captcha): a person types four letters, a script that floods stops;
- more than WANGGE_RESIDENT_PER_ADDRESS_HOUR from one address in an hour, or more than
  WANGGE_RESIDENT_PER_PHONE_DAY with one phone in a day (by its blind index, so the cache
  never holds a phone number), is refused (429) with a message in Chinese.

One resident reporting one thing meets none of them. Each setting at 0 turns its limit off
(a service hall's kiosk behind one address, a load benchmark); they are read at call time.

As in services.public_limits (not imported: cases sits below services): one key per
address (or phone) and fixed window, added then incremented, both atomic in every cache
backend; a limit counts the current window and the one before, so a burst that straddles a
window's boundary is not forgotten at the boundary (a limit may hold up to two windows);
the client address is the one django-axes uses (X-Forwarded-For only from trusted
proxies). The default cache is per process (LocMemCache), so with several app processes a
limit is per process, i.e. at most processes × the figure; a deployment that needs exact
limits sets a shared cache (Django's database or Redis cache); nothing here changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.actions.resident import phone_hash

HOUR = 3600
DAY = 86400
#: the number a resident is told to call when they may not report here any more
EMERGENCY = "12345"


@dataclass(frozen=True)
class Decision:
    #: the form must ask for a captcha before it creates anything
    challenge: bool = False
    #: why this report is refused (429), in words a resident reads; None: not refused
    refused: str | None = None


def client_address(request: HttpRequest) -> str:
    return get_client_ip_address(request) or "unknown"


def _window_key(kind: str, who: str, seconds: int, back: int = 0) -> str:
    # fixed windows (one key per counter and window); `back` 1 is the window before
    return f"resident-{kind}:{who}:{seconds}:{int(time.time()) // seconds - back}"


@dataclass(frozen=True)
class _Counter:
    kind: str
    who: str
    window: int
    limit: int

    def seen(self) -> int:
        """Reports in this window and the one before: a burst across a window's boundary is
        still seen whole (so a limit, once reached, may hold for up to two windows)."""
        keys = [_window_key(self.kind, self.who, self.window, back) for back in (0, 1)]
        return sum(int(v or 0) for v in cache.get_many(keys).values())

    def reached(self) -> bool:
        return self.seen() >= self.limit

    def count(self) -> None:
        key = _window_key(self.kind, self.who, self.window)
        timeout = 2 * self.window + 60  # still there while it is the window before
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)


def _counters(request: HttpRequest, phone: str, by_address: bool = True
              ) -> dict[str, _Counter]:
    """The limits that are on (a setting at 0 is off), by name. `by_address=False` for a
    system with an API key (an Open311 client relays many residents from one address; its
    key is its identity and can be revoked): only the per-phone cap applies."""
    address = client_address(request)
    out: dict[str, _Counter] = {}
    if not by_address:
        hashed = phone_hash(phone) if phone.strip() else None
        if hashed and (per_day := int(settings.WANGGE_RESIDENT_PER_PHONE_DAY)) > 0:
            out["phone"] = _Counter("phone", hashed, DAY, per_day)
        return out
    window = int(settings.WANGGE_RESIDENT_CHALLENGE_WINDOW_S)
    if (after := int(settings.WANGGE_RESIDENT_CHALLENGE_AFTER)) > 0 and window > 0:
        out["challenge"] = _Counter("burst", address, window, after)
    if (per_hour := int(settings.WANGGE_RESIDENT_PER_ADDRESS_HOUR)) > 0:
        out["address"] = _Counter("address", address, HOUR, per_hour)
    hashed = phone_hash(phone) if phone.strip() else None
    if hashed and (per_day := int(settings.WANGGE_RESIDENT_PER_PHONE_DAY)) > 0:
        out["phone"] = _Counter("phone", hashed, DAY, per_day)
    return out


def check_resident_limits(request: HttpRequest, phone: str = "", *,
                          by_address: bool = True) -> Decision:
    """Whether the next report from this request (and this phone, as typed; "" for none)
    is refused or must pass a captcha first. Counts nothing."""
    counters = _counters(request, phone, by_address)
    if "address" in counters and counters["address"].reached():
        return Decision(refused=_("提交太频繁，请一小时后再试；紧急情况请拨打 %(tel)s 市民服务热线"
                                  "或直接联系您的网格员。") % {"tel": EMERGENCY})
    if "phone" in counters and counters["phone"].reached():
        return Decision(refused=_("这个手机号码今天反映的问题已经很多，请明天再试；"
                                  "紧急情况请拨打 %(tel)s 市民服务热线或直接联系您的网格员。")
                        % {"tel": EMERGENCY})
    return Decision(challenge="challenge" in counters and counters["challenge"].reached())


def count_resident_report(request: HttpRequest, phone: str = "", *, burst: bool = True,
                          by_address: bool = True) -> None:
    """Count one report made from this request; call after it was made (a replayed
    submission is not counted again). `burst=False` for a follow ("me too" on a case
    nearby): it counts towards the hard caps but never brings the captcha on."""
    for name, counter in _counters(request, phone, by_address).items():
        if burst or name != "challenge":
            counter.count()


#: follow codes tried wrong from one address in an hour before the check refuses (429): a
#: code is 31⁸ strong, this keeps guessing it by number from being worth a try
WRONG_CODES_PER_HOUR = 10


def _wrong_key(request: HttpRequest) -> str:
    return f"cases-follow-code-wrong:{client_address(request)}:{timezone.now():%Y%m%d%H}"


def too_many_wrong_codes(request: HttpRequest) -> bool:
    """Whether this address has tried too many wrong follow codes this hour (the status page
    and the public status API share the count)."""
    return (cache.get(_wrong_key(request)) or 0) >= WRONG_CODES_PER_HOUR


def count_wrong_code(request: HttpRequest) -> None:
    key = _wrong_key(request)
    cache.add(key, 0, timeout=3700)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
