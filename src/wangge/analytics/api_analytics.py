"""`/api/v1/analytics/…`: metrics broken down (with 环比/同比 and a trend), the composite
score's rankings (红黑榜), the evaluation schemes, and the same tables as CSV/XLSX.

Thin: the caller's scope comes from analytics.access (403 without one; department staff see
their own department's rows and the departments' ranking), figures from analytics.compare
and analytics.ranking. Bad parameters are 422 naming the field; a grid outside the scope
answers 404 like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from wangge.analytics import compare, ranking
from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.figures import Query as FigureQuery
from wangge.analytics.metrics import METRICS, Metric
from wangge.analytics.models import EvaluationScheme
from wangge.core import tables
from wangge.core.schema import ERRORS, Code, responses
from wangge.territory.models import Grid

router = Router(tags=["analytics"])

By = Literal["department", "grid", "worker", "category", "channel", "dispute_kind"]
RankDim = Literal["department", "grid", "worker"]
Period = Literal["day", "week", "month", "quarter", "year"]
Since = Annotated[dt.date | None,
                  Query(None, alias="from", description="开始日期（含），默认本月1日")]
Until = Annotated[dt.date | None,
                  Query(None, alias="to", description="结束日期（含），默认今天")]
GridCode = Annotated[Code, Query("", description="只看这个网格（含下级），须在本人范围内")]
Level = Annotated[int | None, Query(None, ge=0, le=4, description="按网格分组时列出的网格层级"
                                                            "（默认：所选网格的下一级）")]

PeriodParam = Annotated[Period | None, Query(None, description="趋势分段：日/周/月/季/年")]
CompareParam = Annotated[bool, Query(True, alias="compare", description="计算环比与同比")]

#: a trend by day covers at most this many days (three years)
MAX_DAY_SERIES = 3 * 365 + 1
#: any span covers at most ten years
MAX_SPAN_DAYS = 10 * 365 + 3
#: dates outside these years are refused (their 同比 and 环比 would leave the calendar)
YEARS = (1900, 2999)


class AnalyticsSpanOut(Schema):
    since: dt.date
    until: dt.date


class AnalyticsMetricOut(Schema):
    code: str
    name: str
    unit: str = Field(description="count 数量；percent 百分比；hours 小时")
    higher_is_better: bool
    change_unit: str = Field(description="环比/同比的单位：% (数量)，百分点 (比率)，小时 (时长)")


class AnalyticsQueryOut(Schema):
    by: str
    since: dt.date
    until: dt.date
    grid: str | None
    level: int | None
    period: str | None
    previous: AnalyticsSpanOut | None = Field(description="环比所比的时段")
    year_ago: AnalyticsSpanOut | None = Field(description="同比所比的时段")


class AnalyticsRowOut(Schema):
    key: int
    label: str
    values: dict[str, float | int | None]
    mom: dict[str, float | None] = Field(description="环比变化")
    yoy: dict[str, float | None] = Field(description="同比变化")


class AnalyticsPointOut(Schema):
    start: dt.date
    values: dict[str, float | int | None]


class AnalyticsBreakdownOut(Schema):
    query: AnalyticsQueryOut
    metrics: list[AnalyticsMetricOut]
    rows: list[AnalyticsRowOut]
    total: AnalyticsRowOut
    series: list[AnalyticsPointOut] | None = Field(
        description="按 period 分段的合计（给出 period 时）")


class AnalyticsWeightOut(Schema):
    metric: str
    name: str
    weight: float


class AnalyticsSchemeOut(Schema):
    code: str
    name: str
    dim: str
    active: bool
    weights: list[AnalyticsWeightOut]


class AnalyticsRankedOut(Schema):
    rank: int
    key: int
    label: str
    score: float | None
    values: dict[str, float | int | None]
    points: dict[str, float | None]


class AnalyticsRankingQueryOut(Schema):
    dim: str
    since: dt.date
    until: dt.date
    grid: str | None
    level: int | None
    n: int
    limit: int
    offset: int
    key: int | None = None


class AnalyticsRankingOut(Schema):
    scheme: AnalyticsSchemeOut
    query: AnalyticsRankingQueryOut
    total: int = Field(description="参与排名的对象总数")
    red: list[AnalyticsRankedOut] = Field(description="红榜：得分最高的 n 个，由高到低")
    black: list[AnalyticsRankedOut] = Field(description="黑榜：得分最低的 n 个，由低到高")
    all: list[AnalyticsRankedOut] = Field(
        description="排名的一页：第 offset+1 名起的 limit 个（全部排名请下载 /export）")
    row: AnalyticsRankedOut | None = Field(
        None, description="key 所指对象的一行（给出 key 且其参与排名时）")


def _invalid(field: str, msg: str, code: str = "invalid") -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": msg, "type": code}])


@dataclass
class Params:
    scope: Scope
    since: dt.date
    until: dt.date
    within: Grid | None
    level: int | None

    def stem(self, what: str) -> str:
        where = f"_{self.within.code}" if self.within else ""
        return f"{what}{where}_{self.since:%Y%m%d}-{self.until:%Y%m%d}"


def _params(request: HttpRequest, since: dt.date | None, until: dt.date | None, grid: str,
            level: int | None) -> Params:
    scope = analytics_scope(request.auth)
    today = timezone.localdate()
    since = since or today.replace(day=1)
    until = until or today
    for name, day in (("from", since), ("to", until)):
        if not YEARS[0] <= day.year <= YEARS[1]:
            raise _invalid(name, f"日期须在 {YEARS[0]}–{YEARS[1]} 年之间", "out_of_range")
    if since > until:
        raise _invalid("from", "开始日期晚于结束日期")
    if (until - since).days + 1 > MAX_SPAN_DAYS:
        raise _invalid("from", "时段最长十年", "span_too_long")
    within = None
    if grid:
        within = Grid.objects.filter(code=grid).first()
        if within is None or scope.department_only or not scope.covers(within):
            raise Http404("no such grid")
    if level is not None and within is not None and level <= within.level:
        raise _invalid("level", f"层级须低于所选网格（第 {within.level} 级）")
    return Params(scope, since, until, within, level)


def _metric_out(m: Metric) -> dict[str, Any]:
    return {"code": m.code, "name": m.name, "unit": m.unit,
            "higher_is_better": m.higher_is_better, "change_unit": compare.CHANGE_UNITS[m.unit]}


def _row_out(r: compare.Row) -> dict[str, Any]:
    return {"key": r.key, "label": r.label, "values": r.values, "mom": r.mom, "yoy": r.yoy}


def _span(span: tuple[dt.date, dt.date] | None) -> dict[str, dt.date] | None:
    return None if span is None else {"since": span[0], "until": span[1]}


def _breakdown(p: Params, by: str, with_changes: bool) -> compare.Breakdown:
    q = FigureQuery(by=by, since=p.since, until=p.until, within=p.within,  # type: ignore[arg-type]
                    level=p.level)
    return compare.breakdown(p.scope, q, compare=with_changes)


@router.get("/metrics", response=responses(AnalyticsBreakdownOut),
            summary="考核指标分组统计（部门/网格/网格员/事件分类/来源渠道），含环比、同比与趋势")
def metrics(request: HttpRequest, by: By, since: Since = None, until: Until = None,
            grid: GridCode = "", level: Level = None,
            period: PeriodParam = None, compare_: CompareParam = True) -> Any:
    p = _params(request, since, until, grid, level)
    if period == "day" and (p.until - p.since).days + 1 > MAX_DAY_SERIES:
        raise _invalid("period", "按日的趋势最长三年；请选择周、月、季或年", "span_too_long")
    b = _breakdown(p, by, compare_)
    series = None
    if period is not None:
        series = [{"start": start, "values": values}
                  for start, values in compare.trend(p.scope, b.query, period)]
    return {
        "query": {"by": by, "since": p.since, "until": p.until,
                  "grid": p.within.code if p.within else None, "level": p.level,
                  "period": period, "previous": _span(b.previous),
                  "year_ago": _span(b.year_ago)},
        "metrics": [_metric_out(m) for m in compare.table_metrics(by)],  # type: ignore[arg-type]
        "rows": [_row_out(r) for r in b.rows],
        "total": _row_out(b.total),
        "series": series,
    }


def _scheme(code: str, dim: str) -> EvaluationScheme:
    if code:
        scheme = EvaluationScheme.objects.filter(code=code).first()
        if scheme is None:
            raise _invalid("scheme", f"没有编码为 {code} 的考核方案", "unknown")
        if scheme.dim != dim:
            raise _invalid("scheme", f"方案 {scheme.name} 考核的不是该对象", "wrong_dim")
        return scheme
    found = ranking.default_scheme(dim)  # type: ignore[arg-type]
    if found is None:
        raise _invalid("scheme", "该考核对象没有启用的考核方案；请指定方案", "no_active_scheme")
    return found


def _scheme_out(s: EvaluationScheme) -> dict[str, Any]:
    names = {m.code: m.name for m in METRICS}
    return {"code": s.code, "name": s.name, "dim": s.dim, "active": s.active,
            "weights": [{"metric": m, "name": names.get(m, m), "weight": w}
                        for m, w in ranking.weights_of(s)]}


def _ranked_out(r: ranking.Ranked) -> dict[str, Any]:
    return {"rank": r.rank, "key": r.key, "label": r.label, "score": r.score,
            "values": r.values, "points": r.points}


def _board(p: Params, dim: str, scheme: EvaluationScheme) -> ranking.Board:
    return ranking.board(p.scope, dim=dim, since=p.since, until=p.until,  # type: ignore[arg-type]
                         scheme=scheme, within=p.within, level=p.level)


N = Annotated[int, Query(10, ge=1, le=100, description="红榜、黑榜各列几名")]
#: a page of the ranking: 100,000 basic grids are a download, not a JSON answer
MAX_LIMIT = 1000
Limit = Annotated[int, Query(100, ge=1, le=MAX_LIMIT, description="本页列出几名（1–1000）")]
Offset = Annotated[int, Query(0, ge=0, le=10_000_000, description="从第 offset+1 名列起")]
Key = Annotated[int | None, Query(None, ge=1,
                                  description="另给出这个对象（网格/部门/人员 id）的一行")]
SchemeCode = Annotated[Code, Query("", description="考核方案编码（默认：该对象启用的方案）")]


@router.get("/rankings", response=responses(AnalyticsRankingOut),
            summary="综合考核排名与红黑榜（部门/网格/网格员）")
def rankings(request: HttpRequest, dim: RankDim, since: Since = None, until: Until = None,
             grid: GridCode = "", level: Level = None, scheme: SchemeCode = "",
             n: N = 10, limit: Limit = 100, offset: Offset = 0, key: Key = None) -> Any:
    p = _params(request, since, until, grid, level)
    if p.scope.department_only and dim != "department":
        raise PermissionDenied("department staff see the departments' ranking only")
    chosen = _scheme(scheme, dim)
    board = _board(p, dim, chosen)
    red, black = board.red_black(n)
    row = None
    if key is not None:
        at = board.position(key)
        if at is None:
            raise _invalid("key", "该对象不在本排名中", "not_ranked")
        row = _ranked_out(board.rows(at, 1)[0])
    return {
        "scheme": _scheme_out(chosen),
        "query": {"dim": dim, "since": p.since, "until": p.until,
                  "grid": p.within.code if p.within else None, "level": p.level, "n": n,
                  "limit": limit, "offset": offset, "key": key},
        "total": board.total,
        "red": [_ranked_out(r) for r in red],
        "black": [_ranked_out(r) for r in black],
        "all": [_ranked_out(r) for r in board.rows(offset, limit)],
        "row": row,
    }


@router.get("/schemes", response=responses(list[AnalyticsSchemeOut]),
            summary="考核方案及其指标权重")
def schemes(request: HttpRequest,
            dim: Annotated[RankDim | None, Query(None, description="只列该考核对象的方案")] = None,
            ) -> Any:
    analytics_scope(request.auth)  # 403 for users who see no figures
    qs = EvaluationScheme.objects.order_by("dim", "code")
    if dim is not None:
        qs = qs.filter(dim=dim)
    return [_scheme_out(s) for s in qs]


_FILE = {"schema": {"type": "string", "format": "binary"}}
_EXPORT_DOC = {"responses": {200: {
    "description": "CSV（UTF-8，带 BOM）或 XLSX 文件",
    "content": {tables.CONTENT_TYPES["csv"].split(";")[0]: _FILE,
                tables.CONTENT_TYPES["xlsx"]: _FILE},
}}}


@router.get("/export", response={k: v for k, v in ERRORS.items()},
            openapi_extra=_EXPORT_DOC,
            summary="下载考核指标表或排名表（CSV/XLSX），参数同 /metrics 与 /rankings")
def export(request: HttpRequest, table: Literal["metrics", "rankings"],
           format_: Annotated[tables.Format, Query("xlsx", alias="format")] = "xlsx",
           by: By | None = None, dim: RankDim | None = None,
           since: Since = None, until: Until = None, grid: GridCode = "",
           level: Level = None, scheme: SchemeCode = "",
           compare_: CompareParam = True) -> HttpResponse:
    p = _params(request, since, until, grid, level)
    if table == "metrics":
        if by is None:
            raise _invalid("by", "下载考核指标表须给出分组方式 by", "missing")
        b = _breakdown(p, by, compare_)
        out = compare.breakdown_table(b, with_changes=compare_)
        return tables.response(out, format_, p.stem(f"考核指标_按{compare.DIM_LABELS[by]}"))
    if dim is None:
        raise _invalid("dim", "下载排名表须给出考核对象 dim", "missing")
    if p.scope.department_only and dim != "department":
        raise PermissionDenied("department staff see the departments' ranking only")
    chosen = _scheme(scheme, dim)
    out = ranking.ranking_table(_board(p, dim, chosen).rows(), chosen)  # every row
    return tables.response(out, format_, p.stem(f"考核排名_{chosen.name}"))
