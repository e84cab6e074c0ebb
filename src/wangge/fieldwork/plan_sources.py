"""What goes into day plans, read set-wise for many workers at once (the morning job
builds 820 plans with a fixed number of queries per source, not per worker).

Each source takes the workers (person id → basic grid) and the day and returns draft
items per person. Nothing here writes; actions/plan.py turns the drafts into rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases import access as case_access
from wangge.cases.models import Case
from wangge.cases.workflow import Actor
from wangge.fieldwork import rota
from wangge.fieldwork.models import (
    Appointment,
    BuildingPass,
    FieldRule,
    PatrolArea,
    PlanItem,
    Task,
    VisitFrequency,
)
from wangge.org.models import Person, Role, RoleAssignment
from wangge.registry.actions import special_group_kinds
from wangge.registry.models import Resident, SpecialGroup
from wangge.territory.models import Grid

#: at most this many 'register overdue for an update' items per plan (the oldest first)
REGISTER_ITEMS = 10
#: at most this many due special-group visits per plan (the most overdue first)
VISIT_ITEMS = 20
#: the days a plan may be asked for (beyond them date arithmetic would overflow)
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
#: defaults where no FieldRule lies above a grid
DEFAULT_RULE = FieldRule(patrol_every_days=7, register_stale_days=180)


@dataclass
class Draft:
    kind: str
    title: str
    at: dt.time | None = None
    refs: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, int], ...]]:
        """What makes two drafts 'the same item' (a rebuild keeps its done flag)."""
        return self.kind, tuple(sorted(self.refs.items()))


def _short(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


# -- who works where, under which rule -----------------------------------------------------

def worker_grids(person_ids: list[int] | None = None) -> dict[int, Grid]:
    """person id → the basic grid of their current grid-worker role (the lowest grid id if
    several, as fieldwork.access.worker_grid decides)."""
    rows = (RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True)
            .select_related("grid").order_by("person_id", "grid_id"))
    if person_ids is not None:
        rows = rows.filter(person_id__in=person_ids)
    out: dict[int, Grid] = {}
    for r in rows:
        out.setdefault(r.person_id, r.grid)
    return out


def rules_for(grids: list[Grid]) -> dict[int, FieldRule]:
    """grid id → the deepest FieldRule at or above it (the defaults where there is none)."""
    rules = {r.grid.path: r for r in FieldRule.objects.select_related("grid")}
    out = {}
    for g in grids:
        best = max((p for p in rules if g.path.startswith(p)), key=len, default=None)
        out[g.pk] = rules[best] if best else DEFAULT_RULE
    return out


# -- the sources, in plan order -------------------------------------------------------------

def appointments(people: dict[int, Grid], day: dt.date) -> dict[int, list[Draft]]:
    start, end = day_bounds(day)
    out: dict[int, list[Draft]] = defaultdict(list)
    rows = list(Appointment.objects.filter(worker_id__in=people, state=Appointment.State.BOOKED,
                                           at__gte=start, at__lt=end)
                .select_related("resident", "house").order_by("at", "id"))
    # one building, one visit: a worker's appointments in the same building sit together,
    # at the time of the building's first one
    first: dict[tuple[int, int], tuple[dt.datetime, int]] = {}
    for a in rows:
        first.setdefault(_visit_key(a), (a.at, a.pk))
    rows.sort(key=lambda a: (first[_visit_key(a)], a.at, a.pk))
    for a in rows:
        who = a.resident.name if a.resident else (str(a.house) if a.house else "")
        title = f"{a.get_purpose_display()}：{who}" if who else a.get_purpose_display()
        if a.note:
            title += f"（{a.note}）"
        out[a.worker_id].append(Draft(PlanItem.Kind.APPOINTMENT, _short(title),
                                      timezone.localtime(a.at).time().replace(second=0,
                                                                              microsecond=0),
                                      {"appointment_id": a.pk}))
    return out


def _visit_key(a: Appointment) -> tuple[int, int]:
    """(worker, building) — an appointment without a house is a visit of its own."""
    building = a.house.building_id if a.house_id else None
    return a.worker_id, building if building is not None else -a.pk


@dataclass
class BuildingVisit:
    """Appointments of one worker in one building on one day: one visit at the door of
    each, one trip ("胜利路12栋：5位居民，老年证年审")."""

    building_id: int
    building: str
    title: str
    item_ids: list[int]


def building_visits(items: list[PlanItem]) -> dict[int, BuildingVisit]:
    """plan item id → its building visit, for the appointment items of a plan that share a
    building with another one (a single appointment is no group). Sets `visit` (the
    BuildingVisit or None) and `visit_first` (the group's first item) on every item, for
    the pages and the phone to draw one heading per building."""
    appointment_ids = [i.appointment_id for i in items if i.appointment_id]
    found = {a.pk: a for a in Appointment.objects.filter(pk__in=appointment_ids)
             .select_related("house__building")}
    groups: dict[int, list[tuple[PlanItem, Appointment]]] = defaultdict(list)
    for i in items:
        a = found.get(i.appointment_id) if i.appointment_id else None
        if a is not None and a.house_id:
            groups[a.house.building_id].append((i, a))
    out: dict[int, BuildingVisit] = {}
    for building_id, rows in groups.items():
        if len(rows) < 2:
            continue
        residents = {a.resident_id or -a.pk for _i, a in rows}
        what = list(dict.fromkeys(a.note or a.get_purpose_display() for _i, a in rows))
        name = rows[0][1].house.building.name
        visit = BuildingVisit(building_id, name, _short(
            _("%(building)s：%(n)d位居民，%(what)s") % {
                "building": name, "n": len(residents), "what": "、".join(what)}),
            [i.pk for i, _a in rows])
        for i, _a in rows:
            out[i.pk] = visit
    seen: set[int] = set()
    for i in items:
        visit = out.get(i.pk)
        i.visit = visit  # type: ignore[attr-defined]
        i.visit_first = visit is not None and visit.building_id not in seen  # type: ignore[attr-defined]
        if visit is not None:
            seen.add(visit.building_id)
    return out


def last_passes(grid_ids: list[int], since: dt.datetime,
                until: dt.datetime | None = None) -> dict[int, dt.datetime]:
    """building id → its latest pass in [since, until), for the buildings of these grids'
    areas (older passes do not matter: an area not walked for that long is due anyway;
    later ones are not known yet on the morning of a past day being planned)."""
    through = PatrolArea.buildings.through.objects.filter(patrolarea__grid_id__in=grid_ids)
    passes = BuildingPass.objects.filter(at__lt=until) if until else BuildingPass.objects.all()
    return dict(passes.filter(at__gte=since,
                                            building_id__in=through.values("building_id"))
                .values("building_id").annotate(last=Max("at"))
                .values_list("building_id", "last"))


def areas_of(grid_ids: list[int]) -> dict[int, dict[int, list[int]]]:
    """grid id → {area id → building ids}."""
    out: dict[int, dict[int, list[int]]] = defaultdict(dict)
    for a in PatrolArea.objects.filter(grid_id__in=grid_ids):
        out[a.grid_id][a.pk] = []
    through = PatrolArea.buildings.through.objects.filter(patrolarea__grid_id__in=grid_ids)
    for area_id, grid_id, building_id in through.values_list(
            "patrolarea_id", "patrolarea__grid_id", "building_id"):
        out[grid_id][area_id].append(building_id)
    return out


def due_areas(grids: list[Grid], day: dt.date,
              rules: dict[int, FieldRule]) -> dict[int, PatrolArea | None]:
    """grid id → the area due on `day` (see fieldwork.rota.due_area)."""
    ids = [g.pk for g in grids]
    areas = areas_of(ids)
    window = max((r.patrol_every_days for r in rules.values()), default=7)
    morning = day_bounds(day)[0]
    passes = last_passes(ids, morning - dt.timedelta(days=3 * window + 7), morning)
    names = {a.pk: a for a in PatrolArea.objects.filter(grid_id__in=ids)}
    out: dict[int, PatrolArea | None] = {}
    for g in grids:
        grid_areas = areas.get(g.pk, {})
        order = {a: names[a].order for a in grid_areas}
        due = rota.due_area(grid_areas, passes, order)
        out[g.pk] = names.get(due) if due is not None else None
    return out


def patrols(people: dict[int, Grid], due: dict[int, PatrolArea | None]
            ) -> dict[int, list[Draft]]:
    sizes: dict[int, int] = defaultdict(int)
    for area_id in PatrolArea.buildings.through.objects.filter(
            patrolarea_id__in=[a.pk for a in due.values() if a]).values_list(
            "patrolarea_id", flat=True):
        sizes[area_id] += 1
    out: dict[int, list[Draft]] = {}
    for person_id, grid in people.items():
        area = due.get(grid.pk)
        if area is not None:
            title = _("巡查%(name)s（%(n)d 栋楼）") % {"name": area.name, "n": sizes[area.pk]}
            out[person_id] = [Draft(PlanItem.Kind.PATROL, title, None,
                                    {"patrol_area_id": area.pk})]
    return out


def tasks(people: dict[int, Grid]) -> dict[int, list[Draft]]:
    """The worker's open tasks, confidential ones included: the worker may see them (the
    plan's readers who may not are filtered at read time, fieldwork.access)."""
    out: dict[int, list[Draft]] = defaultdict(list)
    rows = (Task.objects.filter(worker_id__in=people, state=Task.State.OPEN)
            .order_by(F("due_on").asc(nulls_last=True), "id"))
    for t in rows:
        title = t.title if not t.due_on else _("%(title)s（%(due)s 前）") % {
            "title": t.title, "due": t.due_on.strftime("%m-%d")}
        out[t.worker_id].append(Draft(PlanItem.Kind.TASK, _short(title), None,
                                      {"task_id": t.pk}))
    return out


def verifications(people: dict[int, Grid]) -> dict[int, list[Draft]]:
    """Cases of the worker's grid waiting for on-the-spot verification (cases.access
    decides which states those are, and which confidential case the worker may see)."""
    waiting = case_access.states_waiting_on(Actor.GRID_WORKER)
    rows = list(Case.objects.filter(grid_id__in={g.pk for g in people.values()},
                                    state__in=waiting).order_by("id"))
    users = dict(Person.objects.filter(pk__in=people).values_list("pk", "user_id"))
    by_grid: dict[int, list[Case]] = defaultdict(list)
    for c in rows:
        by_grid[c.grid_id].append(c)
    secret_ok: dict[int, set[int]] = {}
    out: dict[int, list[Draft]] = defaultdict(list)
    for person_id, grid in people.items():
        for c in by_grid.get(grid.pk, []):
            if c.confidential:
                if person_id not in secret_ok:
                    secret_ok[person_id] = _secret_cases(users.get(person_id), rows)
                if c.pk not in secret_ok[person_id]:
                    continue
            out[person_id].append(Draft(PlanItem.Kind.VERIFY, _short(
                _("核查事件 %(no)s：%(title)s") % {"no": c.register_no, "title": c.title}),
                None, {"case_id": c.pk}))
    return out


def _secret_cases(user_id: int | None, rows: list[Case]) -> set[int]:
    if user_id is None:
        return set()
    user = get_user_model().objects.get(pk=user_id)
    return set(case_access.visible_cases(user).filter(
        pk__in=[c.pk for c in rows if c.confidential]).values_list("pk", flat=True))


def visits_due(people: dict[int, Grid], day: dt.date) -> dict[int, list[Draft]]:
    """Special-group members whose visit is due: never visited, or last visited longer ago
    than their group's frequency (the shortest, for someone in several). The group's kind
    is sealed; it is opened here only to find the frequency and never leaves this
    function: the item names the person and the visit kind, not the group."""
    freqs = {f.special_group_kind: f for f in VisitFrequency.objects.select_related("visit_kind")}
    if not freqs:
        return {}
    shortest = min(f.every_days for f in freqs.values())
    grid_ids = {g.pk for g in people.values()}
    groups = list(SpecialGroup.objects.filter(grid_id__in=grid_ids).filter(
        Q(resident__last_visited_on__isnull=True)
        | Q(resident__last_visited_on__lt=day - dt.timedelta(days=shortest))))
    kinds = special_group_kinds(groups)
    residents = {r.pk: r for r in Resident.objects.filter(pk__in=kinds)}
    due_by_grid: dict[int, list[tuple[dt.date, Resident, VisitFrequency]]] = defaultdict(list)
    for rid, ks in kinds.items():
        matching = [freqs[k] for k in ks if k in freqs]
        if not matching:
            continue
        f = min(matching, key=lambda f: f.every_days)
        r = residents[rid]
        if r.last_visited_on is None or r.last_visited_on < day - dt.timedelta(days=f.every_days):
            due_by_grid[r.grid_id].append((r.last_visited_on or dt.date.min, r, f))
    out: dict[int, list[Draft]] = {}
    for person_id, grid in people.items():
        rows = sorted(due_by_grid.get(grid.pk, []), key=lambda t: (t[0], t[1].pk))[:VISIT_ITEMS]
        out[person_id] = [Draft(PlanItem.Kind.VISIT_DUE, _short(
            _("走访 %(name)s（%(kind)s）") % {"name": r.name, "kind": f.visit_kind.name}),
            None, {"resident_id": r.pk}) for _last, r, f in rows]
    return out


def stale_register(people: dict[int, Grid], day: dt.date,
                   rules: dict[int, FieldRule]) -> dict[int, list[Draft]]:
    """The oldest `REGISTER_ITEMS` residents per grid not updated for the rule's period
    (one query per distinct period, the top N per grid by a window function)."""
    by_days: dict[int, list[int]] = defaultdict(list)
    for g in {g.pk: g for g in people.values()}.values():
        by_days[rules[g.pk].register_stale_days].append(g.pk)
    stale: dict[int, list[Resident]] = defaultdict(list)
    for days, grid_ids in by_days.items():
        cutoff = day_bounds(day)[0] - dt.timedelta(days=days)
        rows = (Resident.objects.filter(grid_id__in=grid_ids, updated_at__lt=cutoff)
                .annotate(rank=Window(RowNumber(), partition_by=[F("grid_id")],
                                      order_by=[F("updated_at").asc(), F("id").asc()]))
                .filter(rank__lte=REGISTER_ITEMS).order_by("grid_id", "rank"))
        for r in rows:
            stale[r.grid_id].append(r)
    return {person_id: [Draft(PlanItem.Kind.REGISTER, _short(
        _("更新登记信息：%(name)s（%(since)s 起未更新）") % {
            "name": r.name, "since": timezone.localdate(r.updated_at).isoformat()}),
        None, {"resident_id": r.pk}) for r in stale.get(grid.pk, [])]
        for person_id, grid in people.items()}
