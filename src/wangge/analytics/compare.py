"""Breakdowns of the evaluation metrics with 环比 and 同比, and trends over time buckets.

- `breakdown(scope, q)`: one row per key of `q.by` (a grid, department, category, channel
  or grid worker) with its base counts, its metrics (metrics.evaluate) and each metric's
  change against the previous span (环比, `previous_span`) and the span a year before
  (同比, `year_ago_span`); a total row for the whole scope.
- `trend(scope, q, bucket)`: the scope's metrics per day / week / month / quarter / year.
- `breakdown_table(b)`: the same rows as a core.tables.Table (CSV / XLSX download).

A change is per cent for a count ((now − before) ÷ before × 100), percentage points for a
rate (now − before) and hours for a time (now − before); None when either side has no
value or a count's base is 0. Everything read goes through analytics.figures with the
caller's analytics.access.Scope: nothing here filters by user.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from wangge.analytics import figures as fig
from wangge.analytics.access import Scope, check_breakdown, check_grid
from wangge.analytics.figures import Query
from wangge.analytics.metrics import (
    METRIC_BY_CODE,
    METRICS,
    Bucket,
    Dim,
    Metric,
    add,
    evaluate,
)
from wangge.core.tables import Table

Value = float | int | None

#: the breakdowns' names as a table's first header
DIM_LABELS: dict[str, str] = {
    "grid": "网格", "department": "部门", "category": "事件分类", "channel": "来源渠道",
    "worker": "网格员", "dispute_kind": "矛盾纠纷类别",
}
BUCKET_LABELS: dict[str, str] = {
    "day": "日", "week": "周", "month": "月", "quarter": "季度", "year": "年",
}
#: the unit of a change, by the metric's unit (the headers of a download say it)
CHANGE_UNITS: dict[str, str] = {"count": "%", "percent": "百分点", "hours": "小时"}
TOTAL_LABEL = "合计"


# -- spans -------------------------------------------------------------------------------

def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _known(bucket: str) -> None:
    # figures' bucket arithmetic takes any other name for a year: here it is an error
    if bucket not in BUCKET_LABELS:
        raise ValueError(f"unknown bucket {bucket!r}")


def bucket_start(day: dt.date, bucket: Bucket) -> dt.date:
    """The first day of the bucket holding `day` (a week starts on Monday): the buckets
    of analytics.figures.series, which the trend reads."""
    _known(bucket)
    return fig.bucket_start(day, bucket)


def bucket_end(start: dt.date, bucket: Bucket) -> dt.date:
    """The last day (inclusive) of the bucket that starts on `start`."""
    _known(bucket)
    return fig.next_bucket(start, bucket) - dt.timedelta(days=1)


def buckets(since: dt.date, until: dt.date, bucket: Bucket) -> list[dt.date]:
    """The starts of the buckets that meet since..until, in order."""
    starts = []
    start = bucket_start(since, bucket)
    while start <= until:
        starts.append(start)
        start = bucket_end(start, bucket) + dt.timedelta(days=1)
    return starts


def whole_months(since: dt.date, until: dt.date) -> int:
    """How many calendar months since..until covers exactly (0 when it is not whole
    months: it starts on another day than the 1st or ends before a month's last day)."""
    if since.day != 1 or until != _month_end(until) or until < since:
        return 0
    return (until.year - since.year) * 12 + until.month - since.month + 1


def previous_span(since: dt.date, until: dt.date) -> tuple[dt.date, dt.date]:
    """The span 环比 compares with. Whole months (so a quarter or a year, too): the same
    number of whole months just before (March → February, Q2 → Q1, 2025 → 2024). Any other
    span: the same number of days just before (1–15 March → 14–28 February)."""
    if months := whole_months(since, until):
        start = _add_months(since, -months)
        return start, since - dt.timedelta(days=1)
    days = (until - since).days + 1
    return since - dt.timedelta(days=days), since - dt.timedelta(days=1)


def _year_before(day: dt.date) -> dt.date:
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def year_ago_span(since: dt.date, until: dt.date) -> tuple[dt.date, dt.date]:
    """The span 同比 compares with: the same dates a year before (29 February → 28
    February); a span of whole months is the same whole months a year before (February
    2025, 1–28, → February 2024, 1–29)."""
    if whole_months(since, until):
        return _year_before(since), _month_end(_year_before(until.replace(day=1)))
    return _year_before(since), _year_before(until)


# -- changes -----------------------------------------------------------------------------

def change(metric: Metric, now: Value, before: Value) -> float | None:
    """The change of one metric: per cent for a count, points for a rate, hours for a
    time; None without a base."""
    if now is None or before is None:
        return None
    if metric.unit == "count":
        if not before:
            return None
        return round(100 * (now - before) / before, 2)
    return round(now - before, 2)


def changes(now: Mapping[str, Value], before: Mapping[str, Value] | None
            ) -> dict[str, float | None]:
    return {code: (change(METRIC_BY_CODE[code], v, before.get(code))
                   if before is not None else None)
            for code, v in now.items()}


# -- breakdowns --------------------------------------------------------------------------

@dataclass
class Row:
    key: int
    label: str
    counts: dict[str, int]
    values: dict[str, Value]
    mom: dict[str, float | None] = field(default_factory=dict)
    yoy: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Breakdown:
    query: Query
    rows: list[Row]
    total: Row
    #: the spans compared with (None when the breakdown was made without comparison)
    previous: tuple[dt.date, dt.date] | None = None
    year_ago: tuple[dt.date, dt.date] | None = None


def _check(scope: Scope, q: Query) -> None:
    check_breakdown(scope, q.by)
    if q.within is not None:
        check_grid(scope, q.within)
    if q.since > q.until:
        raise ValueError("since is after until")


def breakdown(scope: Scope, q: Query, *, compare: bool = True) -> Breakdown:
    """The rows of `q.by` within the scope (department staff: their own department's
    rows), sorted by 上报数 (most first) then label, and the scope's total row.
    PermissionDenied for a breakdown or grid outside the scope."""
    _check(scope, q)
    now = fig.figures(scope, q)
    total_now = dict(fig.totals(scope, q))
    before: dict[int, dict[str, int]] = {}
    ago: dict[int, dict[str, int]] = {}
    total_before = total_ago = None
    prev_span = ago_span = None
    if compare:
        prev_span = previous_span(q.since, q.until)
        ago_span = year_ago_span(q.since, q.until)
        q_prev = replace(q, since=prev_span[0], until=prev_span[1])
        q_ago = replace(q, since=ago_span[0], until=ago_span[1])
        before, ago = fig.figures(scope, q_prev), fig.figures(scope, q_ago)
        total_before = dict(fig.totals(scope, q_prev))
        total_ago = dict(fig.totals(scope, q_ago))
    names = fig.labels(q.by, now.keys())

    def row(key: int, label: str, counts: Mapping[str, int],
            prev: Mapping[str, int] | None, year: Mapping[str, int] | None) -> Row:
        values = evaluate(counts, q.by)
        r = Row(key, label, dict(counts), values)
        if compare:
            r.mom = changes(values, evaluate(prev or {}, q.by))
            r.yoy = changes(values, evaluate(year or {}, q.by))
        return r

    rows = [row(key, names.get(key, str(key)), counts, before.get(key), ago.get(key))
            for key, counts in now.items()]
    rows.sort(key=lambda r: (-r.counts.get("reported", 0), r.label, r.key))
    total = row(0, TOTAL_LABEL, total_now, total_before, total_ago)
    return Breakdown(q, rows, total, prev_span, ago_span)


def trend(scope: Scope, q: Query, bucket: Bucket) -> list[tuple[dt.date, dict[str, Value]]]:
    """The metrics of the whole scope (every key of `q.by` added up) per bucket of the
    span, each bucket by its first day, empty buckets included."""
    _check(scope, q)
    out = []
    for start, per_key in fig.series(scope, q, bucket):
        summed: dict[str, int] = {}
        for counts in per_key.values():
            add(summed, counts)
        out.append((start, evaluate(summed, q.by)))
    return out


# -- the download ------------------------------------------------------------------------

def table_metrics(by: Dim, metrics: Sequence[str] | None = None) -> list[Metric]:
    """The metrics a table of `by` shows: the given codes (in that order) that the
    breakdown has, or all of them."""
    if metrics is None:
        return [m for m in METRICS if by in m.dims]
    return [METRIC_BY_CODE[c] for c in metrics if c in METRIC_BY_CODE
            and by in METRIC_BY_CODE[c].dims]


def breakdown_table(b: Breakdown, metrics: Sequence[str] | None = None, *,
                    with_changes: bool = True) -> Table:
    """The breakdown as a table: the key's name, then per metric its value and (with
    changes) its 环比 and 同比; the total row last. Numbers stay numbers, "no value" is an
    empty cell."""
    q = b.query
    shown = table_metrics(q.by, metrics)
    changes_too = with_changes and b.previous is not None
    headers = [DIM_LABELS.get(q.by, q.by)]
    for m in shown:
        headers.append(m.name)
        if changes_too:
            unit = CHANGE_UNITS[m.unit]
            headers += [f"{m.name} 环比({unit})", f"{m.name} 同比({unit})"]
    table = Table(title=f"考核指标_按{DIM_LABELS.get(q.by, q.by)}_{q.since}_{q.until}",
                  headers=headers)
    for r in [*b.rows, b.total]:
        cells: list[str | int | float | None] = [r.label]
        for m in shown:
            cells.append(r.values.get(m.code))
            if changes_too:
                cells += [r.mom.get(m.code), r.yoy.get(m.code)]
        table.rows.append(cells)
    return table
