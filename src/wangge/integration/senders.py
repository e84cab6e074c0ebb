"""Senders: how one outbox message reaches one subscription's target.

A sender is picked by the subscription's `kind` from WANGGE_OUTBOX_SENDERS (kind → dotted
path of a class), so an adapter for the 12345 hotline or the digital-city-management system
is a new class and a settings entry, not a change to the delivery loop. A sender never
raises for a failed delivery: it returns an `Outcome` saying whether to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from wangge.cases import notify
from wangge.core import crypto
from wangge.core.models import OutboxMessage
from wangge.integration.models import Subscription

log = logging.getLogger("wangge.outbox")

#: 4xx answers that may succeed later: a timeout on their side, or "slow down"
RETRYABLE_4XX = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    ok: bool
    #: the target will never accept this message as it is: dead-letter without retrying
    permanent: bool = False
    status_code: int | None = None
    error: str = ""
    #: the target asked us to wait this many seconds (Retry-After)
    retry_after: float | None = None


class Sender(Protocol):
    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome: ...


@cache
def _sender_class(path: str) -> type[Sender]:
    return import_string(path)


def kinds() -> list[str]:
    return sorted(settings.WANGGE_OUTBOX_SENDERS)


def get_sender(kind: str) -> Sender:
    path = settings.WANGGE_OUTBOX_SENDERS.get(kind)
    if path is None:
        raise LookupError(f"no sender for kind {kind!r} (WANGGE_OUTBOX_SENDERS: {kinds()})")
    return _sender_class(path)()


def check_senders() -> None:
    """Import every configured sender now, so a typo stops the worker at start-up."""
    for kind in kinds():
        get_sender(kind)


def envelope(message: OutboxMessage) -> bytes:
    """The JSON body, byte-identical on every attempt (sorted keys, fixed separators), so
    its signature is too. The key is inside the signed body as well as in the header."""
    return json.dumps({
        "id": message.pk,
        "key": message.idempotency_key,
        "topic": message.topic,
        "payload": message.payload,
        "created_at": message.created_at.isoformat(),
    }, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class LogSender:
    """Writes one structured log line per message: the demo's target, and a record of what
    would have been sent."""

    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        log.info("outbox %s", json.dumps({
            "subscription": subscription.name, "id": message.pk,
            "key": message.idempotency_key, "topic": message.topic,
            "payload": message.payload,
        }, ensure_ascii=False, sort_keys=True))
        return Outcome(ok=True)


class WebhookSender:
    """POSTs the envelope as JSON, signed with the subscription's secret (HMAC-SHA256)."""

    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        if not subscription.url:
            return Outcome(ok=False, permanent=True, error="subscription has no URL")
        if not subscription.secret_enc:
            return Outcome(ok=False, permanent=True, error="subscription has no secret")
        try:
            secret = crypto.open_sealed(subscription.secret_enc)
        except Exception as e:  # a lost data key: retrying cannot help
            return Outcome(ok=False, permanent=True, error=f"cannot open the secret: {e!r}")
        body = envelope(message)
        request = urllib.request.Request(subscription.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "wangge-outbox/1",
            "Idempotency-Key": message.idempotency_key,
            "X-Wangge-Topic": message.topic,
            "X-Wangge-Timestamp": str(int(time.time())),
            "X-Wangge-Signature": signature(secret, body),
        })
        try:
            with _opener.open(request, timeout=settings.WANGGE_WEBHOOK_TIMEOUT_S) as r:
                return Outcome(ok=True, status_code=r.status)
        except urllib.error.HTTPError as e:  # every answer but 2xx, redirects included
            return _http_failure(e)
        except (OSError, ValueError) as e:  # refused, reset, DNS, timeout, bad URL
            return Outcome(ok=False, error=f"{type(e).__name__}: {e}"[:500])


class ResponsibleSender:
    """SLA warnings and breaches → in-app notifications to the people responsible for the
    case (`cases.notify`); a message that can never be one is a dead letter at once."""

    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        try:
            notify.notify_responsible(message.topic, message.payload,
                                      source=message.idempotency_key)
        except notify.Undeliverable as e:
            return Outcome(ok=False, permanent=True, error=str(e))
        return Outcome(ok=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 301/302/303 to a POST with a GET, without the body, and call the
    answer delivered. A redirect is a wrong URL: make it an error the operator sees."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _http_failure(e: urllib.error.HTTPError) -> Outcome:
    code = e.code
    try:
        text = e.read(300).decode(errors="replace")
    except OSError:
        text = ""
    finally:
        e.close()
    error = f"HTTP {code} {e.reason}: {text}".strip()[:500]
    # a redirect or a client error: the same request will never succeed as it is
    permanent = 300 <= code < 500 and code not in RETRYABLE_4XX
    return Outcome(ok=False, permanent=permanent, status_code=code, error=error,
                   retry_after=_retry_after(e.headers.get("Retry-After")))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header; the HTTP-date form is rare for webhooks, skip it."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
