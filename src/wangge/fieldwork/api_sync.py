"""Fieldwork API: sync (see fieldwork/api.py)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["fieldwork"])
