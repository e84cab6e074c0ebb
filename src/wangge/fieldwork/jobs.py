"""Periodic work of the fieldwork app, run by `wangge worker` (WANGGE_WORKER_JOBS).

`build_plans` builds today's day plan for every grid worker who has none yet. The worker
calls it every sweep interval; before `PLAN_HOUR` (Shanghai) it does nothing, after it
one query finds the workers still without a plan (none, once the morning run is done),
so the later calls cost almost nothing. Idempotent: a plan is built once per worker and
day (actions.plan.build_day_plans), whoever builds it first — this job or the worker's
first read."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wangge.fieldwork.actions.plan import build_day_plans
from wangge.workcal import calendar

#: plans are built from this local hour on (before the 08:00 check-in)
PLAN_HOUR = 6


def build_plans(now: dt.datetime | None = None) -> dict[str, object]:
    local = timezone.localtime(now or timezone.now())
    day = local.date()
    if local.hour < PLAN_HOUR:
        return {"day": day.isoformat(), "built": 0, "skipped": "before the morning"}
    cal = calendar.current()
    if cal.covers(day) and not cal.is_workday(day):
        return {"day": day.isoformat(), "built": 0, "skipped": "not a working day"}
    return {"day": day.isoformat(), "built": build_day_plans(day)}
