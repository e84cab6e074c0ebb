"""What a guide's working-day limits mean in dates: "submitted today, promised by 12月4日"
(workcal, holidays and make-up working days included). A resident counts in dates, not in
working days; the guide page and the items API show both."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wangge.services.models import ItemVersion
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered


def _last_day(start: dt.datetime, days: int) -> dt.date | None:
    """The last working day of `days` working days from `start` (the deadline is 24:00 of
    that day, which workcal returns as 00:00 of the next)."""
    if days <= 0:
        return timezone.localtime(start).date()
    try:
        end = calendar.current().add_working_days(start, days)
    except CalendarNotCovered:
        return None  # the calendar of that year is not entered yet: show working days only
    return (timezone.localtime(end) - dt.timedelta(microseconds=1)).date()


def due_dates(version: ItemVersion, now: dt.datetime | None = None) -> dict[str, dt.date | None]:
    """For an application submitted at `now`: the last day of pre-review, of the promised
    and of the legal time limit (None where the calendar does not reach)."""
    now = now or timezone.now()
    return {
        "prereview_by": _last_day(now, version.prereview_days) if version.online_prereview
        else None,
        "promised_by": _last_day(now, version.promised_days),
        "legal_by": _last_day(now, version.legal_days),
    }
