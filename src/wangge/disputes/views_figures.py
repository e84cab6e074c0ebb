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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.disputes import access
from wangge.disputes.views import _filter_grid, _grid_choices

#: at most this many basic grids drawn on the coverage map (a city's are ~820); above it
#: the page asks for a town or a community
MAX_MAP_GRIDS = 1200
#: outlines simplified to about this many degrees (~20 m): light on a phone, exact enough
SIMPLIFY_DEG = 0.0002


def month_of(value: str | None) -> dt.date:
    """The first day of the ?month=YYYY-MM asked for (this month by default)."""
    today = timezone.localdate()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def coverage_rows(user: Any, grids: list[Any], start: dt.date) -> dict[int, str]:
    """Per basic grid id: "screened" (a return with tensions), "nil" (a nil return) or
    "missing", for the returns whose period starts in the month (a weekly grid's weeks)."""
    status = {g.pk: "missing" for g in grids}
    returns = access.visible_screenings(user).filter(
        grid_id__in=list(status), period_start__gte=start,
        period_start__lt=next_month(start)).values_list("grid_id", "nil")
    for grid_id, nil in returns:
        if status.get(grid_id) != "screened":
            status[grid_id] = "nil" if nil else "screened"
    return status


def _outlines(grids: list[Any], status: dict[int, str]) -> dict[str, Any]:
    geoms = shapely.simplify([g.geometry for g in grids], SIMPLIFY_DEG, preserve_topology=True)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
         "properties": {"code": g.code, "name": g.name, "status": status[g.pk]}}
        for g, geom in zip(grids, geoms, strict=True) if geom is not None and not geom.is_empty]}


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    start = month_of(request.GET.get("month"))
    if not dt.date(2000, 1, 1) <= start <= timezone.localdate() + dt.timedelta(days=366):
        raise Http404("no such month")
    area = _filter_grid(request)
    qs = access.screening_grids(request.user)
    if area is not None:
        qs = qs.filter(path__startswith=area.path)
    grids = list(qs.select_related("parent").order_by("path")[:MAX_MAP_GRIDS + 1])
    too_many = len(grids) > MAX_MAP_GRIDS
    grids = grids[:MAX_MAP_GRIDS]
    status = coverage_rows(request.user, grids, start)
    counts = {k: sum(1 for v in status.values() if v == k)
              for k in ("screened", "nil", "missing")}
    missing = [g for g in grids if status[g.pk] == "missing"]
    return render(request, "disputes/coverage.html", {
        "month": start, "grid": area, "grids": _grid_choices(request.user),
        "counts": counts, "total": len(grids), "missing": missing, "too_many": too_many,
        "map_data": _outlines(grids, status) if grids and not too_many else None,
        "tile_url": settings.WANGGE_TILE_URL,
        "labels": {"screened": _("已排查（有矛盾纠纷）"), "nil": _("已排查（无矛盾纠纷）"),
                   "missing": _("未排查")},
    })


# -- the mediators' workload ----------------------------------------------------------------

def workload_rows(user: Any, start: dt.date) -> list[dict[str, Any]]:
    """Per mediator of the disputes the user sees: open (registered or mediating with them),
    mediating, late (past a stage's deadline), agreements made this month, and the success
    rate this month (agreements / mediations ended by an agreement or a referral)."""
    from django.db.models import Count, Q

    from wangge.disputes.models import Dispute
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(next_month(start), dt.time.min))
    running = [Dispute.State.REGISTERED, Dispute.State.MEDIATING]
    rows = (access.counted_disputes(user).filter(mediator__isnull=False)
            .values("mediator_id", "mediator__name")
            .annotate(
                open=Count("pk", filter=Q(state__in=running)),
                mediating=Count("pk", filter=Q(state=Dispute.State.MEDIATING)),
                late=Count("pk", filter=Q(state__in=running, breached_at__isnull=False)),
                agreements=Count("pk", filter=Q(agreement__made_at__gte=since,
                                                agreement__made_at__lt=until)),
                referred=Count("pk", filter=Q(referral__referred_at__gte=since,
                                              referral__referred_at__lt=until)))
            .order_by("mediator__name", "mediator_id"))
    out = []
    for r in rows:
        ended = r["agreements"] + r["referred"]
        if not (r["open"] or ended or r["late"]):
            continue
        out.append({"id": r["mediator_id"], "name": r["mediator__name"], "open": r["open"],
                    "mediating": r["mediating"], "late": r["late"],
                    "agreements": r["agreements"], "referred": r["referred"],
                    "rate": round(100 * r["agreements"] / ended) if ended else None})
    out.sort(key=lambda r: (-r["open"], -r["agreements"], r["name"]))
    return out


@login_required
def workload(request: HttpRequest) -> HttpResponse:
    start = month_of(request.GET.get("month"))
    rows = workload_rows(request.user, start)
    chart = {"categories": [r["name"] for r in rows], "series": [
        {"name": _("调解中"), "data": [r["mediating"] for r in rows]},
        {"name": _("待受理"), "data": [r["open"] - r["mediating"] for r in rows]},
        {"name": _("超期"), "data": [r["late"] for r in rows]},
        {"name": _("本月达成协议"), "data": [r["agreements"] for r in rows]},
    ]}
    return render(request, "disputes/workload.html", {
        "month": start, "rows": rows, "chart": chart})
