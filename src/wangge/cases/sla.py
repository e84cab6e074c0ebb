"""The SLA clocks of cases (办理时限): the rules and deadline arithmetic a clock follows, and
the worker's sweep that finds the clocks newly due and hands each batch to
`actions.do_clock_warnings` / `do_clock_breaches` (the writes themselves, including starting,
meeting, pausing and stopping clocks on transitions, are in `actions.clocks`).

Deadlines come from `workcal` (working days, holidays and make-up days), never from
timedelta arithmetic on days. A clock copies its policy's definition when it starts.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from wangge.cases.models import CaseClock
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered, WorkCalendar

#: the main line of the loop: a clock whose goal is a state is met once the case reaches it
#: or a state after it
LINE = ["registered", "dispatched", "accepted", "in_progress", "handled", "verified",
        "closed", "evaluated"]
#: transitions that end every clock of the case
ENDS = frozenset({"close", "cancel", "reject", "merge"})
BATCH = 500


def set_deadline(clock: CaseClock, calendar: WorkCalendar) -> None:
    """The deadline, or — when the calendar lacks the year — none yet and the missing year
    recorded and shown, never a guess."""
    try:
        deadline = calendar.deadline(clock.started_at, clock.amount, clock.unit)
    except CalendarNotCovered as e:
        clock.deadline = clock.warn_at = None
        clock.calendar_missing = e.year
        return
    clock.deadline, clock.calendar_missing = deadline, None
    clock.warn_at = clock.started_at + (deadline - clock.started_at) * clock.warn_fraction


def shifted_deadline(clock: CaseClock, paused_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    assert clock.deadline is not None
    if clock.unit not in ("working_days", "working_hours"):
        return clock.deadline + (now - paused_at)
    calendar = workcal.current()
    paused_day, today = (timezone.localtime(t).date() for t in (paused_at, now))
    lost = calendar.working_days_between(paused_at, now) + int(
        today != paused_day and calendar.is_workday(today))
    if not lost:
        return clock.deadline
    return calendar.add_working_days(clock.deadline - dt.timedelta(microseconds=1), lost)


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """Raise warnings and handle breaches that are newly due. Idempotent: a clock is warned
    and breached once (its row is claimed, re-checked and marked in the same transaction),
    so a sweep killed half-way, or two sweeping at once, never acts twice."""
    from wangge.cases import actions  # actions imports this module

    now = now or timezone.now()
    report = SweepReport()
    _fill_missing_deadlines()
    supervision_due = actions.supervision_deadline(now)  # once per sweep, not per breach
    for due, done, handle, field in (
            ("warn_at", "warned_at", actions.do_clock_warnings, "warned"),
            ("deadline", "breached_at",
             functools.partial(actions.do_clock_breaches, due=supervision_due), "breached")):
        while True:
            with transaction.atomic():
                batch = _claim(due, done, now)
                if batch:
                    handle(batch, now)
                setattr(report, field, getattr(report, field) + len(batch))
            if len(batch) < BATCH:
                break
    return report


def _claim(due: str, done: str, now: dt.datetime) -> list[CaseClock]:
    """The next clocks due, locked; on PostgreSQL rows another worker or a user's transition
    holds are skipped, so two workers sweeping at once split the work instead of doing it
    twice, and a skipped clock waits for the next sweep. A breach changes its case, so the
    case is locked too (NO KEY: new timeline rows pointing at it are not held up); a warning
    changes only its clock."""
    qs = CaseClock.objects.filter(
        status=CaseClock.Status.RUNNING, **{f"{done}__isnull": True, f"{due}__lte": now},
    ).select_related("case").order_by(due)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, no_key=True,
                                  of=("self", "case") if due == "deadline" else ("self",))
    return list(qs[:BATCH])


def _fill_missing_deadlines() -> None:
    """Clocks waiting for a year of the calendar get their deadline once it is entered."""
    from wangge.cases import actions

    waiting = list(CaseClock.objects.filter(calendar_missing__isnull=False,
                                            status=CaseClock.Status.RUNNING)
                   .select_related("case")[:BATCH])
    if waiting:
        actions.do_fill_clock_deadlines(waiting)
