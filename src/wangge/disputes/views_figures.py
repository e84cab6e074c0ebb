"""Console figures of disputes: the screening coverage map (排查覆盖: the basic grids in scope
coloured screened / nil return / missing for a month, and the list of those missing) and
the mediators' workload (调解员工作量: a bar chart and its table). Thin: the grids and
records come from disputes.access; the page's map and chart are drawn by static scripts
from a json_script (CSP: no inline script)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.disputes import access, queries
from wangge.disputes.models import Dispute
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


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


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
    rows = queries.coverage(request.user, start)["grids"]
    if area is not None:
        under = set(access.screening_grids(request.user).filter(
            path__startswith=area.path).values_list("pk", flat=True))
        rows = [r for r in rows if r["grid_id"] in under]
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

def workload_rows(user: Any, start: dt.date) -> list[dict[str, Any]]:
    """Per mediator of the disputes of the user's scope (sensitive ones counted, none
    named): open now (waiting to be taken up, mediating, agreed awaiting the follow-up),
    late (a running stage past its deadline), and for the month: agreements made,
    referrals, and the success rate (agreements ÷ agreements + referrals, as the analytics
    metric 调解成功率)."""
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(next_month(start), dt.time.min))
    opened = Q(state__in=access.OPEN_STATES)
    rows = (access.counted_disputes(user).filter(mediator__isnull=False)
            .values("mediator_id", "mediator__name")
            .annotate(
                open=Count("pk", filter=opened),
                registered=Count("pk", filter=Q(state=Dispute.State.REGISTERED)),
                mediating=Count("pk", filter=Q(state=Dispute.State.MEDIATING)),
                agreed=Count("pk", filter=Q(state=Dispute.State.AGREED)),
                late=Count("pk", filter=opened & Q(breached_at__isnull=False) & ~Q(stage="")),
                agreements=Count("pk", filter=Q(agreement__made_at__gte=since,
                                                agreement__made_at__lt=until)),
                referred=Count("pk", filter=Q(referral__referred_at__gte=since,
                                              referral__referred_at__lt=until)))
            .order_by("mediator__name", "mediator_id"))
    out = []
    for r in rows:
        ended = r["agreements"] + r["referred"]
        if not (r["open"] or ended):
            continue
        out.append({"id": r["mediator_id"], "name": r["mediator__name"], **{
            k: r[k] for k in ("open", "registered", "mediating", "agreed", "late",
                              "agreements", "referred")},
            "rate": round(100 * r["agreements"] / ended) if ended else None})
    out.sort(key=lambda r: (-r["open"], -r["agreements"], r["name"]))
    return out


@login_required
def workload(request: HttpRequest) -> HttpResponse:
    start = month_of(request.GET.get("month"))
    rows = workload_rows(request.user, start)
    chart = {"categories": [r["name"] for r in rows], "series": [
        {"name": _("待受理"), "data": [r["registered"] for r in rows]},
        {"name": _("调解中"), "data": [r["mediating"] for r in rows]},
        {"name": _("待回访"), "data": [r["agreed"] for r in rows]},
        {"name": _("超期"), "data": [r["late"] for r in rows]},
        {"name": _("本月达成协议"), "data": [r["agreements"] for r in rows]},
    ]}
    return render(request, "disputes/workload.html", {
        "month": start, "rows": rows, "chart": chart})
