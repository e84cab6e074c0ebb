"""A user sees the union of the subtrees where they hold a current role, nothing else —
through the API (token or session) and the console alike."""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.integration.actions import do_create_token
from wangge.org.actions import do_end_role, do_ensure_external_department
from wangge.org.models import RoleAssignment
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def login(django_user_model, username: str) -> Client:
    c = Client()
    c.force_login(django_user_model.objects.get(username=username))
    return c


def bearer(django_user_model, username: str) -> Client:
    user = django_user_model.objects.get(username=username)
    return Client(headers={"Authorization": f"Bearer {do_create_token(user).secret}"})


@pytest.fixture
def own() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def neighbour(own: Grid) -> Grid:
    """Another basic grid in the same community."""
    return Grid.objects.filter(parent=own.parent, level=4).exclude(pk=own.pk).first()


@pytest.fixture
def far() -> Grid:
    """A basic grid in another town."""
    return Grid.objects.filter(level=4).exclude(path__startswith=Grid.objects.get(
        name="来龙门街道").path).first()


def urls_for(grid: Grid) -> list[str]:
    return [
        f"/api/v1/grids/{grid.code}",
        f"/api/v1/grids/{grid.code}/children.geojson",
        f"/api/v1/people?grid={grid.code}",
        f"/console/grids/{grid.code}/",
    ]


@pytest.mark.parametrize("how", [login, bearer])
def test_grid_worker_reads_own_grid_only(django_user_model, how, own, neighbour, far) -> None:
    client = how(django_user_model, "gridworker")
    for url in urls_for(own):
        if "console" in url and how is bearer:
            continue  # the console is for sessions
        assert client.get(url).status_code == 200, url
    for other in (neighbour, far, own.parent, Grid.objects.get(level=0)):
        for url in urls_for(other):
            r = client.get(url)
            assert r.status_code in (404, 302), (url, r.status_code)
            assert other.name not in r.content.decode()


def test_grid_worker_cannot_read_another_workers_card(django_user_model, neighbour) -> None:
    other = RoleAssignment.objects.get(grid=neighbour, responsible=True)
    client = login(django_user_model, "gridworker")
    assert client.get(f"/api/v1/people/{other.person_id}").status_code == 404
    mine = RoleAssignment.objects.get(person__user__username="gridworker")
    body = client.get(f"/api/v1/people/{mine.person_id}").json()
    assert body["roles"][0]["grid"] == mine.grid.code


def test_grid_worker_lists_only_own_grid(django_user_model, own) -> None:
    client = login(django_user_model, "gridworker")
    assert client.get("/api/v1/grids/?level=4").json() == [
        {"code": own.code, "name": own.name, "level": 4, "kind": own.kind}
    ]
    top = client.get("/api/v1/grids/top.geojson").json()
    assert [f["properties"]["code"] for f in top["features"]] == [own.code]


def test_station_sees_its_community_and_nothing_beside(django_user_model, own, far) -> None:
    client = login(django_user_model, "station")
    codes = {g["code"] for g in client.get("/api/v1/grids/?level=4").json()}
    assert codes == set(Grid.objects.filter(parent=own.parent).values_list("code", flat=True))
    assert client.get(f"/api/v1/grids/{own.parent.code}").status_code == 200
    assert client.get(f"/api/v1/grids/{far.code}").status_code == 404


@pytest.mark.parametrize("username", ["dispatcher", "leader", "department", "admin"])
def test_center_roles_see_the_whole_city(django_user_model, username, far) -> None:
    client = login(django_user_model, username)
    assert len(client.get("/api/v1/grids/?level=4").json()) == 820
    assert client.get(f"/api/v1/grids/{far.code}").status_code == 200


def test_an_ended_role_no_longer_opens_the_grid(django_user_model, own) -> None:
    client = login(django_user_model, "gridworker")
    do_end_role(RoleAssignment.objects.get(person__user__username="gridworker"))
    assert client.get(f"/api/v1/grids/{own.code}").status_code == 404
    assert client.get("/api/v1/grids/?level=4").json() == []


def test_external_system_without_roles_locates_but_reads_no_grid(own) -> None:
    system = do_ensure_external_department("hotline_12345", name="12345热线")
    client = Client(headers={
        "Authorization": f"Bearer {do_create_token(system.service_user).secret}"})
    r = client.get("/api/v1/grids/locate", {"lat": own.label_lat, "lng": own.label_lng})
    assert r.status_code == 200 and r.json()["grid"]["code"] == own.code
    assert client.get(f"/api/v1/grids/{own.code}").status_code == 404
    assert client.get("/api/v1/grids/").json() == []
