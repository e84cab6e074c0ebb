"""`/api/v1/analytics/…`: metrics, series, rankings, schemes, exports. OWNER: helper B."""

from ninja import Router

router = Router(tags=["analytics"])
