"""The stage clocks of a dispute (StageClock, data): accept (registered → a mediator takes
it up), mediate (mediating → agreement / referral / withdrawal), follow_up (agreed →
followed up). The steps start and stop them (`start_stage`, `stop_stage`); the worker's
sweep (disputes.jobs) warns at the clock's `warn_fraction` of its working days and marks
the stage late at its deadline.

Deadlines come from workcal's calendar. When the calendar does not cover the year a
deadline needs, the stage still starts with `due_at` None (never a failed step); the sweep
fills it in once the year is entered.

The sweep is idempotent: a stage is warned once and breached once (a new stage clears the
marks), so a second sweep at the same moment writes nothing. It is set-wise: one UPDATE per
kind of change, one bulk insert of timeline events, one of outbox messages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db import transaction
from django.db.models import Q

from wangge.core import audit, outbox
from wangge.disputes.models import Dispute, Event, StageClock
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered

#: stage deadlines are filled in at most this many per sweep (a year's calendar entered late)
FILL_BATCH = 5000


def _clocks() -> dict[str, StageClock]:
    return {c.stage: c for c in StageClock.objects.all()}


def deadlines(stage: str, start: dt.datetime, clock: StageClock | None = None
              ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(warn_at, due_at) of `stage` entered at `start`; (None, None) when the stage has no
    clock or the calendar misses the year the deadline needs."""
    if clock is None:
        clock = StageClock.objects.filter(stage=stage).first()
    if clock is None or clock.working_days < 1:
        return None, None
    cal = calendar.current()
    try:
        due = cal.add_working_days(start, clock.working_days)
        warn_days = max(1, math.floor(clock.working_days * clock.warn_fraction))
        warn = cal.add_working_days(start, warn_days) if warn_days < clock.working_days else due
    except CalendarNotCovered:
        return None, None
    return warn, due


def start_stage(d: Dispute, stage: str, at: dt.datetime) -> None:
    """Set the running clock of `d` (not saved: the caller saves the dispute)."""
    d.stage = stage
    d.stage_started_at = at
    d.warn_at, d.due_at = deadlines(stage, at)
    d.warned_at = None
    d.breached_at = None


def stop_stage(d: Dispute) -> None:
    """No clock runs (the dispute is settled); a breach stays on record."""
    d.stage = ""
    d.stage_started_at = None
    d.warn_at = None
    d.due_at = None
    d.warned_at = None


def _row_facts(row: dict[str, Any]) -> dict[str, Any]:
    return {"dispute_id": row["pk"], "number": row["number"], "kind": row["kind__code"],
            "grid": row["grid__code"], "handling_grid": row["handling_grid__code"],
            "level": row["level"], "state": row["state"], "risk": row["risk"],
            "mediator_id": row["mediator_id"], "stage": row["stage"],
            "due_at": row["due_at"].isoformat() if row["due_at"] else None}


_FACT_FIELDS = ("pk", "number", "kind__code", "grid__code", "handling_grid__code", "level",
                "state", "risk", "mediator_id", "stage", "due_at")


def _fill_deadlines(now: dt.datetime) -> int:
    """Stages started while the calendar missed their year: their deadlines, now that it
    may cover it (those still uncovered stay None)."""
    pending = list(Dispute.objects.filter(~Q(stage=""), due_at__isnull=True,
                                          stage_started_at__isnull=False)
                   .only("pk", "stage", "stage_started_at")[:FILL_BATCH])
    if not pending:
        return 0
    clocks = _clocks()
    filled = []
    for d in pending:
        warn, due = deadlines(d.stage, d.stage_started_at, clocks.get(d.stage))  # type: ignore[arg-type]
        if due is not None:
            d.warn_at, d.due_at = warn, due
            filled.append(d)
    Dispute.objects.bulk_update(filled, ["warn_at", "due_at"])
    return len(filled)


def sweep_clocks(now: dt.datetime) -> dict[str, object]:
    """Warn and mark late what is due at `now` (tests pass a frozen `now`)."""
    with transaction.atomic():
        filled = _fill_deadlines(now)
        running = Dispute.objects.filter(~Q(stage=""), due_at__isnull=False,
                                         breached_at__isnull=True)
        late = list(running.filter(due_at__lte=now).select_for_update(of=("self",))
                    .values(*_FACT_FIELDS))
        soon = list(running.filter(due_at__gt=now, warn_at__lte=now, warned_at__isnull=True)
                    .select_for_update(of=("self",)).values(*_FACT_FIELDS))
        events: list[Event] = []
        messages: list[tuple[str, dict[str, Any]]] = []
        for kind, topic, rows in ((Event.Kind.WARNED, "disputes.stage_warning", soon),
                                  (Event.Kind.BREACHED, "disputes.stage_late", late)):
            for row in rows:
                f = _row_facts(row)
                events.append(Event(dispute_id=row["pk"], kind=kind, at=now, actor=None,
                                    note="", data={"stage": row["stage"],
                                                   "due_at": f["due_at"]}))
                messages.append((topic, f))
        if soon:
            Dispute.objects.filter(pk__in=[r["pk"] for r in soon],
                                   warned_at__isnull=True).update(warned_at=now)
        if late:
            Dispute.objects.filter(pk__in=[r["pk"] for r in late],
                                   breached_at__isnull=True).update(breached_at=now)
        Event.objects.bulk_create(events)
        if messages:
            outbox.enqueue_many(messages)
        if late:
            audit.record("disputes.stages_late", actor=None, object_type="disputes.dispute",
                         numbers=[r["number"] for r in late][:200], count=len(late))
    return {"disputes_filled": filled, "disputes_warned": len(soon),
            "disputes_late": len(late)}
