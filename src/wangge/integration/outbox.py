"""The outbox moved into core (`wangge.core.outbox`); these names stay importable from here
while callers move."""

from __future__ import annotations

from wangge.core.outbox import enqueue, enqueue_many

__all__ = ["enqueue", "enqueue_many"]
