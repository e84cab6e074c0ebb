"""The calendar every database gets (seeded from chinesecalendar by the data migration)
matches the State Council's 2025 and 2026 notices day for day."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.workcal import calendar
from wangge.workcal.models import CalendarDay, CalendarYear
from wangge.workcal.seed import package_days, package_years
from wangge.workcal.tests.schedules import HOLIDAYS, MAKEUP, OFFICIAL, official_calendar

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("year", [2025, 2026])
def test_stored_days_are_the_official_schedule(year: int) -> None:
    rows = CalendarDay.objects.filter(date__year=year)
    assert {r.date for r in rows if not r.is_workday} == {d for d in HOLIDAYS if d.year == year}
    assert {r.date for r in rows if r.is_workday} == {d for d in MAKEUP if d.year == year}
    assert all(r.kind == ("makeup" if r.is_workday else "holiday") for r in rows)


@pytest.mark.parametrize("year", [2025, 2026])
def test_holiday_names_are_chinese(year: int) -> None:
    names = dict(CalendarDay.objects.filter(date__year=year).values_list("date", "name"))
    for holiday, off, work in OFFICIAL[year]:
        for day in off + work:
            # 2025's National Day and Mid-Autumn share one break; the package names each day
            assert names[day] in holiday or names[day] in {"国庆节", "中秋节"}, day


def test_every_package_year_from_2020_is_covered() -> None:
    covered = set(CalendarYear.objects.filter(covered=True).values_list("year", flat=True))
    assert set(range(2020, 2027)) <= covered
    assert set(package_years()) <= covered


def test_the_loaded_calendar_agrees_with_the_notices_every_day() -> None:
    cal, ref = calendar.current(), official_calendar()
    day = dt.date(2025, 1, 1)
    while day.year < 2027:
        assert cal.is_workday(day) == ref.is_workday(day), day
        day += dt.timedelta(days=1)


def test_package_data_is_the_notices() -> None:
    """Trust, but check: the package's 2025–2026 days are exactly the notices'."""
    rows = package_days([2025, 2026])
    assert {r.date for r in rows if not r.is_workday} == HOLIDAYS
    assert {r.date for r in rows if r.is_workday} == MAKEUP
