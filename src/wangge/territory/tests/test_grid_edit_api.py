"""PATCH /api/v1/grids/{code}: center staff rename or redraw, validated like an import."""

from __future__ import annotations

import json

import pytest
import shapely
import shapely.geometry
from django.test import Client

from wangge.territory import lookup
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def patch(client: Client, code: str, body: dict):
    return client.patch(f"/api/v1/grids/{code}", json.dumps(body),
                        content_type="application/json")


def as_user(django_user_model, username: str) -> Client:
    c = Client(enforce_csrf_checks=False)
    c.force_login(django_user_model.objects.get(username=username))
    return c


def test_dispatcher_renames_a_grid(django_user_model) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = patch(as_user(django_user_model, "dispatcher"), grid.code, {"name": "胜利一格"})
    assert r.status_code == 200 and r.json()["name"] == "胜利一格"
    assert lookup.locate(grid.label_lng, grid.label_lat)[-1].name == "胜利一格"


def test_grid_worker_cannot_edit_even_their_own_grid(django_user_model) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = patch(as_user(django_user_model, "gridworker"), grid.code, {"name": "x"})
    assert r.status_code == 403
    assert Grid.objects.get(pk=grid.pk).name == "胜利社区第1网格"


def test_a_boundary_reaching_into_the_neighbour_is_refused_with_reasons(
    django_user_model,
) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    bigger = grid.geometry.buffer(0.003)
    r = patch(as_user(django_user_model, "dispatcher"), grid.code,
              {"geometry": shapely.geometry.mapping(bigger)})
    assert r.status_code == 422
    msgs = " ".join(e["msg"] for e in r.json()["detail"])
    assert "outside its parent" in msgs and "overlaps its sibling" in msgs
    assert shapely.equals(Grid.objects.get(pk=grid.pk).geometry, grid.geometry)


def test_unreadable_geometry_is_422_naming_the_field(django_user_model) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = patch(as_user(django_user_model, "dispatcher"), grid.code,
              {"geometry": {"type": "Polygon", "coordinates": "nope"}})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "geometry"]


@pytest.mark.parametrize("username", ["leader", "gridworker"])
def test_check_update_grid_refuses_read_only_and_field_roles(django_user_model,
                                                            username: str) -> None:
    """The permission lives in the action: a leader sees the whole city but edits nothing."""
    from django.core.exceptions import PermissionDenied

    from wangge.territory.actions import check_update_grid

    grid = Grid.objects.get(name="胜利社区第1网格")
    with pytest.raises(PermissionDenied):
        check_update_grid(django_user_model.objects.get(username=username), grid)
    check_update_grid(django_user_model.objects.get(username="dispatcher"), grid)  # allowed
    r = patch(as_user(django_user_model, username), grid.code, {"name": "x"})
    assert r.status_code == 403 and "调度员" in r.json()["detail"]
    assert Grid.objects.get(pk=grid.pk).name == "胜利社区第1网格"
