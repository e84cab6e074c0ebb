"""The source's five headline counters (走访帮扶人次, 事件, 社情民意, 代办件数, 政策宣传资料)
for a user's scope, a grid subtree and a span of days.

Every figure is read from the records, one aggregate query per counter, filtered through
the apps' own access rules (fieldwork.access for the grid worker's records,
cases.access.territory_cases for events: confidential cases are counted there, never
listed, exactly as the case statistics count them). The filters are a prefix of the grid's
materialized path (a join on grid) and a range on the record's indexed time column, so
the plan is the same at Liling scale and at a province's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from wangge.cases.access import territory_cases
from wangge.fieldwork.access import field_scope
from wangge.fieldwork.models import Distribution, Opinion, Visit
from wangge.org.access import AnyUser
from wangge.territory.models import Grid


@dataclass(frozen=True)
class Headline:
    visits: int  # 走访帮扶人次: the sum of people met
    events: int  # 事件: cases reported
    opinions: int  # 社情民意
    proxy_items: int  # 代办件数: 0 until proxy handling (services) exists
    leaflets: int  # 政策宣传资料（份）: the sum of copies handed out

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Shanghai (the day the user means), as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _within(qs: QuerySet, *, at: str, grid: Grid | None, since: dt.date | None,
            until: dt.date | None, is_date: bool = False) -> QuerySet:
    """Rows of `grid`'s subtree, with `at` between the two days (both included)."""
    q = Q()
    # the calendar's ends: nothing is recorded there, and their midnights in UTC overflow
    since = since if since and since > dt.date.min + dt.timedelta(days=1) else None
    until = until if until and until < dt.date.max else None
    if grid is not None:
        q &= Q(grid__path__startswith=grid.path)
    if since is not None:
        q &= Q(**{f"{at}__gte": since if is_date else day_start(since)})
    if until is not None:
        nxt = until + dt.timedelta(days=1)
        q &= Q(**{f"{at}__lt": nxt if is_date else day_start(nxt)})
    return qs.filter(q)


def headline(user: AnyUser, *, grid: Grid | None = None, since: dt.date | None = None,
             until: dt.date | None = None) -> Headline:
    """The counters over what `user` may see, within `grid` (the caller has checked that
    the grid is in scope) and the days `since`..`until` (either may be open)."""
    scope = field_scope(user)
    span: dict[str, Any] = {"grid": grid, "since": since, "until": until}
    visits = _within(Visit.objects.filter(scope), at="visited_at", **span)
    opinions = _within(Opinion.objects.filter(scope), at="collected_at", **span)
    handed = _within(Distribution.objects.filter(scope), at="day", is_date=True, **span)
    events = _within(territory_cases(user), at="created_at", **span)
    return Headline(
        visits=visits.aggregate(n=Sum("people_met"))["n"] or 0,
        events=events.count(),
        opinions=opinions.count(),
        proxy_items=0,
        leaflets=handed.aggregate(n=Sum("count"))["n"] or 0,
    )
