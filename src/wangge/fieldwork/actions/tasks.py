"""Tasks for a grid worker: ordinary ones from the station / grid chief, confidential ones
from the police (the pyramid-scheme story: observe quietly).

A confidential task must not reach anyone beyond its worker, the police and the center:
- its audit entries carry ids and the action only (the audit log is read in the Django
  admin by staff accounts; no title, detail, worker or report text goes there);
- it writes NO outbox message: outbox rows are delivered by senders to webhooks,
  notifications and external systems, any of which may reach a wider audience. The worker
  learns of the task from their plan / offline data on the next sync.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.core import audit
from wangge.core.outbox import enqueue
from wangge.fieldwork import access
from wangge.fieldwork.actions.checkin import parse_at, parse_text, safe_date
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Meeting, Task, TaskReport
from wangge.org.models import Role, RoleAssignment
from wangge.registry.models import Building, House


def _id(payload: dict[str, Any], field: str, *, required: bool = False) -> int | None:
    raw = payload.get(field)
    if raw is None or raw == "":
        if required:
            raise FieldworkError(field, _("必填"), "required")
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw < 2**63:
        raise FieldworkError(field, _("须为编号（正整数）"), "type")
    return raw


def worker_assignment(user: AbstractBaseUser, worker_id: int, field: str = "worker_id"
                      ) -> RoleAssignment:
    """The worker's current grid-worker role, if the user may see its grid (else the same
    refusal as for a person who is no worker: nothing learned about people out of scope)."""
    row = (RoleAssignment.objects.select_related("grid", "person")
           .filter(person_id=worker_id, role=Role.GRID_WORKER, ended_on__isnull=True)
           .order_by("grid_id").first())
    if row is None or not access.can_see_grid(user, row.grid, access.TERRITORY_READ_ROLES
                                               | access.POLICE_ROLES):
        raise FieldworkError(field, _("不是您范围内的在岗网格员"), "unknown_worker")
    return row


def _due(payload: dict[str, Any]) -> dt.date | None:
    raw = payload.get("due_on")
    if raw in (None, ""):
        return None
    day = safe_date(raw)
    if day is None:
        raise FieldworkError("due_on", _("须为日期 YYYY-MM-DD"), "invalid_date")
    if day < timezone.localdate():
        raise FieldworkError("due_on", _("不能早于今天"), "in_past")
    return day


def do_give_task(user: AbstractBaseUser, payload: dict[str, Any],
                 meeting: Meeting | None = None) -> Task:
    """交办: an ordinary task (can_plan on the worker's grid) or a confidential one
    (can_give_confidential: the police of that subtree, the center)."""
    row = worker_assignment(user, _id(payload, "worker_id", required=True))  # type: ignore[arg-type]
    confidential = payload.get("confidential", False)
    if not isinstance(confidential, bool):
        raise FieldworkError("confidential", _("须为 true 或 false"), "type")
    allowed = (access.can_give_confidential(user, row.grid) if confidential
               else access.can_plan(user, row.grid))
    if not allowed:
        raise PermissionDenied(_("无权向该网格员交办此类任务"))
    kind = payload.get("kind", Task.Kind.OTHER)
    if kind not in Task.Kind.values:
        raise FieldworkError("kind", _("须为 %(v)s 之一") % {"v": ", ".join(Task.Kind.values)},
                             "choice")
    title = parse_text(payload, "title", 100, required=True)
    detail = parse_text(payload, "detail", 5000)
    due_on = _due(payload)
    building = house = None
    if (bid := _id(payload, "building_id")) is not None:
        building = Building.objects.filter(pk=bid, grid=row.grid).first()
        if building is None:
            raise FieldworkError("building_id", _("该网格内没有此楼栋"), "not_found")
    if (hid := _id(payload, "house_id")) is not None:
        house = House.objects.filter(pk=hid, building__grid=row.grid).first()
        if house is None:
            raise FieldworkError("house_id", _("该网格内没有此房屋"), "not_found")
    with transaction.atomic():
        task = Task.objects.create(
            worker=row.person, grid=row.grid, kind=kind, title=title, detail=detail,
            confidential=confidential, given_by=user, due_on=due_on, building=building,
            house=house, meeting=meeting)
        if confidential:
            audit.record("fieldwork.task.give", actor=user, object_type="fieldwork.task",
                         object_id=task.pk, confidential=True)
        else:
            audit.record("fieldwork.task.give", actor=user, object_type="fieldwork.task",
                         object_id=task.pk, worker_id=row.person_id, grid=row.grid.code,
                         title=title)
            enqueue("fieldwork.task_given", {
                "task_id": task.pk, "worker_id": row.person_id, "worker": row.person.name,
                "grid": row.grid.code, "kind": kind, "title": title,
                "due_on": due_on.isoformat() if due_on else None,
                "meeting_id": meeting.pk if meeting else None})
    return task


def do_report_task(user: AbstractBaseUser, payload: dict[str, Any]) -> TaskReport:
    """The task's worker reports back (several times for an observation); `done` closes."""
    task_id = _id(payload, "task_id", required=True)
    # Http404 whether it does not exist or is not the user's to know of
    task = access.access_one(access.visible_tasks(user).select_related("worker", "grid"),
                             task_id)  # type: ignore[arg-type]
    assert isinstance(task, Task)
    if task.worker.user_id != user.pk:
        raise PermissionDenied(_("只有任务的网格员可以反馈"))
    if task.state != Task.State.OPEN:
        raise FieldworkError("task_id", _("任务已关闭"), "closed")
    at = parse_at(payload.get("at"))
    text = parse_text(payload, "text", 5000, required=True)
    done = payload.get("done", False)
    if not isinstance(done, bool):
        raise FieldworkError("done", _("须为 true 或 false"), "type")
    with transaction.atomic():
        report = TaskReport.objects.create(task=task, author=user, at=at, text=text)
        if done:
            task.state, task.done_at = Task.State.DONE, at
            task.save(update_fields=["state", "done_at"])
        detail: dict[str, Any] = {"task_id": task.pk, "done": done}
        audit.record("fieldwork.task.report", actor=user, object_type="fieldwork.task_report",
                     object_id=report.pk, **detail)
        if not task.confidential:
            enqueue("fieldwork.task_reported", {**detail, "report_id": report.pk,
                                                "grid": task.grid.code, "text": text,
                                                "at": at.isoformat()})
    return report


def can_close(user: AbstractBaseUser, task: Task) -> bool:
    if task.given_by_id == user.pk:
        return True
    return (access.can_give_confidential(user, task.grid) if task.confidential
            else access.can_plan(user, task.grid))


def do_close_task(user: AbstractBaseUser, task_id: int, state: str = Task.State.DONE) -> Task:
    """Close a task as done or cancelled (its giver, or who may give such a task there)."""
    task = access.access_one(access.visible_tasks(user).select_related("grid"), task_id)
    assert isinstance(task, Task)
    if not can_close(user, task):
        raise PermissionDenied(_("无权关闭此任务"))
    if state not in (Task.State.DONE, Task.State.CANCELLED):
        raise FieldworkError("state", _("须为 done 或 cancelled"), "choice")
    if task.state != Task.State.OPEN:
        raise FieldworkError("state", _("任务已关闭"), "closed")
    with transaction.atomic():
        task.state, task.done_at = state, timezone.now()
        task.save(update_fields=["state", "done_at"])
        audit.record("fieldwork.task.close", actor=user, object_type="fieldwork.task",
                     object_id=task.pk, state=state)
        if not task.confidential:
            enqueue("fieldwork.task_closed", {"task_id": task.pk, "grid": task.grid.code,
                                              "state": state})
    return task


def task_dict(t: Task, reports: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.pk, "worker_id": t.worker_id, "worker": t.worker.name, "grid": t.grid.code,
        "kind": t.kind, "title": t.title, "detail": t.detail, "confidential": t.confidential,
        "due_on": t.due_on, "state": t.state, "created_at": t.created_at,
        "done_at": t.done_at, "meeting_id": t.meeting_id}
    if reports:
        out["reports"] = [{"id": r.pk, "at": r.at, "text": r.text} for r in t.reports.all()]
    return out


def task_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    return task_dict(Task.objects.select_related("worker", "grid").get(pk=pk))


def report_answer(user: AbstractBaseUser, pk: int) -> dict[str, Any]:
    r = TaskReport.objects.select_related("task").get(pk=pk)
    return {"id": r.pk, "task_id": r.task_id, "at": r.at, "text": r.text,
            "task_state": r.task.state}


@register("task.report", "fieldwork.task_report", answer=report_answer)
def apply_report(user: AbstractBaseUser, env: Envelope) -> int:
    return do_report_task(user, env.payload).pk


@register("task.create", "fieldwork.task", answer=task_answer)
def apply_give(user: AbstractBaseUser, env: Envelope) -> int:
    """REST `POST tasks` goes through the engine too (a retried POST gives one task)."""
    return do_give_task(user, env.payload).pk
