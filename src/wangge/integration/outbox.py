"""Writing to the outbox. Call only inside the transaction of the change it announces."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from wangge.integration.models import OutboxMessage


def enqueue(topic: str, payload: dict[str, Any], *, key: str | None = None) -> OutboxMessage:
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("outbox rows must be written inside the change's transaction")
    return OutboxMessage.objects.create(
        topic=topic, payload=payload, idempotency_key=key or uuid.uuid4().hex
    )
