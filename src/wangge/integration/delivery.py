"""The delivery loop: fan new messages out, then send what is due.

A claim is a short transaction that leases a few rows to this worker; the sending happens
outside any transaction (a slow receiver must not hold locks), and each outcome is written
in its own short statement. Killed between the send and the write, the worker leaves a
lease that runs out and a row that is sent again with the same Idempotency-Key: delivery is
at least once, never at most once, and receivers deduplicate by the key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from wangge.integration import actions, senders
from wangge.integration.models import Delivery

log = logging.getLogger("wangge.worker")

#: never start a send unless this much of the lease is left beyond the send's own timeout
LEASE_MARGIN_S = 1.0


@dataclass
class Tally:
    routed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.routed or self.delivered or self.retried or self.dead)


def check_settings() -> None:
    """A lease shorter than a send could never be used: say so at start-up."""
    lease, timeout = settings.WANGGE_OUTBOX_LEASE_S, settings.WANGGE_WEBHOOK_TIMEOUT_S
    if lease < timeout + LEASE_MARGIN_S:
        raise ImproperlyConfigured(
            f"WANGGE_OUTBOX_LEASE_S ({lease}) must exceed WANGGE_WEBHOOK_TIMEOUT_S ({timeout}) "
            f"by at least {LEASE_MARGIN_S}s")
    if settings.WANGGE_OUTBOX_MAX_ATTEMPTS < 1:
        raise ImproperlyConfigured("WANGGE_OUTBOX_MAX_ATTEMPTS must be at least 1")


def route(batch: int) -> int:
    """Fan out up to ten batches' worth of new messages (routing is cheap: no sending)."""
    routed = actions.do_route_pending(limit=batch * 10)
    if routed.messages:
        log.info("routed %d messages into %d deliveries", routed.messages, routed.deliveries)
    return routed.messages


def deliver_due(worker: str, *, batch: int, stopping: Callable[[], bool],
                tally: Tally) -> int:
    """Claim one batch of due deliveries and send them; returns how many were claimed."""
    claimed = actions.do_claim_deliveries(worker, limit=batch)
    deadline = time.monotonic() + settings.WANGGE_OUTBOX_LEASE_S
    for i, delivery in enumerate(claimed):
        left = deadline - time.monotonic()
        if stopping() or left < settings.WANGGE_WEBHOOK_TIMEOUT_S + LEASE_MARGIN_S:
            # shutting down, or the lease could run out during the send: give the rest back
            tally.released += actions.do_release(claimed[i:], worker)
            break
        _send_one(delivery, worker, tally)
    return len(claimed)


def _send_one(delivery: Delivery, worker: str, tally: Tally) -> None:
    msg, sub = delivery.message, delivery.subscription
    sender: senders.Sender | None = None
    try:
        sender = senders.get_sender(sub.kind)
        outcome = sender.send(msg, sub)
    except Exception as e:
        # a sender bug, or a kind removed from the settings: retry later, keep the reason
        log.exception("sender %r failed on delivery %d", sub.kind, delivery.pk)
        outcome = senders.Outcome(ok=False, error=f"{type(e).__name__}: {e}"[:500])
    status = actions.do_record_outcome(delivery, worker, outcome)
    where = f"delivery {delivery.pk} ({msg.topic} #{msg.pk} → {sub.name})"
    if status == Delivery.Status.DELIVERED:
        tally.delivered += 1
        log.debug("%s delivered", where)
    elif status == Delivery.Status.DEAD:
        tally.dead += 1
        log.warning("%s dead after %d attempts: %s", where, delivery.attempts, outcome.error)
        _on_dead(sender, delivery, outcome.error)
    elif status == Delivery.Status.PENDING:
        tally.retried += 1
        log.info("%s failed (attempt %d), will retry: %s", where, delivery.attempts,
                 outcome.error)
    else:
        log.info("%s: lease lost before the outcome was written; another worker has it",
                 where)


def _on_dead(sender: senders.Sender | None, delivery: Delivery, error: str) -> None:
    """A sender that keeps state of its own about a message (an adapter's order) hears that
    the delivery is dead: `on_dead(message, subscription, error)`, if it has one."""
    hook = getattr(sender, "on_dead", None)
    if hook is None:
        return
    try:
        hook(delivery.message, delivery.subscription, error)
    except Exception:
        log.exception("on_dead of %r failed on delivery %d", delivery.subscription.kind,
                      delivery.pk)
