"""Point → polygon index over the basic grids (pure Shapely/NumPy, no Django).

Two layers:
1. A raster of cells over the territory's bounding box. A cell lying wholly inside one
   polygon answers every point in it with one array read; a cell touching no polygon
   answers "outside". This resolves most points with NumPy arithmetic only.
2. The remaining points (in cells crossed by a boundary) go to an STRtree bbox query and an
   exact point-in-polygon test (`shapely.intersects_xy` on prepared polygons).

Why not STRtree alone: its per-point predicate path runs at about 1 M points/s; the raster
makes the common case many times faster while the exact test keeps every answer identical
to a brute-force point-in-polygon check (benchmarks/run.py measures both against PostGIS).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

OUTSIDE = -1
_MIXED = -2


class PointIndex:
    def __init__(self, geometries: Sequence[shapely.Geometry], *, cells: int | None = None):
        self.geoms = np.asarray(list(geometries), dtype=object)
        self.size = len(self.geoms)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        if self.size == 0:
            self.bounds = (0.0, 0.0, 0.0, 0.0)
            self.nx = self.ny = 1
            self.table = np.full(1, OUTSIDE, dtype=np.int32)
            return
        b = shapely.total_bounds(self.geoms)
        # Pad so points on the outer edge still land in a cell.
        pad_x = (b[2] - b[0]) * 1e-9 or 1e-9
        pad_y = (b[3] - b[1]) * 1e-9 or 1e-9
        self.bounds = (b[0] - pad_x, b[1] - pad_y, b[2] + pad_x, b[3] + pad_y)
        self._build_raster(cells or max(262_144, 16 * self.size))

    def _build_raster(self, cells: int) -> None:
        minx, miny, maxx, maxy = self.bounds
        width, height = maxx - minx, maxy - miny
        self.nx = max(1, round(float(np.sqrt(cells * width / height))))
        self.ny = max(1, round(cells / self.nx))
        self.dx = width / self.nx
        self.dy = height / self.ny
        ix, iy = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        x0 = minx + ix.ravel() * self.dx
        y0 = miny + iy.ravel() * self.dy
        boxes = shapely.box(x0, y0, x0 + self.dx, y0 + self.dy)
        table = np.full(len(boxes), OUTSIDE, dtype=np.int32)
        # Bounding-box candidates, then the exact test with the polygon (already prepared)
        # as the first argument: much cheaper than a predicate query, which would prepare
        # every box instead.
        cell, poly = self.tree.query(boxes)
        touching = shapely.intersects(self.geoms[poly], boxes[cell])
        cell, poly = cell[touching], poly[touching]
        per_cell = np.bincount(cell, minlength=len(boxes))
        table[per_cell > 0] = _MIXED
        single = per_cell[cell] == 1
        cell, poly = cell[single], poly[single]
        inside = shapely.contains(self.geoms[poly], boxes[cell])
        table[cell[inside]] = poly[inside]
        self.table = table

    def locate_many(self, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon holding each point, or OUTSIDE (-1)."""
        lng = np.asarray(lng, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        result = np.full(lng.shape, OUTSIDE, dtype=np.int32)
        if self.size == 0:
            return result
        minx, miny, maxx, maxy = self.bounds
        inside = (lng >= minx) & (lng < maxx) & (lat >= miny) & (lat < maxy)
        idx = np.flatnonzero(inside)
        cx = ((lng[idx] - minx) / self.dx).astype(np.int64)
        cy = ((lat[idx] - miny) / self.dy).astype(np.int64)
        np.minimum(cx, self.nx - 1, out=cx)
        np.minimum(cy, self.ny - 1, out=cy)
        hit = self.table[cy * self.nx + cx]
        result[idx] = np.where(hit == _MIXED, OUTSIDE, hit)
        mixed = idx[hit == _MIXED]
        if len(mixed):
            result[mixed] = self._exact(lng[mixed], lat[mixed])
        return result

    def _exact(self, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
        out = np.full(lng.shape, OUTSIDE, dtype=np.int32)
        # A point's bbox is the point: query the tree with a degenerate box per point.
        pts = shapely.points(lng, lat)
        point_i, poly_i = self.tree.query(pts)
        if not len(point_i):
            return out
        order = np.argsort(poly_i, kind="stable")
        point_i, poly_i = point_i[order], poly_i[order]
        starts = np.flatnonzero(np.r_[True, poly_i[1:] != poly_i[:-1]])
        ends = np.r_[starts[1:], len(poly_i)]
        for s, e in zip(starts, ends, strict=True):
            pi = point_i[s:e]
            todo = pi[out[pi] == OUTSIDE]  # first polygon wins for a point on a shared edge
            if len(todo):
                hit = shapely.intersects_xy(self.geoms[poly_i[s]], lng[todo], lat[todo])
                out[todo[hit]] = poly_i[s]
        return out

    def locate(self, lng: float, lat: float) -> int:
        """One point, in plain Python: the array path costs ~10 µs of NumPy set-up alone."""
        if self.size == 0:
            return OUTSIDE
        minx, miny, maxx, maxy = self.bounds
        if not (minx <= lng < maxx and miny <= lat < maxy):
            return OUTSIDE
        cx = min(int((lng - minx) / self.dx), self.nx - 1)
        cy = min(int((lat - miny) / self.dy), self.ny - 1)
        hit = int(self.table[cy * self.nx + cx])
        if hit != _MIXED:
            return hit
        # Candidates in index order, so a point on a shared edge gets the same grid as in
        # locate_many (the first polygon that touches it).
        for i in sorted(self.tree.query(shapely.Point(lng, lat)).tolist()):
            if shapely.intersects_xy(self.geoms[i], lng, lat):
                return i
        return OUTSIDE
