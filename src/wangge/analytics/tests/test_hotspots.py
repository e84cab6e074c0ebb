"""Hot spots: density per basic grid, repeat-location clusters and heat points, counted on
cases built by hand in 2031 (a year the demo never reaches), within the caller's scope.
Confidential cases count in density and never appear in clusters or heat points."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math

import numpy as np
import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.analytics import hotspots
from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.rollup import day_start
from wangge.cases.models import Case, CaseCategory
from wangge.territory.models import Grid

DAY = dt.date(2031, 3, 10)
SPAN = {"since": dt.date(2031, 3, 1), "until": dt.date(2031, 3, 31)}
URL = "/api/v1/analytics/hotspots"
QUERY = "from=2031-03-01&to=2031-03-31"
M = 1 / 111_195  # about one metre in degrees of latitude
_serial = itertools.count(1)


def scope_of(username: str) -> Scope:
    return analytics_scope(get_user_model().objects.get(username=username))


def places() -> dict[str, Grid]:
    own = Grid.objects.get(name="胜利社区第1网格")
    sibling = Grid.objects.filter(parent=own.parent, level=4).exclude(pk=own.pk) \
        .order_by("code").first()
    far = (Grid.objects.filter(level=4).exclude(path__startswith=own.parent.parent.path)
           .order_by("code").first())
    assert sibling and far
    return {"own": own, "sibling": sibling, "far": far}


def kinds() -> tuple[CaseCategory, CaseCategory]:
    a, b = CaseCategory.objects.filter(parent__isnull=False).order_by("code")[:2]
    return a, b


def make(grid: Grid, category: CaseCategory, *, lat: float | None = None,
         lng: float | None = None, day: dt.date = DAY, hour: int = 10,
         confidential: bool = False, title: str = "井盖缺失") -> Case:
    case = Case.objects.create(
        register_no=f"T2031{next(_serial):07d}", category=category, grid=grid, title=title,
        channel=Case.Channel.GRID_WORKER, state="registered", confidential=confidential,
        lat=grid.label_lat if lat is None else lat, lng=grid.label_lng if lng is None else lng)
    Case.objects.filter(pk=case.pk).update(created_at=day_start(day) + dt.timedelta(hours=hour))
    case.refresh_from_db()
    return case


# -- density ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_density_counts_each_basic_grid_in_scope() -> None:
    p = places()
    a, b = kinds()
    for _ in range(3):
        make(p["own"], a)
    make(p["own"], b, confidential=True)  # counted, as every statistic counts it
    make(p["sibling"], a)
    make(p["far"], a)
    make(p["far"], b)
    make(p["own"], a, day=dt.date(2031, 4, 1))  # after the span
    make(p["own"], a, day=dt.date(2031, 2, 28), hour=23)  # before it (Shanghai's day)

    station = {d.code: d for d in hotspots.density(scope_of("station"), **SPAN)}
    assert station[p["own"].code].cases == 4
    assert station[p["sibling"].code].cases == 1
    assert p["far"].code not in station  # outside the workstation's community
    assert set(station) == set(Grid.objects.filter(parent=p["own"].parent, level=4)
                               .values_list("code", flat=True))
    own = station[p["own"].code]
    assert own.area_km2 == pytest.approx(hotspots.area_km2(p["own"].geometry), rel=1e-3)
    assert own.per_km2 == pytest.approx(4 / own.area_km2, rel=1e-3)

    city = {d.code: d.cases for d in hotspots.density(scope_of("dispatcher"), **SPAN)}
    assert city[p["far"].code] == 2
    assert len(city) == Grid.objects.filter(level=4).count()
    assert sum(city.values()) == 7

    only_a = {d.code: d.cases for d in hotspots.density(scope_of("dispatcher"), category=a,
                                                          **SPAN)}
    assert (only_a[p["own"].code], only_a[p["far"].code]) == (3, 1)
    big = {d.code: d.cases for d in hotspots.density(scope_of("dispatcher"),
                                                       category=a.parent, **SPAN)}
    assert big[p["own"].code] >= 3  # a big class counts its small classes

    inside = hotspots.density(scope_of("dispatcher"), within=p["own"], **SPAN)
    assert [(d.code, d.cases) for d in inside] == [(p["own"].code, 4)]


def test_area_of_a_known_square() -> None:
    import shapely

    # 0.01° × 0.01° at the equator: (0.01 × 111.195 km)² ≈ 1.2364 km²
    square = shapely.box(0, 0, 0.01, 0.01)
    assert hotspots.area_km2(square) == pytest.approx(1.2364, rel=2e-3)
    # at 60° a degree of longitude is half as long
    assert hotspots.area_km2(shapely.box(0, 59.995, 0.01, 60.005)) == pytest.approx(
        1.2364 / 2, rel=2e-3)


def test_quantile_classes() -> None:
    values = [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert hotspots.quantile_classes(values) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert hotspots.quantile_classes([0, 0]) == [0, 0]
    assert hotspots.quantile_classes([5, 0, 5, 9]) == [1, 0, 1, 3]  # ties share a class


@given(st.lists(st.floats(0, 1e6), max_size=60))
def test_quantile_classes_are_monotone(values: list[float]) -> None:
    classes = hotspots.quantile_classes(values)
    assert all(0 <= k <= 4 for k in classes)
    assert all((k == 0) == (v <= 0) for v, k in zip(values, classes, strict=True))
    pairs = sorted(zip(values, classes, strict=True))
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(pairs))


@pytest.mark.django_db
def test_density_geojson_features_and_legend() -> None:
    p = places()
    a, _ = kinds()
    for _ in range(5):
        make(p["own"], a)
    make(p["sibling"], a)
    data = hotspots.density_geojson(scope_of("station"), **SPAN)
    assert data["type"] == "FeatureCollection"
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props[p["own"].code]["cases"] == 5
    # two grids with cases: the lower one is class 1, the other the third quartile
    classes = {props[p["own"].code]["class"], props[p["sibling"].code]["class"]}
    assert classes == {1, 3}
    assert {f["geometry"]["type"] for f in data["features"]} <= {"Polygon", "MultiPolygon"}
    assert [c["class"] for c in data["classes"]] == [0, 1, 3]
    top = max(f["properties"]["per_km2"] for f in data["features"])
    assert data["classes"][-1]["max"] == top
    assert data["total"] == 6


@pytest.mark.django_db
def test_area_density_adds_up_the_basic_grids_of_each_area() -> None:
    p = places()
    a, _ = kinds()
    for _ in range(3):
        make(p["own"], a)
    make(p["sibling"], a)
    make(p["far"], a)
    scope = scope_of("dispatcher")
    basic = hotspots.density(scope, **SPAN)
    level = 2
    towns = {d.code: d for d in hotspots.area_density(scope, level=level, **SPAN)}
    assert set(towns) == set(Grid.objects.filter(level=level).values_list("code", flat=True))
    by_path = {g.path: g.code for g in Grid.objects.filter(level=level)}
    expected: dict[str, int] = {}
    paths = dict(Grid.objects.filter(level=4).values_list("pk", "path"))
    for d in basic:
        town = by_path[hotspots._ancestor(paths[d.grid_id], level)]
        expected[town] = expected.get(town, 0) + d.cases
    assert {c: d.cases for c, d in towns.items()} == expected
    own_town = by_path[hotspots._ancestor(p["own"].path, level)]
    assert towns[own_town].cases >= 4 and towns[own_town].area_km2 > 0
    # the outlines: one feature per town, code and name only, a polygon each
    outlines = hotspots.area_outlines(scope, level)
    assert {f["properties"]["code"] for f in outlines["features"]} == set(towns)
    assert {f["geometry"]["type"] for f in outlines["features"]} <= {"Polygon",
                                                                      "MultiPolygon"}
    assert set(outlines["features"][0]["properties"]) == {"code", "name"}


@pytest.mark.django_db
def test_map_level_is_the_deepest_that_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    city = scope_of("dispatcher")
    assert hotspots.map_level(city) == 4  # the demo city's few hundred basic grids
    counts = {lv: Grid.objects.filter(level=lv).count() for lv in range(5)}
    monkeypatch.setattr(hotspots, "MAP_MAX_AREAS", counts[2])
    assert hotspots.map_level(city) == 2
    monkeypatch.setattr(hotspots, "MAP_MAX_AREAS", 0)
    assert hotspots.map_level(city) == 0  # nothing fits: the scope's own top
    # a community's station: never above its community
    assert hotspots.map_level(scope_of("station")) == 3


@pytest.mark.django_db
def test_department_staff_get_no_hot_spots(login_as) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        hotspots.density(scope_of("department"), **SPAN)
    client = login_as("department")
    for path in ("", "/clusters", "/heat"):
        assert client.get(f"{URL}{path}?{QUERY}").status_code == 403
    assert client.get("/console/analytics/hotspots/").status_code == 403


# -- clusters and heat --------------------------------------------------------------------

@pytest.mark.django_db
def test_one_cluster_of_four_and_no_pair() -> None:
    p = places()
    a, b = kinds()
    lat, lng = p["own"].label_lat, p["own"].label_lng
    four = [make(p["own"], a, lat=lat + dy * M, lng=lng + dx * M, hour=8 + k)
            for k, (dx, dy) in enumerate([(0, 0), (20, 0), (0, 25), (30, 30)])]  # within 60 m
    make(p["own"], b, lat=lat, lng=lng)  # another category at the same spot
    secret = make(p["own"], a, lat=lat + 10 * M, lng=lng, confidential=True)
    # a pair 2 km away: two are not "again and again"
    make(p["sibling"], a, lat=lat + 2000 * M, lng=lng)
    make(p["sibling"], a, lat=lat + 2010 * M, lng=lng)

    found = hotspots.clusters(scope_of("station"), **SPAN)
    assert len(found) == 1
    cl = found[0]
    assert (cl.category_code, cl.count) == (a.code, 4)
    assert {c.register_no for c in cl.cases} == {c.register_no for c in four}
    assert cl.radius_m < 60
    assert cl.first == four[0].created_at and cl.last == four[-1].created_at
    assert [c.created_at for c in cl.cases] == sorted((c.created_at for c in cl.cases),
                                                      reverse=True)
    # the confidential case: counted in density, never placed on a map or listed
    own = {d.code: d.cases for d in hotspots.density(scope_of("station"), **SPAN)}
    assert own[p["own"].code] == 6
    heat = hotspots.heat_points(scope_of("station"), **SPAN)
    assert len(heat) == 7
    assert (secret.lat, secret.lng, 1.0) not in heat
    # only three of the four cases in the span: still a cluster; with min_cases=5 none
    assert hotspots.clusters(scope_of("station"), min_cases=5, **SPAN) == []
    # another scope does not see them
    assert hotspots.clusters(scope_of("gridworker"), within=None, category=b, **SPAN) == []


@pytest.mark.django_db
def test_heat_points_are_the_newest_when_capped() -> None:
    p = places()
    a, _ = kinds()
    made = [make(p["own"], a, lat=30 + k * 0.001, hour=k) for k in range(5)]
    points = hotspots.heat_points(scope_of("station"), limit=2, **SPAN)
    assert points == [(c.lat, c.lng, 1.0) for c in reversed(made[-2:])]


def brute_dbscan(lat: list[float], lng: list[float], radius: float, min_cases: int
                 ) -> tuple[set[int], list[set[int]]]:
    """The definition, pair by pair: cores, and the partition of cores into clusters."""
    n = len(lat)
    near = [[j for j in range(n) if j != i and hotspots.haversine_m(
        np.array(lat[i]), np.array(lng[i]), np.array(lat[j]), np.array(lng[j])) <= radius]
        for i in range(n)]
    core = {i for i in range(n) if len(near[i]) + 1 >= min_cases}
    groups: list[set[int]] = []
    seen: set[int] = set()
    for i in sorted(core):
        if i in seen:
            continue
        group, todo = set(), [i]
        while todo:
            k = todo.pop()
            if k in group:
                continue
            group.add(k)
            todo.extend(j for j in near[k] if j in core and j not in group)
        seen |= group
        groups.append(group)
    return core, groups


points = st.lists(st.tuples(st.floats(0, 400), st.floats(0, 400)), min_size=0, max_size=40)


@settings(max_examples=120, deadline=None)
@given(points=points, radius=st.sampled_from([30.0, 60.0, 100.0]),
       min_cases=st.integers(2, 5), base=st.sampled_from([(27.6, 113.5), (0.0, 179.99),
                                                          (45.0, 10.0)]))
def test_dbscan_matches_its_definition(points: list[tuple[float, float]], radius: float,
                                       min_cases: int, base: tuple[float, float]) -> None:
    """Random points in a 400 m square: every clustered point is within the radius of a
    core of its own cluster (the chain), no point is in two clusters, and the cores are
    split exactly as the pair-by-pair definition splits them."""
    lat0, lng0 = base
    lat = [lat0 + y * M for _, y in points]
    lng = [lng0 + x * M / math.cos(math.radians(lat0)) for x, _ in points]
    labels = hotspots.dbscan(np.array(lat), np.array(lng), radius, min_cases)
    core, groups = brute_dbscan(lat, lng, radius, min_cases)
    by_label: dict[int, set[int]] = {}
    for i, label in enumerate(labels.tolist()):
        if label >= 0:
            by_label.setdefault(label, set()).add(i)
    assert sorted(sorted(g) for g in groups) == sorted(sorted(g & core) for g in
                                                       by_label.values())
    for members in by_label.values():
        assert len(members) >= min_cases
        cores = members & core
        for i in members:
            assert any(i == j or hotspots.haversine_m(
                np.array(lat[i]), np.array(lng[i]), np.array(lat[j]),
                np.array(lng[j])) <= radius for j in cores)
    # each point in at most one cluster is the label's nature; a non-core point near a core
    # is never left out
    for i in set(range(len(lat))) - core:
        near_core = any(hotspots.haversine_m(np.array(lat[i]), np.array(lng[i]),
                                             np.array(lat[j]), np.array(lng[j])) <= radius
                        for j in core)
        assert (labels[i] >= 0) == near_core


# -- the API and the page -----------------------------------------------------------------

@pytest.mark.django_db
def test_api_answers_within_scope(login_as) -> None:  # type: ignore[no-untyped-def]
    p = places()
    a, _ = kinds()
    lat, lng = p["own"].label_lat, p["own"].label_lng
    for k in range(3):
        make(p["own"], a, lat=lat + k * 10 * M, lng=lng)
    make(p["far"], a)
    client = login_as("station")

    r = client.get(f"{URL}?{QUERY}")
    assert r.status_code == 200
    body = r.json()
    codes = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert codes[p["own"].code]["cases"] == 3 and "class" in codes[p["own"].code]
    assert p["far"].code not in codes

    r = client.get(f"{URL}/clusters?{QUERY}")
    assert r.status_code == 200
    [cl] = r.json()
    assert cl["count"] == 3
    assert all(c["url"] == f"/console/cases/{c['register_no']}/" for c in cl["cases"])
    assert set(cl["cases"][0]) == {"register_no", "title", "state", "state_label",
                                   "created_at", "lat", "lng", "url"}  # no reporter, no contact

    r = client.get(f"{URL}/heat?{QUERY}&limit=2")
    assert r.json() | {"points": None} == {"points": None, "total": 3, "limit": 2,
                                           "truncated": True}

    # a grid outside the scope is as unknown as one that does not exist
    assert client.get(f"{URL}?{QUERY}&grid={p['far'].code}").status_code == 404
    assert client.get(f"{URL}/clusters?{QUERY}&grid=nope").status_code == 404
    r = client.get(f"{URL}?{QUERY}&grid={p['own'].code}")
    assert [f["properties"]["code"] for f in r.json()["features"]] == [p["own"].code]


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "field"), [
    ("from=2031-04-01&to=2031-03-01", "from"),
    ("from=2031-03-01&to=2031-03-31&category=NOPE", "category"),
    ("from=yesterday", "from"),
    ("from=2031-03-01&to=2031-03-31&radius_m=5", "radius_m"),
])
def test_api_bad_input_names_the_field(login_as, query: str, field: str  # type: ignore[no-untyped-def]
                                       ) -> None:
    client = login_as("dispatcher")
    path = "/clusters" if "radius" in query else ""
    r = client.get(f"{URL}{path}?{query}")
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["query", field]]


@pytest.mark.django_db
def test_downloads_hold_the_same_numbers(login_as) -> None:  # type: ignore[no-untyped-def]
    p = places()
    a, _ = kinds()
    for k in range(3):
        make(p["own"], a, lat=p["own"].label_lat + k * 5 * M, title=f"=占道{k}")
    client = login_as("station")
    page = {f["properties"]["code"]: f["properties"]["cases"]
            for f in client.get(f"{URL}?{QUERY}").json()["features"]}

    r = client.get(f"{URL}?{QUERY}&format=xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("网格编码", "网格名称", "事件数")
    assert {row[0]: row[2] for row in rows[1:]} == page

    r = client.get(f"{URL}/clusters?{QUERY}&format=csv")
    assert r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("序号,分类编码")
    assert "'=占道0" in text  # a formula-like title stays text


@pytest.mark.django_db
def test_page_for_the_workstation(login_as) -> None:  # type: ignore[no-untyped-def]
    r = login_as("station").get("/console/analytics/hotspots/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="hotspot-map"' in html and "leaflet-heat/leaflet-heat.js" in html
    grid_select = html.split('name="grid"')[1].split("</select>")[0]
    assert "胜利社区" in grid_select and "来龙门街道" not in grid_select
    assert "<script>" not in html
