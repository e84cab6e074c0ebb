"""例会: recorded by the station for its community; decisions become tasks and cases in
the same step; nothing half-written when one decision is bad; scoped reads."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from wangge.cases.models import Case, CaseCategory
from wangge.core.models import OutboxMessage
from wangge.fieldwork.models import Meeting, Task
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def post(client, url: str, body: dict) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/fieldwork/{url}", json.dumps(body),
                    content_type="application/json")
    return r.status_code, r.json()


@pytest.fixture
def base() -> dict:
    community = Grid.objects.get(name="胜利社区")
    users = get_user_model().objects
    return {"grid_id": community.pk, "held_on": "2026-03-02",
            "attendees": [users.get(username=u).person.pk
                          for u in ("gridworker", "station", "grid_police")],
            "minutes": "通报本周巡查情况", "decisions": "3栋堆物清理；路灯报修"}


@pytest.fixture
def category() -> str:
    return CaseCategory.objects.filter(parent__isnull=False, confidential=False).first().code


def test_record_with_a_task_and_a_case(login_as, base, category) -> None:  # type: ignore[no-untyped-def]
    worker_id = base["attendees"][0]
    cases_before = Case.objects.count()
    code, m = post(login_as("station"), "meetings", {
        **base, "tasks": [{"worker_id": worker_id, "title": "清理3栋堆物", "kind": "hazard"}],
        "cases": [{"category": category, "title": "路灯不亮"}]})
    assert code == 201, m
    assert len(m["attendees"]) == 3 and len(m["task_ids"]) == 1 and len(m["case_ids"]) == 1
    task = Task.objects.get(pk=m["task_ids"][0])
    assert task.meeting_id == m["id"] and task.worker_id == worker_id
    case = Case.objects.get(pk=m["case_ids"][0])
    assert case.channel == Case.Channel.STATION
    assert case.grid.path.startswith(Grid.objects.get(name="胜利社区").path)
    assert Case.objects.count() == cases_before + 1
    assert OutboxMessage.objects.filter(topic="fieldwork.meeting_recorded",
                                        payload__meeting_id=m["id"]).exists()
    # the community's worker reads it
    assert any(x["id"] == m["id"] for x in login_as("gridworker").get(
        "/api/v1/fieldwork/meetings").json())


def test_a_bad_decision_writes_nothing(login_as, base, category) -> None:  # type: ignore[no-untyped-def]
    meetings, tasks, cases = Meeting.objects.count(), Task.objects.count(), Case.objects.count()
    code, body = post(login_as("station"), "meetings", {
        **base, "tasks": [{"worker_id": base["attendees"][0], "title": "ok"}],
        "cases": [{"category": "no-such", "title": "x"}]})
    assert code == 422
    assert body["detail"][0]["loc"] == ["body", "cases", 0, "category"]
    assert (Meeting.objects.count(), Task.objects.count(), Case.objects.count()) == (
        meetings, tasks, cases)


def test_decision_later(login_as, base) -> None:  # type: ignore[no-untyped-def]
    station = login_as("station")
    _, m = post(station, "meetings", base)
    code, after = post(station, f"meetings/{m['id']}/decisions",
                       {"tasks": [{"worker_id": base["attendees"][0], "title": "回访"}]})
    assert code == 200 and len(after["task_ids"]) == 1
    assert post(station, f"meetings/{m['id']}/decisions", {})[0] == 422


@pytest.mark.parametrize("change, field", [
    ({"grid_id": None}, "grid_id"),
    ({"held_on": "2999-01-01"}, "held_on"),
    ({"minutes": ""}, "minutes"),
    ({"attendees": [999999999]}, "attendees"),
])
def test_bad_meeting_names_the_field(login_as, base, change, field) -> None:  # type: ignore[no-untyped-def]
    body = {**base, **change}
    if change.get("grid_id", 1) is None:
        body["grid_id"] = Grid.objects.get(name="胜利社区第1网格").pk  # a basic grid
    before = Meeting.objects.count()
    code, answer = post(login_as("station"), "meetings", body)
    assert code == 422, answer
    assert answer["detail"][0]["loc"][:2] == ["body", field]
    assert Meeting.objects.count() == before


def test_scope(login_as, base) -> None:  # type: ignore[no-untyped-def]
    other = Grid.objects.filter(level=3).exclude(name="胜利社区").first()
    code, _ = post(login_as("station"), "meetings", {**base, "grid_id": other.pk,
                                                      "attendees": []})
    assert code == 422  # not a grid the station knows of
    assert post(login_as("gridworker"), "meetings", base)[0] in (403, 422)
    _, m = post(login_as("station"), "meetings", base)
    assert login_as("water").get(f"/api/v1/fieldwork/meetings/{m['id']}").status_code == 404
    assert login_as("water").get("/api/v1/fieldwork/meetings").json() == []


def test_meetings_page_records(login_as, base) -> None:  # type: ignore[no-untyped-def]
    c = login_as("station")
    form = c.get("/console/fieldwork/meetings/").content.decode()
    assert 'name="minutes"' in form
    r = c.post("/console/fieldwork/meetings/", {
        "grid_id": base["grid_id"], "held_on": "2026-03-02", "minutes": "第十周例会纪要",
        "attendees": [base["attendees"][0]], "client_key": "m-form"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Meeting.objects.filter(minutes="第十周例会纪要").count() == 1
    assert "第十周例会纪要" in login_as("gridworker").get(
        "/console/fieldwork/meetings/").content.decode()
    assert 'name="minutes"' not in login_as("gridworker").get(
        "/console/fieldwork/meetings/").content.decode()
    bad = c.post("/console/fieldwork/meetings/", {
        "grid_id": base["grid_id"], "held_on": "2999-01-01", "minutes": "x"})
    assert bad.status_code == 400
