"""Placeholder until the outbound slice lands."""

from __future__ import annotations

from wangge.core.models import OutboxMessage
from wangge.integration.models import Subscription
from wangge.integration.senders import Outcome


class Sender:
    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        return Outcome(ok=False, permanent=True, error="adapter not built yet")
