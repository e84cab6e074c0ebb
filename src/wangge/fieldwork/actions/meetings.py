"""例会: the weekly meeting of a community (level-3 grid) with community police and the
station staff, and its decisions turned into tasks for a worker or into cases, in one step.

A decision that becomes a case goes through cases.actions.intake like any report, with the
channel the recorder may use: `station` (工作站登记) where allowed, else the first channel
intake allows them. Without a location, the case is placed at the community's label point
(the meeting happened for the community; intake needs a point or a reporter's own grid)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.actions.intake import allowed_channels, report_or_replay
from wangge.cases.errors import CaseError
from wangge.cases.models import Case
from wangge.core import audit
from wangge.core.outbox import enqueue
from wangge.fieldwork import access
from wangge.fieldwork.actions.checkin import ancestor_paths, parse_text, safe_date
from wangge.fieldwork.actions.tasks import _id, do_give_task
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Meeting, Task
from wangge.org.access import visible_people
from wangge.org.models import Person, RoleAssignment
from wangge.territory.models import Grid

MAX_DECISIONS = 50


def _held_on(payload: dict[str, Any]) -> dt.date:
    raw = payload.get("held_on")
    day = safe_date(raw)
    if day is None:
        raise FieldworkError("held_on", _("须为日期 YYYY-MM-DD"), "invalid_date")
    if day > timezone.localdate():
        raise FieldworkError("held_on", _("不能晚于今天"), "in_future")
    return day


def _list(payload: dict[str, Any], field: str) -> list[Any]:
    raw = payload.get(field) or []
    if not isinstance(raw, list):
        raise FieldworkError(field, _("须为列表"), "type")
    if len(raw) > MAX_DECISIONS:
        raise FieldworkError(field, _("最多 %(n)d 项") % {"n": MAX_DECISIONS}, "too_many")
    return raw


def case_channel(user: AbstractBaseUser) -> str:
    allowed = allowed_channels(user)
    if Case.Channel.STATION in allowed:
        return Case.Channel.STATION
    if not allowed:
        raise PermissionDenied(_("无权上报事件"))
    return allowed[0]


def _decide(user: AbstractBaseUser, meeting: Meeting, tasks: list[Any], cases: list[Any]
            ) -> tuple[list[Task], list[Case]]:
    """Tasks and cases from the meeting's decisions; errors name `tasks.N.field`."""
    made_tasks, made_cases = [], []
    for i, item in enumerate(tasks):
        if not isinstance(item, dict):
            raise FieldworkError(f"tasks.{i}", _("须为对象"), "type")
        try:
            made_tasks.append(do_give_task(user, {**item, "confidential": False}, meeting))
        except FieldworkError as e:
            raise FieldworkError(f"tasks.{i}.{e.field}", e.msg, e.code) from None
    for i, item in enumerate(cases):
        if not isinstance(item, dict):
            raise FieldworkError(f"cases.{i}", _("须为对象"), "type")
        data = {k: item.get(k) for k in ("category", "title", "description", "lng", "lat")}
        if data["lng"] is None or data["lat"] is None:
            data["lng"], data["lat"] = meeting.grid.label_lng, meeting.grid.label_lat
        try:
            case = report_or_replay(data, user, channel=case_channel(user)).case
        except CaseError as e:
            raise FieldworkError(f"cases.{i}.{e.field}", str(e), e.code) from None
        meeting.cases.add(case)
        made_cases.append(case)
    return made_tasks, made_cases


def do_record_meeting(user: AbstractBaseUser, payload: dict[str, Any]) -> Meeting:
    """Record a community's meeting; `tasks` / `cases` (lists) are its decisions acted on."""
    gid = _id(payload, "grid_id", required=True)
    grid = Grid.objects.filter(pk=gid).first()
    if grid is None or not access.can_see_grid(user, grid):
        raise FieldworkError("grid_id", _("没有此网格"), "not_found")
    if grid.level != 3:
        raise FieldworkError("grid_id", _("例会须属于村（社区）三级网格"), "level")
    if not access.can_plan(user, grid):
        raise PermissionDenied(_("无权记录该社区的例会"))
    held_on = _held_on(payload)
    minutes = parse_text(payload, "minutes", 20_000, required=True)
    decisions = parse_text(payload, "decisions", 20_000)
    ids = _list(payload, "attendees")
    if any(isinstance(x, bool) or not isinstance(x, int) for x in ids):
        raise FieldworkError("attendees", _("须为人员编号列表"), "type")
    # the people the user may see, and those holding a role above the community (the
    # town's grid police, the sub-center): the meeting's usual guests
    above = RoleAssignment.objects.filter(grid__path__in=ancestor_paths(grid.path),
                                          ended_on__isnull=True).values("person_id")
    people = list(Person.objects.filter(Q(pk__in=visible_people(user).values("pk"))
                                        | Q(pk__in=above), pk__in=ids)
                  .values_list("pk", flat=True))
    if unknown := sorted(set(ids) - set(people)):
        raise FieldworkError("attendees", _("不在您范围内的人员：%(ids)s") % {
            "ids": ", ".join(map(str, unknown))}, "unknown_person")
    tasks, cases = _list(payload, "tasks"), _list(payload, "cases")
    with transaction.atomic():
        meeting = Meeting.objects.create(grid=grid, held_on=held_on, minutes=minutes,
                                         decisions=decisions, recorded_by=user)
        meeting.attendees.set(people)
        made_tasks, made_cases = _decide(user, meeting, tasks, cases)
        _announce(user, meeting, "fieldwork.meeting.record", made_tasks, made_cases,
                  attendees=len(people))
    return meeting


def do_meeting_decision(user: AbstractBaseUser, meeting_id: int, payload: dict[str, Any]
                        ) -> tuple[list[Task], list[Case]]:
    """A decision of a recorded meeting acted on later: `tasks` and / or `cases`."""
    meeting = access.visible_meetings(user).select_related("grid").filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("no such meeting")
    if not access.can_plan(user, meeting.grid):
        raise PermissionDenied(_("无权处理该社区的例会"))
    tasks, cases = _list(payload, "tasks"), _list(payload, "cases")
    if not tasks and not cases:
        raise FieldworkError("tasks", _("至少一项任务或事件"), "required")
    with transaction.atomic():
        made = _decide(user, meeting, tasks, cases)
        _announce(user, meeting, "fieldwork.meeting.decide", *made)
    return made


def _announce(user: AbstractBaseUser, meeting: Meeting, action: str, tasks: list[Task],
              cases: list[Case], **extra: Any) -> None:
    facts = {"meeting_id": meeting.pk, "grid": meeting.grid.code,
             "held_on": meeting.held_on.isoformat(), "task_ids": [t.pk for t in tasks],
             "case_ids": [c.pk for c in cases], **extra}
    audit.record(action, actor=user, object_type="fieldwork.meeting", object_id=meeting.pk,
                 **facts)
    enqueue("fieldwork.meeting_recorded" if action.endswith("record")
            else "fieldwork.meeting_decided", facts)


def meeting_dict(m: Meeting) -> dict[str, Any]:
    return {"id": m.pk, "grid": m.grid.code, "grid_name": m.grid.name, "held_on": m.held_on,
            "minutes": m.minutes, "decisions": m.decisions,
            "attendees": [{"id": p.pk, "name": p.name} for p in m.attendees.all()],
            "case_ids": [c.pk for c in m.cases.all()],
            "task_ids": [t.pk for t in m.tasks.filter(confidential=False)]}


def meeting_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return meeting_dict(Meeting.objects.select_related("grid").get(pk=pk))


@register("meeting.create", "fieldwork.meeting", answer=meeting_answer)
def apply_meeting(user: AbstractBaseUser, env: Envelope) -> int:
    """REST `POST meetings` goes through the engine (a retried POST records one meeting)."""
    return do_record_meeting(user, env.payload).pk
