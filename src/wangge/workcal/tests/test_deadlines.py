"""The deadline rules on the official 2025–2026 schedules, worked by hand (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.workcal.deadlines import (
    SHANGHAI,
    CalendarNotCovered,
    OfficeHours,
    WorkCalendar,
)
from wangge.workcal.tests.schedules import official_calendar

CAL = official_calendar()
UTC = dt.UTC


def sh(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


# (moment, N working days, the deadline): 24:00 of the N-th working day after the day
WORKING_DAYS = [
    # 2026 National Day: Oct 1–7 off, Sat Oct 10 worked
    ("2026-09-30T16:00", 7, "2026-10-16T00:00"),  # Oct 8, 9, 10(Sat), 12, 13, 14, 15
    ("2026-09-30T16:00", 3, "2026-10-11T00:00"),  # Oct 8, 9, 10(Sat)
    ("2026-10-01T09:00", 1, "2026-10-09T00:00"),  # on a holiday: the first day is Oct 8
    ("2026-09-18T10:00", 1, "2026-09-21T00:00"),  # Fri → Sun Sep 20 (worked)
    ("2026-09-20T10:00", 1, "2026-09-22T00:00"),  # on the make-up Sunday: it does not count
    ("2026-09-24T10:00", 1, "2026-09-29T00:00"),  # Mid-Autumn Sep 25–27 → Mon Sep 28
    ("2026-09-19T11:00", 7, "2026-09-30T00:00"),  # Sun 20, 21–24, (25–27 off), 28, 29
    ("2026-10-09T17:00", 7, "2026-10-20T00:00"),  # Sat 10, 12–16, 19
    # 2026 Spring Festival: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked
    ("2026-02-13T10:00", 7, "2026-03-03T00:00"),  # 14(Sat), 24, 25, 26, 27, 28(Sat), Mar 2
    ("2026-02-13T10:00", 3, "2026-02-26T00:00"),  # 14(Sat), 24, 25
    ("2026-02-14T09:00", 7, "2026-03-04T00:00"),  # the make-up Saturday itself: not counted
    ("2026-02-22T09:00", 1, "2026-02-25T00:00"),
    ("2026-02-15T20:00", 3, "2026-02-27T00:00"),  # from a holiday: Feb 24, 25, 26
    # 2026 New Year: Jan 1–3 off, Sun Jan 4 worked
    ("2025-12-31T17:00", 1, "2026-01-05T00:00"),
    # 2026 Labour Day: May 1–5 off, Sat May 9 worked
    ("2026-04-30T12:00", 3, "2026-05-09T00:00"),  # May 6, 7, 8
    ("2026-04-30T12:00", 4, "2026-05-10T00:00"),  # … and Sat May 9
    # 2025 Spring Festival: Jan 28–Feb 4 off, Sun Jan 26 and Sat Feb 8 worked
    ("2025-01-24T16:00", 7, "2025-02-11T00:00"),  # 26(Sun), 27, Feb 5, 6, 7, 8(Sat), 10
    # 2025 National Day and Mid-Autumn: Oct 1–8 off, Sun Sep 28 and Sat Oct 11 worked
    ("2025-09-26T16:00", 7, "2025-10-14T00:00"),  # 28(Sun), 29, 30, Oct 9, 10, 11(Sat), 13
    ("2025-09-30T16:00", 3, "2025-10-12T00:00"),  # Oct 9, 10, 11(Sat)
    # the year's end needs nothing of the next year: 24:00 of Dec 31 is Jan 1 00:00
    ("2026-12-22T09:00", 7, "2027-01-01T00:00"),
]


@pytest.mark.parametrize(("at", "n", "due"), WORKING_DAYS)
def test_working_days(at: str, n: int, due: str) -> None:
    assert CAL.add_working_days(sh(at), n) == sh(due)
    assert CAL.deadline(sh(at), n, "working_days") == sh(due)


def test_the_day_boundary_is_shanghai_midnight() -> None:
    # 15:59 UTC is 23:59 on Fri Feb 13 in Shanghai; 16:00 UTC is already Sat Feb 14
    assert CAL.add_working_days(dt.datetime(2026, 2, 13, 15, 59, tzinfo=UTC), 7) == sh(
        "2026-03-03T00:00")
    assert CAL.add_working_days(dt.datetime(2026, 2, 13, 16, 0, tzinfo=UTC), 7) == sh(
        "2026-03-04T00:00")


def test_results_are_aware_shanghai_times() -> None:
    due = CAL.deadline(dt.datetime(2026, 9, 30, 8, tzinfo=UTC), 7, "working_days")
    assert due.tzinfo is SHANGHAI and due.isoformat() == "2026-10-16T00:00:00+08:00"
    assert CAL.deadline(dt.datetime(2026, 9, 30, 8, tzinfo=UTC), 24, "hours").isoformat() == (
        "2026-10-01T16:00:00+08:00")


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_days(dt.datetime(2026, 9, 30, 16), 7)
    with pytest.raises(ValueError, match="aware"):
        CAL.add_hours(dt.datetime(2026, 9, 30, 16), 24)


def test_hours_and_natural_days_are_clock_time_across_holidays() -> None:
    assert CAL.add_hours(sh("2026-09-30T16:00"), 24) == sh("2026-10-01T16:00")
    assert CAL.add_hours(sh("2026-02-14T09:30"), 1.5) == sh("2026-02-14T11:00")
    assert CAL.add_natural_days(sh("2026-09-30T16:00"), 7) == sh("2026-10-07T16:00")
    assert CAL.deadline(sh("2026-09-30T16:00"), 7, "natural_days") == sh("2026-10-07T16:00")


WORKING_HOURS = [
    # office hours 08:30–12:00 and 14:30–17:30: 6.5 h a day
    ("2026-09-30T16:00", 8, "2026-10-08T17:30"),  # 1.5 h on Sep 30, 6.5 h on Oct 8
    ("2026-10-01T10:00", 2, "2026-10-08T10:30"),  # from a holiday: office opens Oct 8
    ("2026-09-29T12:30", 1, "2026-09-29T15:30"),  # lunch does not count
    ("2026-09-29T08:30", 3.5, "2026-09-29T12:00"),  # ends at 12:00, not at 14:30
    ("2026-09-29T17:30", 6.5, "2026-09-30T17:30"),  # a whole office day
    ("2026-10-09T17:00", 1, "2026-10-10T09:00"),  # into the make-up Saturday
    ("2026-02-13T06:00", 10, "2026-02-14T12:00"),  # 6.5 h on Fri, 3.5 h on the make-up Sat
    ("2026-02-13T06:00", 14.5, "2026-02-24T10:00"),  # … then over Spring Festival
]


@pytest.mark.parametrize(("at", "hours", "due"), WORKING_HOURS)
def test_working_hours(at: str, hours: float, due: str) -> None:
    assert CAL.add_working_hours(sh(at), hours) == sh(due)


def test_configurable_office_hours() -> None:
    summer = OfficeHours.parse("08:00-12:00,15:00-18:00")
    assert summer.per_day == 7 * 3600 * 10**6
    assert CAL.add_working_hours(sh("2026-09-29T11:00"), 2, summer) == sh("2026-09-29T16:00")
    assert CAL.deadline(sh("2026-09-29T11:00"), 2, "working_hours", summer) == sh(
        "2026-09-29T16:00")
    with pytest.raises(ValueError, match="HH:MM"):
        OfficeHours.parse("8-12")
    with pytest.raises(ValueError):
        OfficeHours.parse("14:00-12:00")


def test_bad_amounts_and_units() -> None:
    m = sh("2026-09-30T16:00")
    for amount, unit in [(0, "working_days"), (1.5, "working_days"), (0, "hours"),
                         (-2, "working_hours"), (2.5, "natural_days")]:
        with pytest.raises(ValueError):
            CAL.deadline(m, amount, unit)
    with pytest.raises(ValueError, match="unknown unit"):
        CAL.deadline(m, 1, "fortnights")


def test_working_days_between() -> None:
    a = sh("2026-09-30T16:00")
    assert CAL.working_days_between(a, sh("2026-10-16T00:00")) == 7
    assert CAL.working_days_between(sh("2026-10-16T00:00"), a) == -7
    assert CAL.working_days_between(a, sh("2026-09-30T23:00")) == 0
    # Mon 10:00 → Thu 15:00: Tue and Wed are the whole working days in between
    assert CAL.working_days_between(sh("2026-09-14T10:00"), sh("2026-09-17T15:00")) == 2


def test_year_counts() -> None:
    assert CAL.working_days_in_year(2025) == 248
    assert CAL.working_days_in_year(2026) == 248


# ---------------------------------------------------------------- coverage


def test_a_year_not_covered_is_an_error_naming_it() -> None:
    with pytest.raises(CalendarNotCovered, match="2027") as e:
        CAL.add_working_days(sh("2026-12-24T10:00"), 7)  # Dec 25, 28–31, then 2027
    assert e.value.year == 2027
    with pytest.raises(CalendarNotCovered, match="2024"):
        CAL.add_working_days(sh("2024-06-03T10:00"), 1)
    with pytest.raises(CalendarNotCovered, match="2030"):
        CAL.add_working_days(sh("2030-06-03T10:00"), 1)
    with pytest.raises(CalendarNotCovered, match="2027"):
        CAL.is_workday(dt.date(2027, 1, 4))
    with pytest.raises(CalendarNotCovered, match="2027"):
        CAL.add_working_hours(sh("2026-12-31T17:00"), 2)
    with pytest.raises(CalendarNotCovered, match="2027"):
        CAL.working_days_between(sh("2026-12-30T10:00"), sh("2027-01-05T10:00"))


def test_only_the_days_counted_must_be_covered() -> None:
    # Dec 31, 2024 is not covered, but counting starts on Jan 1, 2025
    assert CAL.add_working_days(sh("2024-12-31T20:00"), 1) == sh("2025-01-03T00:00")
    assert CAL.covers(dt.date(2025, 1, 1)) and not CAL.covers(dt.date(2024, 12, 31))


def test_clock_time_units_need_no_calendar() -> None:
    assert CAL.add_hours(sh("2030-01-01T00:00"), 24) == sh("2030-01-02T00:00")
    assert CAL.deadline(sh("2030-01-01T00:00"), 3, "natural_days") == sh("2030-01-04T00:00")


def test_a_gap_year_in_the_middle_is_not_covered() -> None:
    cal = WorkCalendar(2024, 2026, {dt.date(2026, 1, 1): False}, missing_years={2025})
    assert not cal.covers(dt.date(2025, 3, 3))
    with pytest.raises(CalendarNotCovered, match="2025"):
        cal.add_working_days(sh("2024-12-30T10:00"), 7)
    with pytest.raises(CalendarNotCovered, match="2025"):
        cal.add_working_days(sh("2025-06-01T10:00"), 1)
    with pytest.raises(CalendarNotCovered, match="2025"):
        cal.working_days_between(sh("2024-12-30T10:00"), sh("2026-01-05T10:00"))
    # the moment's own day (Dec 31, 2025) is not counted, so 2026 alone answers
    assert cal.add_working_days(sh("2025-12-31T10:00"), 1) == sh("2026-01-03T00:00")
    assert cal.add_working_days(sh("2024-12-02T10:00"), 1) == sh("2024-12-04T00:00")


def test_exceptions_outside_the_years_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        WorkCalendar(2025, 2026, {dt.date(2027, 1, 1): False})
