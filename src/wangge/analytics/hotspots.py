"""Hot spots (热点): case density per basic grid, repeat-location clusters, heat points.

All three read the cases created in a span of days (Asia/Shanghai), within the caller's
scope (`analytics.access.Scope`), optionally inside one grid subtree and one category (a
small class, or a big class meaning all its small classes).

- `density` counts every case, confidential ones included (a count, as every statistic
  here), with one GROUP BY grid over the span: the cases' (category, created_at) and
  created_at indexes bound the rows read. The rollups (analytics.figures) would answer the
  no-category city-wide year faster, but they have no per-category per-basic-grid rows, and
  one category at province scale is a few hundred thousand rows read by the index: the
  direct count serves both with one code path (see docs/analytics.md, "Hot spots").
- `clusters` and `heat_points` list locations: confidential cases are left out, and no
  personal data is given (no reporter, no contact; the title is staff-written).

Areas come from the grid boundaries (Lambert cylindrical equal-area on the authalic
sphere), cached per territory stamp (`TerritoryState.stamp`) with the simplified outlines.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Q, QuerySet
from shapely.geometry import mapping

from wangge.analytics.access import Scope, check_breakdown, check_grid
from wangge.analytics.rollup import day_start, territory_stamp
from wangge.cases.models import Case, CaseCategory
from wangge.territory.models import Grid

__all__ = ["Cluster", "ClusterCase", "GridDensity", "area_density", "area_outlines", "clusters",
           "density", "density_geojson", "heat_points", "map_level", "map_levels",
           "quantile_classes"]

#: the authalic radius of the WGS84 ellipsoid (m): a sphere of the ellipsoid's area
EARTH_R = 6_371_007.2
M_PER_DEG = EARTH_R * math.pi / 180
#: the calendar ends a span is clamped to (their midnights in UTC would overflow)
_FIRST_DAY = dt.date(1900, 1, 1)
_LAST_DAY = dt.date(9998, 12, 31)


@dataclass
class GridDensity:
    grid_id: int
    code: str
    name: str
    cases: int
    area_km2: float
    per_km2: float


@dataclass
class ClusterCase:
    register_no: str
    title: str
    state: str
    created_at: dt.datetime
    lat: float
    lng: float


@dataclass
class Cluster:
    category_code: str
    category_name: str
    lat: float
    lng: float
    radius_m: float
    count: int
    first: dt.datetime
    last: dt.datetime
    cases: list[ClusterCase] = field(default_factory=list)


# -- scope, span and category -------------------------------------------------------------

def _span_q(since: dt.date, until: dt.date, column: str = "created_at") -> Q:
    lo = max(since, _FIRST_DAY)
    hi = min(until, _LAST_DAY) + dt.timedelta(days=1)
    return Q(**{f"{column}__gte": day_start(lo), f"{column}__lt": day_start(hi)})


def _where_q(scope: Scope, within: Grid | None, field_: str = "grid__path") -> Q:
    """The cases (or grids, with field_="path") of the scope, or of `within` (which the
    scope must cover: PermissionDenied otherwise)."""
    check_breakdown(scope, "grid")  # department staff: no figures by grid at all
    if within is not None:
        check_grid(scope, within)
        return Q(**{f"{field_}__startswith": within.path})
    return scope.grid_q(field_)


def _category_q(category: CaseCategory | None) -> Q:
    if category is None:
        return Q()
    return Q(category=category) | Q(category__parent=category)


def _cases(scope: Scope, since: dt.date, until: dt.date, within: Grid | None,
           category: CaseCategory | None) -> QuerySet[Case]:
    return Case.objects.filter(_where_q(scope, within), _span_q(since, until),
                               _category_q(category)).order_by()


# -- areas and outlines, per territory stamp ----------------------------------------------

@dataclass
class _Level:
    """The grids of one level over the whole tree, for one territory stamp: which of them
    each basic grid lies in, and (filled as asked) their areas and simplified outlines. A
    grid without a boundary of its own is drawn as the union of its basic grids."""

    level: int
    of_basic: dict[int, int]  # basic grid id → the id of its grid at this level
    areas: dict[int, float] = field(default_factory=dict)
    outlines: dict[int, dict[str, Any] | None] = field(default_factory=dict)


class _GeoCache:
    """Per grid id: area in km² and simplified outlines (per tolerance), valid for one
    territory stamp; a new stamp empties it. Bounded so a province cannot fill memory with
    outlines nobody asks for again."""

    MAX_OUTLINES = 60_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: str | None = None
        self.areas: dict[int, float] = {}
        self.outlines: dict[tuple[int, float], dict[str, Any]] = {}
        self.levels: dict[int, _Level] = {}
        self.map_levels: dict[str, tuple[int, dict[int, int]]] = {}

    def fresh(self, stamp: str) -> None:
        with self.lock:
            if stamp != self.stamp:
                self.stamp, self.areas, self.outlines = stamp, {}, {}
                self.levels, self.map_levels = {}, {}


_cache = _GeoCache()


def area_km2(geometry: shapely.Geometry) -> float:
    """The area of a lng/lat polygon in km²: Lambert's cylindrical equal-area projection of
    the authalic sphere (x = Rλ, y = R sin φ) keeps areas exactly; the sphere differs from
    the ellipsoid by well under 1 % at China's latitudes."""
    if geometry is None or geometry.is_empty:
        return 0.0
    projected = shapely.transform(geometry, lambda c: np.column_stack(
        (np.radians(c[:, 0]) * EARTH_R, np.sin(np.radians(c[:, 1])) * EARTH_R)))
    return float(shapely.area(projected)) / 1e6


def _load(ids: list[int], *, outlines: float | None = None) -> None:
    """Fill the cache for these grids (areas; and outlines at this tolerance in metres)."""
    missing = [i for i in ids if i not in _cache.areas
               or (outlines is not None and (i, outlines) not in _cache.outlines)]
    if not missing:
        return
    tolerance = (outlines or 0) / M_PER_DEG
    for start in range(0, len(missing), 2000):
        chunk = missing[start:start + 2000]
        rows = Grid.objects.filter(pk__in=chunk).values_list("pk", "boundary")
        for pk, boundary in rows:
            geom = shapely.from_wkb(bytes(boundary))
            _cache.areas[pk] = area_km2(geom)
            if outlines is not None:
                if len(_cache.outlines) >= _cache.MAX_OUTLINES:
                    _cache.outlines.clear()
                small = shapely.simplify(geom, tolerance, preserve_topology=True) \
                    if tolerance > 0 else geom
                _cache.outlines[(pk, outlines)] = mapping(small)


# -- density ------------------------------------------------------------------------------

def density(scope: Scope, *, since: dt.date, until: dt.date, within: Grid | None = None,
            category: CaseCategory | None = None) -> list[GridDensity]:
    """Every basic grid (level 4) in the scope (or `within`), with its cases created in the
    span (confidential ones included) and their number per km²; densest first."""
    grids = list(Grid.objects.filter(_where_q(scope, within, "path"), level=4)
                 .order_by().values_list("pk", "code", "name"))
    counts = dict(_cases(scope, since, until, within, category)
                  .values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    _cache.fresh(territory_stamp())
    _load([pk for pk, _, _ in grids])
    out = []
    for pk, code, name in grids:
        n = int(counts.get(pk, 0))
        area = _cache.areas.get(pk, 0.0)
        out.append(GridDensity(pk, code, name, n, round(area, 4),
                               round(n / area, 4) if area > 0 else 0.0))
    out.sort(key=lambda d: (-d.per_km2, -d.cases, d.code))
    return out


# -- the cockpit's map: density per area of one level ------------------------------------

#: the most areas the cockpit's map draws: it shows the deepest level of the scope with at
#: most this many grids (a city's few hundred basic grids all; a province's 1,400 towns,
#: not its 100,000 basic grids, which no one reads on a wall screen)
MAP_MAX_AREAS = 2500
#: asked for, the map goes down to levels of up to this many times MAP_MAX_AREAS grids
MAP_ASKED_FACTOR = 4
#: outlines are simplified to about a pixel at the zoom a level fills the screen at (m)
TOLERANCE_M: dict[int, float] = {0: 500.0, 1: 250.0, 2: 100.0, 3: 40.0, 4: 20.0}
_CHUNK = 2000


def _geometry(boundary: Any) -> shapely.Geometry | None:
    raw = bytes(boundary) if boundary is not None else b""
    if not raw:
        return None
    geom = shapely.from_wkb(raw)
    return None if geom is None or geom.is_empty else geom


def _ancestor(path: str, level: int) -> str:
    """The path of the grid at `level` above (or at) the grid of `path` (a path has one
    segment per level from 0)."""
    return "/" + "/".join(path.strip("/").split("/")[:level + 1]) + "/"


def _level_counts(scope: Scope) -> tuple[int, dict[int, int]]:
    """The scope's deepest top grid's level, and its grids per level (cached per stamp)."""
    _cache.fresh(territory_stamp())
    name = repr(sorted(scope.paths) if scope.paths is not None else None)
    known = _cache.map_levels.get(name)
    if known is not None:
        return known
    floor = max((g.level for g in scope.top_grids()), default=0)
    counts = dict(Grid.objects.filter(scope.grid_q("path")).order_by().values_list("level")
                  .annotate(n=Count("id")).values_list("level", "n"))
    _cache.map_levels[name] = (floor, counts)
    return floor, counts


def map_level(scope: Scope) -> int:
    """The level the cockpit's map draws for the scope: the deepest with at most
    MAP_MAX_AREAS grids in it, never above the scope's deepest top grid (an area must lie
    wholly in the scope), never below the basic grids."""
    floor, counts = _level_counts(scope)
    fitting = [lv for lv in range(floor, 5) if counts.get(lv, 0) <= MAP_MAX_AREAS]
    return max(fitting) if fitting else floor


def map_levels(scope: Scope) -> list[int]:
    """The levels one may ask the cockpit's map for: from the scope's top down to the
    deepest with at most MAP_ASKED_FACTOR × MAP_MAX_AREAS grids (a province's 100,000
    basic grids are not drawn on a wall screen; a town's are)."""
    floor, counts = _level_counts(scope)
    most = MAP_ASKED_FACTOR * MAP_MAX_AREAS
    return [lv for lv in range(floor, 5) if counts.get(lv, 0) <= most] or [floor]


def _level(level: int) -> _Level:
    _cache.fresh(territory_stamp())
    found = _cache.levels.get(level)
    if found is not None:
        return found
    if level >= 4:
        found = _Level(4, {})
    else:
        by_path = dict(Grid.objects.filter(level=level).values_list("path", "pk"))
        of_basic = {}
        for pk, path in Grid.objects.filter(level=4).values_list("pk", "path").iterator(5000):
            above = by_path.get(_ancestor(path, level))
            if above is not None:
                of_basic[pk] = above
        found = _Level(level, of_basic)
    with _cache.lock:
        _cache.levels.setdefault(level, found)
    return _cache.levels[level]


def _areas_km2(geoms: np.ndarray) -> np.ndarray:
    """area_km2 of many polygons at once (one vectorised projection and area)."""
    if not len(geoms):
        return np.zeros(0)
    projected = shapely.transform(geoms, lambda c: np.column_stack(
        (np.radians(c[:, 0]) * EARTH_R, np.sin(np.radians(c[:, 1])) * EARTH_R)))
    return np.nan_to_num(shapely.area(projected)) / 1e6


def _read(ids: list[int]) -> tuple[list[int], np.ndarray]:
    """(ids, geometries) of these grids' boundaries (None where empty), read in chunks."""
    pks: list[int] = []
    raws: list[bytes | None] = []
    for start in range(0, len(ids), _CHUNK):
        for pk, boundary in Grid.objects.filter(pk__in=ids[start:start + _CHUNK]
                                                ).values_list("pk", "boundary"):
            raw = bytes(boundary) if boundary is not None else b""
            pks.append(pk)
            raws.append(raw or None)
    geoms = shapely.from_wkb(np.array(raws, dtype=object))
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    geoms[empty] = None
    return pks, geoms


def _fill(lv: _Level, ids: list[int]) -> None:
    """Areas and outlines for these grids of the level (own boundary, else the union of
    their basic grids', which tile it), each computed once per territory stamp."""
    missing = [i for i in ids if i not in lv.areas]
    if not missing:
        return
    tolerance = TOLERANCE_M.get(lv.level, 20.0) / M_PER_DEG
    pks, geoms = _read(missing)
    present = ~shapely.is_missing(geoms)
    areas = np.zeros(len(pks))
    areas[present] = _areas_km2(geoms[present])
    small = shapely.simplify(geoms, tolerance, preserve_topology=True)
    hollow: set[int] = set()
    for k, pk in enumerate(pks):
        if not present[k]:
            hollow.add(pk)
            continue
        lv.areas[pk] = float(areas[k])
        lv.outlines[pk] = mapping(small[k])
    if hollow:
        kids = [b for b, a in lv.of_basic.items() if a in hollow]
        kid_pks, kid_geoms = _read(kids)
        kid_areas = np.zeros(len(kid_pks))
        ok = ~shapely.is_missing(kid_geoms)
        kid_areas[ok] = _areas_km2(kid_geoms[ok])
        parts: dict[int, list[int]] = {}
        for k, pk in enumerate(kid_pks):
            if ok[k]:
                parts.setdefault(lv.of_basic[pk], []).append(k)
        for pk in hollow:
            index = parts.get(pk, [])
            lv.areas[pk] = float(kid_areas[index].sum()) if index else 0.0
            # basic grids tile their parent: the coverage union is exact and far cheaper
            # than a general union
            whole = shapely.coverage_union_all(kid_geoms[index]) if index else None
            lv.outlines[pk] = (None if whole is None or whole.is_empty else mapping(
                shapely.simplify(whole, tolerance, preserve_topology=True)))


def _areas_of(scope: Scope, level: int) -> list[tuple[int, str, str]]:
    check_breakdown(scope, "grid")
    return list(Grid.objects.filter(scope.grid_q("path"), level=level).order_by()
                .values_list("pk", "code", "name"))


def area_density(scope: Scope, *, since: dt.date, until: dt.date, level: int = 4
                 ) -> list[GridDensity]:
    """`density` per grid of `level` (its basic grids' cases added up; the level must be
    at or below the scope's top grids, see map_level): one GROUP BY basic grid over the
    span, no geometry read once the areas are known. Densest first."""
    areas = _areas_of(scope, level)
    lv = _level(level)
    _fill(lv, [pk for pk, _, _ in areas])
    counts: dict[int, int] = {}
    for grid_id, n in (_cases(scope, since, until, None, None).values_list("grid_id")
                       .annotate(n=Count("id")).values_list("grid_id", "n")):
        key = grid_id if level >= 4 else lv.of_basic.get(grid_id)
        if key is not None:
            counts[key] = counts.get(key, 0) + int(n)
    out = []
    for pk, code, name in areas:
        n, area = counts.get(pk, 0), lv.areas.get(pk, 0.0)
        out.append(GridDensity(pk, code, name, n, round(area, 4),
                               round(n / area, 4) if area > 0 else 0.0))
    out.sort(key=lambda d: (-d.per_km2, -d.cases, d.code))
    return out


def area_outlines(scope: Scope, level: int) -> dict[str, Any]:
    """The outlines of the scope's grids of `level` as a FeatureCollection (properties
    code and name only: the numbers come with every refresh, the shapes once)."""
    areas = _areas_of(scope, level)
    lv = _level(level)
    _fill(lv, [pk for pk, _, _ in areas])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": lv.outlines.get(pk),
         "properties": {"code": code, "name": name}}
        for pk, code, name in sorted(areas, key=lambda a: a[1])]}


def quantile_classes(values: list[float]) -> list[int]:
    """The class of each value: 0 for no case; otherwise 1 + the quartile of its rank among
    the values above 0 (1 + ⌊4 × the number of smaller positive values / their count⌋), so
    equal values share a class and the lowest positive value is always class 1."""
    positive = sorted(v for v in values if v > 0)
    n = len(positive)
    return [0 if v <= 0 else 1 + (4 * bisect_left(positive, v)) // n for v in values]


def density_geojson(scope: Scope, *, since: dt.date, until: dt.date,
                    within: Grid | None = None, category: CaseCategory | None = None,
                    simplify_m: float = 20) -> dict[str, Any]:
    """`density` as a GeoJSON FeatureCollection of the basic grids' outlines (simplified to
    `simplify_m` metres), properties code, name, cases, area_km2, per_km2 and class (0: no
    case, 1–4: the quartiles of the grids with cases), plus `classes`: each class's range
    of cases per km² (the lowest and highest grid in it; classes nobody falls in are left
    out) for the legend."""
    rows = density(scope, since=since, until=until, within=within, category=category)
    classes = quantile_classes([r.per_km2 for r in rows])
    tolerance = float(max(0.0, simplify_m))
    _load([r.grid_id for r in rows], outlines=tolerance)
    features = [{
        "type": "Feature",
        "geometry": _cache.outlines.get((r.grid_id, tolerance)),
        "properties": {"code": r.code, "name": r.name, "cases": r.cases,
                       "area_km2": r.area_km2, "per_km2": r.per_km2,
                       "class": k},
    } for r, k in zip(rows, classes, strict=True)]
    ranges: dict[int, list[float]] = {0: [0.0, 0.0]}
    for r, k in zip(rows, classes, strict=True):
        if k:
            lo, hi = ranges.setdefault(k, [r.per_km2, r.per_km2])
            ranges[k] = [min(lo, r.per_km2), max(hi, r.per_km2)]
    legend = [{"class": k, "min": lo, "max": hi} for k, (lo, hi) in sorted(ranges.items())]
    return {"type": "FeatureCollection", "features": features, "classes": legend,
            "total": sum(r.cases for r in rows)}


# -- clusters -----------------------------------------------------------------------------

def haversine_m(lat1: np.ndarray, lng1: np.ndarray, lat2: np.ndarray,
                lng2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lng2 - lng1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_R * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def neighbour_pairs(lat: np.ndarray, lng: np.ndarray, radius_m: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair (i, j), i != j, of points at most radius_m apart (great circle).
    An STRtree query in degrees with a radius that cannot miss (the longitude degree is
    shortest at the highest latitude), then the exact distance on the candidates only."""
    if len(lat) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    widest = math.cos(math.radians(min(89.0, float(np.max(np.abs(lat))) + 0.01)))
    degrees = radius_m / M_PER_DEG / widest * 1.001
    points = shapely.points(lng, lat)
    tree = shapely.STRtree(points)
    i, j = tree.query(points, predicate="dwithin", distance=degrees)
    keep = i != j
    i, j = i[keep], j[keep]
    near = haversine_m(lat[i], lng[i], lat[j], lng[j]) <= radius_m
    return i[near], j[near]


def dbscan(lat: np.ndarray, lng: np.ndarray, radius_m: float, min_cases: int) -> np.ndarray:
    """DBSCAN over points: a point with at least `min_cases` points (itself included)
    within `radius_m` is a core; cores within the radius of each other are one cluster; a
    non-core point within the radius of a core joins the nearest core's cluster. Returns a
    label per point (-1: in no cluster). O(n log n) plus the number of close pairs."""
    n = len(lat)
    labels = np.full(n, -1, dtype=np.int64)
    if n < min_cases:
        return labels
    i, j = neighbour_pairs(lat, lng, radius_m)
    degree = np.bincount(i, minlength=n) + 1
    core = degree >= min_cases
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    both = core[i] & core[j] & (i < j)
    for a, b in zip(i[both].tolist(), j[both].tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for k in np.flatnonzero(core).tolist():
        labels[k] = find(k)
    # border points: the nearest core neighbour's cluster (ties: the lower index)
    border = ~core[i] & core[j]
    if border.any():
        bi, bj = i[border], j[border]
        d = haversine_m(lat[bi], lng[bi], lat[bj], lng[bj])
        order = np.lexsort((bj, d, bi))
        seen: set[int] = set()
        for k in order.tolist():
            point = int(bi[k])
            if point not in seen:
                seen.add(point)
                labels[point] = labels[int(bj[k])]
    return labels


def clusters(scope: Scope, *, since: dt.date, until: dt.date, within: Grid | None = None,
             category: CaseCategory | None = None, radius_m: float = 100,
             min_cases: int = 3) -> list[Cluster]:
    """Places where cases of one small class were reported again and again: DBSCAN per
    category (`dbscan`) over the located, non-confidential cases of the span. Most cases
    first; each cluster's cases newest first."""
    rows = list(_cases(scope, since, until, within, category)
                .filter(confidential=False, lat__isnull=False, lng__isnull=False)
                .values_list("category_id", "register_no", "title", "state", "created_at",
                             "lat", "lng"))
    by_category: dict[int, list[tuple]] = {}
    for row in rows:
        by_category.setdefault(row[0], []).append(row)
    names = dict((pk, (code, name)) for pk, code, name in CaseCategory.objects.filter(
        pk__in=list(by_category)).values_list("pk", "code", "name"))
    out: list[Cluster] = []
    for category_id, members in by_category.items():
        if len(members) < min_cases:
            continue
        lat = np.array([m[5] for m in members], dtype=float)
        lng = np.array([m[6] for m in members], dtype=float)
        labels = dbscan(lat, lng, radius_m, min_cases)
        groups: dict[int, list[int]] = {}
        for k, label in enumerate(labels.tolist()):
            if label >= 0:
                groups.setdefault(label, []).append(k)
        code, name = names[category_id]
        for idx in groups.values():
            c_lat, c_lng = float(lat[idx].mean()), float(lng[idx].mean())
            reach = haversine_m(np.full(len(idx), c_lat), np.full(len(idx), c_lng),
                                lat[idx], lng[idx])
            cases = sorted((ClusterCase(members[k][1], members[k][2], members[k][3],
                                        members[k][4], members[k][5], members[k][6])
                            for k in idx), key=lambda c: (c.created_at, c.register_no),
                           reverse=True)
            out.append(Cluster(code, name, round(c_lat, 6), round(c_lng, 6),
                               round(float(reach.max()), 1), len(cases),
                               cases[-1].created_at, cases[0].created_at, cases))
    out.sort(key=lambda c: (-c.count, -c.last.timestamp(), c.category_code, c.lat, c.lng))
    return out


# -- heat ---------------------------------------------------------------------------------

def heat_points(scope: Scope, *, since: dt.date, until: dt.date, within: Grid | None = None,
                category: CaseCategory | None = None, limit: int = 20000
                ) -> list[tuple[float, float, float]]:
    """(lat, lng, weight 1.0) of the located, non-confidential cases of the span: the
    newest `limit` of them when there are more (the created_at index reads them in order;
    a heat map of the recent past is what a dispatcher acts on)."""
    if limit <= 0:
        return []
    rows = (_cases(scope, since, until, within, category)
            .filter(confidential=False, lat__isnull=False, lng__isnull=False)
            .order_by("-created_at", "-pk").values_list("lat", "lng")[:limit])
    return [(float(lat), float(lng), 1.0) for lat, lng in rows]


def heat_total(scope: Scope, *, since: dt.date, until: dt.date, within: Grid | None = None,
               category: CaseCategory | None = None) -> int:
    """How many heat points there are before the cap."""
    return (_cases(scope, since, until, within, category)
            .filter(confidential=False, lat__isnull=False, lng__isnull=False).count())
