"""Console page `services:stats`: the service hall's statistics per item and department
for a period, in the viewer's scope (services.stats), with a server-drawn bar chart and a
CSV / XLSX download. Thin: parse, compute, render."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook

from wangge.registry.export import as_text
from wangge.services import stats

#: the longest period one page computes (a year and a bit: the demo's 400 days)
MAX_DAYS = 400


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period(request: HttpRequest, default_days: int = 30) -> tuple[dt.date, dt.date]:
    """?from=&to= (local days, both included): the last 30 days by default; a reversed
    period is turned round, a longer one cut to MAX_DAYS before its end."""
    today = timezone.localdate()
    end = _date(request.GET.get("to")) or today
    start = _date(request.GET.get("from")) or end - dt.timedelta(days=default_days - 1)
    start, end = min(start, end), max(start, end)
    return max(start, end - dt.timedelta(days=MAX_DAYS - 1)), end


def _csv_safe(value: object) -> object:
    """A text cell starting with = + - @ would be a formula in a spreadsheet."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def _download(figures: stats.Stats, by: str, fmt: str) -> HttpResponse:
    head, rows = stats.table(figures, by)
    name = f"services-stats-{by}-{figures.start:%Y%m%d}-{figures.end:%Y%m%d}"
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("按事项" if by == "item" else "按部门")
        ws.append(head)
        for r in rows:
            ws.append(as_text(ws, r))
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(out.getvalue(), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(head)
        writer.writerows([[_csv_safe(v) for v in r] for r in rows])
        # a BOM so that Excel opens the Chinese text as UTF-8
        response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
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
