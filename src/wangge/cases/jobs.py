"""Periodic work of the cases app, run by `wangge worker` (WANGGE_WORKER_JOBS): the SLA
sweep finds the clocks newly due and hands each claimed batch to
`actions.do_clock_warnings` / `do_clock_breaches` (the writes, and the deadline rules, are in
`actions.clocks`)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from wangge.cases import actions
from wangge.cases.models import CaseClock

BATCH = 500


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0


def sweep(now: dt.datetime | None = None) -> SweepReport:
    """Raise warnings and handle breaches that are newly due. Idempotent: a clock is warned
    and breached once (its row is claimed, re-checked and marked in the same transaction),
    so a sweep killed half-way, or two sweeping at once, never acts twice."""
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
    waiting = list(CaseClock.objects.filter(calendar_missing__isnull=False,
                                            status=CaseClock.Status.RUNNING)
                   .select_related("case")[:BATCH])
    if waiting:
        actions.do_fill_clock_deadlines(waiting)
