"""Console pages of the day (listed in fieldwork/urls.py): attendance board, a worker's day
and month, workload, meetings, tasks. Thin: parse, call access / queries / actions, render.
Writes go through the sync engine like the API (a fresh client key per form)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wangge.core.schema import form_text
from wangge.fieldwork import access, queries
from wangge.fieldwork.actions.checkin import safe_date
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.actions.tasks import can_close, do_close_task
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import Task
from wangge.org.access import in_scope, visible_people
from wangge.org.models import Role
from wangge.territory.models import Grid

#: beyond this many workers the board page shows counts only (narrow by grid for names)
BOARD_ROWS = 3000


def _day(request: HttpRequest, name: str = "date") -> dt.date:
    return safe_date(request.GET.get(name) or "") or timezone.localdate()


def _subtree(request: HttpRequest) -> tuple[str | None, Grid | None]:
    code = request.GET.get("grid") or ""
    if not code:
        return None, None
    grid = Grid.objects.filter(code=code).first()
    if grid is None or not access.can_see_grid(request.user, grid):
        raise Http404("no such grid")
    return grid.path, grid


def _grids(user: Any, roles: frozenset[str], levels: list[int]) -> list[Grid]:
    """Grids of these levels in the subtrees where the user holds one of `roles`."""
    return list(Grid.objects.filter(in_scope(user, "path", roles), level__in=levels)
                .order_by("path")[:400])


def _board_grids(user: Any) -> list[Grid]:
    """Grids offered in the subtree filter: the towns and communities in the board scope."""
    return _grids(user, access.BOARD_ROLES, [2, 3])


@login_required
def attendance(request: HttpRequest) -> HttpResponse:
    if not access.can_see_board(request.user):
        raise PermissionDenied
    subtree, grid = _subtree(request)
    day = _day(request)
    counts = queries.attendance_counts(request.user, day, subtree)
    if counts["workers"] > BOARD_ROWS:
        # a province or a big city: the counts, and a grid to narrow to for the names
        working, covered = queries.is_working_day(day)
        board = queries.Board(day, working, covered, [], counts)
    else:
        board = queries.attendance(request.user, day, subtree)
    return render(request, "fieldwork/day/attendance.html", {
        "board": board, "grid": grid, "grids": _board_grids(request.user),
        "too_many": counts["workers"] > BOARD_ROWS})


@login_required
def worker_day(request: HttpRequest, person_id: int) -> HttpResponse:
    person = queries.worker_in_view(request.user, person_id)
    day = _day(request)
    return render(request, "fieldwork/day/worker_day.html", {
        "person": person, "day": day, "prev": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1), **queries.worker_day(request.user, person, day)})


@login_required
def worker_month(request: HttpRequest, person_id: int) -> HttpResponse:
    person = queries.worker_in_view(request.user, person_id)
    first = safe_date((request.GET.get("month") or "") + "-01") or timezone.localdate()
    first = first.replace(day=1)
    rows = queries.worker_month(request.user, person, first)
    totals = {k: sum(r[k] for r in rows) for k in ("patrol_km", "visits", "opinions",
                                                  "leaflets")}
    totals["patrol_km"] = round(totals["patrol_km"], 1)
    totals["late"] = sum(1 for r in rows if r["checkin"] and r["checkin"].late)
    totals["absent"] = sum(1 for r in rows if r["absent"])
    return render(request, "fieldwork/day/worker_month.html", {
        "person": person, "month": first, "rows": rows, "totals": totals,
        "prev": (first - dt.timedelta(days=1)).replace(day=1),
        "next": (first + dt.timedelta(days=32)).replace(day=1)})


@login_required
def workload(request: HttpRequest) -> HttpResponse:
    if not access.can_see_board(request.user):
        raise PermissionDenied
    end = _day(request, "to")
    start = safe_date(request.GET.get("from") or "") or end.replace(day=1)
    by = "grid" if request.GET.get("by") == "grid" else "worker"
    sort = request.GET.get("sort") or "visits"
    subtree, grid = _subtree(request)
    rows = queries.workload(request.user, start, end, by, subtree, sort)
    return render(request, "fieldwork/day/workload.html", {
        "rows": rows, "start": start, "end": end, "by": by, "sort": sort, "grid": grid,
        "grids": _board_grids(request.user), "columns": [
            ("visits", _("走访人次")), ("patrol_hours", _("巡查时长（小时）")),
            ("opinions", _("社情民意")), ("leaflets", _("宣传资料（份）")),
            ("cases", _("上报事件"))]})


# -- tasks and meetings: list and form ---------------------------------------------------

def _post(request: HttpRequest, kind: str, payload: dict[str, Any], form: forms.Form) -> bool:
    """Apply through the engine; put its errors on the form. True when written."""
    key = form.cleaned_data.get("client_key") or uuid.uuid4().hex
    outcome = apply_envelope(request.user, Envelope(key, kind, payload))
    if outcome.ok:
        return True
    for e in outcome.errors:
        name = str(e["loc"][1]) if len(e["loc"]) > 1 else None
        form.add_error(name if name in form.fields else None, e["msg"])
    return False


class TaskForm(forms.Form):
    worker_id = forms.TypedChoiceField(label=_("网格员"), coerce=int)
    kind = forms.ChoiceField(label=_("类型"), choices=Task.Kind.choices)
    title = form_text(Task, "title", label=_("任务"))
    detail = forms.CharField(label=_("要求"), required=False, max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_("完成期限"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))
    confidential = forms.BooleanField(label=_("涉密任务（仅网格员、公安和中心可见）"),
                                      required=False)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)


def _giving_workers(user: Any) -> list[tuple[int, str]]:
    rows = access.workers_in_scope(user, access.PLAN_ROLES | access.POLICE_ROLES)
    return [(pid, f"{name}（{gname}）") for pid, name, gname in rows.order_by(
        "grid__path").values_list("person_id", "person__name", "grid__name")[:2000]]


def _gives_confidential(user: Any) -> bool:
    return access.sees_confidential(user) and (
        user.is_superuser or bool({r.role for r in access.current_roles(user)}
                                  & {Role.GRID_POLICE, Role.DISPATCHER, Role.ADMIN,
                                     Role.LEADER}))


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    workers = _giving_workers(request.user)
    secret = _gives_confidential(request.user)
    form = TaskForm(request.POST or None, initial={"client_key": uuid.uuid4().hex})
    form.fields["worker_id"].choices = workers
    if not secret:
        del form.fields["confidential"]
    if request.method == "POST" and workers and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "client_key"}
        data["due_on"] = data["due_on"].isoformat() if data.get("due_on") else None
        if _post(request, "task.create", data, form):
            return redirect("fieldwork:tasks")
    state = request.GET.get("state") or "open"
    qs = access.visible_tasks(request.user).select_related("worker", "grid")
    if state in Task.State.values:
        qs = qs.filter(state=state)
    return render(request, "fieldwork/day/tasks.html", {
        "tasks": qs.order_by("-created_at", "-id")[:200], "form": form if workers else None,
        "state": state, "states": Task.State.choices},
        status=400 if form.errors else 200)


class ReportForm(forms.Form):
    text = forms.CharField(label=_("情况"), max_length=5000, widget=forms.Textarea(
        attrs={"rows": 3}))
    done = forms.BooleanField(label=_("任务已完成"), required=False)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)


@login_required
def task_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One task with its reports: the worker reports back, who may close it closes it. A
    task the user may not know of is a 404, like one that does not exist."""
    task = access.access_one(access.visible_tasks(request.user).select_related(
        "worker", "grid"), pk)
    assert isinstance(task, Task)
    mine = task.worker.user_id == request.user.pk and task.state == Task.State.OPEN
    form = ReportForm(request.POST or None, initial={"client_key": uuid.uuid4().hex})
    if request.method == "POST" and "close" in request.POST:
        if not can_close(request.user, task):
            raise PermissionDenied
        try:
            do_close_task(request.user, task.pk, request.POST.get("close") or "")
        except FieldworkError as e:  # already closed (another tab), or an unknown state
            messages.error(request, e.msg)
        return redirect("fieldwork:task", task.pk)
    if request.method == "POST" and mine and form.is_valid():
        payload = {"task_id": task.pk, "text": form.cleaned_data["text"],
                   "done": form.cleaned_data["done"], "at": timezone.now().isoformat()}
        if _post(request, "task.report", payload, form):
            return redirect("fieldwork:task", task.pk)
    return render(request, "fieldwork/day/task.html", {
        "task": task, "reports": task.reports.all(), "form": form if mine else None,
        "closable": task.state == Task.State.OPEN and can_close(request.user, task)},
        status=400 if form.errors else 200)


class MeetingForm(forms.Form):
    grid_id = forms.TypedChoiceField(label=_("社区（村）"), coerce=int)
    held_on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    attendees = forms.TypedMultipleChoiceField(label=_("参会人员"), coerce=int, required=False,
                                               widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(label=_("会议纪要"), max_length=20000, widget=forms.Textarea(
        attrs={"rows": 4}))
    decisions = forms.CharField(label=_("议定事项"), required=False, max_length=20000,
                                widget=forms.Textarea(attrs={"rows": 3}))
    client_key = forms.CharField(widget=forms.HiddenInput, required=False)


@login_required
def meetings(request: HttpRequest) -> HttpResponse:
    communities = _grids(request.user, access.PLAN_ROLES, [3])
    form = MeetingForm(request.POST or None, initial={
        "client_key": uuid.uuid4().hex, "held_on": timezone.localdate()})
    form.fields["grid_id"].choices = [(g.pk, g.name) for g in communities]
    form.fields["attendees"].choices = list(
        visible_people(request.user).order_by("name").values_list("pk", "name")[:300])
    if request.method == "POST" and communities and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "client_key"}
        data["held_on"] = data["held_on"].isoformat()
        if _post(request, "meeting.create", data, form):
            return redirect("fieldwork:meetings")
    rows = access.visible_meetings(request.user).select_related("grid").prefetch_related(
        "attendees")
    return render(request, "fieldwork/day/meetings.html", {
        "meetings": rows.order_by("-held_on", "-id")[:100],
        "form": form if communities else None}, status=400 if form.errors else 200)


urlpatterns: list[URLPattern] = [
    path("attendance/", attendance, name="attendance"),
    path("workers/<int:person_id>/", worker_day, name="worker_day"),
    path("workers/<int:person_id>/month/", worker_month, name="worker_month"),
    path("workload/", workload, name="workload"),
    path("tasks/", tasks, name="tasks"),
    path("tasks/<int:pk>/", task_page, name="task"),
    path("meetings/", meetings, name="meetings"),
]
