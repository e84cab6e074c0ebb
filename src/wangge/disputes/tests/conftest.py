"""Fixtures shared by the disputes tests: a small territory cut from the demo city (two
basic grids of one community, its town, the city, and a basic grid of another town) and
people with their own logins on it — a grid worker, mediators at each level (grid,
workstation, town, city), workstation and sub-center staff, the center's admin and
dispatcher, a line department's staff and a worker of another town. The demo's own
people hold roles there too; the tests name these ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes.actions.seeds import do_seed_disputes
from wangge.disputes.models import Screening
from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.registry.models import Resident
from wangge.territory.models import Grid, Level

#: synthetic: a valid number (check character) for no real person
OUTSIDER_ID = "430281199001012370"
OUTSIDER_PHONE = "13912345678"
#: last month's first day and a moment in it (the 20th, 10:00 in Shanghai): a screening
#: return may be filed for this period or the last one, so tests date theirs from today
LAST_MONTH = (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)
              - dt.timedelta(days=1)).replace(day=1)
AT = f"{LAST_MONTH.replace(day=20).isoformat()}T10:00:00+08:00"


@dataclass
class Place:
    basic: Grid        # B1: the worker's grid
    sibling: Grid      # B2: another basic grid of the same community
    village: Grid      # the workstation's community
    town: Grid         # the sub-center's town
    city: Grid
    far: Grid          # a basic grid of another town


@dataclass
class Staff:
    worker: AbstractBaseUser
    grid_mediator: AbstractBaseUser
    station_mediator: AbstractBaseUser
    town_mediator: AbstractBaseUser
    city_mediator: AbstractBaseUser
    station: AbstractBaseUser
    subcenter: AbstractBaseUser
    admin: AbstractBaseUser
    dispatcher: AbstractBaseUser
    department: AbstractBaseUser
    far_worker: AbstractBaseUser
    sibling_worker: AbstractBaseUser
    leader: AbstractBaseUser


def person(user: AbstractBaseUser) -> Person:
    return Person.objects.get(user=user)


@pytest.fixture
def place(db) -> Place:  # type: ignore[no-untyped-def]
    basic = Grid.objects.get(role_assignments__person__user__username="gridworker",
                             role_assignments__role=Role.GRID_WORKER)
    village = basic.parent
    town = village.parent
    sibling = Grid.objects.filter(parent=village, level=Level.BASIC).exclude(
        pk=basic.pk).order_by("path").first()
    city = Grid.objects.get(parent__isnull=True)
    far = Grid.objects.filter(level=Level.BASIC).exclude(
        path__startswith=town.path).order_by("path").first()
    do_seed_disputes()
    # the demo screens every grid every month: these two start with no return on record
    # (their disputes keep their record, unlinked; the test's transaction restores them)
    Screening.objects.filter(grid__in=[basic, sibling]).delete()
    return Place(basic, sibling, village, town, city, far)


def _make(username: str, role: str, grid: Grid, department: Department | None = None
          ) -> AbstractBaseUser:
    user = get_user_model().objects.create(username=f"t_{username}")
    p = Person.objects.create(user=user, name=f"测试{username}", department=department)
    RoleAssignment.objects.create(person=p, role=role, grid=grid, department=department,
                                  started_on=dt.date(2026, 1, 1))
    return user


@pytest.fixture
def staff(place: Place) -> Staff:
    dept = Department.objects.filter(kind=Department.Kind.DEPARTMENT).exclude(
        code="public-security").order_by("code").first()
    return Staff(
        worker=_make("worker", Role.GRID_WORKER, place.basic),
        grid_mediator=_make("grid_mediator", Role.MEDIATOR, place.basic),
        station_mediator=_make("station_mediator", Role.MEDIATOR, place.village),
        town_mediator=_make("town_mediator", Role.MEDIATOR, place.town),
        city_mediator=_make("city_mediator", Role.MEDIATOR, place.city),
        station=_make("station", Role.STATION_STAFF, place.village),
        subcenter=_make("subcenter", Role.SUBCENTER_STAFF, place.town),
        admin=_make("admin", Role.ADMIN, place.city),
        dispatcher=_make("dispatcher", Role.DISPATCHER, place.city),
        department=_make("department", Role.DEPARTMENT_STAFF, place.city, dept),
        far_worker=_make("far_worker", Role.GRID_WORKER, place.far),
        sibling_worker=_make("sibling_worker", Role.GRID_WORKER, place.sibling),
        leader=_make("leader", Role.LEADER, place.city),
    )


def item(**over: Any) -> dict[str, Any]:
    """One dispute as a screening lists it (no grid, no source)."""
    body: dict[str, Any] = {
        "kind": "labour", "risk": "medium", "subject": "拖欠工资三个月",
        "account": "某建筑工地十二名工人反映工资未付", "amount": "86000.00",
        "parties": [
            {"role": "applicant", "kind": "person", "name": "王测试",
             "phone": OUTSIDER_PHONE, "id_number": OUTSIDER_ID},
            {"role": "respondent", "kind": "organisation", "name": "示例建筑劳务有限公司"},
        ],
    }
    body.update(over)
    return body


def dispute_payload(grid: Grid, **over: Any) -> dict[str, Any]:
    return {"grid_id": grid.pk, "source": "resident", **item(**over)}


@pytest.fixture
def resident(place: Place) -> Resident:
    return Resident.objects.filter(grid=place.basic).order_by("pk").first()
