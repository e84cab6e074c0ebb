"""Writing to the outbox (core: every app's actions write to it, the integration app's
worker delivers it). Call only inside the transaction of the change it announces."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from wangge.core.bulk import db_datetime, db_json, insert_rows
from wangge.core.models import OutboxMessage


def _check_in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox rows must be written inside the change's transaction")


def enqueue(topic: str, payload: dict[str, Any], *, key: str | None = None) -> OutboxMessage:
    _check_in_transaction()
    return OutboxMessage.objects.create(
        topic=topic, payload=payload, idempotency_key=key or uuid.uuid4().hex
    )


def enqueue_many(messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Many (topic, payload) messages in one statement (COPY on PostgreSQL): for a batch
    job such as the SLA sweep, where one INSERT per message would be most of its time."""
    _check_in_transaction()
    created_at = db_datetime(timezone.now())
    insert_rows(OutboxMessage, ["topic", "payload", "idempotency_key", "status", "created_at"], (
        (topic, db_json(payload), uuid.uuid4().hex, OutboxMessage.Status.PENDING.value,
         created_at)
        for topic, payload in messages))
