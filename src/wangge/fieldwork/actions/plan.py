"""Day plans (今日安排) and the patrol rota's areas: building, rebuilding, editing, ticking.

A plan is built once per worker and day (on first read, or by the morning job
fieldwork.jobs.build_plans) from the sources in fieldwork.plan_sources, in this order:
appointments, the due patrol area, open tasks, cases to verify, due special-group visits,
register records overdue for an update. Later reads return the same plan; `rebuild`
refreshes it and keeps the done flags of the items that are still there. Station staff and
the grid chief (access.can_plan) add, remove and reorder items; each edit gets a new
random `version` (the phone's copy is stale when it differs) and an audit entry."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from wangge.core import audit
from wangge.core.outbox import enqueue
from wangge.core.schema import MAX_ID
from wangge.fieldwork import access, rota
from wangge.fieldwork import plan_sources as sources
from wangge.fieldwork.envelopes import Envelope, register
from wangge.fieldwork.errors import FieldworkError
from wangge.fieldwork.models import DayPlan, PatrolArea, PlanItem
from wangge.org.models import Person
from wangge.registry.models import Building
from wangge.territory.models import Grid

# -- patrol areas ---------------------------------------------------------------------------


def do_build_patrol_areas(grid: Grid, actor: AbstractBaseUser | None = None
                          ) -> list[PatrolArea]:
    """Group the grid's buildings into areas for its rota. Idempotent: the same buildings
    give the same areas; an area keeps its name (and row) where most of its buildings stay
    in it; areas no longer needed are deleted."""
    rule = sources.rules_for([grid])[grid.pk]
    points = list(Building.objects.filter(grid=grid).values_list("pk", "lng", "lat"))
    groups = rota.group(points, rota.areas_for(rule.patrol_every_days))
    with transaction.atomic():
        old = {a.name: a for a in PatrolArea.objects.select_for_update().filter(grid=grid)}
        members = {name: set(a.buildings.values_list("pk", flat=True)) for name, a in old.items()}
        names = rota.match_names(members, groups)
        kept: list[PatrolArea] = []
        changed = False
        for order, (name, ids) in enumerate(zip(names, groups, strict=True)):
            area = old.pop(name, None)
            if area is None:
                area = PatrolArea.objects.create(grid=grid, name=name, order=order)
                changed = True
            elif area.order != order:
                area.order = order
                area.save(update_fields=["order"])
                changed = True
            if members.get(name) != set(ids):
                area.buildings.set(ids)
                changed = True
            kept.append(area)
        if old:
            PatrolArea.objects.filter(pk__in=[a.pk for a in old.values()]).delete()
            changed = True
        if changed:
            audit.record("fieldwork.patrol_areas_built", actor=actor, object_type="grid",
                         object_id=grid.pk, areas=len(kept), buildings=len(points))
    return kept


# -- building plans -------------------------------------------------------------------------


def _drafts(people: dict[int, Grid], day: dt.date) -> dict[int, list[sources.Draft]]:
    grids = list({g.pk: g for g in people.values()}.values())
    have_areas = set(PatrolArea.objects.filter(grid__in=grids).values_list("grid_id", flat=True))
    for g in grids:
        if g.pk not in have_areas:
            do_build_patrol_areas(g)
    rules = sources.rules_for(grids)
    due = sources.due_areas(grids, day, rules)
    parts = [sources.appointments(people, day), sources.patrols(people, due),
             sources.tasks(people), sources.verifications(people),
             sources.visits_due(people, day), sources.stale_register(people, day, rules)]
    return {pid: [d for part in parts for d in part.get(pid, [])] for pid in people}


def _items(plan_id: int, drafts: list[sources.Draft], done: set[Any] = frozenset(),
           start: int = 0) -> list[PlanItem]:
    return [PlanItem(plan_id=plan_id, kind=d.kind, title=d.title, at=d.at, order=start + i,
                     done=d.key in done, **d.refs) for i, d in enumerate(drafts)]


def build_day_plans(day: dt.date, person_ids: list[int] | None = None) -> int:
    """Build the plans not yet built for `day` (every current grid worker, or these), set-wise:
    one query per source for all workers, one insert for the plans and one for the items.
    Returns how many plans were built. Safe to run twice or concurrently: a plan another
    run inserted first is left alone (its items are that run's)."""
    people = sources.worker_grids(person_ids)
    built = set(DayPlan.objects.filter(day=day, worker_id__in=people)
                .values_list("worker_id", flat=True))
    people = {pid: g for pid, g in people.items() if pid not in built}
    if not people:
        return 0
    drafts = _drafts(people, day)
    stamp = uuid.uuid4()  # marks the rows this run inserted
    with transaction.atomic():
        DayPlan.objects.bulk_create([DayPlan(worker_id=pid, grid=g, day=day, version=stamp)
                                     for pid, g in people.items()], ignore_conflicts=True)
        mine = list(DayPlan.objects.filter(day=day, version=stamp, worker_id__in=people))
        PlanItem.objects.bulk_create([i for p in mine for i in _items(p.pk, drafts[p.worker_id])])
        # fresh versions per plan: the shared stamp only found this run's rows
        for p in mine:
            p.version = uuid.uuid4()
        DayPlan.objects.bulk_update(mine, ["version"])
        audit.record("fieldwork.plans_built", actor=None, object_type="day", object_id=str(day),
                     plans=len(mine))
    return len(mine)


def build_day_plan(worker: Person, day: dt.date) -> DayPlan:
    """The worker's plan for `day`, built on first call (later calls return it)."""
    plan = DayPlan.objects.filter(worker=worker, day=day).first()
    if plan is not None:
        return plan
    if not sources.worker_grids([worker.pk]):
        raise FieldworkError("worker", "this person is not a grid worker", "not_a_worker")
    build_day_plans(day, [worker.pk])
    return DayPlan.objects.get(worker=worker, day=day)


def _new_version(plan: DayPlan) -> None:
    plan.version = uuid.uuid4()
    plan.save(update_fields=["version"])


def _announce(plan: DayPlan, what: str, actor: AbstractBaseUser | None, **detail: Any) -> None:
    audit.record(f"fieldwork.plan_{what}", actor=actor, object_type="fieldwork.dayplan",
                 object_id=plan.pk, **detail)
    enqueue("fieldwork.plan_changed", {"plan_id": plan.pk, "worker_id": plan.worker_id,
                                       "day": plan.day.isoformat(), "version": str(plan.version),
                                       "change": what})


# -- edits by the station / grid chief -------------------------------------------------------


def check_plan_edit(user: AbstractBaseUser, plan_id: int) -> DayPlan:
    """The plan if the user may edit it: 404 outside their scope, 403 inside it without a
    planning role (the worker themselves, for one)."""
    plan = access.access_one(access.visible_plans(user), plan_id)
    if not access.can_plan(user, plan.grid):
        raise PermissionDenied("only workstation staff and the grid chief edit day plans")
    return plan


def do_rebuild_day_plan(user: AbstractBaseUser, plan: DayPlan) -> DayPlan:
    """Refresh the generated items; done flags and the items added by hand stay."""
    grid = sources.worker_grids([plan.worker_id]).get(plan.worker_id, plan.grid)
    drafts = _drafts({plan.worker_id: grid}, plan.day)[plan.worker_id]
    with transaction.atomic():
        plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
        old = list(plan.items.all())
        done = {sources.Draft(i.kind, i.title, None, _refs(i)).key for i in old if i.done}
        plan.items.exclude(kind=PlanItem.Kind.OTHER).delete()
        new = _items(plan.pk, drafts, done)
        PlanItem.objects.bulk_create(new)
        for n, item in enumerate(i for i in old if i.kind == PlanItem.Kind.OTHER):
            item.order = len(new) + n
            item.save(update_fields=["order"])
        _new_version(plan)
        _announce(plan, "rebuilt", user, items=len(new))
    return plan


def _refs(item: PlanItem) -> dict[str, int]:
    names = ("patrol_area_id", "appointment_id", "task_id", "case_id", "resident_id",
             "household_id")
    return {n: getattr(item, n) for n in names if getattr(item, n) is not None}


def do_add_item(user: AbstractBaseUser, plan: DayPlan, title: str,
                at: dt.time | None = None) -> PlanItem:
    title = (title or "").strip()
    if not title:
        raise FieldworkError("title", "required", "required")
    if len(title) > 200:
        raise FieldworkError("title", "at most 200 characters", "too_long")
    with transaction.atomic():
        plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
        last = plan.items.aggregate(m=Max("order"))["m"]
        item = PlanItem.objects.create(plan=plan, kind=PlanItem.Kind.OTHER, title=title, at=at,
                                       order=0 if last is None else last + 1)
        _new_version(plan)
        _announce(plan, "item_added", user, item=item.pk, title=title)
    return item


def do_remove_item(user: AbstractBaseUser, plan: DayPlan, item_id: int) -> None:
    with transaction.atomic():
        plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
        item = access.access_one(access.visible_plan_items(user, plan), item_id)
        title = item.title
        item.delete()
        _new_version(plan)
        _announce(plan, "item_removed", user, item=item_id, title=title)


def do_reorder(user: AbstractBaseUser, plan: DayPlan, item_ids: list[int]) -> DayPlan:
    """Put the items the user sees in the given order. Items hidden from the user (a
    confidential task) keep their places: the visible ones are laid into the slots the
    visible ones held."""
    with transaction.atomic():
        plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
        items = list(plan.items.all())
        seen = set(access.visible_plan_items(user, plan).values_list("pk", flat=True))
        if len(set(item_ids)) != len(item_ids) or set(item_ids) != seen:
            raise FieldworkError("item_ids", "must list every item of the plan exactly once",
                                 "not_a_permutation")
        slots = [n for n, i in enumerate(items) if i.pk in seen]
        by_id = {i.pk: i for i in items}
        for slot, pk in zip(slots, item_ids, strict=True):
            items[slot] = by_id[pk]
        for n, item in enumerate(items):
            item.order = n
        PlanItem.objects.bulk_update(items, ["order"])
        _new_version(plan)
        _announce(plan, "reordered", user, items=item_ids)
    return plan


def is_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ID


# -- the worker ticks an item ----------------------------------------------------------------


def item_answer(user: AbstractBaseUser, item_id: int) -> dict[str, Any]:
    item = PlanItem.objects.select_related("plan").get(pk=item_id)
    return {"id": item.pk, "plan_id": item.plan_id, "done": item.done,
            "version": str(item.plan.version)}


@register("plan.item_done", "fieldwork.plan_item_done", answer=item_answer)
def apply_item_done(user: AbstractBaseUser, env: Envelope) -> int:
    p = env.payload
    item_id, done = p.get("item_id"), p.get("done")
    if not is_id(item_id):
        raise FieldworkError("item_id", "must be a plan item id", "required")
    if not isinstance(done, bool):
        raise FieldworkError("done", "must be true or false", "required")
    item = PlanItem.objects.filter(pk=item_id).select_related("plan", "plan__grid").first()
    if item is None or not access.visible_plans(user).filter(pk=item.plan_id).exists() \
            or not access.visible_plan_items(user, item.plan).filter(pk=item_id).exists():
        raise FieldworkError("item_id", "no such item in your plans", "not_found")
    own = item.plan.worker.user_id == user.pk
    if not own and not access.can_plan(user, item.plan.grid):
        raise PermissionDenied("only the plan's worker ticks its items")
    if item.done != done:
        item.done = done
        item.save(update_fields=["done"])
        _new_version(item.plan)
        _announce(item.plan, "item_done", user, item=item.pk, done=done)
    return item.pk
