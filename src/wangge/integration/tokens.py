"""Token format and hashing. Tokens are 256-bit random, so a plain SHA-256 digest is
enough to store them (a slow password hash would only slow down every API call)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

TOKEN_PREFIX = "wg_"
_LIFETIME = re.compile(r"^(\d{1,5})([dh])$")


def new_secret() -> tuple[str, str, str]:
    """Return (token, prefix, digest) for a fresh token."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry(spec: str, now: dt.datetime) -> dt.datetime:
    """`--expires`: a lifetime (`90d`, `12h`) or a date (`2027-03-31`, the end of that day
    in Asia/Shanghai). Raises ValueError naming the accepted forms."""
    spec = spec.strip()
    if m := _LIFETIME.match(spec):
        count, unit = int(m[1]), m[2]
        if count == 0:
            raise ValueError("a lifetime must be at least 1")
        return now + (dt.timedelta(days=count) if unit == "d" else dt.timedelta(hours=count))
    try:
        day = dt.date.fromisoformat(spec)
        shanghai = dt.timezone(dt.timedelta(hours=8))
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), shanghai)
    except (ValueError, OverflowError):
        raise ValueError(f"{spec!r}: give a lifetime like 90d or 12h, or a date "
                         "like 2027-03-31") from None
