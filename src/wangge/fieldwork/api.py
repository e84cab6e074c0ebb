"""`/api/v1/fieldwork/`: one router made of the areas' routers (each thin: parse, call
access / actions, answer). Every list is scoped through fieldwork.access."""

from __future__ import annotations

from ninja import Router

from wangge.fieldwork.api_day import router as day_router
from wangge.fieldwork.api_patrols import router as patrols_router
from wangge.fieldwork.api_records import router as records_router
from wangge.fieldwork.api_sync import router as sync_router

router = Router(tags=["fieldwork"])
router.add_router("", day_router)
router.add_router("", patrols_router)
router.add_router("", records_router)
router.add_router("", sync_router)
