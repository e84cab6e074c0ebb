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

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wangge.analytics import rollup
from wangge.analytics.facts import month_end
from wangge.analytics.metrics import BASE_CODES
from wangge.analytics.models import DailyTally, MetricTally, RollupState
from wangge.analytics.rollup import TallyKey, current_state, territory_stamp
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
        up = rollup.ancestry()
        lines, levels = rollup.grid_lines()
        months = month_plan(since, until)
        touched: dict[dt.date, set[TallyKey]] = {}
        for m in months:
            if m.delta:  # the replaced days' old sums, kept for the difference
                touched[m.first] = covered_keys(m)
                stash_old_days(m)
        DailyTally.objects.filter(day__gte=since, day__lte=until).delete()
        MetricTally.objects.filter(period="d", start__gte=since, start__lte=until).delete()
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
        for m in months:
            if m.delta:
                try:
                    with transaction.atomic():  # a savepoint: a failed difference undone
                        metric_rows += apply_difference(m)
                except IntegrityError:
                    # a month row below 0: the rows had drifted from their days (a crash
                    # of an older version, a hand edit); summing the month whole repairs it
                    metric_rows += sum_month(m, lines, levels)
                    continue
                update_buildings(m, lines, levels, touched[m.first] | covered_keys(m))
                drop_empty_month_rows(m)
            else:
                metric_rows += sum_month(m, lines, levels)
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


@dataclass(frozen=True)
class MonthPart:
    """The days lo..hi (the rolled span's) of the month first..last. `delta`: the month has
    month rows and the span does not cover all of it, so the rows are corrected by the
    replaced days' difference instead of summed again from the month's days (a day's rows
    instead of a month's: ≈1.1M day rows at province scale)."""

    first: dt.date
    last: dt.date
    lo: dt.date
    hi: dt.date
    delta: bool


def month_plan(since: dt.date, until: dt.date) -> list[MonthPart]:
    out = []
    first = since.replace(day=1)
    while first <= until:
        last = month_end(first)
        whole = since <= first and last <= until
        delta = not whole and MetricTally.objects.filter(period="m", start=first).exists()
        out.append(MonthPart(first, last, max(since, first), min(until, last), delta))
        first = last + ONE_DAY
    return out


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


TABLE = MetricTally._meta.db_table
#: the month row is the sum of its day rows for these (buildings_covered is distinct)
SUMMED = tuple(c for c in BASE_CODES if c != "buildings_covered")
GROUP = ("dim", "key", "scope_id", "level")


def _day_sums(m: MonthPart) -> tuple[str, list]:
    """SELECT of the day rows of m.lo..m.hi summed per key (dim, key, scope, level)."""
    sums = ", ".join(f"SUM({_q(c)}) AS {_q(c)}" for c in SUMMED)
    group = ", ".join(_q(c) for c in GROUP)
    return (f"SELECT {group}, {sums} FROM {_q(TABLE)} WHERE period = %s AND start >= %s "
            f"AND start <= %s GROUP BY {group}", ["d", db_date(m.lo), db_date(m.hi)])


def _old_table(m: MonthPart) -> str:
    return _q(f"wg_rollup_old_{m.first:%Y%m}")


def stash_old_days(m: MonthPart) -> None:
    """Keep the sums of the day rows of m.lo..m.hi about to be replaced (a temporary
    table of the transaction's connection), before they are deleted."""
    select, params = _day_sums(m)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_old_table(m)}")
        cur.execute(f"CREATE TEMPORARY TABLE {_old_table(m)} AS {select}", params)


def apply_difference(m: MonthPart) -> int:
    """Add to the month's rows the new day rows of m.lo..m.hi minus the old (stashed) ones,
    in SQL, only for the keys whose sums changed (a day rolled up again unchanged writes
    nothing). A key the month has gets its row updated; one it lacks can only be new
    (every key of the old days has a month row: the month is the sum of its days), so its
    difference is positive and is inserted. Returns the rows written."""
    table, old = _q(TABLE), _old_table(m)
    diff = _q(f"wg_rollup_diff_{m.first:%Y%m}")
    group = ", ".join(_q(c) for c in GROUP)
    plain = ", ".join(_q(c) for c in SUMMED)
    negated = ", ".join(f"-{_q(c)}" for c in SUMMED)
    sums = ", ".join(f"SUM({_q(c)}) AS {_q(c)}" for c in SUMMED)
    changed = " OR ".join(f"SUM({_q(c)}) <> 0" for c in SUMMED)
    match = " AND ".join(f"{{t}}.{_q(c)} = d.{_q(c)}" for c in GROUP[:3])
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {diff}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {diff} AS SELECT {group}, {sums} FROM ("
            f"SELECT {group}, {plain} FROM {table} WHERE period = %s AND start >= %s "
            f"AND start <= %s UNION ALL SELECT {group}, {negated} FROM {old}) AS u "
            f"GROUP BY {group} HAVING {changed}",
            ["d", db_date(m.lo), db_date(m.hi)])
        sets = ", ".join(f"{_q(c)} = {table}.{_q(c)} + d.{_q(c)}" for c in SUMMED)
        cur.execute(f"UPDATE {table} SET {sets} FROM {diff} AS d WHERE {table}.period = %s "
                    f"AND {table}.start = %s AND {match.format(t=table)}",
                    ["m", db_date(m.first)])
        written = max(cur.rowcount, 0)
        cols = ", ".join(_q(c) for c in ("period", "start", *GROUP, *SUMMED,
                                         "buildings_covered"))
        picked = ", ".join(f"d.{_q(c)}" for c in (*GROUP, *SUMMED))
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT %s, %s, {picked}, 0 FROM {diff} AS d "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS x WHERE x.period = %s "
                    f"AND x.start = %s AND {match.format(t='x')})",
                    ["m", db_date(m.first), "m", db_date(m.first)])
        written += max(cur.rowcount, 0)
        cur.execute(f"DROP TABLE {diff}")
        cur.execute(f"DROP TABLE {old}")
    return written


def insert_month_sums(m: MonthPart) -> int:
    """Insert the month's rows as the sums of its day rows m.lo..m.hi (no month rows)."""
    table = _q(TABLE)
    select, params = _day_sums(m)
    cols = ", ".join(_q(c) for c in ("period", "start", *GROUP, *SUMMED, "buildings_covered"))
    picked = ", ".join(f"d.{_q(c)}" for c in (*GROUP, *SUMMED))
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT %s, %s, {picked}, 0 FROM ({select}) "
                    f"AS d", ["m", db_date(m.first), *params])
        return max(cur.rowcount, 0)


def sum_month(m: MonthPart, lines: dict[int, tuple[int, ...]],
              levels: dict[int, int]) -> int:
    """Replace the month's rows by the sums of all its day rows (one INSERT … SELECT …
    GROUP BY), then the month's distinct buildings passed from the records."""
    MetricTally.objects.filter(period="m", start=m.first).delete()
    whole = MonthPart(m.first, m.last, m.first, m.last, False)
    added = insert_month_sums(whole)
    update_buildings(whole, lines, levels, None)
    return added


def covered_keys(m: MonthPart) -> set[TallyKey]:
    """The keys with buildings passed on the days m.lo..m.hi (grid and worker rows)."""
    return set(MetricTally.objects.filter(
        period="d", start__gte=m.lo, start__lte=m.hi, buildings_covered__gt=0
    ).values_list("dim", "key", "scope_id"))


def update_buildings(m: MonthPart, lines: dict[int, tuple[int, ...]],
                     levels: dict[int, int], keys: set[TallyKey] | None) -> None:
    """Set the month rows' distinct buildings passed over the whole month, from the
    records, for `keys` (those the replaced days had or have: no other key's count can
    change), or every key when None."""
    i = rollup.METRIC_COLUMNS.index("buildings_covered")
    passed = {(r[2], r[3], r[4]): r[i] for r in rollup.metric_rows(
        m.first, m.last, "m", lines, levels, additive=False)}
    counts = passed if keys is None else {k: passed.get(k, 0) for k in keys}
    if not counts:
        return
    with connection.cursor() as cur:
        if keys is not None:
            # a key whose only activity in the month is buildings passed has no other
            # count, so the difference gave it no month row: give it one (a month summed
            # whole has it, from its day rows)
            cols = ", ".join(_q(c) for c in ("period", "start", *GROUP, *SUMMED,
                                             "buildings_covered"))
            marks = ", ".join(["%s"] * (2 + len(GROUP) + len(SUMMED) + 1))
            cur.executemany(
                f"INSERT INTO {_q(TABLE)} ({cols}) VALUES ({marks}) "
                f"ON CONFLICT (period, start, dim, scope_id, {_q('key')}) DO NOTHING",
                [("m", db_date(m.first), dim, key, scope, levels[scope],
                  *([0] * len(SUMMED)), 0)
                 for (dim, key, scope), n in counts.items() if n])
        cur.executemany(
            f"UPDATE {_q(TABLE)} SET buildings_covered = %s WHERE period = %s AND start = %s "
            f"AND dim = %s AND {_q('key')} = %s AND scope_id = %s",
            [(n, "m", db_date(m.first), dim, key, scope)
             for (dim, key, scope), n in counts.items()])


def drop_empty_month_rows(m: MonthPart) -> None:
    """A key whose only days were replaced by nothing is left all zeros by the delta: a
    month summed whole has no row for it, nor may this one."""
    MetricTally.objects.filter(period="m", start=m.first,
                               **{c: 0 for c in BASE_CODES}).delete()


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
