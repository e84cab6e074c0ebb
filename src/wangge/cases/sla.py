"""The SLA clocks of cases (办理时限): started, met, paused and stopped by the loop's
transitions, and swept by the worker for warnings and breaches.

Deadlines come from `workcal` (working days, holidays and make-up days), never from
timedelta arithmetic on days. A clock copies its policy's definition when it starts.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from wangge.cases.models import Case, CaseClock
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered, WorkCalendar
from wangge.workcal.policies import clocks_for

#: the main line of the loop: a clock whose goal is a state is met once the case reaches it
#: or a state after it
LINE = ["registered", "dispatched", "accepted", "in_progress", "handled", "verified",
        "closed", "evaluated"]
#: transitions that end every clock of the case
ENDS = frozenset({"close", "cancel", "reject", "merge"})
BATCH = 500


def on_transition(case: Case, action: str, now: dt.datetime) -> None:
    """Called by actions inside the transition's transaction."""
    if action in ("register", "dispatch"):
        start_clocks(case, action, now)
    clocks = case.clocks.exclude(status__in=[CaseClock.Status.MET, CaseClock.Status.STOPPED])
    if action in ENDS:
        clocks.update(status=CaseClock.Status.STOPPED)
        return
    if case.state in LINE:
        reached = LINE[:LINE.index(case.state) + 1]
        clocks.filter(goal__in=reached).update(status=CaseClock.Status.MET, met_at=now)
    if action == "suspend":
        clocks.filter(status=CaseClock.Status.RUNNING).update(
            status=CaseClock.Status.PAUSED, paused_at=now)
    elif action == "resume":
        for clock in clocks.filter(status=CaseClock.Status.PAUSED):
            _resume(clock, now)


def start_clocks(case: Case, trigger: str, now: dt.datetime) -> list[CaseClock]:
    if not case.category.sla_policy:
        return []
    calendar = workcal.current()
    started = set(case.clocks.values_list("code", flat=True))
    new = []
    for spec in clocks_for(case.category.sla_policy):
        if spec.starts_on != trigger or spec.code in started:
            continue
        clock = CaseClock(
            case=case, policy=case.category.sla_policy, code=spec.code, name=spec.name,
            amount=spec.amount, unit=spec.unit, goal=spec.goal,
            on_breach=spec.on_breach, warn_fraction=spec.warn_fraction, started_at=now)
        set_deadline(clock, calendar)
        new.append(clock)
    return CaseClock.objects.bulk_create(new)


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


def _resume(clock: CaseClock, now: dt.datetime) -> None:
    """Paused time does not count: hour and natural-day clocks move by the time paused;
    working-day clocks by the working days that began while paused."""
    assert clock.paused_at is not None
    clock.status, paused_at, clock.paused_at = CaseClock.Status.RUNNING, clock.paused_at, None
    fields = ["status", "paused_at"]
    if clock.deadline is not None and clock.warn_at is not None:
        try:
            deadline = _shifted(clock, paused_at, now)
        except CalendarNotCovered as e:  # computed again once the year is entered
            clock.deadline, clock.warn_at, clock.calendar_missing = None, None, e.year
        else:
            clock.warn_at += deadline - clock.deadline
            clock.deadline = deadline
        fields += ["deadline", "warn_at", "calendar_missing"]
    clock.save(update_fields=fields)


def _shifted(clock: CaseClock, paused_at: dt.datetime, now: dt.datetime) -> dt.datetime:
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
    """The next clocks due, locked with their cases (the batch changes them); on PostgreSQL
    rows another worker or a user's transition holds are skipped, so two workers sweeping at
    once split the work instead of doing it twice, and a skipped clock waits for the next
    sweep."""
    qs = CaseClock.objects.filter(
        status=CaseClock.Status.RUNNING, **{f"{done}__isnull": True, f"{due}__lte": now},
    ).select_related("case").order_by(due)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self", "case"))
    return list(qs[:BATCH])


def _fill_missing_deadlines() -> None:
    """Clocks waiting for a year of the calendar get their deadline once it is entered."""
    from wangge.cases import actions

    waiting = list(CaseClock.objects.filter(calendar_missing__isnull=False,
                                            status=CaseClock.Status.RUNNING)
                   .select_related("case")[:BATCH])
    if waiting:
        actions.do_fill_clock_deadlines(waiting)
