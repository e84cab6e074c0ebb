"""Console figures of disputes: the screening coverage map (排查覆盖: the basic grids in scope
coloured screened / nil return / missing for a month, and the list of those missing) and
the mediators' workload (调解员工作量: a bar chart and its table). Thin: the figures
come from disputes.queries (coverage, workload); the page's map and chart are drawn by
static scripts from a json_script (CSP: no inline script)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.disputes import queries
from wangge.disputes.views import _filter_grid, _grid_choices
from wangge.territory.models import Grid

#: at most this many basic grids drawn on the coverage map (a city's are ~820); above it
#: the page asks for a town or a community
MAX_MAP_GRIDS = 1200
#: outlines simplified to about this many degrees (~20 m): light on a phone, exact enough
SIMPLIFY_DEG = 0.0002


#: the first month the figures may be asked for
FIRST_MONTH = dt.date(2000, 1, 1)


def month_of(value: str | None) -> dt.date:
    """The first day of the ?month=YYYY-MM asked for (this month by default or when the
    value is not a month); 404 for a month before 2000 or more than a year ahead (no
    figures there, and the month's bounds would overflow at the calendar's ends)."""
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        start = dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)
    if not FIRST_MONTH <= start <= today + dt.timedelta(days=366):
        raise Http404("no such month")
    return start


def _outlines(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows' basic grids as a FeatureCollection of simplified outlines, each with its
    status for the map's colours."""
    boundaries = dict(Grid.objects.filter(pk__in=[r["grid_id"] for r in rows])
                      .values_list("pk", "boundary"))
    shapes = [shapely.from_wkb(bytes(boundaries[r["grid_id"]])) for r in rows]
    small = shapely.simplify(shapes, SIMPLIFY_DEG, preserve_topology=True)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
         "properties": {"code": r["code"], "name": r["name"], "status": r["status"]}}
        for r, geom in zip(rows, small, strict=True) if geom is not None and not geom.is_empty]}


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    start = month_of(request.GET.get("month"))
    area = _filter_grid(request)
    # each grid under its own rule: a weekly grid is missing while a week of the month
    # begun so far has no return
    rows = queries.coverage(request.user, month=start, under=area)["grids"]
    too_many = len(rows) > MAX_MAP_GRIDS
    counts = {k: sum(1 for r in rows if r["status"] == k)
              for k in ("screened", "nil", "missing")}
    return render(request, "disputes/coverage.html", {
        "month": start, "grid": area, "grids": _grid_choices(request.user),
        "counts": counts, "total": len(rows), "too_many": too_many,
        "missing": [r for r in rows if r["status"] == "missing"],
        "map_data": _outlines(rows) if rows and not too_many else None,
        "tile_url": settings.WANGGE_TILE_URL,
        "labels": {"screened": _("已排查（有矛盾纠纷）"), "nil": _("已排查（无矛盾纠纷）"),
                   "missing": _("未排查")},
    })


# -- the mediators' workload ----------------------------------------------------------------

@login_required
def workload(request: HttpRequest) -> HttpResponse:
    start = month_of(request.GET.get("month"))
    rows = queries.workload(request.user, start)
    chart = {"categories": [r["name"] for r in rows], "series": [
        {"name": _("待受理"), "data": [r["registered"] for r in rows]},
        {"name": _("调解中"), "data": [r["mediating"] for r in rows]},
        {"name": _("待回访"), "data": [r["agreed"] for r in rows]},
        {"name": _("超期"), "data": [r["late"] for r in rows]},
        {"name": _("本月达成协议"), "data": [r["agreements"] for r in rows]},
    ]}
    return render(request, "disputes/workload.html", {
        "month": start, "rows": rows, "chart": chart})
