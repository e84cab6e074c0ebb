"""`/api/v1/stats/…`: figures computed from the records, within the caller's scope."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["stats"])
