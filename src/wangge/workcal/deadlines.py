"""Deadlines over China's working-day calendar: pure functions, no Django, no database.

The rules (docs/workcal.md has worked examples):

* ``working_days``: N working days from a moment end at 24:00 Asia/Shanghai of the N-th
  working day after the moment's day. The moment's own day never counts, whether it is a
  working day or not (as in Chinese statutory period counting). 24:00 of day D is returned
  as 00:00 of D+1.
* ``hours``: the moment plus N clock hours.
* ``natural_days``: the moment plus N days (the same clock time N days later).
* ``working_hours``: N hours of office time, counted only inside the office hours of
  working days, starting at the moment.

Working days are Monday–Friday, except the exceptions the State Council publishes each year:
holidays (a weekday off) and make-up working days (调休: a Saturday or Sunday worked).

A calendar covers whole years. A working-day or working-hour computation that needs the
status of a day in a year the calendar does not cover raises ``CalendarNotCovered(year)``:
the deadline is never guessed. Clock-time units (hours, natural days) need no calendar.

Speed: everything is precomputed per ordinal day (cumulative working-day counts, the list
of working days, the deadline instant of each working day), so one computation is a time
zone conversion and a few list reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_US_PER_DAY = 86_400_000_000


class Unit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    NATURAL_DAYS = "natural_days"
    WORKING_HOURS = "working_hours"


class CalendarNotCovered(Exception):
    """The computation needs a day of a year the working-day calendar does not cover."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"the working-day calendar does not cover {year}: enter the State Council's "
            f"{year} holiday schedule (wangge calendar import FILE, or the console)"
        )


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Office periods of a working day, as (start, end) microseconds after midnight."""

    periods: tuple[tuple[int, int], ...]
    per_day: int = field(init=False, repr=False, compare=False)  # office time of one day

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period")
        last = 0
        for start, end in self.periods:
            if not (last <= start < end <= _US_PER_DAY):
                raise ValueError("office periods must be ascending, disjoint and within a day")
            last = end
        object.__setattr__(self, "per_day", sum(end - start for start, end in self.periods))

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """``"08:30-12:00,14:30-17:30"`` → OfficeHours (24:00 allowed as an end)."""

        def us(hhmm: str) -> int:
            h, m = hhmm.strip().split(":")
            if not (0 <= int(h) <= 24 and 0 <= int(m) < 60):
                raise ValueError(f"bad time {hhmm!r}")
            return (int(h) * 60 + int(m)) * 60_000_000

        try:
            periods = tuple(
                (us(a), us(b)) for a, b in (p.split("-") for p in text.split(",") if p.strip())
            )
        except ValueError as e:
            raise ValueError(f"office hours {text!r}: expected HH:MM-HH:MM[,…] ({e})") from e
        return cls(periods)

    def used_before(self, tod: int) -> int:
        """Office time of one day that lies before time of day `tod`."""
        used = 0
        for start, end in self.periods:
            if tod <= start:
                break
            used += (tod if tod < end else end) - start
        return used

    def clock_at(self, office: int) -> int:
        """The time of day when `office` (0 < office <= per_day) of office time is used up;
        the end of a period rather than the start of the next one."""
        for start, end in self.periods:
            if office <= end - start:
                return start + office
            office -= end - start
        raise ValueError("more office time than one day has")


DEFAULT_OFFICE_HOURS = OfficeHours.parse("08:30-12:00,14:30-17:30")

_spans: dict[float, dt.timedelta] = {}


def _span(us: float) -> dt.timedelta:
    """timedelta(microseconds=us), memoised: building a timedelta costs more than the rest
    of a deadline, and clocks use a handful of amounts."""
    span = _spans.get(us)
    if span is None:
        span = dt.timedelta(microseconds=round(us))
        if len(_spans) < 4096:
            _spans[us] = span
    return span


def to_shanghai(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("moment must be an aware datetime (naive times are ambiguous)")
    return moment.astimezone(SHANGHAI)


class WorkCalendar:
    """The working days of the years first_year..last_year.

    `exceptions` maps a date to whether it is a working day, for the days that differ from
    the Monday–Friday rule (listing a day that agrees with it, such as a Saturday inside a
    holiday, is harmless). `missing_years` are years inside the range that are not covered.
    """

    def __init__(
        self,
        first_year: int,
        last_year: int,
        exceptions: Mapping[dt.date, bool],
        *,
        office_hours: OfficeHours = DEFAULT_OFFICE_HOURS,
        missing_years: Iterable[int] = (),
    ):
        if first_year > last_year:
            raise ValueError("first_year must not be after last_year")
        self.first_year, self.last_year = first_year, last_year
        self.office_hours = office_hours
        self.missing_years = frozenset(y for y in missing_years if first_year <= y <= last_year)
        self._base = dt.date(first_year, 1, 1).toordinal()
        self._n = dt.date(last_year, 12, 31).toordinal() - self._base + 1
        work = [dt.date.fromordinal(self._base + i).weekday() < 5 for i in range(self._n)]
        for day, is_workday in exceptions.items():
            i = day.toordinal() - self._base
            if not 0 <= i < self._n:
                raise ValueError(f"exception {day} lies outside {first_year}–{last_year}")
            work[i] = bool(is_workday)
        self._work = work
        # _count[i]: working days among offsets [0, i); _days[k]: offset of the k-th
        # working day; _ends[k]: its deadline instant, 24:00 (00:00 of the next day).
        self._count = [0] * (self._n + 1)
        self._days: list[int] = []
        for i, w in enumerate(work):
            self._count[i + 1] = self._count[i] + w
            if w:
                self._days.append(i)
        self._midnights = [self._midnight(i) for i in range(self._n + 1)]
        self._ends = [self._midnights[i + 1] for i in self._days]
        # _gap[i]: uncovered days among offsets [0, i); all zero without missing years
        self._gap = [0] * (self._n + 1)
        for i in range(self._n):
            uncovered = dt.date.fromordinal(self._base + i).year in self.missing_years
            self._gap[i + 1] = self._gap[i] + uncovered

    # ------------------------------------------------------------------ coverage

    def covers(self, day: dt.date) -> bool:
        return self.first_year <= day.year <= self.last_year and (
            day.year not in self.missing_years)

    def is_workday(self, day: dt.date) -> bool:
        if not self.covers(day):
            raise CalendarNotCovered(day.year)
        return self._work[day.toordinal() - self._base]

    def _check(self, lo: int, hi: int) -> None:
        """Raise unless every day of offsets lo..hi (inclusive) is covered; name the
        earliest year that is not."""
        if lo < 0:
            raise CalendarNotCovered(dt.date.fromordinal(self._base + lo).year)
        if self.missing_years and lo < self._n and (
                self._gap[min(hi, self._n - 1) + 1] - self._gap[lo]):
            first = dt.date.fromordinal(self._base + lo).year
            raise CalendarNotCovered(min(y for y in self.missing_years if y >= first))
        if hi >= self._n:
            raise CalendarNotCovered(dt.date.fromordinal(self._base + max(lo, self._n)).year)

    def _offset(self, moment: dt.datetime) -> int:
        if moment.tzinfo is None:
            to_shanghai(moment)  # raises
        return moment.astimezone(SHANGHAI).toordinal() - self._base

    def _midnight(self, offset: int) -> dt.datetime:
        d = dt.date.fromordinal(self._base + offset)
        return dt.datetime(d.year, d.month, d.day, tzinfo=SHANGHAI)

    # ------------------------------------------------------------------ units

    def add_working_days(self, moment: dt.datetime, n: int) -> dt.datetime:
        """24:00 of the n-th working day after the moment's day (n >= 1)."""
        if n < 1:
            raise ValueError("working days must be at least 1")
        d = self._offset(moment)
        if not -1 <= d < self._n:  # the moment's own day need not be covered
            self._check(d + 1, d + 1)
        k = self._count[d + 1] + n - 1
        if k >= len(self._days):
            self._check(d + 1, self._n)
        if self.missing_years:
            self._check(d + 1, self._days[k])
        return self._ends[k]

    # Asia/Shanghai has had no daylight saving since 1991, so adding to a Shanghai time is
    # adding elapsed time: N days are N × 24 hours.

    def add_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        return to_shanghai(moment) + _span(hours * 3_600_000_000)

    def add_natural_days(self, moment: dt.datetime, n: int) -> dt.datetime:
        return to_shanghai(moment) + dt.timedelta(days=n)  # cheap with an int, unlike hours

    def add_working_hours(
        self, moment: dt.datetime, hours: float, office_hours: OfficeHours | None = None
    ) -> dt.datetime:
        """The moment when `hours` of office time have passed since the moment."""
        oh = office_hours or self.office_hours
        need = round(hours * 3_600_000_000)
        if need <= 0:
            raise ValueError("working hours must be positive")
        local = to_shanghai(moment)
        d = local.toordinal() - self._base
        if not 0 <= d < self._n or self.missing_years:  # the moment's own day counts here
            self._check(d, d)
        if self._work[d]:
            tod = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
            used = oh.used_before(tod + local.microsecond)
            if need <= oh.per_day - used:
                return self._at(d, oh.clock_at(used + need))
            need -= oh.per_day - used
        full, rest = divmod(need, oh.per_day)
        k = self._count[d + 1] + full - (rest == 0)
        if k >= len(self._days):
            self._check(d + 1, self._n)
        if self.missing_years:
            self._check(d + 1, self._days[k])
        return self._at(self._days[k], oh.clock_at(rest or oh.per_day))

    def _at(self, offset: int, tod_us: int) -> dt.datetime:
        return self._midnights[offset] + _span(tod_us)

    def deadline(
        self,
        moment: dt.datetime,
        amount: float,
        unit: str,
        office_hours: OfficeHours | None = None,
    ) -> dt.datetime:
        """The deadline of a clock of `amount` `unit`s started at `moment`, aware, in
        Asia/Shanghai. Day units need a whole number."""
        # Plain string comparisons, most frequent unit first: this is the hot path.
        if unit == "working_days":
            n = int(amount)
            if n != amount:
                raise ValueError("working days must be a whole number")
            return self.add_working_days(moment, n)
        if unit == "hours":
            if amount <= 0:
                raise ValueError("hours must be positive")
            return self.add_hours(moment, amount)
        if unit == "working_hours":
            return self.add_working_hours(moment, amount, office_hours)
        if unit == "natural_days":
            n = int(amount)
            if n != amount or n < 1:
                raise ValueError("natural days must be a whole number, at least 1")
            return self.add_natural_days(moment, n)
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(Unit)}")

    # ------------------------------------------------------------------ counting

    def working_days_between(self, a: dt.datetime, b: dt.datetime) -> int:
        """Working days strictly between a's day and b's day (negative when b is earlier).

        For a deadline from add_working_days(a, n), this is n; with a = now it is the
        number of whole working days left after today.
        """
        x, y = self._offset(a), self._offset(b)
        lo, hi = min(x, y), max(x, y)
        if hi - lo <= 1:
            return 0
        if lo + 1 < 0 or hi - 1 >= self._n or self.missing_years:
            self._check(lo + 1, hi - 1)
        count = self._count[hi] - self._count[lo + 1]
        return count if y > x else -count

    def working_minutes_between(self, a: dt.datetime, b: dt.datetime) -> int:
        """Whole minutes of office time on working days from moment a to moment b (0 when
        b is not after a). Every day from a's to b's must be covered."""
        if b <= a:
            return 0
        oh = self.office_hours
        x, y = self._offset(a), self._offset(b)
        self._check(x, y)

        def used(moment: dt.datetime, d: int) -> int:  # office time before it since day 0
            local = to_shanghai(moment)
            before = self._count[d] * oh.per_day
            if not self._work[d]:
                return before
            tod = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000
            return before + oh.used_before(tod + local.microsecond)

        return (used(b, y) - used(a, x)) // 60_000_000

    def working_days_in_year(self, year: int) -> int:
        if not self.covers(dt.date(year, 1, 1)):
            raise CalendarNotCovered(year)
        start = dt.date(year, 1, 1).toordinal() - self._base
        end = dt.date(year, 12, 31).toordinal() - self._base + 1
        return self._count[end] - self._count[start]
