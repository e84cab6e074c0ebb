"""A grid worker cannot list, search, unmask or export people outside their grid; special
groups stay hidden from roles without the need."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from wangge.registry import actions
from wangge.registry.tests import factories
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db



@pytest.fixture
def people():
    """Someone in the grid worker's grid, a neighbour grid, and another town."""
    mine = factories.person_in("胜利社区第1网格", name="本格人")
    neighbour = factories.person_in("胜利社区第2网格", name="邻格人")
    town = Grid.objects.get(name="来龙门街道")
    far_grid = Grid.objects.filter(level=4).exclude(path__startswith=town.path).first()
    far = factories.resident(factories.house(factories.building(far_grid)), name="远方人")
    for r in (mine, neighbour, far):
        actions.do_add_special_group(r, "elderly_alone", factories.admin())
    return mine, neighbour, far


def names(rows) -> set[str]:
    return {r["name"] for r in rows}


def test_grid_worker_lists_and_searches_only_their_grid(login_as, people) -> None:
    _mine, neighbour, far = people
    client = login_as("gridworker")
    assert names(client.get("/api/v1/registry/residents", {"limit": 500}).json()) >= {"本格人"}
    everyone = names(client.get("/api/v1/registry/residents", {"limit": 500}).json())
    assert "邻格人" not in everyone and "远方人" not in everyone
    for other in (neighbour, far):
        number = actions.editable_input(other)["id_number"]
        assert client.get("/api/v1/registry/residents", {"id_number": number}).json() == []
        assert client.get(f"/api/v1/registry/residents/{other.pk}").status_code == 404
        assert client.get(f"/api/v1/registry/residents/{other.pk}/history").status_code == 404
        r = client.post(f"/api/v1/registry/residents/{other.pk}/unmask",
                        json.dumps({"purpose": "看看"}), content_type="application/json")
        assert r.status_code == 404
        assert client.patch(f"/api/v1/registry/residents/{other.pk}", json.dumps({"name": "x"}),
                            content_type="application/json").status_code == 404


def test_grid_worker_export_holds_only_their_grid(login_as, people) -> None:
    client = login_as("gridworker")
    ws = load_workbook(io.BytesIO(client.get("/api/v1/registry/export.xlsx").content)).active
    exported = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert "本格人" in exported and not exported & {"邻格人", "远方人"}


def test_station_sees_the_whole_community(login_as, people) -> None:
    got = names(login_as("station").get(
        "/api/v1/registry/residents", {"limit": 500}).json())
    assert {"本格人", "邻格人"} <= got and "远方人" not in got


def test_special_groups_hidden_from_grid_worker_and_station(login_as, people) -> None:
    for username in ("gridworker", "station", "department"):
        rows = login_as(username).get(
            "/api/v1/registry/residents", {"limit": 500}).json()
        assert all(r["special_groups"] is None for r in rows), username
        filtered = login_as(username).get(
            "/api/v1/registry/residents", {"special_group": "elderly_alone"}).json()
        assert filtered == [], username


def test_grid_police_sees_special_groups_in_their_town_only(login_as, people) -> None:
    client = login_as("grid_police")  # 来龙门街道
    rows = client.get("/api/v1/registry/residents",
                      {"special_group": "elderly_alone", "limit": 500}).json()
    got = names(rows)
    assert {"本格人", "邻格人"} <= got and "远方人" not in got
    town = Grid.objects.get(name="来龙门街道")
    in_town = set(Grid.objects.filter(path__startswith=town.path).values_list("code", flat=True))
    assert all(r["grid"] in in_town and "独居老人" in r["special_groups"] for r in rows)


def test_grid_worker_cannot_add_a_special_group(login_as, people) -> None:
    mine = people[0]
    r = login_as("gridworker").post(
        f"/api/v1/registry/residents/{mine.pk}/special-groups",
        json.dumps({"kind": "drug_user"}), content_type="application/json")
    assert r.status_code == 403


def test_history_never_names_the_special_group_kind(login_as, people) -> None:
    mine = people[0]
    history = login_as("dispatcher").get(
        f"/api/v1/registry/residents/{mine.pk}/history").json()
    assert "elderly_alone" not in json.dumps(history) and "独居" not in json.dumps(history)
