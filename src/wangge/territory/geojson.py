"""GeoJSON (RFC 7946) import parsing and export of the grid tree.

A feature's properties: code, name, level, kind, parent_code (null for the root).
Coordinates are WGS 84 longitude, latitude; exported polygons follow the right-hand rule
(exterior rings counter-clockwise), imported ones are accepted in either orientation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import shapely
import shapely.geometry
from shapely.errors import ShapelyError

from wangge.territory.records import GridRecord, Problem

PROPERTIES = ("code", "name", "level", "kind", "parent_code")


def parse_feature_collection(data: Any) -> tuple[list[GridRecord], list[Problem]]:
    """Turn a decoded GeoJSON document into records, listing every bad feature."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [Problem("the file must be a GeoJSON FeatureCollection", field="type")]
    features = data.get("features")
    if not isinstance(features, list):
        return [], [Problem("FeatureCollection has no 'features' list", field="features")]
    records: list[GridRecord] = []
    problems: list[Problem] = []
    for i, feature in enumerate(features):
        rec, errs = _parse_feature(i, feature)
        problems.extend(errs)
        if rec is not None:
            records.append(rec)
    return records, problems


def _parse_feature(i: int, feature: Any) -> tuple[GridRecord | None, list[Problem]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, [Problem("not a GeoJSON Feature", feature=i, field="type")]
    props = feature.get("properties")
    if not isinstance(props, dict):
        return None, [Problem("feature has no properties", feature=i, field="properties")]
    code = props.get("code")
    code = code if isinstance(code, str) else None
    errs: list[Problem] = []
    for key in ("code", "name", "kind"):
        if not isinstance(props.get(key), str) or not props[key].strip():
            errs.append(Problem(f"'{key}' must be a non-empty string", code=code, feature=i,
                                field=f"properties.{key}"))
    level = props.get("level")
    if isinstance(level, bool) or not isinstance(level, int):
        errs.append(Problem("'level' must be an integer 0–4", code=code, feature=i,
                            field="properties.level"))
    parent_code = props.get("parent_code")
    if parent_code is not None and not isinstance(parent_code, str):
        errs.append(Problem("'parent_code' must be a string or null", code=code, feature=i,
                            field="properties.parent_code"))
    geometry = None
    raw = feature.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        errs.append(Problem("geometry must be a Polygon or MultiPolygon", code=code,
                            feature=i, field="geometry"))
    else:
        try:
            geometry = shapely.geometry.shape(raw)
        except (ValueError, TypeError, AttributeError, IndexError, ShapelyError) as e:
            errs.append(Problem(f"unreadable coordinates ({e})", code=code, feature=i,
                                field="geometry.coordinates"))
    if errs:
        return None, errs
    return GridRecord(
        code=props["code"].strip(),
        name=props["name"].strip(),
        level=level,
        kind=props["kind"].strip(),
        parent_code=parent_code.strip() if parent_code else None,
        geometry=geometry,
    ), []


def to_feature(rec: GridRecord, **extra: Any) -> dict[str, Any]:
    geom = shapely.orient_polygons(rec.geometry)
    return {
        "type": "Feature",
        "id": rec.code,
        "properties": {
            "code": rec.code,
            "name": rec.name,
            "level": rec.level,
            "kind": rec.kind,
            "parent_code": rec.parent_code,
            **extra,
        },
        "geometry": shapely.geometry.mapping(geom),
    }


def feature_collection(records: Iterable[GridRecord]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [to_feature(r) for r in records]}
