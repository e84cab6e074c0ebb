"""The demo's fieldwork, as the test session loaded it (conftest: a short span): the source's
proportions to the cases of the same span, a check-in for every worker, the demo worker's
full plan today and the police's confidential task kept from the station."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Max, Min, Sum
from django.utils import timezone

from wangge.cases.models import Case
from wangge.demo.fieldwork import OBSERVE_TITLE
from wangge.fieldwork.access import visible_tasks
from wangge.fieldwork.models import (
    Appointment,
    CheckIn,
    DayPlan,
    Distribution,
    Meeting,
    Opinion,
    Patrol,
    PlanItem,
    Task,
    TaskReport,
    Visit,
)
from wangge.fieldwork.plan_sources import day_bounds
from wangge.org.models import Role, RoleAssignment

pytestmark = pytest.mark.django_db


def user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=name)


def span_cases() -> int:
    """The cases reported over the days the fieldwork covers."""
    first, last = CheckIn.objects.aggregate(a=Min("day"), b=Max("day")).values()
    assert first and last
    start, end = day_bounds(first)[0], day_bounds(last + dt.timedelta(days=1))[0]
    # the fieldwork runs to yesterday; the cases as the loader counted them, up to today
    end = max(end, day_bounds(timezone.localdate())[0])
    return Case.objects.filter(created_at__gte=start, created_at__lt=end).count()


def test_the_proportions_follow_the_source() -> None:
    cases = span_cases()
    assert cases > 20
    people = Visit.objects.aggregate(n=Sum("people_met"))["n"]
    leaflets = Distribution.objects.aggregate(n=Sum("count"))["n"]
    assert people == pytest.approx(8 * cases, rel=0.15)
    assert leaflets == pytest.approx(8 * cases, rel=0.15)
    # the ones grid workers collected (residents' own, sent on the public pages over the
    # whole year, are demo.public_channels')
    collected = Opinion.objects.filter(public_no__isnull=True).count()
    assert collected == pytest.approx(cases / 7, rel=0.15)


def test_every_worker_checks_in_and_some_are_late_or_away() -> None:
    workers = set(RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True)
                  .values_list("person_id", flat=True))
    assert len(workers) == 820
    assert set(CheckIn.objects.values_list("worker_id", flat=True).distinct()) == workers
    assert CheckIn.objects.filter(late=True).exists()
    assert CheckIn.objects.exclude(status=CheckIn.Status.ON_DUTY).exists()
    # never on a weekend that is no working day, never today or later
    assert not CheckIn.objects.filter(day__gte=timezone.localdate()).exists()
    assert Patrol.objects.filter(points__gt=0).exists()
    assert Meeting.objects.exists()


def test_gridworker_has_a_full_plan_today_with_five_elderly_of_one_building() -> None:
    today = timezone.localdate()
    plan = DayPlan.objects.get(worker__user__username="gridworker", day=today)
    items = list(plan.items.all())
    kinds = {i.kind for i in items}
    assert {PlanItem.Kind.APPOINTMENT, PlanItem.Kind.TASK, PlanItem.Kind.PATROL,
            PlanItem.Kind.VISIT_DUE} <= kinds
    booked = Appointment.objects.filter(pk__in=[i.appointment_id for i in items
                                                if i.appointment_id]).select_related(
        "resident", "house")
    assert len(booked) == 5
    assert len({a.house.building_id for a in booked}) == 1
    sixty = today.replace(year=today.year - 60)
    assert all(a.resident.birth_date <= sixty for a in booked)
    assert all(timezone.localdate(a.at) == today for a in booked)
    assert {a.purpose for a in booked} <= {Appointment.Purpose.PROXY, Appointment.Purpose.COLLECT}


def test_the_confidential_task_is_the_polices_and_the_workers_only() -> None:
    task = Task.objects.get(title=OBSERVE_TITLE)
    assert task.confidential and task.kind == Task.Kind.OBSERVE
    assert task.worker.user.username == "gridworker"
    assert task.given_by.username == "grid_police"
    assert TaskReport.objects.filter(task=task, author__username="gridworker").count() == 1
    for who in ("gridworker", "grid_police", "dispatcher"):
        assert visible_tasks(user(who)).filter(pk=task.pk).exists(), who
    for who in ("station", "grid_chief", "subcenter"):
        assert not visible_tasks(user(who)).filter(pk=task.pk).exists(), who
    # the station still sees its own ordinary task to the same worker
    assert visible_tasks(user("station")).filter(worker=task.worker, confidential=False).exists()
