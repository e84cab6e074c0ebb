"""`/api/v1/analytics/hotspots…`: density per basic grid (GeoJSON), repeat-location
clusters, heat points; the tables also as CSV/XLSX (`?format=csv|xlsx`). Thin: scope from
analytics.access, figures from analytics.hotspots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from wangge.analytics import hotspots
from wangge.analytics.access import Scope, analytics_scope, check_breakdown
from wangge.cases.access import visible_cases
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import CaseCategory
from wangge.core import tables
from wangge.core.schema import Code, responses
from wangge.territory.models import Grid

router = Router(tags=["analytics"])

Format = Literal["json", "csv", "xlsx"]
Since = Annotated[dt.date | None, Query(alias="from", description="开始日期（含），默认本年1月1日")]
Until = Annotated[dt.date | None, Query(alias="to", description="结束日期（含），默认今天")]
#: 事件小类（或大类：其下全部小类）的编码; 网格编码（含下级，须在本人范围内）
CategoryCode = Code
GridCode = Code


class DensityProps(Schema):
    code: str
    name: str
    cases: int
    area_km2: float
    per_km2: float
    class_: int = Field(alias="class", description="0 无事件；1–4 有事件网格的四分位")


class DensityFeature(Schema):
    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: DensityProps


class DensityClass(Schema):
    class_: int = Field(alias="class")
    min: float
    max: float


class DensityOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[DensityFeature]
    classes: list[DensityClass]
    total: int


class ClusterCaseOut(Schema):
    register_no: str
    title: str
    state: str
    state_label: str
    created_at: dt.datetime
    lat: float
    lng: float
    url: str | None = Field(description="事件页面（本人可查看时）")


class ClusterOut(Schema):
    category_code: str
    category_name: str
    lat: float
    lng: float
    radius_m: float
    count: int
    first: dt.datetime
    last: dt.datetime
    cases: list[ClusterCaseOut]


class HeatOut(Schema):
    points: list[list[float]] = Field(description="[纬度, 经度, 权重]")
    total: int = Field(description="范围内有位置的非涉密事件数")
    limit: int
    truncated: bool = Field(description="超过上限时只给最新的 limit 件")


@dataclass
class Filters:
    scope: Scope
    since: dt.date
    until: dt.date
    within: Grid | None
    category: CaseCategory | None

    def kwargs(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "within": self.within,
                "category": self.category}

    def stem(self, what: str) -> str:
        where = f"_{self.within.code}" if self.within else ""
        kind = f"_{self.category.code}" if self.category else ""
        return f"{what}{where}{kind}_{self.since:%Y%m%d}-{self.until:%Y%m%d}"


def _invalid(field: str, msg: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": msg, "type": "invalid"}])


def filters(request: HttpRequest, since: dt.date | None, until: dt.date | None,
            category: str, grid: str) -> Filters:
    """The caller's scope and the parsed filters: 403 for department staff, 422 naming the
    field for a bad span or an unknown category, 404 for a grid outside the scope (the same
    as one that does not exist)."""
    scope = analytics_scope(request.auth)
    check_breakdown(scope, "grid")
    today = timezone.localdate()
    since = since or today.replace(month=1, day=1)
    until = until or today
    if since > until:
        raise _invalid("from", "开始日期晚于结束日期")
    kind = None
    if category:
        kind = CaseCategory.objects.filter(code=category).first()
        if kind is None:
            raise _invalid("category", "没有这个事件分类编码")
    within = None
    if grid:
        within = Grid.objects.filter(code=grid).first()
        if within is None or not scope.covers(within):
            raise Http404("no such grid")
    return Filters(scope, since, until, within, kind)


def _local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


@router.get("", response=responses(DensityOut), by_alias=True,
            summary="各基层网格事件密度（GeoJSON 分级设色），或其表格（format=csv|xlsx）")
def density(request: HttpRequest, since: Since = None, until: Until = None,
            category: CategoryCode = "", grid: GridCode = "",
            simplify_m: Annotated[float, Query(ge=0, le=1000)] = 20,
            format: Format = "json") -> Any:
    f = filters(request, since, until, category, grid)
    if format != "json":
        rows = hotspots.density(f.scope, **f.kwargs())
        table = tables.Table("事件密度", ["网格编码", "网格名称", "事件数", "面积（平方公里）",
                                        "每平方公里事件数"],
                             [[r.code, r.name, r.cases, r.area_km2, r.per_km2] for r in rows])
        return tables.response(table, format, f.stem("事件密度"))
    return hotspots.density_geojson(f.scope, simplify_m=simplify_m, **f.kwargs())


def _links(request: HttpRequest, found: list[hotspots.Cluster]) -> set[str]:
    """The register numbers among these clusters' cases that the caller may open."""
    numbers = [c.register_no for cl in found for c in cl.cases]
    seen: set[str] = set()
    for start in range(0, len(numbers), 500):
        seen.update(visible_cases(request.auth).filter(
            register_no__in=numbers[start:start + 500]).values_list("register_no", flat=True))
    return seen


@router.get("/clusters", response=responses(list[ClusterOut]),
            summary="重复发生点：同一小类事件在一处反复上报（不含涉密事件），或其表格")
def clusters(request: HttpRequest, since: Since = None, until: Until = None,
             category: CategoryCode = "", grid: GridCode = "",
             radius_m: Annotated[float, Query(ge=10, le=2000, description="相邻距离（米）")] = 100,
             min_cases: Annotated[int, Query(ge=2, le=1000, description="最少件数")] = 3,
             format: Format = "json") -> Any:
    f = filters(request, since, until, category, grid)
    found = hotspots.clusters(f.scope, radius_m=radius_m, min_cases=min_cases, **f.kwargs())
    if format != "json":
        rows: list[list[tables.Cell]] = []
        for n, cl in enumerate(found, 1):
            for c in cl.cases:
                rows.append([n, cl.category_code, cl.category_name, cl.lat, cl.lng,
                             cl.radius_m, cl.count, c.register_no, c.title,
                             str(STATE_LABELS.get(c.state, c.state)), _local(c.created_at),
                             c.lat, c.lng])
        table = tables.Table("重复发生点", [
            "序号", "分类编码", "分类", "中心纬度", "中心经度", "半径（米）", "件数", "登记号",
            "标题", "状态", "上报时间", "纬度", "经度"], rows)
        return tables.response(table, format, f.stem("重复发生点"))
    linked = _links(request, found)
    return [{**vars(cl), "cases": [
        {**vars(c), "state_label": str(STATE_LABELS.get(c.state, c.state)),
         "url": f"/console/cases/{c.register_no}/" if c.register_no in linked else None}
        for c in cl.cases]} for cl in found]


@router.get("/heat", response=responses(HeatOut),
            summary="热力图点位（不含涉密事件；超过上限时取最新的 limit 件）")
def heat(request: HttpRequest, since: Since = None, until: Until = None,
         category: CategoryCode = "", grid: GridCode = "",
         limit: Annotated[int, Query(ge=1, le=50000)] = 20000) -> Any:
    f = filters(request, since, until, category, grid)
    points = [list(p) for p in hotspots.heat_points(f.scope, limit=limit, **f.kwargs())]
    total = len(points)
    if total >= limit:
        total = hotspots.heat_total(f.scope, **f.kwargs())
    return {"points": points, "total": total, "limit": limit, "truncated": total > limit}

