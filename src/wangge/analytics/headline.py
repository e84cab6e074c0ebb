"""The source's five headline counters (走访帮扶人次, 事件, 社情民意, 代办件数, 政策宣传资料)
for a user's scope, a grid subtree and a span of days.

What is counted is what the apps' own access rules let the user count: fieldwork.access.
field_scope for the grid worker's records, cases.access.territory_cases for events
(confidential cases are counted there, never listed, exactly as the case statistics count
them), field_scope again for the proxy requests delivered (by their grid).
`raw_headline` counts the records directly: one aggregate per counter over a prefix
of the grid's materialized path and a range of the record's time column. That is fast for
a basic grid, and a full scan of a city's or a province's rows otherwise.

`headline` gives the same figures from the daily tallies (analytics.rollup): the scope is
cut into disjoint subtrees (the requested grid, or the user's scope grids; everything is
the root grids); a basic grid's subtree is counted from the records as above, any other
from the tallies of its own grid for the days rolled up, plus the records of the days
outside them (today, and all days when the rollup has never run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from wangge.analytics.models import DailyTally
from wangge.analytics.rollup import DELIVERED, FIGURES, current_state, day_start
from wangge.cases.access import TERRITORY_ROLES, territory_cases
from wangge.cases.models import Case
from wangge.fieldwork.access import field_scope
from wangge.fieldwork.models import Distribution, Opinion, Visit
from wangge.org.access import TERRITORY_READ_ROLES, AnyUser, scope_paths
from wangge.services.models import ProxyRequest
from wangge.territory.models import Grid

__all__ = ["Headline", "day_start", "headline", "raw_headline"]

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Headline:
    visits: int  # 走访帮扶人次: the sum of people met
    events: int  # 事件: cases reported
    opinions: int  # 社情民意
    proxy_items: int  # 代办件数: proxy requests delivered (services)
    leaflets: int  # 政策宣传资料（份）: the sum of copies handed out

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _within(qs: QuerySet, *, at: str, grid: Grid | None, since: dt.date | None,
            until: dt.date | None, is_date: bool = False) -> QuerySet:
    """Rows of `grid`'s subtree, with `at` between the two days (both included)."""
    q = Q()
    # the calendar's ends: nothing is recorded there, and their midnights in UTC overflow
    since = since if since and since > dt.date.min + ONE_DAY else None
    until = until if until and until < dt.date.max else None
    if grid is not None:
        q &= Q(grid__path__startswith=grid.path)
    if since is not None:
        q &= Q(**{f"{at}__gte": since if is_date else day_start(since)})
    if until is not None:
        nxt = until + ONE_DAY
        q &= Q(**{f"{at}__lt": nxt if is_date else day_start(nxt)})
    return qs.filter(q)


#: figure → (records, time column, is a date, what is summed: None counts rows)
SOURCES: dict[str, tuple[type, str, bool, str | None]] = {
    "visits": (Visit, "visited_at", False, "people_met"),
    "events": (Case, "created_at", False, None),
    "opinions": (Opinion, "collected_at", False, None),
    "leaflets": (Distribution, "day", True, "count"),
    "proxy_items": (ProxyRequest, "delivered_at", False, None),
}
#: figure → which of its records count (every one where not named)
COUNTED: dict[str, Q] = {"proxy_items": DELIVERED}


def _total(qs: QuerySet, summed: str | None) -> int:
    agg = Sum(summed) if summed else Count("id")
    return int(qs.order_by().aggregate(n=agg)["n"] or 0)


def raw_headline(user: AnyUser, *, grid: Grid | None = None, since: dt.date | None = None,
                 until: dt.date | None = None) -> Headline:
    """The counters straight from the records (the direct computation the tallies must
    equal)."""
    scope = field_scope(user)
    span: dict[str, Any] = {"grid": grid, "since": since, "until": until}
    out = {}
    for name, (model, at, is_date, summed) in SOURCES.items():
        base = territory_cases(user) if model is Case else model.objects.filter(scope)
        base = base.filter(COUNTED.get(name, Q()))
        out[name] = _total(_within(base, at=at, is_date=is_date, **span), summed)
    return Headline(**out)


def _pieces(user: AnyUser, roles: frozenset[str], grid: Grid | None
            ) -> tuple[tuple[int, int, str], ...]:
    """(id, level, path) of disjoint grids whose subtrees together are what the user may
    count with `roles` (as field_scope and territory_cases decide) within `grid`."""
    paths = scope_paths(user, roles) if user.is_authenticated else []
    if paths is not None and grid is not None:
        if any(grid.path.startswith(p) for p in paths):
            paths = [grid.path]
        else:  # the user's subtrees inside the grid's
            paths = [p for p in paths if p.startswith(grid.path)]
    elif paths is None:
        if grid is not None:
            paths = [grid.path]
        else:
            return tuple(Grid.objects.filter(parent__isnull=True).order_by("path")
                         .values_list("id", "level", "path"))
    if not paths:
        return ()
    return tuple(Grid.objects.filter(path__in=paths).order_by("path")
                 .values_list("id", "level", "path"))


def _subtrees(paths: list[str] | None) -> Q:
    if paths is None:  # the whole tree: no join on the grids at all
        return Q()
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(grid__path__startswith=p)
    return q


def _raw(name: str, paths: list[str] | None, since: dt.date, until: dt.date) -> int:
    model, at, is_date, summed = SOURCES[name]
    qs = _within(model.objects.filter(_subtrees(paths), COUNTED.get(name, Q())), at=at,
                 grid=None, since=since, until=until, is_date=is_date)
    return _total(qs, summed)


def _whole_tree(pieces: list[tuple[int, str]]) -> bool:
    """Whether these grids are all the root grids (a province's dispatcher, a superuser):
    then today's records need no join on 100,000 grids to be counted."""
    if not any(p.count("/") == 2 for _, p in pieces):
        return False
    roots = set(Grid.objects.filter(parent__isnull=True).values_list("id", flat=True))
    return roots == {pk for pk, _ in pieces}


def headline(user: AnyUser, *, grid: Grid | None = None, since: dt.date | None = None,
             until: dt.date | None = None) -> Headline:
    """The counters over what `user` may see, within `grid` and the days `since`..`until`
    (either may be open): equal to raw_headline, read from the tallies where it can."""
    lo, hi = since or dt.date.min, until or dt.date.max
    state = current_state()
    tallied: tuple[dt.date, dt.date] | None = None
    if state is not None:
        t_lo, t_hi = max(lo, state.covers_from or dt.date.min), min(hi, state.last_day)
        tallied = (t_lo, t_hi) if t_lo <= t_hi else None
    # the days read from the records for grids with tallies: those around the tallied ones
    around = [(lo, hi)] if tallied is None else (
        ([(lo, tallied[0] - ONE_DAY)] if lo < tallied[0] else [])
        + ([(tallied[1] + ONE_DAY, hi)] if tallied[1] < hi else []))
    field = _pieces(user, TERRITORY_READ_ROLES, grid)
    by_pieces = {"visits": field, "opinions": field, "leaflets": field,
                 "events": _pieces(user, TERRITORY_ROLES, grid), "proxy_items": field}
    sums: dict[tuple, dict[str, Any]] = {}
    whole: dict[tuple, bool] = {}
    out: dict[str, int] = {}
    for name, pieces in by_pieces.items():
        basic = [p for _, level, p in pieces if level == 4]
        rolled = [(pk, p) for pk, level, p in pieces if level != 4]
        n = _raw(name, basic, lo, hi) if basic else 0
        if rolled:
            key = tuple(pk for pk, _ in rolled)
            if key not in whole:
                whole[key] = _whole_tree(rolled)
            paths = None if whole[key] else [p for _, p in rolled]
            for a, b in around:
                n += _raw(name, paths, a, b)
            if tallied is not None:
                if key not in sums:  # the field figures share one read of the tallies
                    sums[key] = DailyTally.objects.filter(
                        grid_id__in=key, day__gte=tallied[0], day__lte=tallied[1]
                    ).aggregate(**{f: Sum(f) for f in FIGURES})
                n += int(sums[key][name] or 0)
        out[name] = n
    return Headline(**out)
