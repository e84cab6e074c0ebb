"""Tests for the synthetic city generator (pure Python: no Django needed).

Run with: .venv/bin/python -m pytest -p no:django src/wangge/demo/tests/test_citygen.py
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wangge.demo import names
from wangge.demo.citygen import (
    GRID_SIZE,
    LEVEL_COUNTS_LILING,
    LILING_BBOX,
    LILING_CENTER,
    GridSpec,
    basic_grid_code,
    generate_city,
)

REL_TOL = 1e-9


@cache
def liling(seed: int = 2026) -> tuple[GridSpec, ...]:
    return tuple(generate_city(seed))


def by_code(specs: tuple[GridSpec, ...]) -> dict[str, GridSpec]:
    return {s.code: s for s in specs}


def geoms_of(specs: list[GridSpec] | tuple[GridSpec, ...]) -> np.ndarray:
    return np.array([s.geometry for s in specs], dtype=object)


def geometry_problems(specs: tuple[GridSpec, ...]) -> list[str]:
    """The invariants the territory validator relies on, checked with a 1e-9 tolerance."""
    problems: list[str] = []
    geoms = geoms_of(specs)
    if not np.isin(shapely.get_type_id(geoms), (3, 6)).all():
        problems.append("non-polygonal geometry")
    if not shapely.is_valid(geoms).all():
        problems.append("invalid geometry")
    if not (shapely.area(geoms) > 0).all():
        problems.append("empty geometry")
    index = {s.code: i for i, s in enumerate(specs)}
    child = np.array([i for i, s in enumerate(specs) if s.parent_code])
    parent = np.array([index[specs[i].parent_code] for i in child])  # type: ignore[index]

    # Every child inside its parent.
    outside = shapely.area(shapely.difference(geoms[child], geoms[parent]))
    if (outside > REL_TOL * shapely.area(geoms[child])).any():
        problems.append("child outside its parent")

    # Siblings do not overlap.
    parent_of = np.full(len(specs), -1)
    parent_of[child] = parent
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pair = (left < right) & (parent_of[left] == parent_of[right]) & (parent_of[left] >= 0)
    left, right = left[pair], right[pair]
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    if (shared > REL_TOL * smaller).any():
        problems.append("siblings overlap")

    # Children cover their parent.
    parents, column = np.unique(parent, return_inverse=True)
    slot = np.zeros(len(parent), dtype=int)
    seen: Counter[int] = Counter()
    for k, c in enumerate(column):
        slot[k] = seen[c]
        seen[c] += 1
    table = np.full((len(parents), max(seen.values())), None, dtype=object)
    table[column, slot] = geoms[child]
    covered = shapely.union_all(table, axis=1)
    gap = shapely.area(shapely.difference(geoms[parents], covered))
    if (gap > REL_TOL * shapely.area(geoms[parents])).any():
        problems.append("children leave a gap in their parent")
    return problems


# ------------------------------------------------------------------------ structure


def test_level_counts_and_kinds() -> None:
    specs = liling()
    assert Counter(s.level for s in specs) == LEVEL_COUNTS_LILING
    kinds = Counter((s.level, s.kind) for s in specs)
    assert kinds == {
        (0, "city"): 1,
        (1, "zone"): 5,
        (2, "subdistrict"): 4,
        (2, "town"): 20,
        (3, "community"): 44,
        (3, "village"): 226,
        (4, "urban"): 220,
        (4, "rural"): 600,
    }


def test_kinds_follow_the_parent() -> None:
    specs = liling()
    codes = by_code(specs)
    for s in specs:
        if s.kind == "community":
            assert codes[s.parent_code].kind == "subdistrict"  # type: ignore[index]
        elif s.kind == "village":
            assert codes[s.parent_code].kind == "town"  # type: ignore[index]
        elif s.kind == "urban":
            assert codes[s.parent_code].kind == "community"  # type: ignore[index]
        elif s.kind == "rural":
            assert codes[s.parent_code].kind == "village"  # type: ignore[index]


def test_urban_grids_are_smaller_than_rural_ones() -> None:
    specs = liling()
    urban = np.mean([s.geometry.area for s in specs if s.kind == "urban"])
    rural = np.mean([s.geometry.area for s in specs if s.kind == "rural"])
    assert urban * 2 < rural


def test_landmarks() -> None:
    specs = liling()
    city = specs[0]
    assert (city.code, city.name, city.kind, city.parent_code) == (
        "430281000000", "醴陵市", "city", None)
    town = next(s for s in specs if s.name == "来龙门街道")
    assert (town.level, town.kind, town.code) == (2, "subdistrict", "430281001000")
    village = next(s for s in specs if s.name == "胜利社区")
    assert (village.level, village.kind, village.parent_code) == (3, "community", town.code)
    assert village.code == "430281001001"
    centre = shapely.Point(LILING_CENTER)
    assert town.geometry.intersects(centre)
    assert village.geometry.intersects(centre)
    first_grid = next(s for s in specs if s.parent_code == village.code)
    assert (first_grid.code, first_grid.name) == ("430281001001001", "胜利社区第1网格")


def test_names() -> None:
    specs = liling()
    level2 = [s.name for s in specs if s.level == 2]
    assert sorted(level2) == sorted(names.LILING_TOWN_NAMES)
    assert len(set(names.LILING_TOWN_NAMES)) == 24
    level3 = [s.name for s in specs if s.level == 3]
    assert len(set(level3)) == len(level3)
    for s in specs:
        if s.kind == "community":
            assert s.name.endswith("社区")
        elif s.kind == "village":
            assert s.name.endswith("村")
        elif s.kind == "subdistrict":
            assert s.name.endswith("街道")
        elif s.kind == "town":
            assert s.name.endswith(("镇", "乡"))
    codes = by_code(specs)
    for s in specs:
        if s.level == 4:
            parent = codes[s.parent_code]  # type: ignore[index]
            assert s.name == f"{parent.name}第{int(s.code[-3:])}网格"
    assert [s.name for s in specs if s.level == 1] == [
        "第一片区", "第二片区", "第三片区", "第四片区", "第五片区"]


# ---------------------------------------------------------------------------- codes

CODE_RE = {
    0: re.compile(r"^430281000000$"),
    1: re.compile(r"^4302819\d\d000$"),
    2: re.compile(r"^430281[0-2]\d\d000$"),
    3: re.compile(r"^430281[0-2]\d\d[0-3]\d\d$"),
    4: re.compile(r"^430281[0-2]\d\d[0-3]\d\d\d\d\d$"),
}


def test_codes_unique_and_well_formed() -> None:
    specs = liling()
    assert len(by_code(specs)) == len(specs)
    codes = by_code(specs)
    for s in specs:
        assert CODE_RE[s.level].match(s.code), s.code
        if s.level == 0:
            continue
        parent = codes[s.parent_code]  # type: ignore[index]
        assert parent.level == s.level - 1
        if s.level == 1:
            assert s.code[7:9] != "00"
        elif s.level == 2:
            serial = int(s.code[6:9])
            if s.kind == "subdistrict":
                assert 1 <= serial <= 99
            elif s.name.endswith("乡"):
                assert 201 <= serial <= 299
            else:
                assert 101 <= serial <= 199
        elif s.level == 3:
            assert s.code[:9] == parent.code[:9]
            serial = int(s.code[9:])
            assert (1 <= serial <= 199) if s.kind == "community" else (201 <= serial <= 399)
        else:
            assert s.code.startswith(parent.code)
            assert len(s.code) == 15 and int(s.code[12:]) >= 1


def test_basic_grid_code() -> None:
    assert basic_grid_code("430281001001", 1) == "430281001001001"
    assert basic_grid_code("430281101205", 12) == "430281101205012"
    for bad_code, serial in [("43028100100", 1), ("43028100100x", 1), ("430281001001", 0),
                             ("430281001001", 1000)]:
        with pytest.raises(ValueError):
            basic_grid_code(bad_code, serial)


def test_parents_come_before_children() -> None:
    seen: set[str] = set()
    for s in liling():
        assert s.parent_code is None or s.parent_code in seen
        seen.add(s.code)


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError):
        generate_city(scale="county")


# ------------------------------------------------------------------------- geometry


def test_geometric_invariants() -> None:
    assert geometry_problems(liling()) == []


def test_zone_and_city_are_unions_of_children() -> None:
    specs = liling()
    for level in (0, 1, 2, 3):
        for parent in (s for s in specs if s.level == level):
            kids = geoms_of([s for s in specs if s.parent_code == parent.code])
            union = shapely.union_all(kids)
            assert abs(union.area - parent.geometry.area) <= REL_TOL * parent.geometry.area


def test_inside_the_liling_bbox_and_centres_inside() -> None:
    specs = liling()
    geoms = geoms_of(specs)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    bx0, by0, bx1, by1 = LILING_BBOX
    assert bx0 <= minx and maxx <= bx1 and by0 <= miny and maxy <= by1
    centres = np.array([s.center for s in specs])
    assert shapely.contains_xy(geoms, centres[:, 0], centres[:, 1]).all()
    for s in specs:
        assert isinstance(s.center, tuple) and all(isinstance(v, float) for v in s.center)


def test_city_is_irregular() -> None:
    city = liling()[0].geometry
    assert city.area < 0.9 * city.envelope.area
    assert shapely.get_num_coordinates(city) > 20


def test_coordinates_on_the_precision_grid() -> None:
    coords = shapely.get_coordinates(geoms_of(liling()))
    scale = round(1 / GRID_SIZE)
    assert np.array_equal(coords, np.round(coords * scale) / scale)


def test_basic_grids_are_simple() -> None:
    basic = geoms_of([s for s in liling() if s.level == 4])
    assert shapely.get_num_coordinates(basic).max() <= 40


def test_urban_core_is_central() -> None:
    specs = liling()
    cx, cy = LILING_CENTER
    for s in specs:
        if s.kind == "subdistrict":
            x, y = s.center
            assert abs(x - cx) < 0.15 and abs(y - cy) < 0.15


# ---------------------------------------------------------------------- determinism


def test_same_seed_same_city() -> None:
    again = generate_city(2026)
    assert tuple(again) == liling()
    assert [s.geometry.wkb for s in again] == [s.geometry.wkb for s in liling()]


def test_different_seed_different_city() -> None:
    other = generate_city(7)
    assert Counter(s.level for s in other) == LEVEL_COUNTS_LILING
    assert [s.geometry.wkb for s in other] != [s.geometry.wkb for s in liling()]
    assert [s.name for s in other if s.level == 3] != [s.name for s in liling() if s.level == 3]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_any_seed_keeps_the_invariants(seed: int) -> None:
    specs = tuple(generate_city(seed))
    assert Counter((s.level, s.kind) for s in specs)[(4, "urban")] == 220
    assert Counter(s.level for s in specs) == LEVEL_COUNTS_LILING
    assert len(by_code(specs)) == len(specs)
    assert geometry_problems(specs) == []


# ------------------------------------------------------------------- point location


@cache
def _basic_and_city() -> tuple[np.ndarray, shapely.Geometry]:
    specs = liling()
    basic = geoms_of([s for s in specs if s.level == 4])
    shapely.prepare(basic)
    city = specs[0].geometry
    shapely.prepare(city)
    return basic, city


@settings(max_examples=300, deadline=None)
@given(
    lng=st.floats(min_value=LILING_BBOX[0], max_value=LILING_BBOX[2]),
    lat=st.floats(min_value=LILING_BBOX[1], max_value=LILING_BBOX[3]),
)
def test_points_in_the_city_fall_in_exactly_one_basic_grid(lng: float, lat: float) -> None:
    basic, city = _basic_and_city()
    assume(shapely.contains_xy(city, lng, lat))
    inside = int(shapely.contains_xy(basic, lng, lat).sum())
    touching = int(shapely.intersects_xy(basic, lng, lat).sum())
    assert inside <= 1
    # Interior points hit one grid; points on a shared edge or vertex touch 2 or more.
    assert (inside == 1 and touching == 1) or (inside == 0 and touching >= 2)


@settings(max_examples=100, deadline=None)
@given(i=st.integers(min_value=0, max_value=819), j=st.integers(min_value=0, max_value=1000))
def test_grid_vertices_inside_the_city_are_shared(i: int, j: int) -> None:
    basic, city = _basic_and_city()
    coords = shapely.get_coordinates(basic[i])
    x, y = coords[j % len(coords)]
    assume(shapely.contains_xy(city, x, y))  # not on the city's outer edge
    assert shapely.intersects_xy(basic, x, y).sum() >= 2
    assert shapely.contains_xy(basic, x, y).sum() == 0


# -------------------------------------------------------------------- people/phones


def test_person_names_are_deterministic() -> None:
    assert [names.person_name(i) for i in range(50)] == [names.person_name(i) for i in range(50)]
    assert len({names.person_name(i) for i in range(200)}) > 150
    a = names.person_name(np.random.default_rng(5))
    b = names.person_name(np.random.default_rng(5))
    assert a == b


@given(i=st.integers(min_value=0, max_value=10**7))
def test_person_name_shape(i: int) -> None:
    name = names.person_name(i)
    assert 2 <= len(name) <= 3
    assert all("\u4e00" <= ch <= "\u9fff" for ch in name)


@given(i=st.integers(min_value=0, max_value=9_999))
def test_work_phone_is_synthetic_block(i: int) -> None:
    phone = names.work_phone(i)
    assert phone == f"1700731{i:04d}"
    assert len(phone) == 11 and phone.isdigit()


def test_work_phone_beyond_ten_thousand_stays_unique() -> None:
    phones = [names.work_phone(i) for i in range(0, 30_000, 7)]
    assert len(set(phones)) == len(phones)
    assert all(len(p) == 11 and p.startswith("170073") for p in phones)
    with pytest.raises(ValueError):
        names.work_phone(-1)


def test_zone_names() -> None:
    assert [names.zone_name(n) for n in (1, 5, 10, 14, 20, 21)] == [
        "第一片区", "第五片区", "第十片区", "第十四片区", "第二十片区", "第二十一片区"]


def test_place_name_pool_is_unique_beyond_two_characters() -> None:
    pool = names.PlaceNamePool(np.random.default_rng(1), reserved=("胜利",))
    stems = [pool.urban_stem() for _ in range(100)] + [pool.rural_stem() for _ in range(7000)]
    assert len(set(stems)) == len(stems)
    assert "胜利" not in stems
    assert any(len(s) == 3 for s in stems)
