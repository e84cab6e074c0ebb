"""The only writer of the rollups. Derived data: no audit or outbox rows (nothing a person
changed); the worker's job run records each run and its result.

`do_rollup(since, until)` replaces the tallies of those days in one transaction (delete,
then insert what the records say now), so a run is idempotent and a reader sees either the
old days or the new ones. The days rolled up stay one unbroken span ending yesterday at
the latest (today is still being written): the state row says which, and the headline
reads the records for every day outside it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from wangge.analytics import rollup
from wangge.analytics.facts import month_end
from wangge.analytics.metrics import BASE_CODES
from wangge.analytics.models import DailyTally, MetricTally, RollupState
from wangge.analytics.rollup import current_state, territory_stamp
from wangge.core.bulk import db_date, insert_rows

__all__ = ["RollupReport", "current_state", "do_rebuild", "do_rollup"]

ONE_DAY = dt.timedelta(days=1)
#: a full rebuild replaces this many days per transaction, newest first
REBUILD_CHUNK_DAYS = 31


@dataclass(frozen=True)
class RollupReport:
    since: dt.date | None
    until: dt.date | None
    days: int
    rows: int  # daily tallies (the headline's)
    seconds: float
    metric_rows: int = 0  # MetricTally rows, days and months

    def __str__(self) -> str:
        if not self.days:
            return "nothing to roll up"
        return (f"{self.since}..{self.until}: {self.days} days, {self.rows} tallies, "
                f"{self.metric_rows} metric rows, {self.seconds:.1f} s")


def do_rollup(since: dt.date, until: dt.date, *, from_start: bool = False,
              today: dt.date | None = None) -> RollupReport:
    """Recompute the tallies of the days `since`..`until` (capped at yesterday).
    `from_start`: `since` is the first day any record has, so the tallies cover all time
    before `until`. The span is widened where needed to keep the rolled-up days unbroken."""
    t0 = time.perf_counter()
    yesterday = (today or timezone.localdate()) - ONE_DAY
    until = min(until, yesterday)
    with transaction.atomic():
        state = RollupState.objects.select_for_update().filter(pk=1).first()
        stamp = territory_stamp()
        if state is not None and state.territory_stamp != stamp:
            # built on another grid tree: none of the old tallies may be read any more
            DailyTally.objects.all().delete()
            MetricTally.objects.all().delete()
            state.delete()
            state = None
        if state is not None:
            since = min(since, state.last_day + ONE_DAY)  # no hole after the last day
            if state.covers_from is not None:  # nor before the first
                until = max(until, min(state.covers_from - ONE_DAY, yesterday))
        if since > until:
            return RollupReport(None, None, 0, 0, time.perf_counter() - t0)
        DailyTally.objects.filter(day__gte=since, day__lte=until).delete()
        MetricTally.objects.filter(period="d", start__gte=since, start__lte=until).delete()
        up = rollup.ancestry()
        lines, levels = rollup.grid_lines()
        rows = metric_rows = 0
        day = since
        while day <= until:
            batch = rollup.day_rows(day, up)
            insert_rows(DailyTally, ("grid_id", "day", *rollup.FIGURES), batch)
            metric_batch = rollup.metric_rows(day, day, "d", lines, levels)
            insert_rows(MetricTally, rollup.METRIC_COLUMNS, metric_batch)
            rows += len(batch)
            metric_rows += len(metric_batch)
            day += ONE_DAY
        metric_rows += rebuild_months(since, until, lines, levels)
        if state is None:
            state = RollupState(pk=1, covers_from=since, last_day=until)
        state.last_day = max(state.last_day, until)
        if state.covers_from is not None:
            state.covers_from = min(state.covers_from, since)
        if from_start:
            state.covers_from = None
            state.full_rebuilt_at = timezone.now()
        state.territory_stamp = stamp
        state.rolled_at = timezone.now()
        state.save()
    return RollupReport(since, until, (until - since).days + 1, rows, time.perf_counter() - t0,
                        metric_rows)


def rebuild_months(since: dt.date, until: dt.date, lines: dict[int, tuple[int, ...]],
                   levels: dict[int, int]) -> int:
    """Replace the month rows of the months the days since..until touch: the sums of their
    day rows (one INSERT … SELECT … GROUP BY), then the month's distinct buildings passed
    from the records. Called inside do_rollup's transaction. Returns the rows written."""
    table = connection.ops.quote_name(MetricTally._meta.db_table)
    summed = [c for c in BASE_CODES if c != "buildings_covered"]
    cols = ", ".join(connection.ops.quote_name(c) for c in (
        "period", "start", "dim", "key", "scope_id", "level", *summed, "buildings_covered"))
    sums = ", ".join(f"SUM({connection.ops.quote_name(c)})" for c in summed)
    group = ", ".join(connection.ops.quote_name(c) for c in ("dim", "key", "scope_id", "level"))
    rows = 0
    first = since.replace(day=1)
    while first <= until:
        last = month_end(first)
        MetricTally.objects.filter(period="m", start=first).delete()
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT %s, %s, {group}, {sums}, 0 "
                f"FROM {table} WHERE period = %s AND start >= %s AND start <= %s "
                f"GROUP BY {group}",
                ["m", db_date(first), "d", db_date(first), db_date(last)])
            rows += max(cur.rowcount, 0)
            covered = rollup.metric_rows(first, last, "m", lines, levels, additive=False)
            i = rollup.METRIC_COLUMNS.index("buildings_covered")
            cur.executemany(
                f"UPDATE {table} SET buildings_covered = %s WHERE period = %s AND start = %s "
                f"AND dim = %s AND {connection.ops.quote_name('key')} = %s AND scope_id = %s",
                [(r[i], "m", db_date(first), r[2], r[3], r[4]) for r in covered])
        first = last + ONE_DAY
    return rows


def do_rebuild(since: dt.date | None = None, *, today: dt.date | None = None,
               progress: Callable[[RollupReport], None] | None = None) -> list[RollupReport]:
    """Recompute every day from `since` (default: the first record's day) to yesterday, a
    chunk of days per transaction, newest first: each committed chunk leaves an unbroken
    span, so readers stay correct while a long rebuild runs."""
    yesterday = (today or timezone.localdate()) - ONE_DAY
    first = rollup.first_record_day()
    start = since or min(first or yesterday, yesterday)
    from_start = since is None or (first is not None and since <= first) or first is None
    reports = []
    end = yesterday
    while True:
        lo = max(start, end - dt.timedelta(days=REBUILD_CHUNK_DAYS - 1))
        report = do_rollup(lo, end, from_start=from_start and lo == start, today=today)
        reports.append(report)
        if progress is not None:
            progress(report)
        if lo <= start:
            return reports
        end = lo - ONE_DAY
