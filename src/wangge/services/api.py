"""`/api/v1/services/`: items (search and guides), applications (pre-review) and proxy
requests, thin over services.access and services.actions. The routers of each area are
added here."""

from __future__ import annotations

from ninja import Router

from wangge.services.api_applications import router as applications_router
from wangge.services.api_items import router as items_router
from wangge.services.api_proxy import router as proxy_router

router = Router(tags=["services"])
router.add_router("", items_router)
router.add_router("", proxy_router)
router.add_router("", applications_router)
