"""The grid worker's offline data: what the field app keeps on the phone for a day without
signal (issue 12, point 10).

Their own grid's buildings, houses, households and residents — masked, as the registry API
shows them, each with `v` (its version: `updated_at` in ISO form, what a register edit sends
back as `base_version`) — the case categories they may report, the inspection list of their
kind of grid, the catalogues (visit kinds, opinion topics, materials), today's plan and
their open tasks.

The shape is built for a phone on a slow line (a grid of 2,000 residents and 560 households
stays far below 300 KB gzipped): short keys, rows without empty values, and every choice
label once in `labels` rather than on each row. The bundle's version is a hash of its
content, so `since=<version>` answers "unchanged" without sending it again, and no write
anywhere needs to remember to bump a stamp."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q
from django.utils import timezone

from wangge.cases.models import CaseCategory, InspectionItem
from wangge.fieldwork import access
from wangge.fieldwork.models import (
    DayPlan,
    Material,
    OpinionTopic,
    PatrolArea,
    PlanItem,
    Task,
    VisitKind,
)
from wangge.fieldwork.plan_sources import building_visits
from wangge.fieldwork.register_rows import (
    building_row,
    compact,
    day_iso,
    house_row,
    household_row,
    resident_row,
)
from wangge.registry import access as registry_access
from wangge.registry.models import Building, House, Household, Resident
from wangge.territory.models import Grid


def _labels() -> dict[str, dict[str, str]]:
    return {name: {k: str(v) for k, v in choices}
            for name, choices in (
                ("gender", Resident.Gender.choices),
                ("residence_type", Resident.ResidenceType.choices),
                ("relation", Resident.Relation.choices),
                ("building_use", Building.Use.choices),
                ("house_use", House.Use.choices),
                ("plan_kind", PlanItem.Kind.choices),
                ("task_kind", Task.Kind.choices),
            )}


# -- the day -------------------------------------------------------------------------------

def _plan(user: AbstractBaseUser, grid: Grid, day: dt.date) -> dict[str, Any]:
    """Today's plan as it stands; when none was built yet, the patrol area's builder makes
    it (fieldwork.actions.plan, if present), else the phone shows an empty day."""
    person = access.person_of(user)
    plan = access.visible_plans(user).filter(worker=person, day=day).first()
    if plan is None:
        plan = _build_plan(user, person, day)
    if plan is None:
        return {"day": day.isoformat(), "items": []}
    # a task's item only when the task is visible (a confidential one: its own worker)
    items = list(PlanItem.objects.filter(
        Q(task__isnull=True) | Q(task__in=access.visible_tasks(user)), plan=plan,
    ).order_by("order", "id"))
    # appointments of one building: "bi" its building, "bv" the visit's heading
    visits = building_visits(items)
    return {"day": plan.day.isoformat(), "id": plan.pk, "items": [compact({
        "i": it.pk, "k": it.kind, "t": it.title, "at": it.at.strftime("%H:%M") if it.at else None,
        "pa": it.patrol_area_id, "ta": it.task_id, "ca": it.case_id, "re": it.resident_id,
        "hh": it.household_id, "d": it.done or None,
        "bi": visits[it.pk].building_id if it.pk in visits else None,
        "bv": visits[it.pk].title if it.pk in visits else None}) for it in items]}


def _build_plan(user: AbstractBaseUser, person: Any, day: dt.date) -> DayPlan | None:
    try:
        from wangge.fieldwork.actions.plan import build_day_plan  # type: ignore[attr-defined]
    except ImportError:  # the plan builder is not there (yet): an empty day, said so
        return None
    try:
        built = build_day_plan(person, day)
    except Exception:  # a plan that cannot be built must not block the phone
        import logging

        logging.getLogger(__name__).exception("day plan for %s on %s", person, day)
        return None
    return built if isinstance(built, DayPlan) else (
        access.visible_plans(user).filter(worker=person, day=day).first())


def _tasks(user: AbstractBaseUser) -> list[dict[str, Any]]:
    person = access.person_of(user)
    rows = access.visible_tasks(user).filter(worker=person, state=Task.State.OPEN)
    return [compact({"i": t.pk, "k": t.kind, "t": t.title, "d": t.detail,
                     "due": day_iso(t.due_on), "b": t.building_id, "h": t.house_id,
                     "cf": t.confidential or None}) for t in rows.order_by("due_on", "id")]


# -- the bundle ----------------------------------------------------------------------------

def _catalogue(grid: Grid) -> dict[str, Any]:
    small = CaseCategory.objects.filter(parent__isnull=False).select_related("parent")
    return {
        "categories": [compact({"c": c.code, "n": c.name, "g": c.parent.name})
                       for c in small.order_by("code")],
        "inspection": [compact({"i": it.pk, "n": it.name, "g": it.guidance,
                                "c": it.category.code if it.category_id else None})
                       for it in InspectionItem.objects.filter(grid_kind=grid.kind)
                       .select_related("category")],
        "visit_kinds": [[k.code, k.name] for k in VisitKind.objects.all()],
        "opinion_topics": [[t.code, t.name] for t in OpinionTopic.objects.all()],
        "materials": [[m.code, m.name, m.topic] for m in Material.objects.filter(active=True)],
        "patrol_areas": [{"i": a.pk, "n": a.name,
                          "b": sorted(b.pk for b in a.buildings.all())}
                         for a in PatrolArea.objects.filter(grid=grid)
                         .prefetch_related("buildings")],
    }


def _register(user: AbstractBaseUser, grid: Grid) -> dict[str, list[dict[str, Any]]]:
    def mine(model: type[Model]) -> Any:
        # in the registry's own scope AND in this grid: never more than the user may read
        return registry_access.visible(user, model).filter(grid=grid).order_by("id")

    return {
        "buildings": [building_row(b) for b in mine(Building)],
        "houses": [house_row(h) for h in mine(House)],
        "households": [household_row(h) for h in mine(Household)],
        "residents": [resident_row(r) for r in mine(Resident)],
    }


#: sections an upper app adds to the bundle (name → builder(user, grid)), registered in its
#: AppConfig.ready() with add_offline_section: the services app adds the worker's open proxy
#: requests, and fieldwork imports no upper app
OfflineSection = Callable[[AbstractBaseUser, Grid], Any]
_sections: dict[str, OfflineSection] = {}


def add_offline_section(name: str, builder: OfflineSection) -> None:
    _sections[name] = builder


def offline_data(user: AbstractBaseUser, *, today: dt.date | None = None) -> dict[str, Any]:
    """The whole bundle with its version (`v`)."""
    grid = access.worker_grid(user)
    if grid is None:
        raise PermissionDenied("the field app's data is for a grid worker of a grid")
    today = today or timezone.localdate()
    plan = _plan(user, grid, today)  # first: building a plan may lay out the patrol areas
    body: dict[str, Any] = {
        "grid": {"i": grid.pk, "c": grid.code, "n": grid.name, "k": grid.kind,
                 "x": grid.label_lng, "y": grid.label_lat},
        "day": today.isoformat(),
        "labels": _labels(),
        **_catalogue(grid),
        **_register(user, grid),
        "plan": plan,
        "tasks": _tasks(user),
        **{name: build(user, grid) for name, build in sorted(_sections.items())},
    }
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body["v"] = hashlib.sha256(raw.encode()).hexdigest()[:20]
    return body
