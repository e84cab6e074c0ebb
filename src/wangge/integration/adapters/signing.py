"""The signature of every request between us and an external system, both directions
(docs/external-systems.md): HMAC-SHA256 over "<timestamp>.<body>" with the adapter's secret,
in `X-Wangge-Timestamp` and `X-Wangge-Signature: sha256=<hex>`. The timestamp is inside the
signed text, so a captured request cannot be replayed later than MAX_SKEW_S."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Wangge-Timestamp"
SIGNATURE_HEADER = "X-Wangge-Signature"
#: how far a request's timestamp may be from our clock, either way
MAX_SKEW_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


class BadSignature(Exception):
    """Missing, stale or wrong: the caller answers 401 with this message."""


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, *,
           now: float | None = None) -> None:
    if not timestamp or not signature:
        raise BadSignature(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} must be Unix seconds") from None
    if skew > MAX_SKEW_S:
        raise BadSignature(f"{TIMESTAMP_HEADER} is {int(skew)} s from our clock "
                           f"(at most {MAX_SKEW_S})")
    # as bytes: compare_digest refuses str with non-ASCII characters (a 500 for a junk header)
    given = signature.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), given):
        raise BadSignature("the signature does not match the body")
