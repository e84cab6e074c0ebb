"""Read shapes for the day's console pages, built only from what fieldwork.access returns:
the attendance board, a worker's day and month, workload per worker and grid.

The board must stay fast at province scale (100k workers): one query for the workers'
assignments, one for the day's check-ins, one for the rules; no query per row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils import timezone

from wangge.cases.access import visible_cases
from wangge.fieldwork import access
from wangge.fieldwork.actions.checkin import is_late, rule_for, start_of
from wangge.fieldwork.models import CheckIn, FieldRule, PlanItem, Task
from wangge.org.models import Person
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered


@dataclass
class Board:
    day: dt.date
    working_day: bool
    #: False when the calendar does not cover the year (then Monday–Friday are assumed)
    calendar_covered: bool
    rows: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """(working day?, known from the calendar?)."""
    try:
        return calendar.current().is_workday(day), True
    except CalendarNotCovered:
        return day.weekday() < 5, False


def attendance(user: AbstractBaseUser, day: dt.date, subtree: str | None = None) -> Board:
    """Per worker in the user's board scope: grid, name, check-in time, place, status, late,
    absent (no check-in on a working day that has started), and the counts. `subtree` is a
    grid path prefix narrowing the board."""
    working, covered = is_working_day(day)
    workers = access.workers_in_scope(user)
    checkins = access.visible_checkins(user).filter(day=day)
    if subtree:
        workers = workers.filter(grid__path__startswith=subtree)
        checkins = checkins.filter(grid__path__startswith=subtree)
    assignments = list(workers.order_by("grid__path", "person_id").values_list(
        "person_id", "person__name", "grid__code", "grid__name", "grid__path"))
    by_worker = {c[0]: c for c in checkins.values_list(
        "worker_id", "at", "status", "place", "late")}
    rules = {r.grid.path: r for r in FieldRule.objects.select_related("grid")}
    now = timezone.localtime()
    today = now.date()
    rows, counts = [], Counter[str]()
    seen: set[int] = set()
    for person_id, name, code, grid_name, path in assignments:
        if person_id in seen:  # a worker with two grids is one line on the board
            continue
        seen.add(person_id)
        c = by_worker.get(person_id)
        row = {"worker_id": person_id, "name": name, "grid": code, "grid_name": grid_name,
               "at": None, "status": "", "place": "", "late": False, "absent": False,
               "pending": False}
        if c is not None:
            row.update(at=timezone.localtime(c[1]), status=c[2], place=c[3], late=c[4])
            counts["checked_in"] += 1
            counts[c[2]] += 1
            counts["late"] += int(c[4])
        elif working and day < today:
            row["absent"] = True
        elif working and day == today:
            # absent once the worker's start time (plus grace) has passed, pending before
            rule = _rule_at(path, rules)
            row["absent"] = is_late(now, rule)
            row["pending"] = not row["absent"]
        counts["absent"] += int(row["absent"])
        counts["pending"] += int(row["pending"])
        rows.append(row)
    counts["workers"] = len(rows)
    counts["away"] = counts["leave"] + counts["sick"] + counts["training"]
    keys = ("workers", "checked_in", "on_duty", "leave", "sick", "training", "away", "late",
            "absent", "pending")
    return Board(day, working, covered, rows, {k: counts[k] for k in keys})


def attendance_counts(user: AbstractBaseUser, day: dt.date, subtree: str | None = None
                      ) -> dict[str, int]:
    """The board's counts without its rows, in two aggregate queries (a province's board
    summary: 100k workers stay in the database). Today, while some workers' start time has
    passed and others' has not, absent and pending need each worker's rule: then the rows'
    way is taken."""
    working = is_working_day(day)[0]
    workers = access.workers_in_scope(user)
    if subtree:
        workers = workers.filter(grid__path__startswith=subtree)
    n = workers.values("person_id").distinct().count()
    agg = access.visible_checkins(user).filter(
        day=day, worker_id__in=workers.values("person_id")).aggregate(
        checked_in=Count("id"), late=Count("id", filter=Q(late=True)),
        **{s: Count("id", filter=Q(status=s)) for s in CheckIn.Status.values})
    counts = {"workers": n, **{k: int(v or 0) for k, v in agg.items()}}
    counts["away"] = counts["leave"] + counts["sick"] + counts["training"]
    missing = n - counts["checked_in"]
    counts["absent"] = counts["pending"] = 0
    now = timezone.localtime()
    if working and day < now.date():
        counts["absent"] = missing
    elif working and day == now.date():
        passed = {is_late(now, r) for r in FieldRule.objects.all()} | {is_late(now, None)}
        if passed == {True}:
            counts["absent"] = missing
        elif passed == {False}:
            counts["pending"] = missing
        else:
            return attendance(user, day, subtree).counts
    return counts


class _PathGrid:
    """Enough of a Grid for rule_for (the board reads paths, not Grid rows)."""

    def __init__(self, path: str):
        self.path = path


def _rule_at(path: str, rules: dict[str, FieldRule]) -> FieldRule | None:
    return rule_for(_PathGrid(path), rules)  # type: ignore[arg-type]


def start_label(rule: FieldRule | None) -> str:
    start, grace = start_of(rule)
    return f"{start:%H:%M}" + (f" +{grace}′" if grace else "")


# -- a worker's day and month, workload ------------------------------------------------------

def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local (Asia/Shanghai) day as an aware UTC-comparable range."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def worker_in_view(user: AbstractBaseUser, person_id: int) -> Person:
    """The worker if the user may review them (board scope) or is them; 404 otherwise."""
    own = access.person_of(user)
    if own is not None and own.pk == person_id:
        return own
    row = access.workers_in_scope(user).filter(person_id=person_id).select_related(
        "person").first()
    if row is None:
        raise Http404("no such worker")
    return row.person


def worker_day(user: AbstractBaseUser, person: Person, day: dt.date) -> dict[str, Any]:
    lo, hi = day_bounds(day)
    plan = access.visible_plans(user).filter(worker=person, day=day).first()
    items: list[PlanItem] = []
    if plan is not None:
        # a plan line for a confidential task shows only to who may know of the task
        items = list(plan.items.filter(Q(task__isnull=True)
                                       | Q(task__in=access.visible_tasks(user))))
    return {
        "checkin": access.visible_checkins(user).filter(worker=person, day=day).first(),
        "plan_items": items,
        "patrols": list(access.visible_patrols(user).filter(
            worker=person, started_at__gte=lo, started_at__lt=hi).order_by("started_at")),
        "visits": list(access.visible_visits(user).filter(
            worker=person, visited_at__gte=lo, visited_at__lt=hi).select_related("kind")
            .order_by("visited_at")),
        "opinions": list(access.visible_opinions(user).filter(
            author=person, collected_at__gte=lo, collected_at__lt=hi).select_related("topic")
            .order_by("collected_at")),
        "distributions": list(access.visible_distributions(user).filter(
            worker=person, day=day).select_related("material")),
        "tasks": list(access.visible_tasks(user).filter(worker=person).filter(
            Q(state=Task.State.OPEN, created_at__lt=hi) | Q(done_at__gte=lo, done_at__lt=hi))
            .order_by("due_on", "id")),
    }


def _per_day(qs: QuerySet, field: str, value: Any) -> dict[dt.date, Any]:
    tz = timezone.get_current_timezone()
    day = TruncDate(field, tzinfo=tz) if field.endswith("_at") else F(field)
    return {d: v for d, v in qs.annotate(d=day).values("d").annotate(v=value)
            .values_list("d", "v")}


def worker_month(user: AbstractBaseUser, person: Person, first: dt.date) -> list[dict[str, Any]]:
    """One row per day of the month: check-in (late / absent), patrol km, visits (人次),
    opinions, leaflets. Five queries for the month, none per day."""
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    lo, hi = day_bounds(first)[0], day_bounds(last)[0]
    checkins = {c.day: c for c in access.visible_checkins(user).filter(
        worker=person, day__gte=first, day__lt=last)}
    km = _per_day(access.visible_patrols(user).filter(
        worker=person, started_at__gte=lo, started_at__lt=hi), "started_at", Sum("distance_m"))
    visits = _per_day(access.visible_visits(user).filter(
        worker=person, visited_at__gte=lo, visited_at__lt=hi), "visited_at", Sum("people_met"))
    opinions = _per_day(access.visible_opinions(user).filter(
        author=person, collected_at__gte=lo, collected_at__lt=hi), "collected_at", Count("id"))
    leaflets = _per_day(access.visible_distributions(user).filter(
        worker=person, day__gte=first, day__lt=last), "day", Sum("count"))
    today = timezone.localdate()
    rows = []
    day = first
    while day < last:
        working = is_working_day(day)[0]
        c = checkins.get(day)
        rows.append({"day": day, "working_day": working, "checkin": c,
                     "absent": c is None and working and day < today,
                     "patrol_km": round((km.get(day) or 0) / 1000, 1),
                     "visits": visits.get(day) or 0, "opinions": opinions.get(day) or 0,
                     "leaflets": leaflets.get(day) or 0})
        day += dt.timedelta(days=1)
    return rows


WORKLOAD_COLUMNS = ("visits", "patrol_hours", "opinions", "leaflets", "cases")


def workload(user: AbstractBaseUser, start: dt.date, end: dt.date, by: str = "worker",
             subtree: str | None = None, sort: str = "visits") -> list[dict[str, Any]]:
    """Per worker (or per basic grid) from `start` to `end` inclusive: visits (人次), patrol
    hours, opinions, leaflets, cases reported. One grouped query per measure."""
    lo, hi = day_bounds(start)[0], day_bounds(end)[1]
    workers = access.workers_in_scope(user)
    if subtree:
        workers = workers.filter(grid__path__startswith=subtree)
    key = "worker_id" if by == "worker" else "grid_id"
    rows: dict[int, dict[str, Any]] = {}
    for pid, name, gid, code, gname in workers.order_by("grid__path").values_list(
            "person_id", "person__name", "grid_id", "grid__code", "grid__name"):
        k = pid if by == "worker" else gid
        rows.setdefault(k, {"id": k, "name": name if by == "worker" else gname,
                            "grid": code, "grid_name": gname, "user_id": None,
                            **dict.fromkeys(WORKLOAD_COLUMNS, 0)})
    ids = list(rows)

    def add(qs: QuerySet, field: str, col: str, value: Any, scale: float = 1) -> None:
        for k, v in qs.filter(**{f"{field}__in": ids}).values(field).annotate(
                v=value).values_list(field, "v"):
            rows[k][col] = round((v or 0) * scale, 1) if scale != 1 else (v or 0)

    add(access.visible_visits(user).filter(visited_at__gte=lo, visited_at__lt=hi),
        key, "visits", Sum("people_met"))
    add(access.visible_patrols(user).filter(started_at__gte=lo, started_at__lt=hi),
        key, "patrol_hours", Sum("duration_s"), 1 / 3600)
    add(access.visible_opinions(user).filter(collected_at__gte=lo, collected_at__lt=hi),
        "author_id" if by == "worker" else "grid_id", "opinions", Count("id"))
    add(access.visible_distributions(user).filter(day__gte=start, day__lte=end),
        key, "leaflets", Sum("count"))
    _add_cases(user, rows, by, lo, hi)
    column = sort if sort in WORKLOAD_COLUMNS else "visits"
    return sorted(rows.values(), key=lambda r: (-r[column], r["grid"]))


def _add_cases(user: AbstractBaseUser, rows: dict[int, dict[str, Any]], by: str,
               lo: dt.datetime, hi: dt.datetime) -> None:
    """Cases reported by the workers (their login) or in the grids, as cases.access shows."""
    cases = visible_cases(user).filter(created_at__gte=lo, created_at__lt=hi)
    if by == "worker":
        logins = dict(Person.objects.filter(pk__in=list(rows), user__isnull=False)
                      .values_list("user_id", "pk"))
        for uid, n in cases.filter(reporter_id__in=list(logins)).values("reporter_id").annotate(
                n=Count("id")).values_list("reporter_id", "n"):
            rows[logins[uid]]["cases"] = n
    else:
        for gid, n in cases.filter(grid_id__in=list(rows)).values("grid_id").annotate(
                n=Count("id")).values_list("grid_id", "n"):
            rows[gid]["cases"] = n
