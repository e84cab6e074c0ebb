"""The monthly evaluation report (考核通报) in the console: /console/analytics/reports/.

- `report_list`: the months with a stored report of the grid, plus the current and the
  last month;
- `report_page` (…/reports/YYYY-MM/): the printable page (a print stylesheet: A4, no
  navigation), with a 打印 button and the PDF link;
- `report_pdf` (…/reports/YYYY-MM/pdf): the stored PDF of the month, or, when none is
  stored yet, one rendered on the fly (not stored).

A stored report is shown as it was generated (EvaluationReport.figures); any other month
is built now from the figures (analytics.report). Who sees what: analytics.access — the
city's staff and leaders the city's report, a sub-center its town's (?grid=CODE); a
department user gets 403 (the departments' ranking is on the rankings page); a grid
outside the scope, an unknown grid, a malformed month or one after the current month: 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from wangge.analytics import report as rpt
from wangge.analytics import report_pdf as pdf
from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.metrics import METRIC_BY_CODE
from wangge.analytics.models import EvaluationReport
from wangge.territory.models import Grid


def _scope(request: HttpRequest) -> Scope:
    scope = analytics_scope(request.user)  # PermissionDenied → 403
    if scope.department_only:
        raise PermissionDenied("department staff see the departments' ranking instead")
    return scope


def _grid(request: HttpRequest, scope: Scope) -> Grid:
    code = request.GET.get("grid", "").strip()
    if not code:
        tops = scope.top_grids()
        if not tops:
            raise Http404("no grid")
        return tops[0]
    grid = Grid.objects.filter(code=code).first()
    if grid is None or not scope.covers(grid):
        raise Http404("no such grid")  # outside the scope: not confirmed either
    return grid


def _month(text: str, today: dt.date) -> dt.date:
    try:
        month = rpt.parse_month(text)
    except ValueError:
        raise Http404("month is YYYY-MM") from None
    if month > today.replace(day=1):
        raise Http404("a month still to come")
    return month


def _last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _query(grid: Grid, scope: Scope) -> str:
    """The ?grid= to carry along (none for the user's default grid)."""
    tops = scope.top_grids()
    return "" if tops and tops[0].pk == grid.pk else f"?grid={grid.code}"


@dataclass
class MonthRow:
    month: str
    label: str
    stored: EvaluationReport | None


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    grid = _grid(request, scope)
    today = timezone.localdate()
    stored = {r.month: r for r in EvaluationReport.objects.filter(grid=grid)}
    months = sorted({*stored, today.replace(day=1), _last_month(today)}, reverse=True)
    rows = [MonthRow(f"{m:%Y-%m}", f"{m.year}年{m.month}月", stored.get(m)) for m in months]
    others = [g for g in scope.top_grids() if g.pk != grid.pk]
    children = list(Grid.objects.filter(parent=grid).order_by("code")) if grid.level < 2 else []
    return render(request, "analytics/report_list.html", {
        "grid": grid, "rows": rows, "q": _query(grid, scope),
        "grids": [*others, *children],
    })


def _report(scope: Scope, month: dt.date, grid: Grid) -> tuple[rpt.Report, bool]:
    """The stored report (as circulated) or one built now; and whether it was stored."""
    row = EvaluationReport.objects.filter(month=month, grid=grid).first()
    if row is not None and row.figures:
        return rpt.from_json(row.figures), True
    return rpt.build(scope, month, grid), False


def page_context(report: rpt.Report) -> dict[str, Any]:
    """The report's numbers as the page prints them (report_pdf's formatting)."""
    totals = [{"code": m.code, "name": m.name,
               "value": pdf.fmt(m.value, m.unit),
               "previous": pdf.fmt(m.previous, m.unit),
               "change": pdf.fmt_change(m.change, m.unit)} for m in report.totals]
    sections = []
    for s in report.rankings:
        heads = [METRIC_BY_CODE[c].name for c in s.metrics]

        def lines(items: list[rpt.RankLine], codes: list[str] = s.metrics) -> list[dict]:
            return [{"rank": r.rank, "label": r.label,
                     "score": pdf.fmt(r.score, "hours"),
                     "values": [pdf.fmt(r.values.get(c), METRIC_BY_CODE[c].unit)
                                for c in codes]} for r in items]

        sections.append({"dim": s.dim, "title": s.title, "scheme": s.scheme,
                         "peers": s.peers, "heads": heads, "red": lines(s.red),
                         "black": lines(s.black)})
    return {"report": report, "totals": totals, "sections": sections,
            "month_label": pdf.month_label(report),
            "generated": report.generated_at[:16].replace("T", " ")}


@login_required
@require_GET
def report_page(request: HttpRequest, month: str) -> HttpResponse:
    scope = _scope(request)
    grid = _grid(request, scope)
    first = _month(month, timezone.localdate())
    report, stored = _report(scope, first, grid)
    return render(request, "analytics/report.html", {
        **page_context(report), "stored": stored, "grid": grid, "q": _query(grid, scope),
    })


@login_required
@require_GET
def report_pdf(request: HttpRequest, month: str) -> HttpResponse:
    scope = _scope(request)
    grid = _grid(request, scope)
    first = _month(month, timezone.localdate())
    filename = f"{first:%Y-%m}-{grid.code}.pdf"
    row = EvaluationReport.objects.filter(month=first, grid=grid).first()
    if row is not None and row.pdf and row.pdf.storage.exists(row.pdf.name):
        return FileResponse(row.pdf.open("rb"), content_type="application/pdf",
                            filename=filename)
    data = pdf.render(rpt.build(scope, first, grid))
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp
