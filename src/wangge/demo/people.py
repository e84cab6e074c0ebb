"""Synthetic population register for the demo city (pure Python: no Django).

`generate_register` fills basic grids with buildings, houses, households, residents and
special-group memberships. Everything is SYNTHETIC and describes no real person or place:

* names come from `wangge.demo.names.person_name` (syllable lists);
* identity numbers are built with the area code 430281 by the same rule as
  `wangge.registry.identity.make_id_number` (2-digit serial + gender digit + check
  character) and are unique across one register;
* phones are 11-digit mobiles in one fixed block of the 170 virtual-operator segment,
  ``1709`` + 7 digits (17090000000 … 17099999999), never dialled or texted; the staff
  work phones of `names.work_phone` sit in ``1700731…``, so the blocks never meet;
* addresses are street / group names from lists below plus numbers.

Model
-----
Households (1–6 people, exactly one ``head``) are spread over all basic grids, urban grids
about four times as densely as rural ones. Urban grids get residential compounds
(小区) of apartment buildings with 6–30 floors and many houses each, numbered
``unit-floorRoom`` (``3-201``), plus a few shops, public buildings and workshops; rural
grids get 1–3 floor houses, one house per building (house number ``1``), grouped in
village groups (组), plus the odd village service centre or workshop. About 10 % of
dwellings stay vacant. Each household lives in one house; a house is ``rented`` when its
household is floating (and for 8 % of registered ones), ``self_occupied`` otherwise;
shops and workshop units are ``commercial``; public buildings have no houses.

Ages follow the relation to the head: children are 20–40 years younger than the younger
of head and spouse, grandchildren 40–65 years, parents 20–35 years older than the head
(at most two per household). Children take the surname of the father. About 20 % of
residents are floating (whole households), 1 % overseas, 3 % in a special group (care
groups such as elderly living alone are more common than the GB/T 31000 control groups).
Residents under 12 have no phone (empty string). All dates are before `AS_OF`, a fixed
date, so the output does not depend on the day it is generated.

Output order is stable: grid by grid (input order), building by building, house by house;
households follow their houses and residents their households (head first). Keys:
``b000123`` building, ``h000123-2`` its 2nd house, ``hh0000123`` household,
``p0000456`` resident. Identical inputs give identical registers.

Simplifications: every identity number uses the area code 430281, floating and overseas
residents included; one household per house; public buildings have no houses.

Speed: 1,000,000 residents over the 820 Liling grids take about 6 s and under 1 GB peak
RSS on a 2-core machine, all in memory (no chunking needed); a third of it is spent in
`person_name`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely

from wangge.demo.names import person_name
from wangge.registry.identity import CHECK_MAP, WEIGHTS

AREA_CODE = "430281"
#: every birth and move-in date lies strictly before this date
AS_OF = date(2026, 1, 1)
#: synthetic mobile block: PHONE_PREFIX + 7 digits
PHONE_PREFIX = "1709"
PHONE_BLOCK = 10**7

BUILDING_USES = ("residential", "commercial", "mixed", "public", "industrial")
HOUSE_USES = ("self_occupied", "rented", "commercial", "vacant")
RESIDENCE_TYPES = ("registered", "floating", "overseas")
RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "sibling", "other")
#: special-group kinds and their share of memberships (care groups first)
SPECIAL_GROUP_WEIGHTS: dict[str, float] = {
    "elderly_alone": 0.22,
    "low_income": 0.20,
    "disabled": 0.20,
    "left_behind_child": 0.12,
    "mental_disorder_risk": 0.06,
    "released_prisoner": 0.05,
    "key_youth": 0.05,
    "community_correction": 0.04,
    "drug_user": 0.04,
    "aids_risk": 0.02,
}
SPECIAL_GROUP_KINDS: tuple[str, ...] = tuple(SPECIAL_GROUP_WEIGHTS)
SPECIAL_GROUP_SHARE = 0.03
ETHNICITIES = ("汉族", "瑶族", "土家族", "苗族", "回族")
_ETHNICITY_P = (0.955, 0.012, 0.013, 0.012, 0.008)

_HOUSEHOLD_SIZE_P = (0.20, 0.28, 0.23, 0.16, 0.09, 0.04)  # sizes 1..6, mean 2.78
_URBAN_WEIGHT = 4.0  # households per urban grid vs per rural grid
_FLOATING_P = {"urban": 0.24, "rural": 0.13}  # of households; ~20 % of residents overall
_OVERSEAS_P = 0.01
_RENTED_REGISTERED_P = 0.08
_PHONE_MIN_AGE = 12
_PHONE_STRIDE = 3_141_593  # odd and not a multiple of 5: a bijection modulo 10**7
_DAYS_PER_YEAR = 365.2425
_SERIALS = 100  # make_id_number serials per (birth date, gender)

_HEAD, _SPOUSE, _CHILD, _PARENT, _GRANDCHILD, _SIBLING, _OTHER = range(7)
_REGISTERED, _FLOATING, _OVERSEAS = range(3)
_SELF, _RENTED, _COMMERCIAL, _VACANT = range(4)

_STREET_STEMS = (
    "解放", "人民", "建设", "新华", "渌江", "瓷城", "陶瓷", "状元", "南桥", "北门", "西山",
    "东正", "滨江", "文化", "育才", "光明", "和平", "团结", "朝阳", "向阳", "红旗", "工农",
    "前进", "东风", "姜湾", "彩虹", "长庆", "春风", "阳光", "青云", "书院", "车站", "公园",
    "湖滨", "西环", "东堡", "新阳", "锦绣", "华丰", "永青", "河堤", "枫林", "福林", "广场",
    "安居", "富康", "紫薇", "银杏", "桂花", "玉兰",
)  # fmt: skip
_STREET_SUFFIXES = ("路", "路", "路", "街", "大道", "巷")
_COMPOUND_SUFFIXES = ("花园", "小区", "家园", "新村", "苑", "公寓", "名都", "雅居")
_PLACE_FIRST = "石黄白青大小新上下中前后东西南北杨柳桃李松竹梅枫樟茶桑田金银龙凤马牛鹤"
_PLACE_SECOND = "塘冲湾坪岭桥山湖田坡垅铺园林家屋岗坝洲溪"
_URBAN_NONRES: dict[str, tuple[str, ...]] = {
    "commercial": ("商厦", "商贸城", "农贸市场", "购物广场", "酒店"),
    "public": ("社区服务中心", "幼儿园", "小学", "卫生服务站", "文化活动中心"),
    "industrial": ("陶瓷厂", "瓷业有限公司", "电瓷厂", "花炮厂", "包装厂"),
}
_RURAL_NONRES: dict[str, tuple[str, ...]] = {
    "commercial": ("超市", "农资店", "便民店"),
    "public": ("村民服务中心", "卫生室", "小学", "活动中心"),
    "industrial": ("陶瓷厂", "花炮厂", "砖厂", "瓷泥厂"),
}


@dataclass(frozen=True, slots=True)
class BuildingSpec:
    key: str
    grid_code: str
    name: str
    address: str
    lng: float
    lat: float
    floors: int
    use: str  # one of BUILDING_USES


@dataclass(frozen=True, slots=True)
class HouseSpec:
    key: str
    building_key: str
    number: str  # unique within its building
    area: float  # m², 2 decimals
    use: str  # one of HOUSE_USES


@dataclass(frozen=True, slots=True)
class HouseholdSpec:
    key: str
    house_key: str
    number: str  # 户号, unique in the register


@dataclass(frozen=True, slots=True)
class ResidentSpec:
    key: str
    household_key: str
    house_key: str
    name: str
    id_number: str  # birth date and gender are encoded here (parse_id_number)
    phone: str  # "" when the resident has none
    ethnicity: str
    residence_type: str  # one of RESIDENCE_TYPES
    relation: str  # one of RELATIONS (relation to the household head)
    moved_in: date


@dataclass(frozen=True, slots=True)
class SpecialGroupSpec:
    resident_key: str
    kind: str  # one of SPECIAL_GROUP_KINDS


@dataclass
class Register:
    buildings: list[BuildingSpec]
    houses: list[HouseSpec]
    households: list[HouseholdSpec]
    residents: list[ResidentSpec]
    special_groups: list[SpecialGroupSpec]


def generate_register(
    grids: Sequence[tuple[str, str, shapely.Geometry]], residents: int, seed: int = 2026
) -> Register:
    """Synthetic register of exactly `residents` people over `grids`.

    `grids` holds (basic grid code, kind "urban" | "rural", polygon in lng/lat). The result
    is a pure function of the arguments. Every grid gets at least one household when there
    are at least as many households as grids.

    The cyclic garbage collector is paused while the objects are built (they hold no
    cycles; collecting millions of fresh objects over and over costs ~20 % of the time).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(grids, residents, seed)
    finally:
        if was_enabled:
            gc.enable()


def _generate(
    grids: Sequence[tuple[str, str, shapely.Geometry]], residents: int, seed: int
) -> Register:
    if residents < 0:
        raise ValueError(f"residents must be >= 0, got {residents}")
    if residents and not grids:
        raise ValueError("residents need at least one grid")
    codes = [g[0] for g in grids]
    kinds = [g[1] for g in grids]
    bad = sorted({k for k in kinds if k not in ("urban", "rural")})
    if bad:
        raise ValueError(f"grid kind must be urban or rural, got {bad}")
    geoms = np.array([g[2] for g in grids], dtype=object)
    rng_hh, rng_layout, rng_geo, rng_people, rng_groups = np.random.default_rng(seed).spawn(5)

    sizes, hh_grid, floating = _households(kinds, residents, rng_hh)
    layout = _layout(kinds, hh_grid, floating, rng_layout)
    lng, lat = _points_in(geoms, layout.building_grid, rng_geo)
    people = _people(sizes, floating, seed, rng_people)
    groups = _special_groups(people, sizes, rng_groups)
    return _assemble(codes, layout, lng, lat, sizes, people, groups)


# --------------------------------------------------------------------------- households


def _households(
    kinds: list[str], residents: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Household sizes (summing to `residents`), grid index per household (ascending) and
    whether each household is floating."""
    n_grids = len(kinds)
    if residents == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    p = np.array(_HOUSEHOLD_SIZE_P)
    sizes = rng.choice(6, size=int(residents / 2.78 * 1.05) + 16, p=p) + 1
    while sizes.sum() < residents:
        sizes = np.concatenate([sizes, rng.choice(6, size=len(sizes) // 8 + 16, p=p) + 1])
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, residents))
    sizes = sizes[: last + 1]
    sizes[-1] -= total[last] - residents
    n_hh = len(sizes)

    urban = np.array([k == "urban" for k in kinds])
    weight = np.where(urban, _URBAN_WEIGHT, 1.0) * rng.gamma(4.0, 0.25, n_grids)
    weight /= weight.sum()
    if n_hh >= n_grids:
        counts = 1 + rng.multinomial(n_hh - n_grids, weight)
    else:
        counts = rng.multinomial(n_hh, weight)
    hh_grid = np.repeat(np.arange(n_grids), counts)
    p_float = np.where(urban, _FLOATING_P["urban"], _FLOATING_P["rural"])[hh_grid]
    floating = rng.random(n_hh) < p_float
    return sizes, hh_grid, floating


# --------------------------------------------------------------------------- buildings


@dataclass(slots=True)
class _Layout:
    building_grid: np.ndarray  # grid index per building, ascending
    building_rows: list[tuple[str, str, int, str]]  # name, address, floors, use
    house_building: np.ndarray  # building index per house, ascending
    house_numbers: list[str]
    house_area: np.ndarray
    house_use: np.ndarray  # index into HOUSE_USES
    household_house: np.ndarray  # house index per household


class _Builder:
    """Accumulates buildings and houses grid by grid."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.grid: list[int] = []
        self.rows: list[tuple[str, str, int, str]] = []
        self.house_building: list[int] = []
        self.house_numbers: list[str] = []
        self.house_area: list[float] = []
        self.house_dwelling: list[bool] = []  # a dwelling can hold a household
        self.door_numbers: dict[str, int] = {}  # last door number used per street / group

    def address(self, street: str) -> str:
        n = self.door_numbers.get(street, 0) + 1
        self.door_numbers[street] = n
        return f"{street}{n}号"

    def building(self, grid: int, name: str, address: str, floors: int, use: str) -> int:
        self.grid.append(grid)
        self.rows.append((name, address, floors, use))
        return len(self.rows) - 1

    def houses(self, building: int, numbers: list[str], areas: np.ndarray,
               dwelling: list[bool]) -> None:
        self.house_building.extend([building] * len(numbers))
        self.house_numbers.extend(numbers)
        self.house_area.extend(areas.tolist())
        self.house_dwelling.extend(dwelling)

    def place_stem(self) -> str:
        a, b = self.rng.integers((len(_PLACE_FIRST), len(_PLACE_SECOND)))
        return _PLACE_FIRST[a] + _PLACE_SECOND[b]

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.integers(len(options)))]


def _apartment_numbers(floors: int, units: int, per_floor: int) -> tuple[list[str], list[int]]:
    """House numbers ``unit-floorRoom`` (``3-201``) and the floor of each."""
    numbers: list[str] = []
    floor_of: list[int] = []
    for u in range(1, units + 1):
        for f in range(1, floors + 1):
            numbers.extend(f"{u}-{f}{r:02d}" for r in range(1, per_floor + 1))
            floor_of.extend([f] * per_floor)
    return numbers, floor_of


def _urban_grid(b: _Builder, grid: int, households: int) -> None:
    rng = b.rng
    streets = [b.pick(_STREET_STEMS) + b.pick(_STREET_SUFFIXES) for _ in range(3)]
    need = math.ceil(households / rng.uniform(0.85, 0.95)) if households else 0
    capacity = 0
    compound, left, serial, street = "", 0, 0, streets[0]
    while capacity < need:
        if left == 0:
            compound = b.place_stem() + b.pick(_COMPOUND_SUFFIXES)
            left, serial, street = int(rng.integers(2, 10)), 0, b.pick(streets)
        left -= 1
        serial += 1
        tier = rng.random()
        if tier < 0.3:  # walk-up
            floors, units, per_floor = int(rng.integers(6, 8)), int(rng.integers(2, 5)), 2
        elif tier < 0.7:
            floors, units, per_floor = (int(rng.integers(8, 19)), int(rng.integers(1, 4)),
                                        int(rng.integers(2, 4)))
        else:
            floors, units, per_floor = (int(rng.integers(19, 31)), int(rng.integers(1, 3)),
                                        int(rng.integers(2, 5)))
        mixed = rng.random() < 0.15
        shops = int(mixed)  # ground floor of a mixed building holds shops
        rest = need - capacity
        if (floors - shops) * units * per_floor > rest:  # last building: no bigger than needed
            units = max(1, min(units, math.ceil(rest / ((floors - shops) * per_floor))))
            floors = max(6, min(floors, math.ceil(rest / (units * per_floor)) + shops))
        idx = b.building(grid, f"{compound}{serial}栋", b.address(street), floors,
                         "mixed" if mixed else "residential")
        numbers, floor_of = _apartment_numbers(floors, units, per_floor)
        dwelling = [f > shops for f in floor_of]
        areas = np.where(dwelling, rng.normal(95, 22, len(numbers)).clip(38, 220),
                         rng.uniform(20, 120, len(numbers)))
        b.houses(idx, numbers, areas, dwelling)
        capacity += sum(dwelling)
    for _ in range(int(rng.integers(1, 4))):
        use = b.pick(("commercial", "commercial", "public", "public", "industrial"))
        name = b.place_stem() + b.pick(_URBAN_NONRES[use])
        floors = int(rng.integers(2, 9) if use == "commercial" else rng.integers(1, 6))
        idx = b.building(grid, name, b.address(b.pick(streets)), floors, use)
        if use != "public":
            n = int(rng.integers(4, 25) if use == "commercial" else rng.integers(1, 4))
            b.houses(idx, _apartment_numbers(1, 1, n)[0], rng.uniform(20, 400, n), [False] * n)


def _rural_grid(b: _Builder, grid: int, households: int) -> None:
    rng = b.rng
    need = math.ceil(households / rng.uniform(0.85, 0.95)) if households else 0
    n_groups = min(12, max(1, math.ceil(need / 40)))
    groups = [b.place_stem() + "组" for _ in range(n_groups)]
    group = np.sort(rng.integers(n_groups, size=need))
    floors = rng.choice(3, size=need, p=(0.25, 0.45, 0.30)) + 1
    mixed = rng.random(need) < 0.07
    areas = floors * rng.uniform(70, 140, need)
    for g, f, m, area in zip(group.tolist(), floors.tolist(), mixed.tolist(), areas,
                             strict=True):
        address = b.address(groups[g])
        idx = b.building(grid, address, address, f, "mixed" if m else "residential")
        b.houses(idx, ["1"], np.array([area]), [True])
    for _ in range(int(rng.integers(0, 3))):
        use = b.pick(("public", "public", "industrial", "commercial"))
        name = b.place_stem() + b.pick(_RURAL_NONRES[use])
        idx = b.building(grid, name, b.address(b.pick(groups)), int(rng.integers(1, 4)), use)
        if use != "public":
            b.houses(idx, ["1"], rng.uniform(40, 600, 1), [False])


def _layout(kinds: list[str], hh_grid: np.ndarray, floating: np.ndarray,
            rng: np.random.Generator) -> _Layout:
    b = _Builder(rng)
    hh_counts = np.bincount(hh_grid, minlength=len(kinds))
    house_start = np.zeros(len(kinds) + 1, dtype=np.int64)
    for grid, kind in enumerate(kinds):
        house_start[grid] = len(b.house_numbers)
        if kind == "urban":
            _urban_grid(b, grid, int(hh_counts[grid]))
        else:
            _rural_grid(b, grid, int(hh_counts[grid]))
    house_start[-1] = len(b.house_numbers)

    dwelling = np.array(b.house_dwelling, dtype=bool)
    household_house = np.empty(len(hh_grid), dtype=np.int64)
    hh_start = np.cumsum(hh_counts) - hh_counts
    for grid in np.flatnonzero(hh_counts):
        lo, hi = house_start[grid], house_start[grid + 1]
        slots = lo + np.flatnonzero(dwelling[lo:hi])
        chosen = np.sort(rng.choice(len(slots), size=hh_counts[grid], replace=False))
        household_house[hh_start[grid] : hh_start[grid] + hh_counts[grid]] = slots[chosen]

    use = np.where(dwelling, _VACANT, _COMMERCIAL)
    rented = floating | (rng.random(len(floating)) < _RENTED_REGISTERED_P)
    use[household_house] = np.where(rented, _RENTED, _SELF)
    return _Layout(
        building_grid=np.array(b.grid, dtype=np.int64),
        building_rows=b.rows,
        house_building=np.array(b.house_building, dtype=np.int64),
        house_numbers=b.house_numbers,
        house_area=np.round(np.array(b.house_area, dtype=np.float64), 2),
        house_use=use,
        household_house=household_house,
    )


def _points_in(geoms: np.ndarray, point_grid: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """One uniform random point strictly inside its grid's geometry per entry of
    `point_grid` (grid indexes, ascending); vectorised rejection sampling."""
    n_grids = len(geoms)
    counts = np.bincount(point_grid, minlength=n_grids)
    offsets = np.cumsum(counts) - counts
    xs = np.empty(len(point_grid))
    ys = np.empty(len(point_grid))
    todo = np.flatnonzero(counts)
    if not todo.size:
        return xs, ys
    used = geoms[todo]
    empty = shapely.is_empty(used) | (shapely.area(used) <= 0)
    if empty.any():
        raise ValueError(f"grid #{int(todo[np.argmax(empty)])} has no area to put buildings in")
    shapely.prepare(used)
    bounds = np.zeros((n_grids, 4))
    bounds[todo] = shapely.bounds(used)
    w, h = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
    ratio = np.ones(n_grids)
    ratio[todo] = np.clip(shapely.area(used) / (w[todo] * h[todo]), 0.02, 1.0)
    have = np.zeros(n_grids, dtype=np.int64)
    for _ in range(100):
        need = counts[todo] - have[todo]
        draw = np.ceil(need / ratio[todo] * 1.2).astype(np.int64) + 2
        gi = np.repeat(todo, draw)
        x = bounds[gi, 0] + rng.random(gi.size) * w[gi]
        y = bounds[gi, 1] + rng.random(gi.size) * h[gi]
        ok = shapely.contains_xy(geoms[gi], x, y)
        gi, x, y = gi[ok], x[ok], y[ok]
        slot = have[gi] + np.arange(gi.size) - np.searchsorted(gi, gi, side="left")
        keep = slot < counts[gi]
        xs[offsets[gi[keep]] + slot[keep]] = x[keep]
        ys[offsets[gi[keep]] + slot[keep]] = y[keep]
        have += np.bincount(gi[keep], minlength=n_grids)
        todo = todo[have[todo] < counts[todo]]
        if not todo.size:
            return xs, ys
    raise ValueError("could not place buildings inside some grids (degenerate polygons?)")


# --------------------------------------------------------------------------- people


@dataclass(slots=True)
class _People:
    relation: np.ndarray
    birth: np.ndarray  # proleptic Gregorian ordinal
    male: np.ndarray
    id_numbers: list[str]
    names: list[str]
    phones: list[str]
    ethnicity: np.ndarray
    residence: np.ndarray
    moved_in: np.ndarray  # ordinal


def _people(sizes: np.ndarray, floating_hh: np.ndarray, seed: int,
            rng: np.random.Generator) -> _People:
    n_hh = len(sizes)
    n = int(sizes.sum())
    starts = np.cumsum(sizes) - sizes
    hh = np.repeat(np.arange(n_hh), sizes)
    pos = np.arange(n) - starts[hh]
    as_of = AS_OF.toordinal()

    # The head and (when there is one) the spouse.
    single = sizes == 1
    u = rng.random(n_hh)
    single_age = np.where(u < 0.4, rng.uniform(60, 92, n_hh),
                          np.where(u < 0.75, rng.uniform(18, 35, n_hh), rng.uniform(35, 60, n_hh)))
    family_age = rng.normal(48, 13, n_hh).clip(22, 88)
    floating_age = rng.normal(36, 9, n_hh).clip(np.where(single, 18, 22), 65)
    head_age = np.where(floating_hh, floating_age, np.where(single, single_age, family_age))
    head_male = rng.random(n_hh) < np.where(single, 0.55, 0.72)
    spouse_age = (head_age + rng.normal(0, 3, n_hh).clip(-8, 8)).clip(20, 95)
    has_spouse = (sizes >= 2) & (rng.random(n_hh) < 0.85)

    relation = rng.choice(
        [_CHILD, _PARENT, _GRANDCHILD, _SIBLING, _OTHER], size=n, p=(0.62, 0.12, 0.12, 0.06, 0.08)
    )
    relation[pos == 1] = np.where(has_spouse[hh[pos == 1]], _SPOUSE, relation[pos == 1])
    relation[pos == 0] = _HEAD
    ha = head_age[hh]
    young_parent = np.where(has_spouse, np.minimum(head_age, spouse_age), head_age)[hh]
    relation[(relation == _PARENT) & (ha > 75)] = _OTHER
    relation[(relation == _GRANDCHILD) & (young_parent < 42)] = _CHILD
    is_parent = relation == _PARENT
    so_far = np.cumsum(is_parent)
    nth_parent = so_far - (so_far[starts] - is_parent[starts])[hh]
    relation[is_parent & (nth_parent > 2)] = _CHILD

    g = rng.random(n)
    age = np.select(
        [relation == _HEAD, relation == _SPOUSE, relation == _CHILD, relation == _PARENT,
         relation == _GRANDCHILD, relation == _SIBLING],
        [ha, spouse_age[hh],
         young_parent - (20 + g * (np.minimum(40, young_parent) - 20)),
         ha + 20 + g * (np.minimum(35, 100 - ha) - 20),
         young_parent - (40 + g * (np.minimum(65, young_parent) - 40)),
         (ha + g * 20 - 10).clip(0, 100)],
        g * 85,
    )
    # Up to a year older than `age` says: spreads the ages clipped to a bound over many
    # days (relations keep their margins: a child stays 19+ years younger than a parent).
    jitter = rng.integers(0, 365, size=n)
    birth = as_of - 1 - np.floor(age * _DAYS_PER_YEAR).astype(np.int64) - jitter
    male = rng.random(n) < 0.5
    male[starts] = head_male
    spouses = relation == _SPOUSE
    male[spouses] = ~head_male[hh[spouses]]
    serial = _unique_serials(birth, male, rng)

    # Surnames: children and grandchildren take the father's, siblings and the father of
    # the head the head's.
    spouse_index = np.full(n_hh, -1)
    spouse_index[hh[spouses]] = np.flatnonzero(spouses)
    father = np.where(head_male | (spouse_index < 0), starts, spouse_index)
    surname_from = np.full(n, -1)
    descendants = (relation == _CHILD) | (relation == _GRANDCHILD)
    surname_from[descendants] = father[hh[descendants]]
    kin = (relation == _SIBLING) | ((relation == _PARENT) & male)
    surname_from[kin] = starts[hh[kin]]
    name_base = (seed & 0xFFFF_FFFF) << 32
    names = [person_name(name_base + i) for i in range(n)]
    for i, j in zip(np.flatnonzero(surname_from >= 0).tolist(),
                    surname_from[surname_from >= 0].tolist(), strict=True):
        names[i] = names[j][0] + names[i][1:]

    # Phones: a bijection of the phone index onto the block, so they never repeat.
    has_phone = age >= _PHONE_MIN_AGE
    if int(has_phone.sum()) > PHONE_BLOCK:
        raise ValueError(f"the synthetic phone block holds {PHONE_BLOCK} numbers")
    phone_index = np.cumsum(has_phone) - 1
    offset = int(rng.integers(PHONE_BLOCK))
    number = int(PHONE_PREFIX) * PHONE_BLOCK + (phone_index * _PHONE_STRIDE + offset) % PHONE_BLOCK
    phones = np.where(has_phone, number.astype(str), "").tolist()

    ethnicity = rng.choice(len(ETHNICITIES), size=n_hh, p=_ETHNICITY_P)[hh]
    redraw = rng.random(n) < 0.04
    ethnicity[redraw] = rng.choice(len(ETHNICITIES), size=int(redraw.sum()), p=_ETHNICITY_P)
    residence = np.where(floating_hh[hh], _FLOATING, _REGISTERED)
    residence[rng.random(n) < _OVERSEAS_P] = _OVERSEAS

    years_here = np.where(floating_hh, rng.uniform(0, 8, n_hh), rng.uniform(0, 40, n_hh))
    years_here = np.minimum(years_here, head_age - 18).clip(0)
    household_moved = as_of - 1 - np.floor(years_here * _DAYS_PER_YEAR).astype(np.int64)
    moved_in = household_moved[hh]
    overseas = residence == _OVERSEAS
    moved_in[overseas] = as_of - 1 - np.floor(
        rng.uniform(0, 6, int(overseas.sum())) * _DAYS_PER_YEAR
    ).astype(np.int64)
    moved_in = np.maximum(moved_in, birth)

    return _People(
        relation=relation, birth=birth, male=male,
        id_numbers=_id_numbers(birth, serial, male), names=names, phones=phones,
        ethnicity=ethnicity, residence=residence, moved_in=moved_in,
    )  # fmt: skip


def _unique_serials(birth: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A serial 0..99 per person, distinct among people of the same birth date and gender
    (so identity numbers are unique). Where a day is full, people move to an earlier day:
    `birth` is updated in place."""
    n = len(birth)
    tiebreak = rng.random(n)
    for _ in range(10_000):
        key = birth * 2 + male
        order = np.lexsort((tiebreak, key))
        sorted_key = key[order]
        first = np.searchsorted(sorted_key, sorted_key, side="left")
        rank = np.arange(n) - first
        full = rank >= _SERIALS
        if not full.any():
            # Serials count up from a random start per (birth date, gender), modulo 100.
            start = rng.integers(_SERIALS, size=n)[first]
            serial = np.empty(n, dtype=np.int64)
            serial[order] = (start + rank) % _SERIALS
            return serial
        moved = order[full]
        birth[moved] -= rng.integers(1, 8, size=moved.size)
    raise ValueError("too many people for unique identity numbers")


def _id_numbers(birth: np.ndarray, serial: np.ndarray, male: np.ndarray) -> list[str]:
    """Vectorised `make_id_number(AREA_CODE, birth, serial, gender)`."""
    n = len(birth)
    days = (birth - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    digits = np.empty((n, 18), dtype=np.int64)
    digits[:, :6] = [int(c) for c in AREA_CODE]
    for value, start, width in ((year, 6, 4), (month, 10, 2), (day, 12, 2), (serial, 14, 2)):
        for k in range(width):
            digits[:, start + k] = value // 10 ** (width - 1 - k) % 10
    digits[:, 16] = 2 * (serial % 5) + male
    check = digits[:, :17] @ np.array(WEIGHTS) % 11
    chars = (digits + ord("0")).astype(np.uint8)
    chars[:, 17] = np.frombuffer(CHECK_MAP.encode(), dtype=np.uint8)[check]
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18").tolist()


def _special_groups(people: _People, sizes: np.ndarray, rng: np.random.Generator
                    ) -> list[tuple[int, int]]:
    """(resident index, kind index) pairs, about SPECIAL_GROUP_SHARE of residents, each in
    one group, sorted by resident."""
    n = len(people.birth)
    age = (AS_OF.toordinal() - people.birth) / _DAYS_PER_YEAR
    hh_size = np.repeat(sizes, sizes)
    rel = people.relation
    eligible = {
        "elderly_alone": (age >= 60) & (hh_size == 1),
        "left_behind_child": (age < 16) & (people.residence == _REGISTERED)
        & ((rel == _CHILD) | (rel == _GRANDCHILD)),
        "key_youth": (age >= 6) & (age < 25),
        "community_correction": (age >= 18) & (age < 70),
        "released_prisoner": (age >= 18) & (age < 75),
        "drug_user": (age >= 16) & (age < 65),
        "aids_risk": (age >= 18) & (age < 60),
        "mental_disorder_risk": age >= 16,
        "disabled": np.ones(n, dtype=bool),
        "low_income": np.ones(n, dtype=bool),
    }
    taken = np.zeros(n, dtype=bool)
    picked: list[tuple[np.ndarray, int]] = []
    for kind, pool in eligible.items():
        candidates = np.flatnonzero(pool & ~taken)
        want = min(len(candidates), round(n * SPECIAL_GROUP_SHARE * SPECIAL_GROUP_WEIGHTS[kind]))
        chosen = rng.choice(candidates, size=want, replace=False)
        taken[chosen] = True
        picked.append((chosen, SPECIAL_GROUP_KINDS.index(kind)))
    who = np.concatenate([c for c, _ in picked] + [np.zeros(0, dtype=np.int64)])
    kind = np.concatenate([np.full(len(c), k) for c, k in picked] + [np.zeros(0, dtype=np.int64)])
    order = np.argsort(who, kind="stable")
    return list(zip(who[order].tolist(), kind[order].tolist(), strict=True))


# --------------------------------------------------------------------------- output


def _assemble(codes: list[str], layout: _Layout, lng: np.ndarray, lat: np.ndarray,
              sizes: np.ndarray, people: _People, groups: list[tuple[int, int]]) -> Register:
    building_keys = [f"b{i:06d}" for i in range(len(layout.building_rows))]
    buildings = [
        BuildingSpec(key, codes[g], name, address, x, y, floors, use)
        for key, g, (name, address, floors, use), x, y in zip(
            building_keys, layout.building_grid.tolist(), layout.building_rows,
            lng.tolist(), lat.tolist(), strict=True,
        )
    ]

    hb = layout.house_building
    first_house = np.searchsorted(hb, np.arange(len(building_keys)))
    serial_in_building = (np.arange(len(hb)) - first_house[hb] + 1).tolist()
    house_keys = [f"h{b:06d}-{s}" for b, s in zip(hb.tolist(), serial_in_building, strict=True)]
    houses = [
        HouseSpec(key, building_keys[b], number, area, HOUSE_USES[use])
        for key, b, number, area, use in zip(
            house_keys, hb.tolist(), layout.house_numbers, layout.house_area.tolist(),
            layout.house_use.tolist(), strict=True,
        )
    ]

    hh_house_keys = [house_keys[h] for h in layout.household_house.tolist()]
    household_keys = [f"hh{i:07d}" for i in range(len(sizes))]
    households = [
        HouseholdSpec(key, house_key, f"{AREA_CODE}{i + 1:08d}")
        for i, (key, house_key) in enumerate(zip(household_keys, hh_house_keys, strict=True))
    ]

    moved = people.moved_in
    day_of = {o: date.fromordinal(o) for o in np.unique(moved).tolist()}
    hh_index = np.repeat(np.arange(len(sizes)), sizes).tolist()
    resident_keys = [f"p{i:07d}" for i in range(len(hh_index))]
    residents = [
        ResidentSpec(key, household_keys[h], hh_house_keys[h], name, id_number, phone,
                     ETHNICITIES[e], RESIDENCE_TYPES[r], RELATIONS[rel], day_of[m])
        for key, h, name, id_number, phone, e, r, rel, m in zip(
            resident_keys, hh_index, people.names, people.id_numbers, people.phones,
            people.ethnicity.tolist(), people.residence.tolist(), people.relation.tolist(),
            moved.tolist(), strict=True,
        )
    ]
    special_groups = [SpecialGroupSpec(resident_keys[i], SPECIAL_GROUP_KINDS[k])
                      for i, k in groups]
    return Register(buildings, houses, households, residents, special_groups)
