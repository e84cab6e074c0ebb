"""Tests for the synthetic population register (pure Python: no Django needed).

Run with: .venv/bin/python -m pytest -p no:django src/wangge/demo/tests/test_people.py -s
(-s shows the timing of 100,000 residents).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import date
from functools import cache

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.demo import people
from wangge.demo.people import (
    AREA_CODE,
    AS_OF,
    BUILDING_USES,
    ETHNICITIES,
    HOUSE_USES,
    RELATIONS,
    RESIDENCE_TYPES,
    SPECIAL_GROUP_KINDS,
    Register,
    generate_register,
)
from wangge.registry.identity import IdInfo, make_id_number, normalise_phone, parse_id_number

CARE = {"elderly_alone", "left_behind_child", "disabled", "low_income"}
D = 0.01  # side of a test grid in degrees (about 1 km)


def square(x: float, y: float) -> shapely.Polygon:
    return shapely.box(x, y, x + D, y + D)


# Small grids: squares, an L shape, a thin triangle and a two-part multipolygon.
GRIDS: list[tuple[str, str, shapely.Geometry]] = [
    ("430281001001001", "urban", square(113.50, 27.65)),
    ("430281001001002", "urban", square(113.51, 27.65)),
    ("430281001002001", "urban", shapely.Polygon(
        [(113.52, 27.65), (113.53, 27.65), (113.53, 27.652), (113.522, 27.652),
         (113.522, 27.66), (113.52, 27.66)])),
    ("430281101201001", "rural", square(113.40, 27.70)),
    ("430281101201002", "rural", shapely.Polygon([(113.41, 27.70), (113.43, 27.70),
                                                  (113.41, 27.701)])),
    ("430281101202001", "rural", shapely.MultiPolygon([square(113.45, 27.70),
                                                       square(113.47, 27.70)])),
]  # fmt: skip
GEOMETRY = {code: geom for code, _, geom in GRIDS}
KIND = {code: kind for code, kind, _ in GRIDS}


@cache
def register(n: int = 20_000, seed: int = 2026) -> Register:
    return generate_register(GRIDS, n, seed)


@cache
def births(n: int = 20_000) -> dict[str, IdInfo]:
    return {r.key: parse_id_number(r.id_number, today=AS_OF) for r in register(n).residents}


# --------------------------------------------------------------------------- basics


def test_deterministic() -> None:
    a = generate_register(GRIDS, 3_000, seed=7)
    b = generate_register(GRIDS, 3_000, seed=7)
    assert a == b
    c = generate_register(GRIDS, 3_000, seed=8)
    assert [r.id_number for r in a.residents] != [r.id_number for r in c.residents]
    assert [r.name for r in a.residents] != [r.name for r in c.residents]


@pytest.mark.parametrize("n", [0, 1, 2, 5, 17, 1_000])
def test_exact_resident_count(n: int) -> None:
    reg = generate_register(GRIDS, n)
    assert len(reg.residents) == n
    assert len({r.household_key for r in reg.residents}) == len(reg.households)
    if n == 0:
        assert reg.households == [] and reg.special_groups == []


def test_counts_and_references() -> None:
    reg = register()
    for items in (reg.buildings, reg.houses, reg.households, reg.residents):
        assert len({x.key for x in items}) == len(items)
    buildings = {b.key for b in reg.buildings}
    houses = {h.key: h for h in reg.houses}
    households = {h.key: h for h in reg.households}
    assert all(h.building_key in buildings for h in reg.houses)
    assert all(h.house_key in houses for h in reg.households)
    for r in reg.residents:
        assert households[r.household_key].house_key == r.house_key
    assert len({h.number for h in reg.households}) == len(reg.households)
    per_building = Counter((h.building_key, h.number) for h in reg.houses)
    assert max(per_building.values()) == 1
    # 20,000 people in households of 2.8 on average
    assert 6_000 < len(reg.households) < 8_500


def test_keys_are_stable_strings() -> None:
    reg = register()
    assert reg.buildings[0].key == "b000000"
    assert reg.houses[0].key == f"h{reg.houses[0].building_key[1:]}-1"
    assert reg.households[0].key == "hh0000000"
    assert reg.residents[0].key == "p0000000"
    assert reg.residents[0].relation == "head"


def test_choice_fields_use_known_values() -> None:
    reg = register()
    assert {b.use for b in reg.buildings} <= set(BUILDING_USES)
    assert {h.use for h in reg.houses} == set(HOUSE_USES)
    assert {r.relation for r in reg.residents} == set(RELATIONS)
    assert {r.residence_type for r in reg.residents} == set(RESIDENCE_TYPES)
    assert {r.ethnicity for r in reg.residents} == set(ETHNICITIES)
    assert {s.kind for s in reg.special_groups} == set(SPECIAL_GROUP_KINDS)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="residents"):
        generate_register(GRIDS, -1)
    with pytest.raises(ValueError, match="grid"):
        generate_register([], 10)
    with pytest.raises(ValueError, match="urban or rural"):
        generate_register([("430281001001001", "suburban", square(0, 0))], 10)
    with pytest.raises(ValueError, match="no area"):
        generate_register([("430281001001001", "urban", shapely.Polygon())], 10)
    assert generate_register([], 0).residents == []


# --------------------------------------------------------------------------- identity


def test_every_id_number_parses_and_is_unique() -> None:
    reg = register()
    info = births()
    assert len({r.id_number for r in reg.residents}) == len(reg.residents)
    assert {i.area_code for i in info.values()} == {AREA_CODE}
    assert all(i.birth_date < AS_OF for i in info.values())
    for r in reg.residents[:500]:
        assert parse_id_number(r.id_number).number == r.id_number  # today's date works too


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.integers(0, 99),
                  st.booleans()),
        min_size=1, max_size=20,
    )
)
def test_vectorised_ids_match_make_id_number(rows: list[tuple[date, int, bool]]) -> None:
    birth = np.array([d.toordinal() for d, _, _ in rows], dtype=np.int64)
    serial = np.array([s for _, s, _ in rows], dtype=np.int64)
    male = np.array([m for _, _, m in rows])
    expected = [make_id_number(AREA_CODE, d, s, "male" if m else "female") for d, s, m in rows]
    assert people._id_numbers(birth, serial, male) == expected


def test_crowded_birth_days_still_get_unique_numbers() -> None:
    rng = np.random.default_rng(1)
    birth = np.full(1_000, date(1990, 1, 1).toordinal(), dtype=np.int64)
    male = np.zeros(1_000, dtype=bool)
    serial = people._unique_serials(birth, male, rng)
    ids = people._id_numbers(birth, serial, male)
    assert len(set(ids)) == 1_000
    assert birth.max() == date(1990, 1, 1).toordinal()
    assert Counter(birth.tolist()).most_common(1)[0][1] <= 100


# --------------------------------------------------------------------------- households


def test_one_head_per_household_and_sizes() -> None:
    members: dict[str, list[str]] = defaultdict(list)
    for r in register().residents:
        members[r.household_key].append(r.relation)
    sizes = Counter(len(m) for m in members.values())
    assert set(sizes) == {1, 2, 3, 4, 5, 6}
    for relations in members.values():
        assert relations[0] == "head"
        assert relations.count("head") == 1
        assert relations.count("spouse") <= 1
        assert relations.count("parent") <= 2


def test_ages_are_plausible_for_relations() -> None:
    reg = register()
    info = births()
    heads = {r.household_key: r for r in reg.residents if r.relation == "head"}
    spouses = {r.household_key: r for r in reg.residents if r.relation == "spouse"}
    for r in reg.residents:
        head = heads[r.household_key]
        born, head_born = info[r.key].birth_date, info[head.key].birth_date
        if r.relation in ("child", "grandchild"):
            assert born > head_born
            assert (born - head_born).days > 18 * 365
            if r.household_key in spouses:
                assert born > info[spouses[r.household_key].key].birth_date
        elif r.relation == "parent":
            assert born < head_born
        elif r.relation == "spouse":
            assert info[r.key].gender != info[head.key].gender
            assert (AS_OF - born).days > 19 * 365
        elif r.relation == "head":
            assert (AS_OF - born).days > 17 * 365
        assert born <= r.moved_in < AS_OF


def test_children_share_a_parents_surname() -> None:
    reg = register()
    surnames: dict[str, set[str]] = defaultdict(set)
    for r in reg.residents:
        if r.relation in ("head", "spouse"):
            surnames[r.household_key].add(r.name[0])
    for r in reg.residents:
        if r.relation in ("child", "grandchild"):
            assert r.name[0] in surnames[r.household_key]


def test_population_mix() -> None:
    reg = register()
    n = len(reg.residents)
    kinds = Counter(r.residence_type for r in reg.residents)
    assert 0.15 < kinds["floating"] / n < 0.25
    assert 0.005 < kinds["overseas"] / n < 0.02
    ethnicity = Counter(r.ethnicity for r in reg.residents)
    assert 0.92 < ethnicity["汉族"] / n < 0.98


def test_special_groups() -> None:
    reg = register()
    n = len(reg.residents)
    assert 0.025 < len(reg.special_groups) / n < 0.035
    keys = {r.key for r in reg.residents}
    assert all(s.resident_key in keys for s in reg.special_groups)
    assert len({(s.resident_key, s.kind) for s in reg.special_groups}) == len(reg.special_groups)
    kinds = Counter(s.kind for s in reg.special_groups)
    care = sum(v for k, v in kinds.items() if k in CARE)
    assert care > 2 * (len(reg.special_groups) - care)
    by_key = {r.key: r for r in reg.residents}
    sizes = Counter(r.household_key for r in reg.residents)
    info = births()
    for s in reg.special_groups:
        r = by_key[s.resident_key]
        age = (AS_OF - info[r.key].birth_date).days / 365.25
        if s.kind == "elderly_alone":
            assert age >= 60 and sizes[r.household_key] == 1
        elif s.kind == "left_behind_child":
            assert age < 17 and r.relation in ("child", "grandchild")
        elif s.kind in ("community_correction", "released_prisoner", "aids_risk"):
            assert age >= 18


# --------------------------------------------------------------------------- phones


def test_phones_are_synthetic_valid_and_unique() -> None:
    reg = register()
    info = births()
    phones = [r.phone for r in reg.residents if r.phone]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert phone.startswith("1709") and len(phone) == 11
        assert normalise_phone(phone) == phone
    no_phone = [r for r in reg.residents if not r.phone]
    assert no_phone
    assert all((AS_OF - info[r.key].birth_date).days < 13 * 366 for r in no_phone)


# --------------------------------------------------------------------------- places


def test_buildings_lie_inside_their_grids() -> None:
    reg = register()
    assert {b.grid_code for b in reg.buildings} == set(GEOMETRY)
    for code, geom in GEOMETRY.items():
        pts = [(b.lng, b.lat) for b in reg.buildings if b.grid_code == code]
        xs, ys = np.array(pts).T
        assert shapely.contains_xy(geom, xs, ys).all()


def test_urban_and_rural_buildings() -> None:
    reg = register()
    houses = Counter(h.building_key for h in reg.houses)
    for b in reg.buildings:
        if b.use not in ("residential", "mixed"):
            continue
        if KIND[b.grid_code] == "urban":
            assert 6 <= b.floors <= 30
            assert b.name.endswith("栋") and b.address.endswith("号")
        else:
            assert 1 <= b.floors <= 3
            assert houses[b.key] == 1
            assert "组" in b.address
    urban = [houses[b.key] for b in reg.buildings
             if KIND[b.grid_code] == "urban" and b.use == "residential"]
    assert np.mean(urban) > 20
    assert len({b.address for b in reg.buildings}) == len(reg.buildings)


def test_urban_grids_are_denser() -> None:
    reg = register()
    building_grid = {b.key: b.grid_code for b in reg.buildings}
    house_grid = {h.key: building_grid[h.building_key] for h in reg.houses}
    per_grid = Counter(house_grid[r.house_key] for r in reg.residents)
    assert set(per_grid) == set(GEOMETRY)
    urban = np.mean([v for k, v in per_grid.items() if KIND[k] == "urban"])
    rural = np.mean([v for k, v in per_grid.items() if KIND[k] == "rural"])
    assert urban > 2 * rural


def test_house_use_matches_occupancy() -> None:
    reg = register()
    households = Counter(h.house_key for h in reg.households)
    floating = {r.house_key for r in reg.residents
                if r.relation == "head" and r.residence_type == "floating"}
    uses = Counter(h.use for h in reg.houses)
    for h in reg.houses:
        if h.use in ("self_occupied", "rented"):
            assert households[h.key] == 1
        else:
            assert households[h.key] == 0
        if h.key in floating:
            assert h.use == "rented"
        assert h.area > 0
    assert 0.03 < uses["vacant"] / len(reg.houses) < 0.2


def test_every_grid_gets_people_when_there_are_enough() -> None:
    reg = generate_register(GRIDS, 30)
    building_grid = {b.key: b.grid_code for b in reg.buildings}
    house_grid = {h.key: building_grid[h.building_key] for h in reg.houses}
    assert {house_grid[h.house_key] for h in reg.households} == set(GEOMETRY)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 400), st.integers(0, 2**32 - 1))
def test_invariants_for_any_size_and_seed(n: int, seed: int) -> None:
    reg = generate_register(GRIDS, n, seed)
    assert len(reg.residents) == n
    assert len({r.id_number for r in reg.residents}) == n
    heads = Counter(r.household_key for r in reg.residents if r.relation == "head")
    assert set(heads) == {h.key for h in reg.households}
    assert set(heads.values()) <= {1}
    for r in reg.residents:
        parse_id_number(r.id_number, today=AS_OF)
        assert r.phone == "" or normalise_phone(r.phone) == r.phone


# --------------------------------------------------------------------------- speed


def test_speed_of_100k_residents() -> None:
    start = time.perf_counter()
    reg = generate_register(GRIDS, 100_000)
    elapsed = time.perf_counter() - start
    print(
        f"\n100,000 residents: {elapsed:.2f} s "
        f"({len(reg.buildings)} buildings, {len(reg.houses)} houses, "
        f"{len(reg.households)} households, {len(reg.special_groups)} special-group entries)"
    )
    assert len(reg.residents) == 100_000
