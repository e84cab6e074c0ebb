"""The console's figures pages: /console/analytics/ (考核指标: a breakdown with 环比/同比, a
bar chart of one metric across keys, the trend of the totals) and /console/analytics/rankings/
(the composite score's 红黑榜 and full ranking). Thin: parse (analytics.forms), read
(analytics.compare, analytics.ranking, both through analytics.access), render.

Every table is a core.tables.Table, drawn on the page and written by ?format=csv|xlsx from
the same object (&table= names which one), so a download holds exactly the numbers shown.
A bad parameter is the page again with the form's error (400) naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.analytics import compare, ranking
from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.charts import ChartBlock, Series, Style, merge, spec
from wangge.analytics.figures import Query
from wangge.analytics.forms import (
    BUCKET_LABELS,
    DIM_LABELS,
    LEVEL_LABELS,
    RANK_DIMS,
    RANK_PERIODS,
    MetricsForm,
    RankingsForm,
    grid_choices,
    quick_spans,
    rank_periods,
)
from wangge.analytics.metrics import METRIC_BY_CODE, METRICS, Bucket, Dim, Metric
from wangge.analytics.models import EvaluationScheme
from wangge.core.tables import FORMATS, Table, response
from wangge.territory.models import Grid

#: the metrics whose 环比 and 同比 the breakdown shows (the others: their value)
MAIN_METRICS: tuple[str, ...] = ("reported", "closed", "on_time_close_rate",
                                 "satisfaction_rate")
#: the most keys a bar chart draws (the table lists them all)
MAX_BARS = 30
#: rows of the full ranking per page of /console/analytics/rankings/
PAGE_SIZE = 50


def _format(request: HttpRequest) -> tuple[str | None, str | None]:
    """(format, error): ?format= absent, csv or xlsx; anything else is an error."""
    fmt = request.GET.get("format", "")
    if not fmt:
        return None, None
    if fmt not in FORMATS:
        return None, _("下载格式只能是 csv 或 xlsx")
    return fmt, None


def _href(params: QueryDict, **changes: str | None) -> str:
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = value
    return "?" + query.urlencode()


def _downloads(params: QueryDict, table: str) -> list[tuple[str, str]]:
    return [(_("下载 CSV"), _href(params, table=table, format="csv")),
            (_("下载 Excel"), _href(params, table=table, format="xlsx"))]


def _bucket_label(start: dt.date, bucket: Bucket) -> str:
    if bucket == "month":
        return f"{start:%Y-%m}"
    if bucket == "quarter":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if bucket == "year":
        return str(start.year)
    return start.isoformat()


def _unit(metric: Metric) -> str:
    return {"percent": "%", "hours": _("小时")}.get(metric.unit, "")


def breakdown_page_table(b: compare.Breakdown) -> tuple[Table, list[Style]]:
    """The breakdown as the page shows it and the download writes it: the key, the main
    metrics each with its 环比 and 同比, then every other metric of that breakdown."""
    by = b.query.by
    main = [c for c in MAIN_METRICS if by in METRIC_BY_CODE[c].dims]
    rest = [m.code for m in METRICS if by in m.dims and m.code not in main]
    with_changes = compare.breakdown_table(b, main, with_changes=True)
    table = merge(with_changes, compare.breakdown_table(b, rest, with_changes=False))
    styles: list[Style] = ["text"]
    changes = b.previous is not None
    for code in main:
        direction: Style = "up" if METRIC_BY_CODE[code].higher_is_better else "down"
        styles += ["num", direction, direction] if changes else ["num"]
    styles += ["num"] * len(rest)
    return table, styles


def _grid_links(b: compare.Breakdown, params: QueryDict) -> list[str]:
    """By grid: each row's name drills into that grid (its children next); the total
    row and basic grids have no link."""
    if b.query.by != "grid":
        return []
    codes = dict(Grid.objects.filter(pk__in=[r.key for r in b.rows], level__lt=4)
                 .values_list("pk", "code"))
    return [_href(params, grid=codes[r.key], level=None) if r.key in codes else ""
            for r in b.rows]


def _error_page(request: HttpRequest, template: str, context: dict[str, Any],
                message: str, field: str) -> HttpResponse:
    context["errors"] = [(field, message)]
    return render(request, template, context, status=400)


def _scope_or_403(request: HttpRequest) -> Scope:
    return analytics_scope(request.user)  # PermissionDenied → Django's 403


def _field_errors(form: Any) -> list[tuple[str, str]]:
    return [(name, str(err)) for name, errs in form.errors.items() for err in errs]


def _base_context(scope: Scope, form: Any, request: HttpRequest) -> dict[str, Any]:
    grid = form.grid_obj
    return {
        "scope": scope, "department_only": scope.department_only,
        "grids": grid_choices(scope, grid), "grid": grid,
        "levels": list(LEVEL_LABELS.items()), "form": form,
    }


def _bound_form(request: HttpRequest, form_class: type[MetricsForm] | type[RankingsForm],
                dim_field: str) -> tuple[Scope, dt.date, Any, bool, Dim]:
    """What both pages start from: the user's scope, today, the page's form bound to the
    query string (validated) and the breakdown asked for (by default grids, or departments
    for a scope that sees only its department's figures)."""
    scope = _scope_or_403(request)
    today = timezone.localdate()
    form = form_class(request.GET, scope=scope, today=today)
    valid = form.is_valid()
    dim: Dim = form.cleaned_data.get(dim_field) or ("department" if scope.department_only
                                                    else "grid")
    return scope, today, form, valid, dim


def _dim_choices(scope: Scope, dims: Iterable[str]) -> list[tuple[str, str]]:
    return [(d, DIM_LABELS[d]) for d in (("department",) if scope.department_only else dims)]


def _link_params(request: HttpRequest) -> QueryDict:
    """The query string for the page's links: without the download's format and table."""
    params = request.GET.copy()
    params.pop("format", None)
    params.pop("table", None)
    return params


@login_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    scope, today, form, valid, by = _bound_form(request, MetricsForm, "by")
    context = _base_context(scope, form, request)
    context.update({
        "dims": _dim_choices(scope, DIM_LABELS),
        "buckets": list(BUCKET_LABELS.items()),
        "metrics": [m for m in METRICS if by in m.dims],
        "by": by,
    })
    template = "analytics/metrics.html"
    if not valid:
        context["errors"] = _field_errors(form)
        context["p"] = {"by": by, "from": request.GET.get("from", ""),
                        "to": request.GET.get("to", ""), "period": request.GET.get("period", ""),
                        "metric": request.GET.get("metric", ""),
                        "level": request.GET.get("level", "")}
        return render(request, template, context, status=400)
    data = form.cleaned_data
    since: dt.date = data["from"]
    until: dt.date = data["to"]
    bucket: Bucket = data["period"]
    metric = METRIC_BY_CODE[data["metric"]]
    grid: Grid | None = data.get("grid")
    params = _link_params(request)
    context["p"] = {"by": by, "from": since.isoformat(), "to": until.isoformat(),
                    "period": bucket, "metric": metric.code,
                    "level": "" if data.get("level") is None else str(data["level"])}
    context["quick"] = [(s.label, _href(params, **{"from": s.since.isoformat(),
                                                   "to": s.until.isoformat(),
                                                   "period": None}),
                         s.since == since and s.until == until)
                        for s in quick_spans(today)]
    fmt, fmt_error = _format(request)
    which = request.GET.get("table", "breakdown")
    if fmt_error:
        return _error_page(request, template, context, fmt_error, "format")
    if which not in ("breakdown", "trend"):
        return _error_page(request, template, context, _("没有这个表格"), "table")

    q = Query(by=by, since=since, until=until, within=grid, level=data.get("level"))
    if fmt and which == "trend":
        return response(_trend_table(scope, q, bucket, metric)[0], fmt)  # type: ignore[arg-type]
    b = compare.breakdown(scope, q, compare=True)
    table, styles = breakdown_page_table(b)
    if fmt:
        return response(table, fmt)  # type: ignore[arg-type]

    rows = b.rows
    charted = sorted((r for r in rows if r.values.get(metric.code) is not None),
                     key=lambda r: -(r.values[metric.code] or 0))[:MAX_BARS]
    kind = "pie" if by == "channel" and metric.unit == "count" else "bar"
    scope_name = grid.name if grid is not None else _("全部范围")
    bars = ChartBlock(
        id="breakdown",
        title=_("按%(by)s：%(metric)s") % {"by": DIM_LABELS[by], "metric": metric.name},
        chart=spec(kind, [r.label for r in charted],  # type: ignore[arg-type]
                   [Series(metric.name, [r.values.get(metric.code) for r in charted])],
                   unit=_unit(metric)),
        table=table, styles=styles, downloads=_downloads(params, "breakdown"),
        links=_grid_links(b, params), total_last=True,
        empty=_("该时段没有数据。"),
        note=(_("图中为%(metric)s最高的 %(n)s 个，表中列出全部。") % {
            "metric": metric.name, "n": MAX_BARS}) if len(rows) > MAX_BARS else "",
    )
    trend_table, points = _trend_table(scope, q, bucket, metric)
    trend = ChartBlock(
        id="trend",
        title=_("%(metric)s趋势（按%(bucket)s）") % {"metric": metric.name,
                                                   "bucket": BUCKET_LABELS[bucket]},
        chart=spec("line", [str(r[0]) for r in trend_table.rows],
                   [Series(metric.name, points)], unit=_unit(metric)),
        table=trend_table, downloads=_downloads(params, "trend"),
    )
    context.update({
        "since": since, "until": until, "bucket": bucket, "metric": metric,
        "scope_name": scope_name, "bars": bars, "trend": trend,
        "totals": [(METRIC_BY_CODE[c], b.total.values.get(c), b.total.mom.get(c),
                    b.total.yoy.get(c)) for c in MAIN_METRICS if by in METRIC_BY_CODE[c].dims],
        "previous": b.previous, "year_ago": b.year_ago,
    })
    return render(request, template, context)


def _trend_table(scope: Scope, q: Query, bucket: Bucket, metric: Metric
                 ) -> tuple[Table, list[float | int | None]]:
    points = compare.trend(scope, q, bucket)
    values = [v.get(metric.code) for _start, v in points]
    header = f"{metric.name}（{_unit(metric)}）" if _unit(metric) else metric.name
    table = Table(title=f"考核指标趋势_{metric.name}_{q.since}_{q.until}",
                  headers=[_("周期"), header],
                  rows=[[_bucket_label(start, bucket), v]
                        for (start, _v), v in zip(points, values, strict=True)])
    return table, values


def _short(ranked: Sequence[ranking.Ranked], title: str) -> Table:
    return Table(title=title, headers=[_("名次"), _("名称"), _("综合得分")],
                 rows=[[r.rank, r.label, r.score] for r in ranked])


@login_required
def rankings_page(request: HttpRequest) -> HttpResponse:
    scope, today, form, valid, dim = _bound_form(request, RankingsForm, "dim")
    kind = form.cleaned_data.get("period") or (
        request.GET.get("period") if request.GET.get("period") in RANK_PERIODS else "month")
    context = _base_context(scope, form, request)
    context.update({
        "dims": _dim_choices(scope, RANK_DIMS),
        "periods": list(RANK_PERIODS.items()),
        "whiches": rank_periods(kind, today),
        "schemes": list(EvaluationScheme.objects.filter(dim=dim, active=True)
                        .order_by("code")),
        "dim": dim,
    })
    template = "analytics/rankings.html"
    raw = request.GET
    context["p"] = {"dim": dim, "period": kind, "which": raw.get("which", ""),
                    "scheme": raw.get("scheme", ""), "n": raw.get("n", ""),
                    "level": raw.get("level", ""), "page": raw.get("page", "")}
    if not valid:
        context["errors"] = _field_errors(form)
        return render(request, template, context, status=400)
    data = form.cleaned_data
    chosen = data["which"]
    context["p"].update({"which": chosen.key, "n": str(data["n"])})
    params = _link_params(request)
    fmt, fmt_error = _format(request)
    which_table = request.GET.get("table", "all")
    if fmt_error:
        return _error_page(request, template, context, fmt_error, "format")
    if which_table not in ("all", "red", "black"):
        return _error_page(request, template, context, _("没有这个表格"), "table")
    scheme: EvaluationScheme | None = data["scheme"] or ranking.default_scheme(dim)
    if scheme is None:
        context["no_scheme"] = True
        return render(request, template, context)
    context["p"]["scheme"] = scheme.code
    board = ranking.board(scope, dim=dim, since=chosen.since, until=chosen.until,
                          scheme=scheme, within=data.get("grid"), level=data.get("level"))
    red, black = board.red_black(data["n"])
    pages = max(1, -(-board.total // PAGE_SIZE))
    page = data["page"]
    if page > pages and not fmt:
        return _error_page(request, template, context,
                           _("没有第 %(page)s 页（共 %(pages)s 页）") % {"page": page,
                                                                       "pages": pages}, "page")
    # a download holds every row; the page shows PAGE_SIZE of them
    ranked = board.rows() if fmt and which_table == "all" else board.rows(
        (page - 1) * PAGE_SIZE, PAGE_SIZE)
    full = ranking.ranking_table(ranked, scheme)
    full.title = f"{full.title}_{chosen.key}"
    red_table = _short(red, f"红榜_{scheme.name}_{chosen.key}")
    black_table = _short(black, f"黑榜_{scheme.name}_{chosen.key}")
    if fmt:
        table = {"all": full, "red": red_table, "black": black_table}[which_table]
        return response(table, fmt)  # type: ignore[arg-type]
    charted = board.rows(0, min(MAX_BARS, board.scored))
    styles: list[Style] = ["num", "text"] + ["num"] * (len(full.headers) - 2)
    blocks = {
        "red": ChartBlock(id="red", title=_("红榜"), chart=None, table=red_table,
                          styles=["num", "text", "num"], downloads=_downloads(params, "red"),
                          empty=_("没有可排名的对象。")),
        "black": ChartBlock(id="black", title=_("黑榜"), chart=None, table=black_table,
                            styles=["num", "text", "num"],
                            downloads=_downloads(params, "black"),
                            empty=_("没有可排名的对象。")),
        "all": ChartBlock(
            id="ranking", title=_("综合得分排名"),
            chart=spec("hbar", [r.label for r in charted],
                       [Series(_("综合得分"), [r.score for r in charted])]),
            table=full, styles=styles, downloads=_downloads(params, "all"),
            empty=_("该时段没有可排名的对象。"),
            note=(_("图中为前 %(n)s 名；表中每页 %(size)s 名，下载含全部 %(total)s 名。") % {
                "n": MAX_BARS, "size": PAGE_SIZE, "total": board.total})
            if board.total > MAX_BARS else ""),
    }

    def page_url(n: int) -> str:
        q = params.copy()
        q["page"] = str(n)
        return "?" + q.urlencode()

    context.update({
        "scheme": scheme, "chosen": chosen, "blocks": blocks, "count": board.total,
        "pager": {"page": page, "pages": pages,
                  "first": (page - 1) * PAGE_SIZE + 1 if board.total else 0,
                  "last": min(board.total, page * PAGE_SIZE),
                  "prev": page_url(page - 1) if page > 1 else "",
                  "next": page_url(page + 1) if page < pages else ""},
        "weights": [(METRIC_BY_CODE[w["metric"]].name, w["weight"]) for w in scheme.weights
                    if w.get("metric") in METRIC_BY_CODE],
    })
    return render(request, template, context)
