"""Fieldwork API: check-ins and the attendance board, tasks, meetings (see fieldwork/api.py).

Creates go through the sync engine (apply_envelope) so a retried POST and a replayed
envelope are one rule: 201 created, 200 replayed, 422 naming the field, 403, 404, 409.
A confidential task the caller may not know of answers 404, never 403."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from wangge.core.models import IdempotencyKey
from wangge.core.schema import Code, Id, ModelText, Offset, Text, responses
from wangge.fieldwork import access, queries
from wangge.fieldwork.actions.checkin import checkin_dict
from wangge.fieldwork.actions.meetings import do_meeting_decision, meeting_dict
from wangge.fieldwork.actions.tasks import do_close_task, task_dict
from wangge.fieldwork.api_common import send
from wangge.fieldwork.models import CheckIn, Task
from wangge.territory.models import Grid

router = Router(tags=["fieldwork"])

ClientKey = ModelText(IdempotencyKey, "key")
When = Text(40)


def _subtree(user: Any, code: str) -> str | None:
    if not code:
        return None
    grid = Grid.objects.filter(code=code).first()
    if grid is None or not access.can_see_grid(user, grid):
        raise Http404("no such grid")
    return grid.path


# -- check-ins ---------------------------------------------------------------------------

class CheckinIn(Schema):
    at: When
    status: Literal["on_duty", "leave", "sick", "training"] = "on_duty"
    lng: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    note: ModelText(CheckIn, "note") = ""  # type: ignore[valid-type]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class CheckinOut(Schema):
    id: int
    worker_id: int
    grid: str
    day: dt.date
    at: dt.datetime
    status: str
    place: str
    late: bool
    lng: float | None
    lat: float | None
    accuracy_m: float | None
    note: str


@router.get("/checkins", response=responses(list[CheckinOut]), summary="报到记录")
def list_checkins(request: HttpRequest, date: dt.date | None = None, grid: Code = "",
                  limit: int = Query(50, ge=1, le=500), offset: Offset = 0) -> Any:
    qs = access.visible_checkins(request.auth).select_related("grid")
    if date is not None:
        qs = qs.filter(day=date)
    if (path := _subtree(request.auth, grid)) is not None:
        qs = qs.filter(grid__path__startswith=path)
    return [checkin_dict(c) for c in qs.order_by("-day", "grid__path", "id")[
        offset:offset + limit]]


@router.post("/checkins", response=responses({201: CheckinOut, 200: CheckinOut}),
             summary="报到")
def check_in(request: HttpRequest, body: CheckinIn) -> Any:
    return send(request, "checkin.create", body)


class BoardRow(Schema):
    worker_id: int
    name: str
    grid: str
    grid_name: str
    at: dt.datetime | None
    status: str
    place: str
    late: bool
    absent: bool
    pending: bool


class BoardOut(Schema):
    date: dt.date
    working_day: bool
    calendar_covered: bool
    counts: dict[str, int]
    rows: list[BoardRow]


@router.get("/checkins/board", response=responses(BoardOut), summary="考勤看板",
            description="`rows=false`: the counts only, aggregated in the database (a "
                        "province's summary)")
def board(request: HttpRequest, date: dt.date | None = None, grid: Code = "",
          rows: bool = True) -> Any:
    if not access.can_see_board(request.auth):
        return Status(403, {"detail": "forbidden"})
    day, subtree = date or timezone.localdate(), _subtree(request.auth, grid)
    if not rows:
        working, covered = queries.is_working_day(day)
        return {"date": day, "working_day": working, "calendar_covered": covered,
                "counts": queries.attendance_counts(request.auth, day, subtree), "rows": []}
    b = queries.attendance(request.auth, day, subtree)
    return {"date": b.day, "working_day": b.working_day, "calendar_covered":
            b.calendar_covered, "counts": b.counts, "rows": b.rows}


# -- tasks -------------------------------------------------------------------------------

class FieldTaskIn(Schema):
    worker_id: Id
    kind: Literal["collect", "hazard", "observe", "follow_up", "other"] = "other"
    title: ModelText(Task, "title")  # type: ignore[valid-type]
    detail: Text() = ""  # type: ignore[valid-type]
    confidential: bool = False
    due_on: When | None = None
    building_id: Id | None = None
    house_id: Id | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class ReportOut(Schema):
    id: int
    at: dt.datetime
    text: str


class TaskOut(Schema):
    id: int
    worker_id: int
    worker: str
    grid: str
    kind: str
    title: str
    detail: str
    confidential: bool
    due_on: dt.date | None
    state: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    meeting_id: int | None
    reports: list[ReportOut] | None = None


@router.get("/tasks", response=responses(list[TaskOut]), summary="任务")
def list_tasks(request: HttpRequest, state: Code = "", worker_id: Id | None = None,
               limit: int = Query(50, ge=1, le=500), offset: Offset = 0) -> Any:
    qs = access.visible_tasks(request.auth).select_related("worker", "grid")
    if state:
        qs = qs.filter(state=state)
    if worker_id is not None:
        qs = qs.filter(worker_id=worker_id)
    return [task_dict(t) for t in qs.order_by("-created_at", "-id")[offset:offset + limit]]


@router.post("/tasks", response=responses({201: TaskOut, 200: TaskOut}), summary="交办任务")
def give_task(request: HttpRequest, body: FieldTaskIn) -> Any:
    return send(request, "task.create", body)


@router.get("/tasks/{pk}", response=responses(TaskOut), summary="任务详情")
def task_detail(request: HttpRequest, pk: Id) -> Any:
    task = access.access_one(access.visible_tasks(request.auth).select_related(
        "worker", "grid"), pk)
    return task_dict(task, reports=True)  # type: ignore[arg-type]


class TaskReportIn(Schema):
    at: When
    text: Text()  # type: ignore[valid-type]
    done: bool = False
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class TaskReportOut(Schema):
    id: int
    task_id: int
    at: dt.datetime
    text: str
    task_state: str


@router.post("/tasks/{pk}/reports", response=responses({201: TaskReportOut,
                                                        200: TaskReportOut}),
             summary="任务反馈")
def report_task(request: HttpRequest, pk: Id, body: TaskReportIn) -> Any:
    return send(request, "task.report", body, task_id=pk)


class CloseIn(Schema):
    state: Literal["done", "cancelled"] = "done"


@router.post("/tasks/{pk}/close", response=responses(TaskOut), summary="关闭任务")
def close_task(request: HttpRequest, pk: Id, body: CloseIn) -> Any:
    task = do_close_task(request.auth, pk, body.state)
    return task_dict(task)


# -- meetings ----------------------------------------------------------------------------

class DecisionTaskIn(Schema):
    worker_id: Id
    kind: Literal["collect", "hazard", "follow_up", "other"] = "other"
    title: ModelText(Task, "title")  # type: ignore[valid-type]
    detail: Text() = ""  # type: ignore[valid-type]
    due_on: When | None = None


class DecisionCaseIn(Schema):
    category: Code
    title: Text(100)  # type: ignore[valid-type]
    description: Text() = ""  # type: ignore[valid-type]
    lng: float | None = None
    lat: float | None = None


class MeetingIn(Schema):
    grid_id: Id
    held_on: When
    attendees: list[Id] = []
    minutes: Text(20_000)  # type: ignore[valid-type]
    decisions: Text(20_000) = ""  # type: ignore[valid-type]
    tasks: list[DecisionTaskIn] = []
    cases: list[DecisionCaseIn] = []
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DecisionIn(Schema):
    tasks: list[DecisionTaskIn] = []
    cases: list[DecisionCaseIn] = []


class Attendee(Schema):
    id: int
    name: str


class MeetingOut(Schema):
    id: int
    grid: str
    grid_name: str
    held_on: dt.date
    minutes: str
    decisions: str
    attendees: list[Attendee]
    case_ids: list[int]
    task_ids: list[int]


@router.get("/meetings", response=responses(list[MeetingOut]), summary="例会")
def list_meetings(request: HttpRequest, grid: Code = "", limit: int = Query(50, ge=1, le=500),
                  offset: Offset = 0) -> Any:
    qs = access.visible_meetings(request.auth).select_related("grid").prefetch_related(
        "attendees", "cases")
    if (path := _subtree(request.auth, grid)) is not None:
        qs = qs.filter(grid__path__startswith=path)
    return [meeting_dict(m) for m in qs.order_by("-held_on", "-id")[offset:offset + limit]]


@router.post("/meetings", response=responses({201: MeetingOut, 200: MeetingOut}),
             summary="记录例会")
def record_meeting(request: HttpRequest, body: MeetingIn) -> Any:
    return send(request, "meeting.create", body)


@router.get("/meetings/{pk}", response=responses(MeetingOut), summary="例会详情")
def meeting_detail(request: HttpRequest, pk: Id) -> Any:
    m = access.access_one(access.visible_meetings(request.auth).select_related("grid"), pk)
    return meeting_dict(m)  # type: ignore[arg-type]


@router.post("/meetings/{pk}/decisions", response=responses(MeetingOut),
             summary="例会议定事项转任务或事件")
def decide(request: HttpRequest, pk: Id, body: DecisionIn) -> Any:
    do_meeting_decision(request.auth, pk, body.dict())
    return meeting_dict(access.visible_meetings(request.auth).select_related("grid").get(pk=pk))
