"""A confidential task (the police's "observe quietly") exists only for its worker, the
police of that town and the center: everyone else gets 404 and never sees it in a list,
an audit entry's detail or the outbox."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.models import Task
from wangge.org.models import Person, Role, RoleAssignment

pytestmark = pytest.mark.django_db
SECRET = "观察8栋传销窝点"
AT = "2026-03-02T21:00:00+08:00"

SEES = ["gridworker", "grid_police", "dispatcher"]
BLIND = ["station", "grid_chief", "other_worker", "water", "department", "subcenter",
         "supervisor"]


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
                     {"at": AT, "text": "晚上有二十余人聚集"})
    assert code == 201, rep
    return task


@pytest.mark.parametrize("username", BLIND)
def test_invisible_through_every_api(login_as, secret, username) -> None:  # type: ignore[no-untyped-def]
    c = login_as(username)
    listed = c.get("/api/v1/fieldwork/tasks?limit=500")
    assert listed.status_code == 200
    assert all(t["id"] != secret["id"] for t in listed.json())
    assert SECRET not in listed.content.decode()
    assert c.get(f"/api/v1/fieldwork/tasks/{secret['id']}").status_code == 404
    assert post(c, f"tasks/{secret['id']}/reports", {"at": AT, "text": "x"})[0] == 404
    assert post(c, f"tasks/{secret['id']}/close", {})[0] == 404
    # a task id that never existed answers the same
    assert c.get("/api/v1/fieldwork/tasks/999999999").status_code == 404


@pytest.mark.parametrize("username", SEES)
def test_visible_to_worker_police_and_center(login_as, secret, username) -> None:  # type: ignore[no-untyped-def]
    c = login_as(username)
    assert any(t["id"] == secret["id"] for t in c.get("/api/v1/fieldwork/tasks").json())
    detail = c.get(f"/api/v1/fieldwork/tasks/{secret['id']}").json()
    assert detail["title"] == SECRET
    assert [r["text"] for r in detail["reports"]] == ["晚上有二十余人聚集"]


def test_the_station_cannot_give_a_confidential_task(login_as) -> None:  # type: ignore[no-untyped-def]
    worker_id = get_user_model().objects.get(username="gridworker").person.pk
    before = Task.objects.count()
    code, _ = post(login_as("station"), "tasks", {"worker_id": worker_id, "title": "x",
                                                  "confidential": True})
    assert code == 403 and Task.objects.count() == before


def test_nothing_leaks_to_the_audit_detail_or_the_outbox(secret) -> None:  # type: ignore[no-untyped-def]
    entries = AuditEntry.objects.filter(action__startswith="fieldwork.task")
    assert entries.exists()
    for e in entries:
        blob = json.dumps(e.detail, ensure_ascii=False)
        assert SECRET not in blob and "二十余人" not in blob and "worker" not in blob
    for m in OutboxMessage.objects.filter(topic__startswith="fieldwork.task"):
        assert m.payload.get("task_id") != secret["id"]
        assert SECRET not in json.dumps(m.payload, ensure_ascii=False)
