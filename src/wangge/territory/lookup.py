"""The process-wide point → grid lookup, rebuilt when the grid version changes.

Each call reads the one-row version stamp (a primary-key read); when another process has
changed the grids, this process rebuilds its index before answering.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import shapely

from wangge.territory.index import OUTSIDE, PointIndex
from wangge.territory.models import Grid, Level, TerritoryState


@dataclass(frozen=True, slots=True)
class GridInfo:
    code: str
    name: str
    level: int
    kind: str


@dataclass(frozen=True)
class Snapshot:
    version: int
    stamp: str
    index: PointIndex
    basic_codes: list[str]
    basic_ids: np.ndarray
    info: dict[str, GridInfo]  # every grid, by code
    paths: list[list[str]]  # per basic grid: codes root → itself

    def chain(self, i: int) -> list[GridInfo]:
        """The basic grid i and its ancestors, root first."""
        return [self.info[c] for c in self.paths[i]]


_lock = threading.Lock()
_snapshot: Snapshot | None = None


def _state() -> tuple[int, str]:
    row = TerritoryState.objects.filter(pk=1).values_list("version", "stamp").first()
    return row or (0, "")


def snapshot() -> Snapshot:
    """The index for the current grid version, rebuilt if the grids changed."""
    global _snapshot
    version, stamp = _state()
    snap = _snapshot
    if snap is not None and snap.stamp == stamp:
        return snap
    with _lock:
        if _snapshot is None or _snapshot.stamp != stamp:
            _snapshot = _build(version, stamp)
        return _snapshot


def _build(version: int, stamp: str) -> Snapshot:
    info = {
        code: GridInfo(code, name, level, kind)
        for code, name, level, kind in Grid.objects.values_list("code", "name", "level", "kind")
    }
    rows = list(
        Grid.objects.filter(level=Level.BASIC)
        .order_by("id")
        .values_list("id", "code", "path", "boundary")
    )
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else []
    return Snapshot(
        version=version,
        stamp=stamp,
        index=PointIndex(geoms),
        basic_codes=[r[1] for r in rows],
        basic_ids=np.array([r[0] for r in rows], dtype=np.int64),
        info=info,
        paths=[r[2].strip("/").split("/") for r in rows],
    )


def locate(lng: float, lat: float) -> list[GridInfo] | None:
    """The basic grid holding the point and its ancestors (root first), or None."""
    snap = snapshot()
    i = snap.index.locate(lng, lat)
    return None if i == OUTSIDE else snap.chain(i)


def locate_many(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Batch form for imports: the basic grid's database id per point, or -1 outside."""
    snap = snapshot()
    hits = snap.index.locate_many(lng, lat)
    ids = np.full(hits.shape, -1, dtype=np.int64)
    found = hits != OUTSIDE
    ids[found] = snap.basic_ids[hits[found]]
    return ids
