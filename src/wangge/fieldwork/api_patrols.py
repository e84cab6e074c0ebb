"""Fieldwork API: day plans, patrols and patrol areas (see fieldwork/api.py).

`GET plan?date=` builds the plan on first read (the caller's own by default; `worker=`
for station staff and the grid chief reading a worker in scope). Patrol writes are REST
mirrors of the envelopes (patrol.start / points / check / stop, plan.item_done) and go
through the sync engine: 201 created, 200 replayed, 422 naming the field, 403, 404."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field, WithJsonSchema, field_validator

from wangge.core.schema import Code, Id, ModelText, Offset, responses
from wangge.fieldwork import access, track
from wangge.fieldwork import plan_sources as sources
from wangge.fieldwork.actions import plan as plan_actions
from wangge.fieldwork.api_common import send
from wangge.fieldwork.api_day import ClientKey, When
from wangge.fieldwork.models import DayPlan, InspectionCheck, Patrol, PatrolArea, PlanItem
from wangge.org.models import Person
from wangge.territory.models import Grid

router = Router(tags=["fieldwork"])

#: a day a plan or a patrol list may be asked for
Day = Annotated[dt.date, Field(ge=sources.FIRST_DAY, le=sources.LAST_DAY)]


# -- day plans ----------------------------------------------------------------------------

#: a plan item's time of day, local to the city (Asia/Shanghai) and without an offset: the
#: OpenAPI "time" format is RFC 3339's, which requires one, so it is described as a pattern
LocalTime = Annotated[dt.time, WithJsonSchema({
    "type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$",
    "description": "local time of day (Asia/Shanghai), HH:MM[:SS]"})]


class ItemOut(Schema):
    id: int
    kind: str
    title: str
    order: int
    at: LocalTime | None
    done: bool
    patrol_area_id: int | None
    appointment_id: int | None
    task_id: int | None
    case_id: int | None
    resident_id: int | None
    household_id: int | None
    #: appointments of one building sharing a visit: its building and heading
    #: ("胜利路12栋：5位居民，老年证年审"); None for everything else
    building_id: int | None
    visit: str | None


class PlanOut(Schema):
    id: int
    worker_id: int
    worker: str
    grid: str
    day: dt.date
    version: str
    built_at: dt.datetime
    can_edit: bool
    items: list[ItemOut]


def plan_dict(user: Any, plan: DayPlan) -> dict[str, Any]:
    items = list(access.visible_plan_items(user, plan).order_by("order", "id"))
    visits = sources.building_visits(items)
    for i in items:
        visit = visits.get(i.pk)
        i.building_id = visit.building_id if visit else None  # type: ignore[attr-defined]
        i.visit = visit.title if visit else None  # type: ignore[attr-defined]
    return {"id": plan.pk, "worker_id": plan.worker_id, "worker": plan.worker.name,
            "grid": plan.grid.code, "day": plan.day, "version": str(plan.version),
            "built_at": plan.built_at, "can_edit": access.can_plan(user, plan.grid),
            "items": [{f: getattr(i, f) for f in ItemOut.model_fields} for i in items]}


@router.get("/plan", response=responses(PlanOut), summary="今日安排")
def get_plan(request: HttpRequest, date: Day | None = None,
             worker: Id | None = None) -> Any:
    user = request.auth
    person = (Person.objects.filter(pk=worker).first() if worker is not None
              else access.person_of(user))
    grid = sources.worker_grids([person.pk]).get(person.pk) if person else None
    if grid is None or not access.can_see_grid(user, grid):
        raise Http404("no plan for this worker in your scope")
    day = date or timezone.localdate()
    plan = DayPlan.objects.filter(worker=person, day=day).first() \
        or plan_actions.build_day_plan(person, day)
    plan = access.access_one(access.visible_plans(user).select_related("worker", "grid"),
                             plan.pk)
    return plan_dict(user, plan)  # type: ignore[arg-type]


class ItemIn(Schema):
    title: ModelText(PlanItem, "title")  # type: ignore[valid-type]
    at: dt.time | None = None

    @field_validator("at")
    @classmethod
    def _local_time(cls, value: dt.time | None) -> dt.time | None:
        # a plan's time is a wall-clock time of the plan's day (Shanghai); an offset would
        # say nothing the day does not, and SQLite cannot store one
        if value is not None and value.tzinfo is not None:
            raise ValueError("a local time without an offset, e.g. 09:30")
        return value


@router.post("/plan/{pk}/items", response=responses({201: PlanOut}), summary="添加安排事项")
def add_item(request: HttpRequest, pk: Id, body: ItemIn) -> Any:
    plan = plan_actions.check_plan_edit(request.auth, pk)
    plan_actions.do_add_item(request.auth, plan, body.title, body.at)
    return Status(201, plan_dict(request.auth, DayPlan.objects.get(pk=pk)))


@router.delete("/plan/{pk}/items/{item_id}", response=responses(PlanOut),
               summary="删除安排事项")
def remove_item(request: HttpRequest, pk: Id, item_id: Id) -> Any:
    plan = plan_actions.check_plan_edit(request.auth, pk)
    plan_actions.do_remove_item(request.auth, plan, item_id)
    return plan_dict(request.auth, DayPlan.objects.get(pk=pk))


class OrderIn(Schema):
    item_ids: list[Id]


@router.post("/plan/{pk}/order", response=responses(PlanOut), summary="调整安排顺序")
def reorder(request: HttpRequest, pk: Id, body: OrderIn) -> Any:
    plan = plan_actions.check_plan_edit(request.auth, pk)
    return plan_dict(request.auth, plan_actions.do_reorder(request.auth, plan, body.item_ids))


@router.post("/plan/{pk}/rebuild", response=responses(PlanOut), summary="重新生成安排")
def rebuild(request: HttpRequest, pk: Id) -> Any:
    plan = plan_actions.check_plan_edit(request.auth, pk)
    return plan_dict(request.auth, plan_actions.do_rebuild_day_plan(request.auth, plan))


class DoneIn(Schema):
    done: bool = True
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class DoneOut(Schema):
    id: int
    plan_id: int
    done: bool
    version: str


@router.post("/plan/items/{item_id}/done", response=responses({201: DoneOut, 200: DoneOut}),
             summary="标记安排事项完成")
def item_done(request: HttpRequest, item_id: Id, body: DoneIn) -> Any:
    return send(request, "plan.item_done", body, item_id=item_id)


# -- patrols ------------------------------------------------------------------------------

class PatrolIn(Schema):
    started_at: When
    patrol_area_id: Id | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class PatrolOut(Schema):
    id: int
    started_at: str
    ended_at: str | None
    points: int
    distance_m: int
    duration_s: int
    buildings_passed: int
    patrol_area: int | None


class PatrolRow(Schema):
    id: int
    worker_id: int
    worker: str
    grid: str
    patrol_area: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    points: int
    distance_m: int
    duration_s: int


class CheckOut(Schema):
    item_id: int
    item: str
    result: str
    note: str
    case: str | None
    at: dt.datetime


class PatrolDetail(PatrolRow):
    track: list[tuple[int, float, float]]
    buildings: list[int]
    checks: list[CheckOut]


def _row(p: Patrol) -> dict[str, Any]:
    return {"id": p.pk, "worker_id": p.worker_id, "worker": p.worker.name, "grid": p.grid.code,
            "patrol_area": p.patrol_area.name if p.patrol_area else None,
            "started_at": p.started_at, "ended_at": p.ended_at, "points": p.points,
            "distance_m": p.distance_m, "duration_s": p.duration_s}


def _grid_path(user: Any, code: str) -> str | None:
    if not code:
        return None
    grid = Grid.objects.filter(code=code).first()
    if grid is None or not access.can_see_grid(user, grid):
        raise Http404("no such grid")
    return grid.path


@router.get("/patrols", response=responses(list[PatrolRow]), summary="巡查记录")
def list_patrols(request: HttpRequest, grid: Code = "", date: Day | None = None,
                 worker_id: Id | None = None, limit: int = Query(50, ge=1, le=500),
                 offset: Offset = 0) -> Any:
    qs = access.visible_patrols(request.auth).select_related("worker", "grid", "patrol_area")
    if (path := _grid_path(request.auth, grid)) is not None:
        qs = qs.filter(grid__path__startswith=path)
    if date is not None:
        qs = qs.filter(started_at__gte=sources.day_bounds(date)[0],
                       started_at__lt=sources.day_bounds(date)[1])
    if worker_id is not None:
        qs = qs.filter(worker_id=worker_id)
    return [_row(p) for p in qs.order_by("-started_at", "-id")[offset:offset + limit]]


@router.post("/patrols", response=responses({201: PatrolOut, 200: PatrolOut}),
             summary="开始巡查")
def start_patrol(request: HttpRequest, body: PatrolIn) -> Any:
    return send(request, "patrol.start", body)


@router.get("/patrols/{pk}", response=responses(PatrolDetail), summary="巡查详情（含轨迹）")
def patrol_detail(request: HttpRequest, pk: Id) -> Any:
    p: Patrol = access.access_one(access.visible_patrols(request.auth).select_related(
        "worker", "grid", "patrol_area"), pk)  # type: ignore[assignment]
    start_ms = int(p.started_at.timestamp() * 1000)
    pts = track.decode(p.track)
    times = track.decode_times(p.track_times)
    checks = InspectionCheck.objects.filter(patrol=p).select_related("item", "case")
    return {**_row(p),
            "track": [(start_ms + t * 1000, lng, lat) for t, (lng, lat) in zip(times, pts,
                                                                                strict=False)],
            "buildings": list(p.passes.order_by("at").values_list("building_id", flat=True)),
            "checks": [{"item_id": c.item_id, "item": c.item.name, "result": c.result,
                        "note": c.note, "case": c.case.register_no if c.case else None,
                        "at": c.at} for c in checks]}


class PointsIn(Schema):
    points: list[list[float | None]]
    client_key: ClientKey | None = None  # type: ignore[valid-type]


@router.post("/patrols/{pk}/points", response=responses({201: PatrolOut, 200: PatrolOut}),
             summary="上传轨迹点")
def add_points(request: HttpRequest, pk: Id, body: PointsIn) -> Any:
    return send(request, "patrol.points", body, patrol_id=pk)


class InspectionIn(Schema):
    item_id: Id
    result: Literal["ok", "problem"]
    note: ModelText(InspectionCheck, "note") = ""  # type: ignore[valid-type]
    report_case: bool = False
    lng: float | None = None
    lat: float | None = None
    photo_hashes: list[Code] | None = None  # type: ignore[valid-type]
    at: When | None = None
    client_key: ClientKey | None = None  # type: ignore[valid-type]


class CheckAnswer(Schema):
    id: int
    patrol_id: int
    item_id: int
    result: str
    case: str | None


@router.post("/patrols/{pk}/checks", response=responses({201: CheckAnswer, 200: CheckAnswer}),
             summary="巡查事项结果")
def add_check(request: HttpRequest, pk: Id, body: InspectionIn) -> Any:
    return send(request, "patrol.check", body, patrol_id=pk)


class StopIn(Schema):
    ended_at: When
    client_key: ClientKey | None = None  # type: ignore[valid-type]


@router.post("/patrols/{pk}/stop", response=responses({201: PatrolOut, 200: PatrolOut}),
             summary="结束巡查")
def stop_patrol(request: HttpRequest, pk: Id, body: StopIn) -> Any:
    return send(request, "patrol.stop", body, patrol_id=pk)


# -- patrol areas -------------------------------------------------------------------------

class AreaOut(Schema):
    id: int
    name: str
    order: int
    buildings: list[int]
    last_passed: dt.datetime | None


@router.get("/patrol-areas", response=responses(list[AreaOut]), summary="巡查片区")
def patrol_areas(request: HttpRequest, grid: Code) -> Any:
    g = Grid.objects.filter(code=grid).first()
    if g is None or not access.can_see_grid(request.auth, g):
        raise Http404("no such grid")
    areas = sources.areas_of([g.pk]).get(g.pk, {})
    since = timezone.now() - dt.timedelta(days=90)
    passes = sources.last_passes([g.pk], since)
    out = []
    for a in PatrolArea.objects.filter(grid=g).order_by("order"):
        ids = sorted(areas.get(a.pk, []))
        stamps = [passes[b] for b in ids if b in passes]
        out.append({"id": a.pk, "name": a.name, "order": a.order, "buildings": ids,
                    "last_passed": max(stamps) if stamps else None})
    return out
