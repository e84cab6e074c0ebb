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
from django.utils import timezone

from wangge.fieldwork import access
from wangge.fieldwork.actions.checkin import is_late, rule_for, start_of
from wangge.fieldwork.models import FieldRule
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
    return Board(day, working, covered, rows, dict(counts))


class _PathGrid:
    """Enough of a Grid for rule_for (the board reads paths, not Grid rows)."""

    def __init__(self, path: str):
        self.path = path


def _rule_at(path: str, rules: dict[str, FieldRule]) -> FieldRule | None:
    return rule_for(_PathGrid(path), rules)  # type: ignore[arg-type]


def start_label(rule: FieldRule | None) -> str:
    start, grace = start_of(rule)
    return f"{start:%H:%M}" + (f" +{grace}′" if grace else "")
