"""Reconciliation: a periodic worker job comparing our open external orders with each
system's own view (its status query), and keeping the drift for the console."""

from __future__ import annotations

from datetime import datetime


def reconcile(now: datetime) -> dict[str, int]:
    """Placeholder until the reconciliation slice lands: nothing compared."""
    return {}
