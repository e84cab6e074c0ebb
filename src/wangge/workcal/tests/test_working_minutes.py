"""WorkCalendar.working_minutes_between: office time on working days between two moments."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wangge.workcal.deadlines import SHANGHAI, CalendarNotCovered, WorkCalendar

# 2025: 1 October (Wednesday) is a holiday, Saturday 11 October a make-up working day
CAL = WorkCalendar(2025, 2025, {dt.date(2025, 10, 1): False, dt.date(2025, 10, 11): True})


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


def test_worked_examples() -> None:
    # office hours 08:30-12:00, 14:30-17:30 (6.5 h = 390 min a working day)
    assert CAL.working_minutes_between(at(2, 9), at(2, 11)) == 120
    assert CAL.working_minutes_between(at(2, 11), at(2, 15)) == 60 + 30  # lunch left out
    assert CAL.working_minutes_between(at(2, 7), at(2, 20)) == 390
    # Tuesday 30 Sep 17:00 → Thursday 2 Oct 09:00: 30 min, the holiday, 30 min
    assert CAL.working_minutes_between(at(30, 17, month=9), at(2, 9)) == 60
    # Friday 10 Oct 17:00 → Monday 13 Oct 09:00: the make-up Saturday counts whole
    assert CAL.working_minutes_between(at(10, 17), at(13, 9)) == 30 + 390 + 30
    # a Sunday alone: nothing; backwards or equal: nothing
    assert CAL.working_minutes_between(at(12, 9), at(12, 16)) == 0
    assert CAL.working_minutes_between(at(2, 11), at(2, 9)) == 0


def test_a_year_not_covered_is_named() -> None:
    with pytest.raises(CalendarNotCovered) as e:
        CAL.working_minutes_between(at(30, 9, month=12), dt.datetime(2026, 1, 5, 9,
                                                                     tzinfo=SHANGHAI))
    assert e.value.year == 2026


MOMENTS = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 12, 31,
                                                                                23, 59))


@given(a=MOMENTS, b=MOMENTS, c=MOMENTS)
def test_additive_and_bounded(a: dt.datetime, b: dt.datetime, c: dt.datetime) -> None:
    a, b, c = sorted(x.replace(tzinfo=SHANGHAI) for x in (a, b, c))
    ab, bc, ac = (CAL.working_minutes_between(x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert 0 <= ab <= (b - a).total_seconds() / 60
    assert ac - 1 <= ab + bc <= ac  # whole minutes: each part may lose under one


@given(start=MOMENTS, hours=st.integers(1, 200))
def test_inverse_of_add_working_hours(start: dt.datetime, hours: int) -> None:
    start = start.replace(tzinfo=SHANGHAI, second=0, microsecond=0)
    try:
        end = CAL.add_working_hours(start, hours)
    except CalendarNotCovered:
        return
    assert CAL.working_minutes_between(start, end) == hours * 60
