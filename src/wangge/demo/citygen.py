"""Deterministic synthetic city: a 5-level grid tree with exactly nested polygons.

The model city is Liling (醴陵市, Hunan). `generate_city` cuts a territory into

    level 0 city (1) → level 1 zone (5) → level 2 sub-district or town (24)
    → level 3 community or village (270) → level 4 basic grid (820: 220 urban, 600 rural)

and returns one `GridSpec` per grid, parents before children. ``scale="province"`` builds a
province-sized tree (湖南省, about 100,000 basic grids) for benchmarks.

Codes
-----
Codes are built on China's 12-digit statistical zoning code (统计用区划代码): 6 digits of
county, 3 of town, 3 of village. Liling's county code is 430281. The shape of every code
follows the scheme; the sequence numbers are synthetic and need not match official ones.

* level 0 city: the county code padded to 12 digits, ``430281000000``.
* level 1 zone: ``4302819ZZ000`` = county code + ``9`` + 2-digit zone number + ``000``.
  Zones (片区) are a grid-management invention with no statistical code; town sequence
  numbers never start with 9, so these cannot collide with a real town.
* level 2 sub-district/town: its 9-digit town code padded with ``000``:
  sub-districts (街道) ``001``–``099``, towns (镇) ``101``–``199``, townships (乡)
  ``201``–``299``, e.g. ``430281001000`` (来龙门街道).
* level 3 community/village: the full 12-digit code, communities (社区) ``001``–``199``
  and villages (村) ``201``–``399`` within their town, e.g. ``430281001001`` (胜利社区).
* level 4 basic grid: the community/village code + a 3-digit serial (15 digits), e.g.
  ``430281001001001``; see `basic_grid_code`.

At province scale the root is ``430000000000`` and zone ZZ plays the role of a county with
the made-up prefix ``43ZZ00``: zone code ``43ZZ00000000``, towns ``43ZZ00TTT000``, and
below that the same rules as above.

Geometry
--------
Coordinates are WGS 84 longitude/latitude. Every level is cut top-down: seeds are
spread over the parent by k-means on random sample points, and the parent is cut by
their Voronoi cells (computed in a local kilometre frame, so cells are not stretched).
A final pass makes the tree exact: the boundaries of all basic grids are noded together
with snap rounding onto a 1e-7° grid (about 1 cm) and polygonised, every face goes
to the basic grid it came from, and each upper-level polygon is the coverage union of
its children. So all coordinates lie on the 1e-7° grid, neighbours share identical
edges, children lie exactly inside their parents, siblings never overlap and children
cover their parent exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from wangge.demo import names

LEVEL_COUNTS_LILING: dict[int, int] = {0: 1, 1: 5, 2: 24, 3: 270, 4: 820}
LEVEL_COUNTS_PROVINCE: dict[int, int] = {0: 1, 1: 14, 2: 1400, 3: 33_200, 4: 100_000}

LILING_COUNTY_CODE = "430281"
#: (lng, lat) of Liling's urban core
LILING_CENTER: tuple[float, float] = (113.50, 27.65)
#: (min lng, min lat, max lng, max lat) the Liling territory stays within
LILING_BBOX: tuple[float, float, float, float] = (113.3, 27.4, 113.7, 27.9)
PROVINCE_CENTER: tuple[float, float] = (111.55, 27.35)
PROVINCE_BBOX: tuple[float, float, float, float] = (108.8, 24.6, 114.3, 30.1)
#: every output coordinate is a multiple of this (degrees)
GRID_SIZE = 1e-7

SCALES = ("liling", "province")

Geometry = shapely.Polygon | shapely.MultiPolygon


@dataclass(frozen=True, slots=True)
class GridSpec:
    code: str
    name: str  # Chinese name
    level: int  # 0..4
    kind: str  # city, zone, subdistrict/town, community/village, urban/rural
    parent_code: str | None
    geometry: shapely.Polygon | shapely.MultiPolygon  # lon/lat (x=lng, y=lat), WGS 84
    center: tuple[float, float]  # (lng, lat), a point inside geometry


def basic_grid_code(village_code: str, serial: int) -> str:
    """Code of the `serial`-th (1-based) basic grid of a 12-digit community/village code."""
    if len(village_code) != 12 or not village_code.isdigit():
        raise ValueError(f"not a 12-digit village/community code: {village_code!r}")
    if not 1 <= serial <= 999:
        raise ValueError(f"basic grid serial must be 1..999, got {serial}")
    return f"{village_code}{serial:03d}"


def generate_city(seed: int = 2026, scale: str = "liling") -> list[GridSpec]:
    """Build the synthetic grid tree. Parents always come before their children in the
    returned list (level by level; within a level, grouped by parent in code order)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    rng = np.random.default_rng(seed)
    geo_rng, name_rng = rng.spawn(2)
    if scale == "liling":
        frame = _Frame(*LILING_CENTER)
        pool = names.PlaceNamePool(name_rng, reserved=(_stem(names.CENTRAL_COMMUNITY),))
        levels = _build_liling(geo_rng, pool)
        _add_basic_grids(levels, LEVEL_COUNTS_LILING[4], geo_rng)
    else:
        frame = _Frame(*PROVINCE_CENTER)
        levels = _build_province(geo_rng, names.PlaceNamePool(name_rng))
        _add_basic_grids(levels, LEVEL_COUNTS_PROVINCE[4], geo_rng)
    return _finish(levels, frame)


# --------------------------------------------------------------------------- internals


@dataclass(slots=True)
class _Frame:
    """Local equirectangular frame in kilometres around (lng0, lat0)."""

    lng0: float
    lat0: float
    kx: float = field(init=False)  # km per degree of longitude
    ky: float = field(init=False)  # km per degree of latitude

    def __post_init__(self) -> None:
        self.kx = 111.320 * math.cos(math.radians(self.lat0))
        self.ky = 110.574

    def to_lonlat(self, geoms: np.ndarray) -> np.ndarray:
        scale = np.array([1.0 / self.kx, 1.0 / self.ky])
        offset = np.array([self.lng0, self.lat0])
        return shapely.transform(geoms, lambda xy: xy * scale + offset)


@dataclass(slots=True)
class _Level:
    """One level of the tree under construction (geometry in the km frame)."""

    geoms: np.ndarray  # object array of polygons
    parent: np.ndarray  # int index into the previous level (-1 for the root)
    seeds: np.ndarray  # (n, 2) seed of each cell, km frame
    kinds: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _outline(rng: np.random.Generator, rx: float, ry: float, n_vertices: int) -> shapely.Polygon:
    """An irregular star-shaped territory inside the ellipse with semi-axes rx, ry (km)."""
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    r = np.zeros(n_vertices)
    for k in range(1, 25):
        amp = rng.normal() / k**1.3
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = 0.72 + 0.28 * (r - r.min()) / (r.max() - r.min())
    xy = np.column_stack([rx * r * np.cos(theta), ry * r * np.sin(theta)])
    return shapely.Polygon(xy)


def _sample_inside(geoms: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """(P, m, 2) uniform random points strictly inside each geometry (rejection sampling)."""
    n = len(geoms)
    shapely.prepare(geoms)
    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    ratio = np.clip(shapely.area(geoms) / (w * h), 0.02, 1.0)
    out = np.empty((n, m, 2))
    have = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while todo.size:
        need = m - have[todo]
        draw = np.ceil(need / ratio[todo] * 1.3).astype(np.int64) + 4
        gi = np.repeat(todo, draw)
        x = b[gi, 0] + rng.random(gi.size) * w[gi]
        y = b[gi, 1] + rng.random(gi.size) * h[gi]
        ok = shapely.contains_xy(geoms[gi], x, y)
        gi, x, y = gi[ok], x[ok], y[ok]
        rank = np.arange(gi.size) - np.searchsorted(gi, gi, side="left")
        slot = have[gi] + rank
        keep = slot < m
        out[gi[keep], slot[keep], 0] = x[keep]
        out[gi[keep], slot[keep], 1] = y[keep]
        have += np.bincount(gi[keep], minlength=n)
        todo = todo[have[todo] < m]
    return out


def _kmeans_seeds(samples: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(P, k, 2) well-spread seeds: k-means++ then Lloyd on each parent's samples.

    Each seed is the sample nearest its cluster's centroid, so seeds are distinct and lie
    inside the parent even when the parent is not convex.
    """
    p, m, _ = samples.shape
    ar = np.arange(p)
    init = np.empty((p, k), dtype=np.int64)
    init[:, 0] = rng.integers(0, m, p)
    d2 = ((samples - samples[ar, init[:, 0]][:, None, :]) ** 2).sum(-1)
    for j in range(1, k):
        cum = np.cumsum(d2, axis=1)
        u = rng.random(p) * cum[:, -1]
        pick = np.minimum((cum < u[:, None]).sum(1), m - 1)
        init[:, j] = pick
        d2 = np.minimum(d2, ((samples - samples[ar, pick][:, None, :]) ** 2).sum(-1))
    centers = samples[ar[:, None], init]
    flat_x = samples[..., 0].ravel()
    flat_y = samples[..., 1].ravel()
    for _ in range(12):
        labels = ((samples[:, :, None, :] - centers[:, None, :, :]) ** 2).sum(-1).argmin(2)
        flat = (ar[:, None] * k + labels).ravel()
        count = np.bincount(flat, minlength=p * k)
        sx = np.bincount(flat, weights=flat_x, minlength=p * k)
        sy = np.bincount(flat, weights=flat_y, minlength=p * k)
        c = centers.reshape(-1, 2).copy()
        full = count > 0
        c[full, 0] = sx[full] / count[full]
        c[full, 1] = sy[full] / count[full]
        centers = c.reshape(p, k, 2)
    d = ((samples[:, :, None, :] - centers[:, None, :, :]) ** 2).sum(-1)
    labels = d.argmin(2)
    masked = np.where(labels[:, :, None] == np.arange(k), d, np.inf)
    best = masked.argmin(1)
    seeds = samples[ar[:, None], best]
    empty = ~np.isfinite(masked.min(1)).all(1)
    seeds[empty] = samples[ar[empty, None], init[empty]]
    return seeds


def _voronoi_cut(parents: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(P, k) object array: parent i cut by the Voronoi cells of seeds[i] (in seed order)."""
    p, k, _ = seeds.shape
    if k == 1:
        return parents.reshape(p, 1).copy()
    mp = shapely.multipoints(seeds.reshape(-1, 2), indices=np.repeat(np.arange(p), k))
    cells = shapely.voronoi_polygons(mp, extend_to=parents, ordered=True)
    parts, owner = shapely.get_parts(cells, return_index=True)
    if len(parts) != p * k or np.any(np.diff(owner) < 0):
        raise RuntimeError("unexpected Voronoi output")
    pieces = shapely.intersection(parts, parents[owner])
    bad = ~np.isin(shapely.get_type_id(pieces), (3, 6)) | (shapely.area(pieces) <= 0)
    if bad.any():
        raise RuntimeError("a Voronoi cell missed its parent")
    return pieces.reshape(p, k)


def _split(
    parents: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut parents[i] into counts[i] pieces. Returns (children, parent index, seeds),
    children grouped by parent in parent order."""
    pieces: list[np.ndarray] = [np.empty(0, dtype=object)] * len(parents)
    seeds: list[np.ndarray] = [np.empty((0, 2))] * len(parents)
    for k in np.unique(counts):
        idx = np.flatnonzero(counts == k)
        samples = _sample_inside(parents[idx], max(30, 10 * int(k)), rng)
        s = _kmeans_seeds(samples, int(k), rng)
        cut = _voronoi_cut(parents[idx], s)
        for j, i in enumerate(idx):
            pieces[i] = cut[j]
            seeds[i] = s[j]
    children = np.concatenate(pieces)
    parent_index = np.repeat(np.arange(len(parents)), counts)
    return children, parent_index, np.concatenate(seeds)


def _split_with_core(
    parent: Geometry,
    seat: tuple[float, float],
    n_core: int,
    n_outer: int,
    r_core: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one parent into n_core small cells clustered within r_core of seat and n_outer
    cells spread over the rest. Returns (cells, seeds), core cells first."""
    seeds = []
    core = shapely.intersection(parent, shapely.Point(seat).buffer(r_core, quad_segs=16))
    samples = _sample_inside(np.array([core]), max(30, 12 * n_core), rng)
    seeds.append(_kmeans_seeds(samples, n_core, rng)[0])
    if n_outer:
        rest = shapely.difference(parent, shapely.Point(seat).buffer(1.3 * r_core, quad_segs=16))
        samples = _sample_inside(np.array([rest]), max(30, 12 * n_outer), rng)
        seeds.append(_kmeans_seeds(samples, n_outer, rng)[0])
    s = np.concatenate(seeds)
    return _voronoi_cut(np.array([parent]), s[None])[0], s


def _allocate(total: int, weights: np.ndarray, minimum: int, maximum: int) -> np.ndarray:
    """Split `total` into integers proportional to weights, each in [minimum, maximum]."""
    n = len(weights)
    if not minimum * n <= total <= maximum * n:
        raise ValueError("cannot allocate within bounds")
    out = np.full(n, minimum, dtype=np.int64)
    free = np.ones(n, dtype=bool)
    while free.any():
        rest = total - out[~free].sum()
        w = np.where(free, weights, 0.0)
        share = w / w.sum() * rest
        over = free & (share > maximum)
        under = free & (share < minimum)
        if over.any():
            out[over] = maximum
            free &= ~over
            continue
        if under.any():
            out[under] = minimum
            free &= ~under
            continue
        base = np.floor(share).astype(np.int64)
        left = rest - base[free].sum()
        order = np.argsort(-(share - base) * free, kind="stable")[:left]
        base[order] += 1
        out[free] = base[free]
        break
    return out


def _clockwise_order(seeds: np.ndarray, parent_index: np.ndarray) -> np.ndarray:
    """Permutation sorting cells by parent, then clockwise from north around the mean seed
    of their siblings."""
    n_par = parent_index.max() + 1
    cnt = np.bincount(parent_index, minlength=n_par)
    mx = np.bincount(parent_index, weights=seeds[:, 0], minlength=n_par) / cnt
    my = np.bincount(parent_index, weights=seeds[:, 1], minlength=n_par) / cnt
    angle = np.mod(np.arctan2(seeds[:, 0] - mx[parent_index], seeds[:, 1] - my[parent_index]),
                   2 * np.pi)
    return np.lexsort((angle, parent_index))


def _reorder(children: np.ndarray, parent_index: np.ndarray, seeds: np.ndarray,
             order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return children[order], parent_index[order], seeds[order]


def _build_liling(rng: np.random.Generator, pool: names.PlaceNamePool) -> list[_Level]:
    county = LILING_COUNTY_CODE
    outline = _outline(rng, rx=19.0, ry=26.5, n_vertices=120)
    root = _Level(np.array([outline]), np.array([-1]), np.zeros((1, 2)), ["city"],
                  [f"{county}000000"], [names.CITY_NAME_LILING])

    # Level 1: zone 1 around the urban core, zones 2–5 around it, clockwise from north.
    cells, seeds = _split_with_core(outline, (0.0, 0.0), 1, 4, 6.0, rng)
    order = np.concatenate([[0], 1 + _clockwise_order(seeds[1:], np.zeros(4, dtype=int))])
    zones = _Level(cells[order], np.zeros(5, dtype=np.int64), seeds[order])
    for z in range(5):
        zones.kinds.append("zone")
        zones.codes.append(f"{county}9{z + 1:02d}000")
        zones.names.append(names.zone_name(z + 1))

    # Level 2: zone 1 = 4 sub-districts at the core + 2 towns; 18 towns over zones 2–5.
    core, core_seeds = _split_with_core(zones.geoms[0], (0.0, 0.0), 4, 2, 4.5, rng)
    centre_first = np.argsort(~shapely.intersects_xy(core[:4], 0.0, 0.0), kind="stable")
    core_order = np.concatenate([centre_first, [4, 5]])
    core, core_seeds = core[core_order], core_seeds[core_order]
    counts = _allocate(18, shapely.area(zones.geoms[1:]), 3, 6)
    rural, rural_parent, rural_seeds = _split(zones.geoms[1:], counts, rng)
    rural, rural_parent, rural_seeds = _reorder(
        rural, rural_parent, rural_seeds, _clockwise_order(rural_seeds, rural_parent))
    towns = _Level(
        np.concatenate([core, rural]),
        np.concatenate([np.zeros(6, dtype=np.int64), rural_parent + 1]),
        np.concatenate([core_seeds, rural_seeds]),
    )
    town_serial = township_serial = 0
    for i in range(24):
        if i < 4:
            towns.kinds.append("subdistrict")
            towns.names.append(names.LILING_SUBDISTRICTS[i])
            towns.codes.append(f"{county}{i + 1:03d}000")
            continue
        name = names.LILING_TOWNS[i - 4]
        towns.kinds.append("town")
        towns.names.append(name)
        if name.endswith(names.TOWNSHIP_SUFFIX):
            township_serial += 1
            towns.codes.append(f"{county}{200 + township_serial:03d}000")
        else:
            town_serial += 1
            towns.codes.append(f"{county}{100 + town_serial:03d}000")

    # Level 3: 44 communities (11 per sub-district), 226 villages over 20 towns by area.
    counts = np.concatenate([np.full(4, 11), _allocate(226, shapely.area(towns.geoms[4:]), 7, 16)])
    villages = _level3(towns, counts, rng, pool)
    # 胜利社区: the community of 来龙门街道 holding the city centre, code ...001.
    first = int(np.flatnonzero(villages.parent == 0)[0])
    at_centre = np.flatnonzero((villages.parent == 0)
                               & shapely.intersects_xy(villages.geoms, 0.0, 0.0))
    hit = int(at_centre[0]) if at_centre.size else first
    if hit != first:
        perm = np.arange(len(villages.geoms))
        perm[first], perm[hit] = hit, first
        villages.geoms = villages.geoms[perm]
        villages.seeds = villages.seeds[perm]
        villages.names = [villages.names[i] for i in perm]
    villages.names[first] = names.CENTRAL_COMMUNITY
    return [root, zones, towns, villages]


def _level3(towns: _Level, counts: np.ndarray, rng: np.random.Generator,
            pool: names.PlaceNamePool) -> _Level:
    geoms, parent, seeds = _split(towns.geoms, counts, rng)
    geoms, parent, seeds = _reorder(geoms, parent, seeds, _clockwise_order(seeds, parent))
    level = _Level(geoms, parent, seeds)
    serial = 0
    last = -1
    for t in parent:
        serial = serial + 1 if t == last else 1
        last = t
        prefix = towns.codes[t][:9]
        if serial > 199:
            raise RuntimeError("too many villages or communities in one town for the codes")
        if towns.kinds[t] == "subdistrict":
            level.kinds.append("community")
            level.codes.append(f"{prefix}{serial:03d}")
            level.names.append(pool.urban_stem() + names.COMMUNITY_SUFFIX)
        else:
            level.kinds.append("village")
            level.codes.append(f"{prefix}{200 + serial:03d}")
            level.names.append(pool.rural_stem() + names.VILLAGE_SUFFIX)
    return level


def _stem(name: str) -> str:
    return name.removesuffix(names.COMMUNITY_SUFFIX).removesuffix(names.VILLAGE_SUFFIX)


def _build_province(rng: np.random.Generator, pool: names.PlaceNamePool) -> list[_Level]:
    outline = _outline(rng, rx=265.0, ry=295.0, n_vertices=360)
    root = _Level(np.array([outline]), np.array([-1]), np.zeros((1, 2)), ["city"],
                  ["430000000000"], [names.PROVINCE_NAME])

    n_zones = LEVEL_COUNTS_PROVINCE[1]
    geoms, parent, seeds = _split(root.geoms, np.array([n_zones]), rng)
    geoms, parent, seeds = _reorder(geoms, parent, seeds, _clockwise_order(seeds, parent))
    zones = _Level(geoms, parent, seeds)
    for z in range(n_zones):
        zones.kinds.append("zone")
        zones.codes.append(f"43{z + 1:02d}00000000")
        zones.names.append(names.zone_name(z + 1))

    # Level 2: per zone, 20 sub-districts clustered around the zone's seat (its seed, ~8%
    # of its area) and the rest towns; the quarter farthest from the seat are townships.
    n_core = 20
    per_zone = _allocate(LEVEL_COUNTS_PROVINCE[2], shapely.area(zones.geoms), 60, 140)
    t_geoms, t_parent, t_seeds = [], [], []
    towns = _Level(np.empty(0), np.empty(0), np.empty((0, 2)))
    for z in range(n_zones):
        seat = (float(zones.seeds[z, 0]), float(zones.seeds[z, 1]))
        r_core = math.sqrt(0.08 * zones.geoms[z].area / math.pi)
        n_outer = int(per_zone[z]) - n_core
        cells, s = _split_with_core(zones.geoms[z], seat, n_core, n_outer, r_core, rng)
        core = _clockwise_order(s[:n_core], np.zeros(n_core, dtype=np.int64))
        outer = n_core + _clockwise_order(s[n_core:], np.zeros(n_outer, dtype=np.int64))
        dist = np.hypot(s[outer, 0] - seat[0], s[outer, 1] - seat[1])
        n_township = max(round(0.25 * n_outer), n_outer - 99)
        township = np.zeros(n_outer, dtype=bool)
        township[np.argsort(-dist, kind="stable")[:n_township]] = True
        order = np.concatenate([core, outer[~township], outer[township]])
        t_geoms.append(cells[order])
        t_seeds.append(s[order])
        t_parent.append(np.full(len(order), z))
        prefix = zones.codes[z][:6]
        for i in range(n_core):
            towns.kinds.append("subdistrict")
            towns.codes.append(f"{prefix}{i + 1:03d}000")
            towns.names.append(pool.rural_stem() + names.SUBDISTRICT_SUFFIX)
        for i in range(n_outer - n_township):
            towns.kinds.append("town")
            towns.codes.append(f"{prefix}{101 + i:03d}000")
            towns.names.append(pool.rural_stem() + names.TOWN_SUFFIX)
        for i in range(n_township):
            towns.kinds.append("town")
            towns.codes.append(f"{prefix}{201 + i:03d}000")
            towns.names.append(pool.rural_stem() + names.TOWNSHIP_SUFFIX)
    towns.geoms = np.concatenate(t_geoms)
    towns.parent = np.concatenate(t_parent)
    towns.seeds = np.concatenate(t_seeds)

    # Level 3: 5,000 communities over the sub-districts, the rest villages, by area.
    is_sub = np.array([k == "subdistrict" for k in towns.kinds])
    n_comm = 5_000
    counts = np.zeros(len(towns.kinds), dtype=np.int64)
    counts[is_sub] = _allocate(n_comm, shapely.area(towns.geoms[is_sub]), 6, 60)
    counts[~is_sub] = _allocate(LEVEL_COUNTS_PROVINCE[3] - n_comm,
                                shapely.area(towns.geoms[~is_sub]), 8, 80)
    villages = _level3(towns, counts, rng, pool)
    return [root, zones, towns, villages]


def _add_basic_grids(levels: list[_Level], target: int, rng: np.random.Generator) -> None:
    """Level 4: 5 urban grids per community; 3 rural grids for the largest villages and 2
    for the rest, so that the total matches `target`."""
    villages = levels[3]
    is_village = np.array([k == "village" for k in villages.kinds])
    n_urban = 5 * int((~is_village).sum())
    n_vil = int(is_village.sum())
    n_three = target - n_urban - 2 * n_vil
    if not 0 <= n_three <= n_vil:
        raise RuntimeError("basic grid target does not fit 2–3 grids per village")
    counts = np.where(is_village, 2, 5)
    vidx = np.flatnonzero(is_village)
    largest = vidx[np.argsort(-shapely.area(villages.geoms[vidx]), kind="stable")[:n_three]]
    counts[largest] = 3
    geoms, parent, seeds = _split(villages.geoms, counts, rng)
    geoms, parent, seeds = _reorder(geoms, parent, seeds, _clockwise_order(seeds, parent))
    level = _Level(geoms, parent, seeds)
    serial = 0
    last = -1
    for v in parent:
        serial = serial + 1 if v == last else 1
        last = v
        level.kinds.append("rural" if is_village[v] else "urban")
        level.codes.append(basic_grid_code(villages.codes[v], serial))
        level.names.append(names.basic_grid_name(villages.names[v], serial))
    levels.append(level)


def _snap_basic(basic: np.ndarray) -> np.ndarray:
    """Make the basic grids an exact coverage on the GRID_SIZE lattice.

    Node all their boundaries together with snap rounding, polygonise, and give every face
    to the basic grid whose interior holds the face's interior point.
    """
    noded = shapely.union_all(shapely.boundary(basic), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    tree = shapely.STRtree(basic)
    probe = shapely.point_on_surface(faces)
    owner = np.full(len(faces), -1, dtype=np.int64)
    fi, bi = tree.query(probe, predicate="intersects")
    # Ties (a probe within float noise of a shared edge) go to the largest overlap.
    share = shapely.area(shapely.intersection(faces[fi], basic[bi]))
    order = np.lexsort((-share, fi))
    fi, bi = fi[order], bi[order]
    first = np.r_[True, fi[1:] != fi[:-1]]
    owner[fi[first]] = bi[first]
    lost = np.flatnonzero(owner < 0)
    if lost.size:
        owner[lost] = tree.query_nearest(probe[lost], all_matches=False)[1]
    n_faces = np.bincount(owner, minlength=len(basic))
    if (n_faces == 0).any():
        raise RuntimeError("a basic grid vanished while snapping to the coordinate grid")
    out = np.empty(len(basic), dtype=object)
    single = n_faces == 1
    out[owner[single[owner]]] = faces[single[owner]]
    for b in np.flatnonzero(~single):
        out[b] = shapely.coverage_union_all(faces[owner == b])
    return out


def _union_children(children: np.ndarray, parent: np.ndarray, n_parents: int) -> np.ndarray:
    """Coverage union of each parent's children (exact: they share identical edges)."""
    order = np.argsort(parent, kind="stable")
    p = parent[order]
    counts = np.bincount(p, minlength=n_parents)
    col = np.arange(len(p)) - np.repeat(np.cumsum(counts) - counts, counts)
    table = np.full((n_parents, int(counts.max())), None, dtype=object)
    table[p, col] = children[order]
    return shapely.coverage_union_all(table, axis=1)


def _finish(levels: list[_Level], frame: _Frame) -> list[GridSpec]:
    geoms: list[np.ndarray] = [np.empty(0)] * len(levels)
    geoms[-1] = _snap_basic(frame.to_lonlat(levels[-1].geoms))
    for lv in range(len(levels) - 2, -1, -1):
        geoms[lv] = _union_children(geoms[lv + 1], levels[lv + 1].parent, len(levels[lv].kinds))
    specs: list[GridSpec] = []
    for lv, level in enumerate(levels):
        centers = shapely.get_coordinates(shapely.point_on_surface(geoms[lv]))
        for i in range(len(level.kinds)):
            parent_code = levels[lv - 1].codes[level.parent[i]] if lv else None
            specs.append(GridSpec(
                code=level.codes[i],
                name=level.names[i],
                level=lv,
                kind=level.kinds[i],
                parent_code=parent_code,
                geometry=geoms[lv][i],
                center=(float(centers[i, 0]), float(centers[i, 1])),
            ))
    return specs
