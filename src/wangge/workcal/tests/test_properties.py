"""Properties of the deadline functions over random moments in 2025–2026, checked against a
naive day-by-day reference on the official schedules."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.workcal.deadlines import SHANGHAI
from wangge.workcal.tests.schedules import (
    naive_is_workday,
    naive_working_days,
    naive_working_hours,
    official_calendar,
)

CAL = official_calendar()
# late enough in 2026 that 20 working days still end inside the covered years
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 11, 30, 23, 59),
    timezones=st.sampled_from([SHANGHAI, dt.UTC, dt.timezone(dt.timedelta(hours=-5))]),
).filter(lambda m: dt.datetime(2025, 1, 1, tzinfo=SHANGHAI) <= m)
days = st.integers(min_value=1, max_value=20)
# whole minutes of office time, up to three weeks' worth
minutes = st.integers(min_value=1, max_value=20 * 390).map(lambda m: m / 60)

PROPS = settings(max_examples=400, deadline=None)


@PROPS
@given(moments, days)
def test_working_days_match_the_naive_reference(moment: dt.datetime, n: int) -> None:
    assert CAL.add_working_days(moment, n) == naive_working_days(moment, n)


@PROPS
@given(moments, days)
def test_the_deadline_is_after_the_moment_and_ends_a_working_day(
        moment: dt.datetime, n: int) -> None:
    due = CAL.add_working_days(moment, n)
    assert due > moment
    assert due.tzinfo is SHANGHAI and due.time() == dt.time(0)
    last_day = due.date() - dt.timedelta(days=1)
    assert CAL.is_workday(last_day) and naive_is_workday(last_day)


@PROPS
@given(moments, days)
def test_counting_back_gives_n(moment: dt.datetime, n: int) -> None:
    assert CAL.working_days_between(moment, CAL.add_working_days(moment, n)) == n


@PROPS
@given(moments, days)
def test_monotone_in_n(moment: dt.datetime, n: int) -> None:
    assert CAL.add_working_days(moment, n) < CAL.add_working_days(moment, n + 1)
    assert CAL.add_working_hours(moment, n) < CAL.add_working_hours(moment, n + 0.5)


@PROPS
@given(moments, moments, days)
def test_monotone_in_the_moment(a: dt.datetime, b: dt.datetime, n: int) -> None:
    a, b = min(a, b), max(a, b)
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)
    assert CAL.add_working_hours(a, n) <= CAL.add_working_hours(b, n)
    assert CAL.add_hours(a, n) <= CAL.add_hours(b, n)


@PROPS
@given(moments, minutes)
def test_working_hours_match_the_naive_reference(moment: dt.datetime, hours: float) -> None:
    assert CAL.add_working_hours(moment, hours) == naive_working_hours(moment, hours)


@PROPS
@given(moments, st.floats(min_value=0.25, max_value=500), days)
def test_clock_time_units(moment: dt.datetime, hours: float, n: int) -> None:
    # Within a microsecond: hours * 3.6e9 is rounded half to even (38.69547963375 h is
    # exactly ...681.5 µs), while timedelta(hours=) splits the float its own way.
    gap = CAL.add_hours(moment, hours) - moment - dt.timedelta(hours=hours)
    assert abs(gap) <= dt.timedelta(microseconds=1)
    assert CAL.add_natural_days(moment, n) - moment == dt.timedelta(days=n)
