"""What the console map draws over the grids: open and late cases per grid, and the points
of the open cases of the grid being viewed. Every read goes through `access.visible_cases`
(so a confidential case counts and shows only for those who may see it); "late" is
`queues.overdue` (see map_queries)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from wangge.cases.map_queries import case_points, grid_counts
from wangge.core.schema import ModelText, responses
from wangge.territory.access import access_grid, top_grids, visible_grids
from wangge.territory.models import Grid

router = Router(tags=["map"])

GridCode = Annotated[ModelText(Grid, "code"), Path()]
#: the most case points one answer carries (the map clusters them; the total says how many)
MAX_POINTS = 2000
DEFAULT_POINTS = 1000


class GridCount(Schema):
    code: str
    open: int
    late: int


class GridCounts(Schema):
    grids: list[GridCount]
    max_open: int
    max_late: int


class CasePoint(Schema):
    register_no: str
    title: str
    category: str
    state: str
    state_label: str
    lat: float
    lng: float
    late: bool
    confidential: bool
    url: str


class CasePoints(Schema):
    grid: str
    total: int
    truncated: bool
    cases: list[CasePoint]


@router.get("/grids/top", response=responses(GridCounts),
            summary="顶层网格的未结、超期事件数（地图着色）")
def top_counts(request: HttpRequest) -> Any:
    return grid_counts(request.auth, top_grids(request.auth))


@router.get("/grids/{code}/children", response=responses(GridCounts),
            summary="下级网格的未结、超期事件数（地图着色）")
def children_counts(request: HttpRequest, code: GridCode) -> Any:
    grid = access_grid(request.auth, code)
    return grid_counts(request.auth, visible_grids(request.auth).filter(parent=grid))


@router.get("/grids/{code}/cases", response=responses(CasePoints),
            summary="网格内未结事件的点位（地图标注，超期优先）")
def grid_cases(request: HttpRequest, code: GridCode,
               limit: int = Query(DEFAULT_POINTS, ge=1, le=MAX_POINTS)) -> Any:
    return case_points(request.auth, access_grid(request.auth, code), limit)
