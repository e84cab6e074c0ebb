"""SLA clocks (办理时限): the rules and deadline arithmetic a clock follows; started, met,
paused, resumed and stopped with the loop's transitions; warned and breached, a claimed batch
at a time, by the worker's sweep (`cases.jobs.sweep`).

Deadlines come from `workcal` (working days, holidays and make-up days), never from
timedelta arithmetic on days. A clock copies its policy's definition when it starts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from wangge.cases.actions.common import LEVEL_ABOVE, Entry, record_entries, record_event
from wangge.cases.models import Case, CaseClock, Supervision
from wangge.cases.workflow import STEPS, State
from wangge.core.bulk import db_date, db_datetime, insert_rows
from wangge.workcal import calendar as workcal
from wangge.workcal import policies
from wangge.workcal.deadlines import CalendarNotCovered, WorkCalendar

#: the main line of the loop: a clock whose goal is a state is met once the case reaches it
#: or a state after it
LINE = ["registered", "dispatched", "accepted", "in_progress", "handled", "verified",
        "closed", "evaluated"]
#: transitions that end every clock of the case
ENDS = frozenset({"close", "cancel", "reject", "merge"})


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
    """A paused clock's deadline on resuming: hour and natural-day clocks move by the time
    paused, working-day clocks by the working days that began while paused."""
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


def on_transition(case: Case, action: str, now: dt.datetime) -> None:
    """The clocks' side of a transition; called inside the transition's transaction (its
    timeline entry says what happened)."""
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
    for spec in policies.clocks_for(case.category.sla_policy):
        if spec.starts_on != trigger or spec.code in started:
            continue
        clock = CaseClock(
            case=case, policy=case.category.sla_policy, code=spec.code, name=spec.name,
            amount=spec.amount, unit=spec.unit, goal=spec.goal,
            on_breach=spec.on_breach, warn_fraction=spec.warn_fraction, started_at=now)
        set_deadline(clock, calendar)
        new.append(clock)
    return CaseClock.objects.bulk_create(new)


def _resume(clock: CaseClock, now: dt.datetime) -> None:
    """Paused time does not count: hour and natural-day clocks move by the time paused;
    working-day clocks by the working days that began while paused."""
    assert clock.paused_at is not None
    clock.status, paused_at, clock.paused_at = CaseClock.Status.RUNNING, clock.paused_at, None
    fields = ["status", "paused_at"]
    if clock.deadline is not None and clock.warn_at is not None:
        try:
            deadline = shifted_deadline(clock, paused_at, now)
        except CalendarNotCovered as e:  # computed again once the year is entered
            clock.deadline, clock.warn_at, clock.calendar_missing = None, None, e.year
        else:
            clock.warn_at += deadline - clock.deadline
            clock.deadline = deadline
        fields += ["deadline", "warn_at", "calendar_missing"]
    clock.save(update_fields=fields)


def do_clock_warnings(clocks: Sequence[CaseClock], now: dt.datetime) -> None:
    """预警: these clocks have used their warning share; the timeline and the outbox say so.
    The sweep calls this with the clocks (and their cases) it has claimed and locked."""
    with transaction.atomic():
        CaseClock.objects.filter(pk__in=[c.pk for c in clocks]).update(warned_at=now)
        entries = []
        for clock in clocks:
            assert clock.deadline is not None
            clock.warned_at = now
            state, level = clock.case.state, clock.case.handling_level
            entries.append(Entry(clock.case, "sla_warning", state, state, level,
                                 f"{clock.name}即将到期", {
                                      "clock": clock.code,
                                      "deadline": clock.deadline.isoformat()}))
        record_entries(entries)


#: working days to answer an automatic supervision (超时督办)
AUTO_SUPERVISION_DAYS = 2
#: the default for a supervision opened by hand when the form names no date
MANUAL_SUPERVISION_DAYS = 3


def supervision_deadline(now: dt.datetime,
                         days: int = AUTO_SUPERVISION_DAYS) -> tuple[dt.date, str]:
    """The last day to answer a supervision: `days` working days; if the calendar lacks the
    year, `days` calendar days, and the supervision says why (never a silent guess)."""
    try:
        return timezone.localtime(workcal.current().add_working_days(now, days)
                                  - dt.timedelta(seconds=1)).date(), ""
    except CalendarNotCovered as e:
        return (timezone.localdate(now) + dt.timedelta(days=days),
                f"（{e.year}年日历未录入，督办期限按自然日计）")


def do_clock_breaches(clocks: Sequence[CaseClock], now: dt.datetime,
                      due: tuple[dt.date, str] | None = None) -> None:
    """超时: for each breached clock, escalate its case one level, open an automatic
    supervision (a yellow card, a red one if the case was supervised before), and where the
    policy says so make a written reply due.

    The sweep calls this once per claimed batch, with the clocks and their cases locked. The
    decisions are made clock by clock in memory, in deadline order, so two clocks of one
    case breaching together act as if swept one after the other; the writes are one
    statement per kind. `due` is the supervision deadline, computed once a sweep."""
    deadline, why = due or supervision_deadline(now)
    with transaction.atomic():
        CaseClock.objects.filter(pk__in=[c.pk for c in clocks]).update(breached_at=now)
        cases = {c.case_id: c.case for c in clocks}
        supervised = set(Supervision.objects.filter(case__in=list(cases))
                         .values_list("case", flat=True).distinct())
        entries: list[Entry] = []
        cards: list[tuple[Case, str, str]] = []
        escalated: set[int] = set()
        replies: set[int] = set()
        for clock in clocks:
            case = cases[clock.case_id]
            assert clock.deadline is not None
            clock.breached_at = now
            reason = f"{clock.name}超时（期限 {timezone.localtime(clock.deadline):%Y-%m-%d %H:%M}）"
            up = LEVEL_ABOVE.get(case.handling_level)
            # the breach is the business of the level the case goes up to (or stays at)
            entries.append(Entry(case, "sla_breach", case.state, case.state,
                                 up or case.handling_level, reason, {"clock": clock.code}))
            if up is not None:
                entries.append(Entry(case, "escalate", case.state, case.state, up, reason, {
                    "from_level": case.handling_level, "to_level": up, "automatic": True}))
                case.handling_level = up
                escalated.add(case.pk)
            level = Supervision.Level.RED if case.pk in supervised else Supervision.Level.YELLOW
            supervised.add(case.pk)
            cards.append((case, level, reason + why))
            entries.append(Entry(case, "supervise", case.state, case.state,
                                 case.handling_level, reason,
                                 {"level": level, "automatic": True}))
            if clock.on_breach == "reply_due" and case.state in STEPS["reply_due"].sources:
                entries.append(Entry(case, "reply_due", case.state, State.REPLY_DUE,
                                     case.handling_level, "超期未办结，须向反映人书面答复",
                                     {"previous": case.state, "automatic": True}))
                case.state = State.REPLY_DUE
                replies.add(case.pk)
        by_level: dict[int, list[int]] = {}
        for pk in escalated:
            by_level.setdefault(cases[pk].handling_level, []).append(pk)
        for handling_level, ids in by_level.items():
            Case.objects.filter(pk__in=ids).update(handling_level=handling_level)
        if replies:
            Case.objects.filter(pk__in=replies).update(state=State.REPLY_DUE)
        opened_at, answer_by = db_datetime(timezone.now()), db_date(deadline)
        insert_rows(Supervision, ["case", "level", "reason", "deadline", "opened_at"], (
            (case.pk, card, text[:200], answer_by, opened_at) for case, card, text in cards))
        record_entries(entries)


def do_fill_clock_deadlines(clocks: list[CaseClock]) -> int:
    """Clocks that waited for a year of the calendar get their deadline once it is entered;
    the timeline says so. Returns how many were filled."""
    filled = 0
    with transaction.atomic():
        for clock in clocks:
            set_deadline(clock, workcal.current())
            if clock.deadline is None:
                continue
            clock.save(update_fields=["deadline", "warn_at", "calendar_missing"])
            record_event(clock.case, None, "sla_deadline", clock.case.state, clock.name,
                         clock=clock.code, deadline=clock.deadline.isoformat())
            filled += 1
    return filled

