"""Rules a grid tree must satisfy before it is saved.

Errors: bad codes, levels, kinds or parents; invalid or empty polygons; a grid reaching
outside its parent; siblings overlapping. Warnings: children that leave part of their
parent uncovered (coverage gaps are reported, not refused: a new village often gets its
grids drawn one at a time).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import shapely

from wangge.core.schema import model_max, text_problem
from wangge.territory.models import KINDS_BY_LEVEL, Grid
from wangge.territory.records import GridRecord, Problem, square_metres

#: relative area tolerance: slivers smaller than this share of a grid are drawing noise
TOLERANCE = 1e-4

CODE_RE = {
    0: re.compile(r"^\d{12}$"),
    1: re.compile(r"^\d{12}$"),
    2: re.compile(r"^\d{12}$"),
    3: re.compile(r"^\d{12}$"),
    4: re.compile(r"^\d{15}$"),
}


def check_tree(
    records: Sequence[GridRecord], *, tolerance: float = TOLERANCE
) -> tuple[list[Problem], list[Problem]]:
    """Return (errors, warnings) for a whole tree."""
    errors: list[Problem] = []
    by_code: dict[str, GridRecord] = {}
    for rec in records:
        if rec.code in by_code:
            errors.append(Problem("duplicate code", code=rec.code, field="code"))
        by_code[rec.code] = rec
    good: list[GridRecord] = []
    for rec in by_code.values():
        problems = _check_record(rec, by_code)
        errors.extend(problems)
        if not problems:
            good.append(rec)
    geo_errors, warnings = _check_geometry(good, by_code, tolerance)
    return errors + geo_errors, warnings


def _check_record(rec: GridRecord, by_code: dict[str, GridRecord]) -> list[Problem]:
    out: list[Problem] = []
    for field in ("code", "name", "kind"):
        value = getattr(rec, field)
        if isinstance(value, str) and (problem := text_problem(value)) is not None:
            return [*out, Problem(problem[1], code=None, field=field)]
    if not rec.name.strip():
        out.append(Problem("name is empty", code=rec.code, field="name"))
    if len(rec.name) > (limit := model_max(Grid, "name")):
        out.append(Problem(f"name is longer than {limit} characters", code=rec.code,
                           field="name"))
    if len(rec.code) > model_max(Grid, "code"):
        return [*out, Problem("code is too long", code=None, field="code")]
    if rec.level not in KINDS_BY_LEVEL:
        return [*out, Problem(f"level {rec.level} is not 0–4", code=rec.code, field="level")]
    if rec.kind not in KINDS_BY_LEVEL[rec.level]:
        allowed = ", ".join(sorted(KINDS_BY_LEVEL[rec.level]))
        out.append(Problem(f"kind {rec.kind!r} is not one of {allowed} at level {rec.level}",
                           code=rec.code, field="kind"))
    if not CODE_RE[rec.level].match(rec.code):
        digits = 15 if rec.level == 4 else 12
        out.append(Problem(f"code must be {digits} digits at level {rec.level}",
                           code=rec.code, field="code"))
    if rec.level == 0:
        if rec.parent_code:
            out.append(Problem("a level-0 grid has no parent", code=rec.code, field="parent_code"))
    else:
        parent = by_code.get(rec.parent_code or "")
        if parent is None:
            out.append(Problem(f"parent {rec.parent_code!r} does not exist",
                               code=rec.code, field="parent_code"))
        elif parent.level != rec.level - 1:
            out.append(Problem(f"parent is level {parent.level}, expected {rec.level - 1}",
                               code=rec.code, field="parent_code"))
        elif rec.level == 4 and not rec.code.startswith(parent.code):
            out.append(Problem("a basic grid's code starts with its village/community code",
                               code=rec.code, field="code"))
    out.extend(_check_polygon(rec))
    return out


def _check_polygon(rec: GridRecord) -> list[Problem]:
    geom = rec.geometry
    if geom is None or shapely.get_type_id(geom) not in (3, 6):
        return [Problem("geometry must be a Polygon or MultiPolygon", code=rec.code,
                        field="geometry")]
    if not np.isfinite(shapely.get_coordinates(geom)).all():
        return [Problem("coordinates must be finite numbers (no NaN or Infinity)",
                        code=rec.code, field="geometry")]
    if geom.is_empty or geom.area <= 0:
        return [Problem("polygon is empty", code=rec.code, field="geometry")]
    if not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        return [Problem(f"invalid polygon: {why}", code=rec.code, field="geometry")]
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return [Problem("coordinates must be longitude, latitude (WGS 84)", code=rec.code,
                        field="geometry")]
    return []


def _check_geometry(
    good: list[GridRecord], by_code: dict[str, GridRecord], tolerance: float
) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []
    children: dict[str, list[GridRecord]] = defaultdict(list)
    for rec in good:
        if rec.parent_code and rec.parent_code in by_code:
            children[rec.parent_code].append(rec)

    # Inside the parent: what sticks out must be a sliver.
    pairs = [(r, by_code[r.parent_code]) for r in good if r.level > 0 and r.parent_code]
    pairs = [(c, p) for c, p in pairs if not _check_polygon(p)]
    if pairs:
        kids = np.array([c.geometry for c, _ in pairs], dtype=object)
        parents = np.array([p.geometry for _, p in pairs], dtype=object)
        outside = shapely.area(shapely.difference(kids, parents))
        areas = shapely.area(kids)
        for (child, parent), out_area, area in zip(pairs, outside, areas, strict=True):
            if out_area > tolerance * area:
                share = 100 * out_area / area
                errors.append(Problem(f"{share:.2f}% of the grid lies outside its parent "
                                      f"{parent.code}", code=child.code, field="geometry"))

    # Siblings must not overlap.
    for parent_code, kids_list in children.items():
        if len(kids_list) < 2:
            continue
        geoms = np.array([k.geometry for k in kids_list], dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        mask = left < right
        left, right = left[mask], right[mask]
        if not len(left):
            continue
        shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
        for i, j, a, s in zip(left, right, shared, smaller, strict=True):
            if a > tolerance * s:
                errors.append(Problem(
                    f"overlaps its sibling {kids_list[j].code} under {parent_code}",
                    code=kids_list[i].code, field="geometry"))

    # Children should cover their parent: report the gap.
    for parent_code, kids_list in children.items():
        parent = by_code[parent_code]
        if _check_polygon(parent):
            continue
        covered = shapely.union_all([k.geometry for k in kids_list])
        gap = parent.geometry.difference(covered).area
        if gap > tolerance * parent.geometry.area:
            lat = parent.geometry.centroid.y
            warnings.append(Problem(
                f"children leave {100 * gap / parent.geometry.area:.2f}% "
                f"(about {square_metres(gap, lat):,.0f} m²) uncovered",
                code=parent_code, field="geometry"))
    return errors, warnings
