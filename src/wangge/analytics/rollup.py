"""The daily tallies computed from the records: one day at a time, set-wise.

For a day (Asia/Shanghai) each source is read once, grouped by the record's grid (five
GROUP BY queries on the records' time indexes); the sums are then added up the tree in
Python to every grid of levels 0–3 above (and including) the record's grid, from a map of
the tree read once per run. What each figure counts is exactly what the headline's raw
queries count (wangge.analytics.headline.raw_headline):

- visits: the sum of `people_met` of visits made that day;
- events: every case created that day, confidential ones included (cases.access.
  territory_cases counts them, the statistics show them as a number);
- opinions: opinions collected that day;
- leaflets: the sum of `count` of distributions of that day;
- proxy_items: proxy requests (services) delivered that day (state delivered or rated, by
  `delivered_at`): 代办件数 counts what reached the resident's door.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from wangge.analytics import facts
from wangge.analytics.facts import DELIVERED, day_start
from wangge.analytics.metrics import BASE_CODES, SCOPE_LEVELS
from wangge.analytics.models import RollupState
from wangge.cases.models import Case
from wangge.disputes.models import Dispute, Screening
from wangge.fieldwork.models import Distribution, Opinion, Visit
from wangge.services.models import ProxyRequest
from wangge.territory.models import Grid, TerritoryState

#: the levels that get tallies: every grid above the basic level
ROLLED_LEVELS = (0, 1, 2, 3)
FIGURES = ("visits", "events", "opinions", "leaflets", "proxy_items")
Row = tuple[int, dt.date, int, int, int, int, int]


def territory_stamp() -> str:
    return TerritoryState.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


def current_state() -> RollupState | None:
    """Which days the tallies hold; None when never built, or built on a grid tree that
    has changed since (their subtrees are no longer the tree's): read the records then."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None or state.territory_stamp != territory_stamp():
        return None
    return state


def ancestry() -> dict[int, tuple[int, ...]]:
    """grid id → the ids of the grids of levels 0–3 whose subtree holds it (itself
    included when it is one of them)."""
    up: dict[int, tuple[int, ...]] = {}
    for pk, parent, level in Grid.objects.order_by("level").values_list(
            "id", "parent_id", "level"):
        above = up.get(parent, ()) if parent is not None else ()
        up[pk] = (*above, pk) if level in ROLLED_LEVELS else above
    return up


def _per_grid(qs: QuerySet, total: Sum | Count) -> Iterator[tuple[int, int]]:
    # order_by(): a model's default ordering would join the GROUP BY (Case orders by time)
    yield from qs.order_by().values("grid_id").annotate(n=total).values_list("grid_id", "n")


def day_sources(day: dt.date) -> dict[str, Iterator[tuple[int, int]]]:
    """(grid id, figure) per source for one day."""
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    return {
        "visits": _per_grid(Visit.objects.filter(visited_at__gte=start, visited_at__lt=end),
                            Sum("people_met")),
        "events": _per_grid(Case.objects.filter(created_at__gte=start, created_at__lt=end),
                            Count("id")),
        "opinions": _per_grid(Opinion.objects.filter(collected_at__gte=start,
                                                     collected_at__lt=end), Count("id")),
        "leaflets": _per_grid(Distribution.objects.filter(day=day), Sum("count")),
        "proxy_items": _per_grid(ProxyRequest.objects.filter(
            DELIVERED, delivered_at__gte=start, delivered_at__lt=end), Count("id")),
    }


def day_rows(day: dt.date, up: dict[int, tuple[int, ...]]) -> list[Row]:
    """The tallies of one day: (grid id, day, *FIGURES) for every grid of levels 0–3 with
    something that day."""
    sums: dict[int, list[int]] = {}
    for i, (_name, pairs) in enumerate(day_sources(day).items()):
        for grid_id, n in pairs:
            if not n:
                continue
            for target in up.get(grid_id, ()):
                row = sums.get(target)
                if row is None:
                    row = sums[target] = [0] * len(FIGURES)
                row[i] += int(n)
    return [(g, day, *r) for g, r in sorted(sums.items())]  # type: ignore[misc]


def first_record_day() -> dt.date | None:
    """The day (Shanghai) of the earliest record of any source, None when there is none."""
    from django.db.models import Min

    firsts: list[dt.date] = []
    for qs, at in ((Visit.objects, "visited_at"), (Case.objects, "created_at"),
                   (Opinion.objects, "collected_at"),
                   (ProxyRequest.objects.filter(DELIVERED), "delivered_at")):
        moment = qs.aggregate(m=Min(at))["m"]
        if moment is not None:
            firsts.append(timezone.localtime(moment).date())
    for qs, at in ((Screening.objects, "screened_at"), (Dispute.objects, "reported_at")):
        moment = qs.aggregate(m=Min(at))["m"]
        if moment is not None:
            firsts.append(timezone.localtime(moment).date())
    if (day := Distribution.objects.aggregate(m=Min("day"))["m"]) is not None:
        firsts.append(day)
    return min(firsts) if firsts else None


# --- the evaluation's base counts (MetricTally) ----------------------------------------

#: the fine tuple each case source is read by once a day
CASE_FINE = ("grid", "category", "channel", "department", "worker")
FIELD_FINE = ("grid", "worker")
TallyKey = tuple[str, int, int]  # (dim, key, scope grid id)
METRIC_COLUMNS = ("period", "start", "dim", "key", "scope_id", "level", *BASE_CODES)


def grid_lines() -> tuple[dict[int, tuple[int, ...]], dict[int, int]]:
    """grid id → the ids of every grid above it and itself (root first); grid id → level."""
    up: dict[int, tuple[int, ...]] = {}
    levels: dict[int, int] = {}
    for pk, parent, level in Grid.objects.order_by("level").values_list(
            "id", "parent_id", "level"):
        up[pk] = (*(up.get(parent, ()) if parent is not None else ()), pk)
        levels[pk] = level
    return up, levels


def fold(into: dict[TallyKey, dict[str, int]], fine: tuple[int, ...], dims: tuple[str, ...],
         counts: dict[str, int], up: dict[int, tuple[int, ...]], levels: dict[int, int]
         ) -> None:
    """Add one fine row's counts to every tally row it belongs to."""
    values = dict(zip(dims, fine, strict=True))
    grid = values["grid"]
    line = up.get(grid, ())
    targets: list[TallyKey] = [("grid", g, g) for g in line]
    if "worker" in values:
        targets.append(("worker", values["worker"], grid))
    scopes = [g for g in line if levels[g] in SCOPE_LEVELS]
    for dim in ("category", "channel", "department", "dispute_kind"):
        if dim in values:
            targets.extend((dim, values[dim], s) for s in scopes)
    for target in targets:
        row = into.get(target)
        if row is None:
            row = into[target] = {}
        for code, n in counts.items():
            if n:
                row[code] = row.get(code, 0) + n


def metric_rows(since: dt.date, until: dt.date, period: str,
                up: dict[int, tuple[int, ...]], levels: dict[int, int],
                *, additive: bool = True) -> list[tuple]:
    """The MetricTally rows of one bucket (a day 'd', or a month 'm' for the building
    counts only when `additive` is False): every source read once, grouped by the fine
    tuple, folded over the grid lines."""
    span = facts.Span.days(since, until)
    sums: dict[TallyKey, dict[str, int]] = {}
    if additive:
        for source in facts.SOURCES:
            dims = source.dims  # every key the source has: CASE_FINE, FIELD_FINE …
            for fine, counts in facts.count(source, span, dims):
                fold(sums, fine, dims, counts, up, levels)
        for fine, counts in facts.handling_minutes(span, CASE_FINE):
            fold(sums, fine, CASE_FINE, counts, up, levels)
    passed: dict[TallyKey, set[int]] = {}
    for grid, worker, building in facts.building_pass_tuples(span):
        for target in [("grid", g, g) for g in up.get(grid, ())] + [("worker", worker, grid)]:
            passed.setdefault(target, set()).add(building)
    for target, buildings in passed.items():
        sums.setdefault(target, {})["buildings_covered"] = len(buildings)
    return [(period, since, dim, key, scope, levels[scope],
             *(counts.get(c, 0) for c in BASE_CODES))
            for (dim, key, scope), counts in sorted(sums.items()) if any(counts.values())]
