"""The outbox is core's: every app's actions write to it without importing integration; the
table kept its name, so the move changed no data; the old import path still answers."""

from __future__ import annotations

import pytest
from django.db import transaction

from wangge.core import outbox
from wangge.core.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_enqueue_writes_a_pending_message_inside_the_change() -> None:
    with transaction.atomic():
        message = outbox.enqueue("core.test", {"n": 1}, key="core-test-1")
        outbox.enqueue_many([("core.test", {"n": 2}), ("core.test", {"n": 3})])
    rows = OutboxMessage.objects.filter(topic="core.test").order_by("id")
    assert [r.payload["n"] for r in rows] == [1, 2, 3]
    assert message.status == OutboxMessage.Status.PENDING


def test_enqueue_outside_a_transaction_is_refused() -> None:
    # pytest-django wraps each test in a transaction: leave it to test the guard
    connection = transaction.get_connection()
    was = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with pytest.raises(RuntimeError, match="inside the change's transaction"):
            outbox.enqueue("core.test", {})
    finally:
        connection.in_atomic_block = was


def test_the_table_and_the_old_names_stay() -> None:
    from wangge.integration import outbox as old_outbox
    from wangge.integration.models import Delivery
    from wangge.integration.models import OutboxMessage as OldName

    assert OutboxMessage._meta.db_table == "integration_outboxmessage"
    assert OldName is OutboxMessage and old_outbox.enqueue is outbox.enqueue
    assert Delivery._meta.get_field("message").related_model is OutboxMessage
