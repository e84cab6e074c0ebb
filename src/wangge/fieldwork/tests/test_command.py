"""`wangge fieldwork …`: what the morning job does, on demand, and its refusals."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from wangge.fieldwork.models import DayPlan, PatrolArea
from wangge.org.models import Role, RoleAssignment
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("fieldwork", *args, stdout=out)
    return out.getvalue()


def test_plans_are_built_once_for_every_worker() -> None:
    workers = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True)
    assert "2030-06-03: " in run("plans", "--date", "2030-06-03")
    assert DayPlan.objects.filter(day="2030-06-03").count() == workers.count()
    assert run("plans", "--date", "2030-06-03").startswith("2030-06-03: 0 plan(s)")


def test_areas_of_a_basic_grid_and_an_unknown_code() -> None:
    grid = Grid.objects.filter(level=4).order_by("code").first()
    assert f"{grid.code}: " in run("areas", "--grid", grid.code)
    assert PatrolArea.objects.filter(grid=grid).exists()
    with pytest.raises(CommandError, match="no such basic grid"):
        run("areas", "--grid", "no-such-grid")
    city = Grid.objects.get(level=0)
    with pytest.raises(CommandError):
        run("areas", "--grid", city.code)
