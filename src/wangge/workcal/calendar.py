"""The process-wide WorkCalendar, rebuilt when the calendar's version stamp changes.

Each call reads the one-row stamp (a primary-key read); when another process has edited
the calendar, this process rebuilds before answering (a few milliseconds for ten years).
"""

from __future__ import annotations

import datetime as dt
import threading

from django.conf import settings
from django.utils import timezone

from wangge.workcal.deadlines import DEFAULT_OFFICE_HOURS, OfficeHours, WorkCalendar
from wangge.workcal.models import CalendarDay, CalendarState, CalendarYear

_lock = threading.Lock()
_cached: tuple[str, WorkCalendar] | None = None


def _stamp() -> str:
    return CalendarState.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


def office_hours() -> OfficeHours:
    text = getattr(settings, "WANGGE_OFFICE_HOURS", "")
    return OfficeHours.parse(text) if text else DEFAULT_OFFICE_HOURS


def current() -> WorkCalendar:
    """The calendar as stored now."""
    global _cached
    stamp = _stamp()
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        if _cached is None or _cached[0] != stamp:
            _cached = (stamp, build())
        return _cached[1]


def build() -> WorkCalendar:
    """A WorkCalendar over the covered years. Years between them that are not covered stay
    uncovered; with no covered year at all, every working-day question raises."""
    covered = set(CalendarYear.objects.filter(covered=True).values_list("year", flat=True))
    if not covered:
        # One empty, uncovered year: every question then names the year it needs.
        this_year = timezone.localdate().year
        return WorkCalendar(this_year, this_year, {}, office_hours=office_hours(),
                            missing_years={this_year})
    first, last = min(covered), max(covered)
    days = CalendarDay.objects.filter(date__year__in=covered).values_list("date", "is_workday")
    exceptions: dict[dt.date, bool] = dict(days)
    return WorkCalendar(first, last, exceptions, office_hours=office_hours(),
                        missing_years=set(range(first, last + 1)) - covered)
