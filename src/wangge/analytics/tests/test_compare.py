"""Breakdowns, 环比 and 同比: the spans compared with (whole months against whole months,
any other span against the same number of days before; a year ago with 29 February on
28 February), the change of a count, a rate and a time, and the breakdown over the demo
city (rows and total agree with analytics.figures; department staff get their own row)."""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from dataclasses import replace

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from wangge.analytics import figures as fig
from wangge.analytics.access import Scope, analytics_scope
from wangge.analytics.compare import (
    BUCKET_LABELS,
    breakdown,
    breakdown_table,
    bucket_end,
    bucket_start,
    buckets,
    change,
    previous_span,
    trend,
    year_ago_span,
)
from wangge.analytics.figures import Query
from wangge.analytics.metrics import BUCKETS, METRIC_BY_CODE, evaluate
from wangge.territory.models import Grid

days = st.dates(dt.date(2001, 1, 1), dt.date(2098, 12, 31))
months = st.tuples(st.integers(2001, 2098), st.integers(1, 12))


def month_span(year: int, month: int, n: int = 1) -> tuple[dt.date, dt.date]:
    end_index = year * 12 + month - 1 + n - 1
    ey, em = divmod(end_index, 12)
    return dt.date(year, month, 1), dt.date(ey, em + 1, calendar.monthrange(ey, em + 1)[1])


# -- spans (no database) ------------------------------------------------------------------

@given(days, st.sampled_from(BUCKETS))
def test_a_bucket_holds_its_day_and_the_next_starts_the_day_after(
        day: dt.date, bucket: str) -> None:
    start = bucket_start(day, bucket)  # type: ignore[arg-type]
    end = bucket_end(start, bucket)  # type: ignore[arg-type]
    assert start <= day <= end
    assert bucket_start(end + dt.timedelta(days=1), bucket) == end + dt.timedelta(days=1)  # type: ignore[arg-type]
    if bucket == "week":
        assert start.weekday() == 0 and (end - start).days == 6
    if bucket in ("month", "quarter", "year"):
        assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if bucket == "quarter":
        assert start.month in (1, 4, 7, 10)


@given(days, st.integers(0, 400), st.sampled_from(BUCKETS))
def test_the_buckets_of_a_span_tile_it(since: dt.date, length: int, bucket: str) -> None:
    until = since + dt.timedelta(days=length)
    starts = buckets(since, until, bucket)  # type: ignore[arg-type]
    assert starts[0] <= since <= bucket_end(starts[-1], bucket) and starts[-1] <= until  # type: ignore[arg-type]
    for a, b in itertools.pairwise(starts):
        assert bucket_end(a, bucket) + dt.timedelta(days=1) == b  # type: ignore[arg-type]


@given(months)
def test_the_previous_span_of_a_whole_month_is_the_previous_whole_month(ym: tuple) -> None:  # type: ignore[type-arg]
    since, until = month_span(*ym)
    prev = previous_span(since, until)
    before = since - dt.timedelta(days=1)
    assert prev == month_span(before.year, before.month)


@given(st.integers(2001, 2098), st.integers(0, 3))
def test_a_quarter_is_compared_with_the_previous_quarter_and_a_year_with_the_year_before(
        year: int, q: int) -> None:
    since, until = month_span(year, 3 * q + 1, 3)
    prev = previous_span(since, until)
    assert prev == (bucket_start(since - dt.timedelta(days=1), "quarter"),
                    since - dt.timedelta(days=1))
    assert previous_span(dt.date(year, 1, 1), dt.date(year, 12, 31)) == (
        dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31))


@given(days, st.integers(0, 200))
def test_any_other_span_is_compared_with_as_many_days_just_before(
        since: dt.date, length: int) -> None:
    until = since + dt.timedelta(days=length)
    prev = previous_span(since, until)
    assert prev[1] == since - dt.timedelta(days=1)
    if since.day != 1 or (until + dt.timedelta(days=1)).day != 1:  # not whole months
        assert (prev[1] - prev[0]).days == length


def test_month_to_date_is_compared_with_the_days_before() -> None:
    assert previous_span(dt.date(2026, 3, 1), dt.date(2026, 3, 15)) == (
        dt.date(2026, 2, 14), dt.date(2026, 2, 28))
    assert previous_span(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (
        dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_a_year_ago_of_a_leap_day_is_the_28th_of_february() -> None:
    leap = dt.date(2024, 2, 29)
    assert year_ago_span(leap, leap) == (dt.date(2023, 2, 28), dt.date(2023, 2, 28))
    assert year_ago_span(dt.date(2024, 2, 10), leap) == (
        dt.date(2023, 2, 10), dt.date(2023, 2, 28))
    # a whole February is the whole February before, leap or not
    assert year_ago_span(*month_span(2025, 2)) == month_span(2024, 2)
    assert year_ago_span(*month_span(2024, 2)) == month_span(2023, 2)


@given(days, st.integers(0, 400))
def test_a_year_ago_is_the_same_dates_a_year_before(since: dt.date, length: int) -> None:
    until = since + dt.timedelta(days=length)
    a, b = year_ago_span(since, until)
    assert a <= b and a.year == since.year - 1 and b.year == until.year - 1
    assert (a.month, a.day) == (since.month, min(since.day, 28 if since.month == 2 else 31))
    if (since.month, since.day) != (2, 29) and (until.month, until.day) != (2, 29):
        assert (b.month, b.day) == (until.month, until.day) or (b + dt.timedelta(days=1)).day == 1


def test_a_change_is_per_cent_of_a_count_points_of_a_rate_hours_of_a_time() -> None:
    reported, rate, hours = (METRIC_BY_CODE[c] for c in
                             ("reported", "on_time_close_rate", "avg_handling_hours"))
    assert change(reported, 120, 100) == 20.0
    assert change(reported, 50, 200) == -75.0
    assert change(reported, 5, 0) is None  # no base
    assert change(rate, 92.5, 90.0) == 2.5
    assert change(rate, None, 90.0) is None and change(rate, 90.0, None) is None
    assert change(hours, 10.25, 12.0) == -1.75


# -- over the demo city -------------------------------------------------------------------

TODAY = timezone.localdate()
SPAN = (TODAY - dt.timedelta(days=120), TODAY)
EVERYTHING = Scope(None, None)


@pytest.mark.django_db
def test_a_breakdown_agrees_with_the_figures_it_compares() -> None:
    q = Query(by="department", since=SPAN[0], until=SPAN[1])
    b = breakdown(EVERYTHING, q)
    now = fig.figures(EVERYTHING, q)
    assert {r.key for r in b.rows} == set(now)
    assert len(b.rows) > 3
    reported = [r.counts.get("reported", 0) for r in b.rows]
    assert reported == sorted(reported, reverse=True)
    assert b.total.counts == fig.totals(EVERYTHING, q)
    assert b.total.values == evaluate(b.total.counts, "department")
    assert b.previous == previous_span(*SPAN) and b.year_ago == year_ago_span(*SPAN)
    prev = fig.figures(EVERYTHING, replace(q, since=b.previous[0], until=b.previous[1]))
    for r in b.rows:
        assert r.values == evaluate(now[r.key], "department")
        before = evaluate(prev.get(r.key, {}), "department")
        for code, v in r.values.items():
            assert r.mom[code] == change(METRIC_BY_CODE[code], v, before[code])
    # the demo's year of cases has a previous 120 days, so some changes are numbers
    assert any(v is not None for r in b.rows for v in r.mom.values())
    plain = breakdown(EVERYTHING, q, compare=False)
    assert plain.previous is None and all(r.mom == {} for r in plain.rows)


@pytest.mark.django_db
def test_a_workstation_breaks_down_its_own_grids_only() -> None:
    user = get_user_model().objects.get(username="station")
    scope = analytics_scope(user)
    b = breakdown(scope, Query(by="grid", since=SPAN[0], until=SPAN[1]))
    grids = Grid.objects.filter(pk__in=[r.key for r in b.rows])
    assert grids.exists()
    assert all(scope.covers(g) for g in grids)
    far = next(g for g in Grid.objects.filter(level=2) if not scope.covers(g))
    with pytest.raises(PermissionDenied):
        breakdown(scope, Query(by="grid", since=SPAN[0], until=SPAN[1], within=far))


@pytest.mark.django_db
def test_department_staff_get_their_own_row_and_no_other_breakdown() -> None:
    user = get_user_model().objects.get(username="water")
    scope = analytics_scope(user)
    b = breakdown(scope, Query(by="department", since=SPAN[0], until=SPAN[1]))
    assert {r.key for r in b.rows} <= set(scope.departments or ())
    assert b.rows and b.total.counts == b.rows[0].counts
    for by in ("grid", "category", "channel", "worker"):
        with pytest.raises(PermissionDenied):
            breakdown(scope, Query(by=by, since=SPAN[0], until=SPAN[1]))  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_trend_adds_up_to_the_span() -> None:
    q = Query(by="channel", since=SPAN[0], until=SPAN[1])
    points = trend(EVERYTHING, q, "month")
    assert [start for start, _v in points] == buckets(SPAN[0], SPAN[1], "month")
    assert sum(v["reported"] or 0 for _s, v in points) == fig.totals(EVERYTHING, q).get(
        "reported", 0)
    assert "month" in BUCKET_LABELS


@pytest.mark.django_db
def test_the_table_is_the_breakdown_with_its_changes_and_total() -> None:
    b = breakdown(EVERYTHING, Query(by="category", since=SPAN[0], until=SPAN[1]))
    t = breakdown_table(b, ["reported", "on_time_close_rate"])
    assert t.headers == ["事件分类", "上报数", "上报数 环比(%)", "上报数 同比(%)",
                         "按期结案率", "按期结案率 环比(百分点)", "按期结案率 同比(百分点)"]
    assert len(t.rows) == len(b.rows) + 1 and t.rows[-1][0] == "合计"
    first = b.rows[0]
    assert t.rows[0] == [first.label, first.values["reported"], first.mom["reported"],
                         first.yoy["reported"], first.values["on_time_close_rate"],
                         first.mom["on_time_close_rate"], first.yoy["on_time_close_rate"]]
    bare = breakdown_table(b, with_changes=False)
    assert not any("环比" in h for h in bare.headers)
    assert "走访人次" not in bare.headers  # a field-work metric has no category
