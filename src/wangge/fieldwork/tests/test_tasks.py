"""Ordinary tasks: given by the station / grid chief, reported by their worker only,
closed by who may give them; bad input names the field."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.models import Task, TaskReport

pytestmark = pytest.mark.django_db
AT = "2026-03-02T10:00:00+08:00"


def post(client, url: str, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/fieldwork/{url}", json.dumps(body),
                    content_type="application/json")
    return r.status_code, r.json()


@pytest.fixture
def worker_id() -> int:
    return get_user_model().objects.get(username="gridworker").person.pk


def test_station_gives_worker_reports_and_closes(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    station, worker = login_as("station"), login_as("gridworker")
    code, task = post(station, "tasks", {"worker_id": worker_id, "kind": "hazard",
                                         "title": "核查3栋楼道堆物", "client_key": "t1"})
    assert code == 201, task
    assert task["state"] == "open" and task["confidential"] is False
    assert OutboxMessage.objects.filter(topic="fieldwork.task_given",
                                        payload__task_id=task["id"]).exists()
    assert post(station, "tasks", {"worker_id": worker_id, "title": "核查3栋楼道堆物",
                                   "client_key": "t1"})[0] == 200
    assert any(t["id"] == task["id"] for t in worker.get("/api/v1/fieldwork/tasks").json())
    code, rep = post(worker, f"tasks/{task['id']}/reports", {"at": AT, "text": "已清理",
                                                             "done": True})
    assert code == 201, rep
    assert rep["task_state"] == "done"
    detail = worker.get(f"/api/v1/fieldwork/tasks/{task['id']}").json()
    assert [r["text"] for r in detail["reports"]] == ["已清理"]
    # closed: no more reports
    code, body = post(worker, f"tasks/{task['id']}/reports", {"at": AT, "text": "again"})
    assert code == 422 and body["detail"][0]["code"] == "closed"


def test_only_the_tasks_worker_reports(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    _, task = post(login_as("station"), "tasks", {"worker_id": worker_id, "title": "采集"})
    code, _ = post(login_as("grid_chief"), f"tasks/{task['id']}/reports",
                   {"at": AT, "text": "我来报"})
    assert code == 403
    assert not TaskReport.objects.filter(task_id=task["id"]).exists()


def test_grid_chief_gives_and_closes(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    chief = login_as("grid_chief")
    code, task = post(chief, "tasks", {"worker_id": worker_id, "title": "回访"})
    assert code == 201
    code, closed = post(chief, f"tasks/{task['id']}/close", {"state": "cancelled"})
    assert (code, closed["state"]) == (200, "cancelled")
    code, _ = post(chief, f"tasks/{task['id']}/close", {})
    assert code == 422


@pytest.mark.parametrize("username", ["gridworker", "water", "leader"])
def test_who_may_not_give_a_task(login_as, worker_id, username) -> None:  # type: ignore[no-untyped-def]
    before = Task.objects.count()
    code, _ = post(login_as(username), "tasks", {"worker_id": worker_id, "title": "x"})
    assert code in (403, 422)
    assert Task.objects.count() == before


def test_worker_out_of_scope_is_refused_as_unknown(login_as) -> None:  # type: ignore[no-untyped-def]
    from wangge.org.models import Role, RoleAssignment
    far = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True).exclude(
        grid__path__startswith=get_user_model().objects.get(
            username="station").person.roles.first().grid.path).first()
    code, body = post(login_as("station"), "tasks", {"worker_id": far.person_id, "title": "x"})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "worker_id"]


@pytest.mark.parametrize("body, field", [
    ({"title": ""}, "title"),
    ({"title": "x", "due_on": "2020-01-01"}, "due_on"),
    ({"title": "x", "due_on": "soon"}, "due_on"),
    ({"title": "x", "due_on": "2026-02-30"}, "due_on"),
    ({"title": "x", "building_id": 999999999}, "building_id"),
    ({"title": "x" * 101}, "title"),
])
def test_bad_task_names_the_field(login_as, worker_id, body, field) -> None:  # type: ignore[no-untyped-def]
    before = Task.objects.count()
    code, answer = post(login_as("station"), "tasks", {"worker_id": worker_id, **body})
    assert code == 422, answer
    assert answer["detail"][0]["loc"][:2] == ["body", field]
    assert Task.objects.count() == before


def test_audit_of_an_ordinary_task_names_it(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    _, task = post(login_as("station"), "tasks", {"worker_id": worker_id, "title": "登记",
                                                  "due_on": str(dt.date.today())})
    entry = AuditEntry.objects.get(object_type="fieldwork.task", object_id=str(task["id"]))
    assert entry.detail["title"] == "登记"


def test_tasks_page_gives_a_task(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    c = login_as("station")
    r = c.post("/console/fieldwork/tasks/", {"worker_id": worker_id, "kind": "collect",
                                             "title": "采集5栋新住户", "client_key": "form-1"})
    assert r.status_code == 302
    task = Task.objects.get(title="采集5栋新住户")
    assert task.confidential is False and task.given_by.username == "station"
    # the same form sent twice gives one task
    c.post("/console/fieldwork/tasks/", {"worker_id": worker_id, "kind": "collect",
                                         "title": "采集5栋新住户", "client_key": "form-1"})
    assert Task.objects.filter(title="采集5栋新住户").count() == 1
    assert "采集5栋新住户" in c.get("/console/fieldwork/tasks/").content.decode()


def test_tasks_page_names_the_bad_field(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    r = login_as("station").post("/console/fieldwork/tasks/", {
        "worker_id": worker_id, "kind": "collect", "title": "x", "due_on": "2020-01-01"})
    assert r.status_code == 400
    assert "不能早于今天" in r.content.decode()


def test_the_police_give_a_confidential_task_on_the_page(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    r = login_as("grid_police").post("/console/fieldwork/tasks/", {
        "worker_id": worker_id, "kind": "observe", "title": "留意夜间聚集",
        "confidential": "on"})
    assert r.status_code == 302
    assert Task.objects.get(title="留意夜间聚集").confidential is True
    assert "留意夜间聚集" not in login_as("station").get(
        "/console/fieldwork/tasks/").content.decode()


def test_task_page_report_and_close(login_as, worker_id) -> None:  # type: ignore[no-untyped-def]
    _, task = post(login_as("station"), "tasks", {"worker_id": worker_id, "title": "查看井盖"})
    url = f"/console/fieldwork/tasks/{task['id']}/"
    worker = login_as("gridworker")
    assert 'name="text"' in worker.get(url).content.decode()
    assert worker.post(url, {"text": "井盖完好"}).status_code == 302
    assert TaskReport.objects.get(task_id=task["id"]).text == "井盖完好"
    assert worker.post(url, {"close": "done"}).status_code == 403
    station = login_as("station")
    page = station.get(url).content.decode()
    assert "井盖完好" in page and 'name="text"' not in page
    assert station.post(url, {"close": "bogus"}).status_code == 302
    assert Task.objects.get(pk=task["id"]).state == "open"
    station.post(url, {"close": "done"})
    assert Task.objects.get(pk=task["id"]).state == "done"
