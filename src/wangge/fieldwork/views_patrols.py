"""Console pages of patrols and plans (listed in fieldwork/urls.py): the patrol coverage map
of a basic grid, and the day-plan editor for workstation staff and the grid chief. Thin:
parse, call access / actions, render; every write is an action."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import shapely
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.fieldwork import access, track
from wangge.fieldwork import plan_sources as sources
from wangge.fieldwork.actions import plan as plan_actions
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import BuildingPass, DayPlan
from wangge.org.access import TERRITORY_READ_ROLES, in_scope
from wangge.org.models import Person
from wangge.registry.models import Building
from wangge.territory.models import Grid

#: the longest period the coverage map looks back over (days)
MAX_DAYS = 90
#: tracks drawn at most (the newest), so a long period stays light on a phone
MAX_TRACKS = 200


# -- coverage map ---------------------------------------------------------------------------

def _basic_grids(user: Any) -> list[Grid]:
    return list(Grid.objects.filter(in_scope(user, "path", TERRITORY_READ_ROLES), level=4)
                .order_by("path")[:1000])


def _coverage_grid(request: HttpRequest) -> Grid | None:
    code = request.GET.get("grid") or ""
    if not code:
        mine = access.worker_grid(request.user)
        return mine
    grid = Grid.objects.filter(code=code, level=4).first()
    if grid is None or not access.can_see_grid(request.user, grid):
        raise Http404("no such grid")
    return grid


def _days(request: HttpRequest, grid: Grid | None) -> int:
    try:
        days = int(request.GET.get("days") or 0)
    except ValueError:
        days = 0
    if days <= 0 and grid is not None:
        days = sources.rules_for([grid])[grid.pk].patrol_every_days
    return max(1, min(days or 7, MAX_DAYS))


def coverage_data(user: Any, grid: Grid, days: int, now: dt.datetime) -> dict[str, Any]:
    """Buildings with their last pass (passed within `days` or not), the period's tracks."""
    since = now - dt.timedelta(days=days)
    last = dict(BuildingPass.objects.filter(building__grid=grid,
                                            at__gte=now - dt.timedelta(days=365))
                .values("building_id").annotate(m=Max("at")).values_list("building_id", "m"))
    buildings = []
    for b in Building.objects.filter(grid=grid).order_by("code"):
        at = last.get(b.pk)
        buildings.append({"id": b.pk, "name": b.name, "address": b.address, "lat": b.lat,
                          "lng": b.lng, "last": at, "passed": at is not None and at >= since})
    buildings.sort(key=lambda b: (b["passed"], b["last"] or since - dt.timedelta(days=9999)))
    patrols = (access.visible_patrols(user).filter(grid=grid, started_at__gte=since)
               .select_related("worker").order_by("-started_at")[:MAX_TRACKS])
    tracks = [{"worker": p.worker.name,
               "started": timezone.localtime(p.started_at).strftime("%m-%d %H:%M"),
               "distance_m": p.distance_m,
               "points": [[lat, lng] for lng, lat in track.decode(p.track)]}
              for p in patrols if p.track]
    return {"buildings": buildings, "tracks": tracks,
            "unpassed": sum(1 for b in buildings if not b["passed"])}


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    grid = _coverage_grid(request)
    days = _days(request, grid)
    context: dict[str, Any] = {"grid": grid, "days": days, "grids": _basic_grids(request.user),
                               "tile_url": settings.WANGGE_TILE_URL}
    if grid is not None:
        data = coverage_data(request.user, grid, days, timezone.now())
        context.update(data)
        context["map_data"] = {
            "grid": {"type": "Feature", "properties": {"name": grid.name},
                     "geometry": shapely.geometry.mapping(grid.geometry)},
            "buildings": [{"name": b["name"], "lat": b["lat"], "lng": b["lng"],
                           "passed": b["passed"],
                           "last": timezone.localtime(b["last"]).strftime("%Y-%m-%d %H:%M")
                           if b["last"] else ""} for b in data["buildings"]],
            "tracks": data["tracks"],
        }
    return render(request, "fieldwork/patrol/coverage.html", context)


# -- the plan editor ------------------------------------------------------------------------

def _plan(request: HttpRequest, plan_id: int) -> DayPlan:
    return access.access_one(access.visible_plans(request.user).select_related(  # type: ignore[return-value]
        "worker", "grid"), plan_id)


@login_required
def worker_plan(request: HttpRequest, person_id: int) -> HttpResponse:
    """A worker's plan of a day (built on first read, like the API), then its editor."""
    person = Person.objects.filter(pk=person_id).first()
    grid = sources.worker_grids([person_id]).get(person_id) if person else None
    if grid is None or not access.can_see_grid(request.user, grid):
        raise Http404("no such worker in your scope")
    try:
        day = parse_date(request.GET.get("date") or "") or timezone.localdate()
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30
        day = timezone.localdate()
    if not sources.FIRST_DAY <= day <= sources.LAST_DAY:
        raise Http404("no plan on that day")
    plan = plan_actions.build_day_plan(person, day)  # type: ignore[arg-type]
    return redirect("fieldwork:plan", plan_id=plan.pk)


@login_required
def plan_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    items = list(access.visible_plan_items(request.user, plan).order_by("order", "id"))
    sources.building_visits(items)  # one heading per building with several appointments
    return render(request, "fieldwork/patrol/plan.html", {
        "plan": plan, "items": items, "can_edit": access.can_plan(request.user, plan.grid),
        "own": plan.worker.user_id == request.user.pk,
        "prev": plan.day - dt.timedelta(days=1), "next": plan.day + dt.timedelta(days=1)})


def _edit(request: HttpRequest, plan_id: int, done: str, change: Any) -> HttpResponse:
    plan = plan_actions.check_plan_edit(request.user, plan_id)
    try:
        change(plan)
    except FieldworkError as e:
        messages.error(request, f"{e.field}: {e.msg}")
    else:
        messages.success(request, done)
    return redirect("fieldwork:plan", plan_id=plan_id)


@login_required
@require_POST
def plan_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    title = request.POST.get("title") or ""
    at = parse_time(request.POST.get("at") or "")
    return _edit(request, plan_id, _("已添加"),
                 lambda p: plan_actions.do_add_item(request.user, p, title, at))


@login_required
@require_POST
def plan_remove(request: HttpRequest, plan_id: int, item_id: int) -> HttpResponse:
    return _edit(request, plan_id, _("已删除"),
                 lambda p: plan_actions.do_remove_item(request.user, p, item_id))


@login_required
@require_POST
def plan_move(request: HttpRequest, plan_id: int, item_id: int) -> HttpResponse:
    """Move one item up or down: the editor's reorder without drag and drop (one thumb)."""
    step = -1 if request.POST.get("dir") == "up" else 1

    def move(plan: DayPlan) -> None:
        ids = list(access.visible_plan_items(request.user, plan).order_by("order", "id")
                   .values_list("pk", flat=True))
        if item_id not in ids:
            raise Http404("no such item")
        i = ids.index(item_id)
        j = max(0, min(len(ids) - 1, i + step))
        ids[i], ids[j] = ids[j], ids[i]
        plan_actions.do_reorder(request.user, plan, ids)
    return _edit(request, plan_id, _("已调整顺序"), move)


@login_required
@require_POST
def plan_rebuild(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _edit(request, plan_id, _("已重新生成"),
                 lambda p: plan_actions.do_rebuild_day_plan(request.user, p))


@login_required
@require_POST
def plan_done(request: HttpRequest, plan_id: int, item_id: int) -> HttpResponse:
    """The worker (or the station) ticks an item, through the same envelope as the app."""
    _plan(request, plan_id)
    out = apply_envelope(request.user, Envelope(uuid.uuid4().hex, "plan.item_done", {
        "item_id": item_id, "done": request.POST.get("done") == "1"}))
    if out.status == "forbidden":
        raise PermissionDenied
    if not out.ok:
        messages.error(request, out.errors[0]["msg"] if out.errors else _("未能保存"))
    return redirect("fieldwork:plan", plan_id=plan_id)


urlpatterns: list[URLPattern] = [
    path("coverage/", coverage, name="coverage"),
    path("plans/worker/<int:person_id>/", worker_plan, name="worker_plan"),
    path("plans/<int:plan_id>/", plan_page, name="plan"),
    path("plans/<int:plan_id>/items/", plan_add, name="plan_add"),
    path("plans/<int:plan_id>/items/<int:item_id>/remove/", plan_remove, name="plan_remove"),
    path("plans/<int:plan_id>/items/<int:item_id>/move/", plan_move, name="plan_move"),
    path("plans/<int:plan_id>/items/<int:item_id>/done/", plan_done, name="plan_done"),
    path("plans/<int:plan_id>/rebuild/", plan_rebuild, name="plan_rebuild"),
]
