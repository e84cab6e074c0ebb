"""Console page `services:stats`: the service hall's statistics per item and department
for a period, in the viewer's scope (services.stats), with a server-drawn bar chart and a
CSV / XLSX download. Thin: parse, compute, render."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wangge.services import stats

#: the longest period one page computes (a year and a bit: the demo's 400 days)
MAX_DAYS = 400


#: the days a period may name: beyond them a date is a typo (and 0001-01-01 minus a day
#: would overflow)
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _date(value: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return min(max(day, EARLIEST), LATEST) if day else None


def period(request: HttpRequest, default_days: int = 30) -> tuple[dt.date, dt.date]:
    """?from=&to= (local days, both included): the last 30 days by default; a reversed
    period is turned round, a longer one cut to MAX_DAYS before its end."""
    today = timezone.localdate()
    end = _date(request.GET.get("to")) or today
    start = _date(request.GET.get("from")) or end - dt.timedelta(days=default_days - 1)
    start, end = min(start, end), max(start, end)
    return max(start, end - dt.timedelta(days=MAX_DAYS - 1)), end


def _download(figures: stats.Stats, by: str, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(stats.as_xlsx(figures, by), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    else:
        response = HttpResponse(stats.as_csv(figures, by),
                                content_type="text/csv; charset=utf-8")
    name = f"services-stats-{by}-{figures.start:%Y%m%d}-{figures.end:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def stats_page(request: HttpRequest) -> HttpResponse:
    start, end = period(request)
    by = "department" if request.GET.get("by") == "department" else "item"
    figures = stats.service_stats(request.user, start, end)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        return _download(figures, by, fmt)
    rows = figures.items if by == "item" else figures.departments
    query = request.GET.copy()
    query.pop("format", None)
    return render(request, "services/stats/stats.html", {
        "start": start, "end": end, "by": by, "rows": rows, "total": figures.total,
        "chart": stats.chart(rows), "query": query.urlencode(),
    })
