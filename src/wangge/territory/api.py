"""Grid endpoints: locate a point, read grids in scope, their GeoJSON, and edit."""

from __future__ import annotations

from typing import Annotated, Any

import shapely.geometry
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from ninja.errors import ValidationError
from shapely.errors import ShapelyError

from wangge.core.schema import ModelText, responses
from wangge.territory import lookup
from wangge.territory.access import access_grid, top_grids, visible_grids
from wangge.territory.actions import check_update_grid, do_update_grid, grid_to_record
from wangge.territory.geojson import to_feature
from wangge.territory.models import KINDS_BY_LEVEL, Grid
from wangge.territory.queries import grid_summary

router = Router(tags=["grids"])

GridCode = ModelText(Grid, "code")
PathCode = Annotated[GridCode, Path()]


class GridRef(Schema):
    code: str
    name: str
    level: int
    kind: str


class LocateOut(Schema):
    grid: GridRef
    ancestors: list[GridRef]


class LocateIn(Schema):
    lat: float = Query(..., ge=-90, le=90, description="纬度 WGS 84")
    lng: float = Query(..., ge=-180, le=180, description="经度 WGS 84")


@router.get("/locate", response=responses(LocateOut), summary="点位所在网格")
def locate(request: HttpRequest, q: Query[LocateIn]) -> Any:
    chain = lookup.locate(q.lng, q.lat)
    if chain is None:
        return Status(404, {"detail": "the point lies outside the territory"})
    *ancestors, grid = chain
    return {"grid": grid, "ancestors": ancestors}


class PersonCard(Schema):
    id: int
    name: str
    role: str
    role_label: str
    work_phone: str
    employment: str
    responsible: bool
    department: str | None


class GridOut(GridRef):
    parent_code: str | None
    path: list[str]
    children: int
    basic_grids: int
    grid_workers: int
    qr_url: str
    people: list[PersonCard]


@router.get("/", response=responses(list[GridRef]), summary="可见网格列表")
def list_grids(
    request: HttpRequest,
    level: int | None = Query(None, ge=min(KINDS_BY_LEVEL), le=max(KINDS_BY_LEVEL)),
    parent: GridCode | None = None,
) -> Any:
    qs = visible_grids(request.auth)
    if level is not None:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return list(qs.values("code", "name", "level", "kind")[:5000])


@router.get("/top.geojson", response=responses(dict[str, Any]),
            summary="用户管辖范围的顶层网格 (GeoJSON)")
def top_geojson(request: HttpRequest) -> dict[str, Any]:
    return _collection(top_grids(request.auth))


@router.get("/{code}", response=responses(GridOut), summary="网格详情")
def grid_detail(request: HttpRequest, code: PathCode) -> Any:
    return grid_summary(access_grid(request.auth, code), request.auth)


@router.get("/{code}/children.geojson", response=responses(dict[str, Any]),
            summary="下级网格 (GeoJSON)")
def children_geojson(request: HttpRequest, code: PathCode) -> dict[str, Any]:
    grid = access_grid(request.auth, code)
    return _collection(visible_grids(request.auth).filter(parent=grid))


def _collection(grids: Any) -> dict[str, Any]:
    features = [
        to_feature(grid_to_record(g, g.parent.code if g.parent_id else None),
                   label=[g.label_lng, g.label_lat])
        for g in grids.select_related("parent").order_by("code")
    ]
    return {"type": "FeatureCollection", "features": features}


class GridPatch(Schema):
    name: ModelText(Grid, "name") | None = None  # type: ignore[valid-type]
    geometry: dict[str, Any] | None = None


@router.patch("/{code}", response=responses(GridOut), summary="修改网格名称或边界")
def update_grid(request: HttpRequest, code: PathCode, body: GridPatch) -> Any:
    grid = access_grid(request.auth, code)
    check_update_grid(request.auth, grid)
    geometry = None
    if body.geometry is not None:
        try:
            geometry = shapely.geometry.shape(body.geometry)
        except (ValueError, TypeError, AttributeError, IndexError, KeyError,
                ShapelyError) as e:
            raise ValidationError([{"loc": ["body", "geometry"], "type": "invalid_geometry",
                                    "msg": f"unreadable GeoJSON geometry ({e})"}]) from e
    do_update_grid(grid, name=body.name, geometry=geometry, actor=request.auth)
    return grid_summary(Grid.objects.get(pk=grid.pk), request.auth)
