"""Distances on the ground, for "the same kind of problem nearby": the duplicate flag at
intake and the report page's offer to follow a case instead."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db.models import QuerySet

from wangge.cases.models import Case


def metres(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance (haversine); plenty for a radius of tens of metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def first_within(cases: QuerySet[Case], lng: float, lat: float, now: dt.datetime) -> int | None:
    """The id of the oldest of `cases` reported within WANGGE_DUPLICATE_HOURS before `now`
    and within WANGGE_DUPLICATE_RADIUS_M of the point: a box on (lng, lat) in SQL (the
    index on category and lat), the exact circle here."""
    radius = settings.WANGGE_DUPLICATE_RADIUS_M
    dlat = radius / 111_320.0
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    since = now - dt.timedelta(hours=settings.WANGGE_DUPLICATE_HOURS)
    nearby = cases.filter(created_at__gte=since, lng__range=(lng - dlng, lng + dlng),
                          lat__range=(lat - dlat, lat + dlat)).order_by("created_at")
    return next((pk for pk, x, y in nearby.values_list("pk", "lng", "lat")
                 if metres(lng, lat, x, y) <= radius), None)
