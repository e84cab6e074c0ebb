"""`/api/v1/analytics/hotspots/…`: density per grid, clusters, heat points. OWNER: helper C."""

from ninja import Router

router = Router(tags=["analytics"])
