"""Fixtures shared by the fieldwork tests: a confidential task of the police (with the
worker's report), a second grid worker's login, the task as a line of today's plan."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from wangge.fieldwork.models import Task
from wangge.org.models import Person, Role, RoleAssignment

SECRET = "观察8栋传销窝点"
REPORT = "晚上有二十余人聚集"
AT = "2026-03-02T21:00:00+08:00"


def post(client, url: str, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/fieldwork/{url}", json.dumps(body),
                    content_type="application/json")
    return r.status_code, r.json()


@pytest.fixture
def other_worker(django_user_model) -> None:  # type: ignore[no-untyped-def]
    """A login for another grid worker of the same community."""
    mine = get_user_model().objects.get(username="gridworker").person.roles.get(
        role=Role.GRID_WORKER, ended_on__isnull=True)
    row = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True,
                                        grid__parent=mine.grid.parent).exclude(
        person=mine.person).select_related("person").first()
    user = django_user_model.objects.create(username="other_worker")
    Person.objects.filter(pk=row.person_id).update(user=user)


@pytest.fixture
def secret(login_as, other_worker) -> dict:  # type: ignore[no-untyped-def]
    worker_id = get_user_model().objects.get(username="gridworker").person.pk
    code, task = post(login_as("grid_police"), "tasks", {
        "worker_id": worker_id, "kind": "observe", "title": SECRET,
        "detail": "以信息采集为名", "confidential": True})
    assert code == 201, task
    code, rep = post(login_as("gridworker"), f"tasks/{task['id']}/reports",
                     {"at": AT, "text": REPORT})
    assert code == 201, rep
    return task


@pytest.fixture
def in_plan(secret) -> None:  # type: ignore[no-untyped-def]
    """The task is also a line of the worker's plan today."""
    from django.utils import timezone

    from wangge.fieldwork.models import DayPlan, PlanItem
    task = Task.objects.get(pk=secret["id"])
    plan, _ = DayPlan.objects.get_or_create(worker=task.worker, day=timezone.localdate(),
                                            defaults={"grid": task.grid})
    PlanItem.objects.create(plan=plan, kind=PlanItem.Kind.TASK, title=SECRET, task=task)
