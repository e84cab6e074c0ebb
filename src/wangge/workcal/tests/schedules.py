"""The State Council's 2025 and 2026 holiday schedules, typed from its notices (published in
November 2024 and November 2025), and a naive day-by-day reference implementation of the
deadline rules to check the fast one against."""

from __future__ import annotations

import datetime as dt

from wangge.workcal.deadlines import SHANGHAI, WorkCalendar


def _days(first: str, last: str) -> list[dt.date]:
    a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]


def _d(*isos: str) -> list[dt.date]:
    return [dt.date.fromisoformat(s) for s in isos]


#: (holiday, the days off, the make-up working days)
OFFICIAL: dict[int, list[tuple[str, list[dt.date], list[dt.date]]]] = {
    2025: [
        ("元旦", _days("2025-01-01", "2025-01-01"), []),
        ("春节", _days("2025-01-28", "2025-02-04"), _d("2025-01-26", "2025-02-08")),
        ("清明节", _days("2025-04-04", "2025-04-06"), []),
        ("劳动节", _days("2025-05-01", "2025-05-05"), _d("2025-04-27")),
        ("端午节", _days("2025-05-31", "2025-06-02"), []),
        ("国庆节、中秋节", _days("2025-10-01", "2025-10-08"), _d("2025-09-28", "2025-10-11")),
    ],
    2026: [
        ("元旦", _days("2026-01-01", "2026-01-03"), _d("2026-01-04")),
        ("春节", _days("2026-02-15", "2026-02-23"), _d("2026-02-14", "2026-02-28")),
        ("清明节", _days("2026-04-04", "2026-04-06"), []),
        ("劳动节", _days("2026-05-01", "2026-05-05"), _d("2026-05-09")),
        ("端午节", _days("2026-06-19", "2026-06-21"), []),
        ("中秋节", _days("2026-09-25", "2026-09-27"), []),
        ("国庆节", _days("2026-10-01", "2026-10-07"), _d("2026-09-20", "2026-10-10")),
    ],
}

HOLIDAYS = {d for year in OFFICIAL.values() for _n, off, _m in year for d in off}
MAKEUP = {d for year in OFFICIAL.values() for _n, _o, work in year for d in work}
#: every day the notices name, off or worked
NAMED_DAYS = sorted(HOLIDAYS | MAKEUP)


def official_calendar() -> WorkCalendar:
    """A WorkCalendar of 2025–2026 built from the notices above alone (no package)."""
    exceptions = {d: False for d in HOLIDAYS} | {d: True for d in MAKEUP}
    return WorkCalendar(2025, 2026, exceptions)


# ---------------------------------------------------------------- naive reference


def naive_is_workday(day: dt.date) -> bool:
    if day in MAKEUP:
        return True
    if day in HOLIDAYS:
        return False
    return day.weekday() < 5


def naive_working_days(moment: dt.datetime, n: int) -> dt.datetime:
    """Walk forward one day at a time from the moment's (Shanghai) day, which never counts."""
    day = moment.astimezone(SHANGHAI).date()
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        counted += naive_is_workday(day)
    end = day + dt.timedelta(days=1)  # 24:00 of the n-th working day
    return dt.datetime(end.year, end.month, end.day, tzinfo=SHANGHAI)


OFFICE = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(14, 30), dt.time(17, 30)))


def naive_working_hours(moment: dt.datetime, hours: float) -> dt.datetime:
    """Walk the office periods of each working day from the moment on."""
    local = moment.astimezone(SHANGHAI)
    need = dt.timedelta(hours=hours)
    day = local.date()
    while True:
        if naive_is_workday(day):
            for start, end in OFFICE:
                a = max(dt.datetime.combine(day, start, SHANGHAI), local)
                b = dt.datetime.combine(day, end, SHANGHAI)
                if b <= a:
                    continue
                if b - a >= need:
                    return a + need
                need -= b - a
        day += dt.timedelta(days=1)
