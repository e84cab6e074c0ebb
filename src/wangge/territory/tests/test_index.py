"""The point index agrees with a brute-force point-in-polygon check."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.territory.index import OUTSIDE, PointIndex


def voronoi_cells(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    env = shapely.Polygon([(0, 0), (10, 0), (10, 6), (4, 10), (0, 8)])  # not a rectangle
    pts = shapely.points(rng.uniform(0, 10, (n * 3, 2)))
    pts = pts[shapely.contains(env, pts)][:n]
    if len(pts) < 2:  # a Voronoi diagram of one seed is empty: the territory is one cell
        return np.array([env], dtype=object)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
    return shapely.intersection(cells, env)


def brute_force(cells: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    hits = np.array([shapely.intersects_xy(c, x, y) for c in cells])  # (cells, points)
    first = np.where(hits.any(axis=0), hits.argmax(axis=0), OUTSIDE)
    return first, hits.sum(axis=0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), cells=st.sampled_from([64, 4096]))
def test_locate_many_matches_brute_force(seed: int, n: int, cells: int) -> None:
    polys = voronoi_cells(seed, n)
    index = PointIndex(polys, cells=cells)
    rng = np.random.default_rng(seed + 1)
    x = rng.uniform(-1, 11, 3000)  # some points fall outside the territory
    y = rng.uniform(-1, 11, 3000)
    got = index.locate_many(x, y)
    want, count = brute_force(polys, x, y)
    ambiguous = count > 1  # exactly on a shared edge: either neighbour is right
    assert np.array_equal(got[~ambiguous], want[~ambiguous])
    assert (got[ambiguous] != OUTSIDE).all()


@given(x=st.floats(-20, 20), y=st.floats(-20, 20))
@settings(max_examples=200, deadline=None)
def test_single_point_matches_brute_force(x: float, y: float) -> None:
    polys = INDEX_POLYS
    got = INDEX.locate(x, y)
    hits = [i for i, p in enumerate(polys) if shapely.intersects_xy(p, x, y)]
    if hits:
        assert got in hits
    else:
        assert got == OUTSIDE


INDEX_POLYS = voronoi_cells(7, 40)
INDEX = PointIndex(INDEX_POLYS)


def test_vertices_and_edges_belong_to_a_neighbour() -> None:
    # Points exactly on boundaries (where raster cells are "mixed") still resolve.
    coords = shapely.get_coordinates(INDEX_POLYS[0].exterior)
    got = INDEX.locate_many(coords[:, 0], coords[:, 1])
    assert (got != OUTSIDE).all()


def test_empty_index_finds_nothing() -> None:
    index = PointIndex([])
    assert index.locate(1.0, 2.0) == OUTSIDE
    assert (index.locate_many(np.zeros(3), np.zeros(3)) == OUTSIDE).all()


def test_multipolygon_grid_is_found_in_both_parts() -> None:
    a = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    b = shapely.box(1, 0, 2, 1)
    index = PointIndex([a, b])
    assert index.locate_many(np.array([0.5, 2.5, 1.5]), np.array([0.5, 0.5, 0.5])).tolist() == [
        0, 0, 1,
    ]


def test_single_and_batch_answers_are_the_same_even_on_edges() -> None:
    coords = shapely.get_coordinates(INDEX_POLYS)  # every vertex: the hardest points
    rng = np.random.default_rng(3)
    pts = np.vstack([coords, rng.uniform(-1, 11, (2000, 2))])
    batch = INDEX.locate_many(pts[:, 0], pts[:, 1])
    single = [INDEX.locate(x, y) for x, y in pts]
    assert batch.tolist() == single
