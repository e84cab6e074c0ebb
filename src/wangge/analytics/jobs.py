"""Periodic work of analytics, run by `wangge worker` (WANGGE_WORKER_JOBS).

`rollup` keeps the daily tallies and the evaluation rollups (MetricTally) current. The
field app syncs records of earlier days
(a phone offline for a week), so each run recomputes a sliding window of the last
`WANGGE_ROLLUP_DAYS` days (35) up to yesterday, once the day has turned and then again
every `WANGGE_ROLLUP_EVERY_S` seconds (an hour): between two runs a late record of a past
day is missing from the counters (today's are always there: the headline reads them from
the records). Never run, or built on a grid tree that has changed since: a full rebuild.
Idempotent: a run replaces the window's days in one transaction."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from wangge.analytics.actions import current_state, do_rebuild, do_rollup

ROLLUP_DAYS = 35
ROLLUP_EVERY_S = 3600


def rollup(now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    yesterday = today - dt.timedelta(days=1)
    state = current_state()
    if state is None:
        reports = do_rebuild(today=today)
        return (f"rebuilt {sum(r.days for r in reports)} days, "
                f"{sum(r.rows for r in reports)} tallies")
    every = float(getattr(settings, "WANGGE_ROLLUP_EVERY_S", ROLLUP_EVERY_S))
    if state.last_day >= yesterday and (now - state.rolled_at).total_seconds() < every:
        return "up to date"
    days = int(getattr(settings, "WANGGE_ROLLUP_DAYS", ROLLUP_DAYS))
    return str(do_rollup(yesterday - dt.timedelta(days=days - 1), yesterday, today=today))
