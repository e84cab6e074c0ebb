"""A confidential task (the police's "observe quietly") exists only for its worker, the
police of that town and the center: everyone else gets 404 and never sees it in a list,
an audit entry's detail or the outbox."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from wangge.core.models import AuditEntry, OutboxMessage
from wangge.fieldwork.models import Task
from wangge.fieldwork.tests.conftest import AT, SECRET, post

pytestmark = pytest.mark.django_db

SEES = ["gridworker", "grid_police", "dispatcher"]
BLIND = ["station", "grid_chief", "other_worker", "water", "department", "subcenter",
         "supervisor"]


@pytest.mark.parametrize("username", BLIND)
def test_invisible_through_every_api(login_as, secret, username) -> None:  # type: ignore[no-untyped-def]
    c = login_as(username)
    listed = c.get("/api/v1/fieldwork/tasks?limit=500")
    assert listed.status_code == 200
    assert all(t["id"] != secret["id"] for t in listed.json())
    assert SECRET not in json.dumps(listed.json(), ensure_ascii=False)
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
    from django.db.models import Q
    reports = [str(r) for r in Task.objects.get(pk=secret["id"]).reports.values_list(
        "pk", flat=True)]
    entries = AuditEntry.objects.filter(
        Q(object_type="fieldwork.task", object_id=str(secret["id"]))
        | Q(object_type="fieldwork.task_report", object_id__in=reports))
    assert entries.count() == 2
    for e in entries:
        blob = json.dumps(e.detail, ensure_ascii=False)
        assert SECRET not in blob and "二十余人" not in blob and "worker" not in blob
    for m in OutboxMessage.objects.filter(topic__startswith="fieldwork.task"):
        assert m.payload.get("task_id") != secret["id"]
        assert SECRET not in json.dumps(m.payload, ensure_ascii=False)


@pytest.mark.parametrize("username", BLIND)
def test_invisible_on_every_page(login_as, in_plan, secret, username) -> None:  # type: ignore[no-untyped-def]
    c = login_as(username)
    worker = Task.objects.get(pk=secret["id"]).worker_id
    assert c.get(f"/console/fieldwork/tasks/{secret['id']}/").status_code == 404
    assert c.post(f"/console/fieldwork/tasks/{secret['id']}/",
                  {"close": "cancelled"}).status_code == 404
    for url in ["/console/fieldwork/tasks/", "/console/fieldwork/tasks/?state=done",
                f"/console/fieldwork/workers/{worker}/",
                f"/console/fieldwork/workers/{worker}/month/",
                "/console/fieldwork/attendance/", "/console/fieldwork/workload/",
                "/console/fieldwork/meetings/"]:
        r = c.get(url)
        assert r.status_code in (200, 403, 404), url
        assert SECRET not in r.content.decode(), url


@pytest.mark.parametrize("username", ["gridworker", "dispatcher", "grid_police"])
def test_on_the_tasks_page_for_who_may_know(login_as, secret, username) -> None:  # type: ignore[no-untyped-def]
    c = login_as(username)
    assert SECRET in c.get("/console/fieldwork/tasks/").content.decode()
    page = c.get(f"/console/fieldwork/tasks/{secret['id']}/").content.decode()
    assert SECRET in page and "晚上有二十余人聚集" in page


def test_the_worker_sees_it_in_their_day(login_as, in_plan, secret) -> None:  # type: ignore[no-untyped-def]
    worker = Task.objects.get(pk=secret["id"]).worker_id
    page = login_as("gridworker").get(f"/console/fieldwork/workers/{worker}/").content.decode()
    assert SECRET in page


def test_the_confidential_option_is_offered_to_police_only(login_as) -> None:  # type: ignore[no-untyped-def]
    assert 'name="confidential"' in login_as("grid_police").get(
        "/console/fieldwork/tasks/").content.decode()
    assert 'name="confidential"' not in login_as("station").get(
        "/console/fieldwork/tasks/").content.decode()
