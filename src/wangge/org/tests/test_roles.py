"""Role assignments: exactly one responsible worker per basic grid, with history."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from wangge.org.actions import RoleError, do_assign_role
from wangge.org.models import Employment, Person, Role, RoleAssignment
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def test_every_basic_grid_has_exactly_one_responsible_worker() -> None:
    counts = (
        Grid.objects.filter(level=4)
        .annotate(n=Count("role_assignments", filter=Q(
            role_assignments__responsible=True, role_assignments__ended_on__isnull=True)))
        .values_list("n", flat=True)
    )
    assert len(counts) == 820 and set(counts) == {1}
    workers = RoleAssignment.objects.filter(role=Role.GRID_WORKER, responsible=True)
    assert workers.filter(employment=Employment.FULL_TIME, grid__kind="urban").count() == 220
    assert workers.filter(employment=Employment.PART_TIME, grid__kind="rural").count() == 600


def test_every_role_of_the_glossary_is_held_somewhere() -> None:
    held = set(RoleAssignment.objects.values_list("role", flat=True).distinct())
    assert held == set(Role.values)


def test_handover_ends_the_previous_workers_role_and_keeps_history() -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    old = RoleAssignment.objects.get(grid=grid, responsible=True)
    newcomer = Person.objects.create(name="新网格员", work_phone="17007319999")
    do_assign_role(newcomer, Role.GRID_WORKER, grid, employment=Employment.FULL_TIME,
                   responsible=True)
    old.refresh_from_db()
    assert old.ended_on is not None
    current = RoleAssignment.objects.get(grid=grid, responsible=True, ended_on__isnull=True)
    assert current.person == newcomer
    assert RoleAssignment.objects.filter(grid=grid, role=Role.GRID_WORKER).count() == 2


def test_the_database_refuses_a_second_responsible_worker() -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    person = Person.objects.create(name="第二人")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(person=person, role=Role.GRID_WORKER, grid=grid,
                                      employment="full_time", responsible=True,
                                      started_on="2026-02-01")


def test_grid_workers_work_on_basic_grids() -> None:
    person = Person.objects.create(name="某人")
    with pytest.raises(RoleError) as e:
        do_assign_role(person, Role.GRID_WORKER, Grid.objects.get(level=0),
                       employment=Employment.FULL_TIME)
    assert e.value.field == "grid"


def test_admin_assigns_through_the_action_with_handover(django_user_model) -> None:
    from django.test import Client

    client = Client()
    client.force_login(django_user_model.objects.get(username="admin"))
    grid = Grid.objects.get(name="胜利社区第2网格")
    old = RoleAssignment.objects.get(grid=grid, responsible=True, ended_on__isnull=True)
    person = Person.objects.create(name="接任者")
    form = {"person": person.pk, "role": "grid_worker", "grid": grid.pk,
            "employment": "full_time", "responsible": "on", "started_on": "2026-11-01"}
    r = client.post("/admin/org/roleassignment/add/", form)
    assert r.status_code == 302, r.context["adminform"].form.errors
    old.refresh_from_db()
    assert old.ended_on is not None  # handed over, not refused by the constraint
    # a grid worker on a town is refused with the field named, nothing saved
    bad = {**form, "grid": Grid.objects.filter(level=2).first().pk, "responsible": ""}
    r = client.post("/admin/org/roleassignment/add/", bad)
    assert r.status_code == 200 and "basic (level-4) grid" in r.content.decode()
    assert RoleAssignment.objects.filter(person=person).count() == 1
