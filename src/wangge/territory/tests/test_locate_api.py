"""GET /api/v1/grids/locate: the basic grid and its ancestors for a point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from django.test import Client

from wangge.territory import lookup
from wangge.territory.actions import do_update_grid
from wangge.territory.models import Grid, TerritoryState


def _version() -> int:
    return TerritoryState.objects.get(pk=1).version


pytestmark = pytest.mark.django_db


@pytest.fixture
def client(django_user_model) -> Client:
    c = Client()
    c.force_login(django_user_model.objects.get(username="gridworker"))
    return c


def test_locate_returns_the_basic_grid_and_its_ancestors(client: Client) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = client.get("/api/v1/grids/locate", {"lat": grid.label_lat, "lng": grid.label_lng})
    assert r.status_code == 200
    body = r.json()
    assert body["grid"]["code"] == grid.code and body["grid"]["level"] == 4
    assert [a["level"] for a in body["ancestors"]] == [0, 1, 2, 3]
    assert body["ancestors"][2]["name"] == "来龙门街道"
    assert body["ancestors"][3]["name"] == "胜利社区"


def test_outside_the_territory_is_404(client: Client) -> None:
    r = client.get("/api/v1/grids/locate", {"lat": 39.9, "lng": 116.4})
    assert r.status_code == 404
    assert "outside" in r.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lng": "113.5"}, "lat"),
        ({"lat": "27.6"}, "lng"),
        ({"lat": "abc", "lng": "113.5"}, "lat"),
        ({"lat": "27.6", "lng": "east"}, "lng"),
        ({"lat": "91", "lng": "113.5"}, "lat"),
        ({"lat": "27.6", "lng": "-181"}, "lng"),
        ({"lat": "nan", "lng": "113.5"}, "lat"),
    ],
)
def test_bad_coordinates_are_422_naming_the_field(client: Client, params, field) -> None:
    r = client.get("/api/v1/grids/locate", params)
    assert r.status_code == 422
    assert any(e["loc"][-1] == field for e in r.json()["detail"])


def test_locate_needs_authentication() -> None:
    r = Client().get("/api/v1/grids/locate", {"lat": 27.6, "lng": 113.5})
    assert r.status_code == 401


def test_locate_agrees_with_brute_force_on_random_points() -> None:
    rows = list(Grid.objects.filter(level=4).values_list("code", "boundary"))
    polys = shapely.from_wkb([bytes(b) for _, b in rows])
    rng = np.random.default_rng(42)
    lng = rng.uniform(113.25, 113.75, 20_000)
    lat = rng.uniform(27.35, 27.95, 20_000)
    ids = lookup.locate_many(lng, lat)
    by_id = dict(Grid.objects.filter(level=4).values_list("id", "code"))
    got = [by_id.get(i) for i in ids]
    hits = np.array([shapely.intersects_xy(p, lng, lat) for p in polys])
    inside = hits.any(axis=0)
    assert inside.sum() > 5_000 and (~inside).sum() > 100  # both cases really exercised
    for k in range(len(lng)):
        owners = {rows[j][0] for j in np.flatnonzero(hits[:, k])}
        assert (got[k] in owners) if owners else got[k] is None


def test_the_index_follows_a_grid_change() -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    version = _version()
    assert lookup.locate(grid.label_lng, grid.label_lat)[-1].name == "胜利社区第1网格"
    do_update_grid(grid, name="胜利社区一号网格")
    assert _version() == version + 1
    assert lookup.locate(grid.label_lng, grid.label_lat)[-1].name == "胜利社区一号网格"
