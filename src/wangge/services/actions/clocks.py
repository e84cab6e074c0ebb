"""The working-day clocks of pre-review (the item's `prereview_days`) and of proxy stages
(`StageClock`, data), and their sweep by the worker (services.jobs): a warning before the
deadline, a breach after it, escalation of a breached pre-review to the department's head
and the center. The pre-review slice implements sweep_clocks."""

from __future__ import annotations

import datetime as dt

from wangge.services.models import ItemVersion, StageClock
from wangge.workcal import calendar


def prereview_deadline(version: ItemVersion, start: dt.datetime) -> dt.datetime:
    return calendar.current().add_working_days(start, max(1, version.prereview_days))


def stage_deadline(stage: str, start: dt.datetime) -> dt.datetime | None:
    """The deadline of a proxy stage entered at `start`; None where the stage has no clock."""
    clock = StageClock.objects.filter(stage=stage).first()
    if clock is None:
        return None
    return calendar.current().add_working_days(start, clock.working_days)


def sweep_clocks(now: dt.datetime) -> dict[str, object]:
    return {}
