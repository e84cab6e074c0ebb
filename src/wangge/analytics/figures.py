"""Reading the evaluation's base counts (analytics.metrics.BASES) for a scope, a breakdown
and a span of days: from the rollups (MetricTally) for the days they hold, from the
records for the rest (today; days never rolled up; scopes below metrics.SCOPE_LEVELS).

`raw_figures` computes the same numbers directly from the records with GROUP BY
(analytics.facts): it is the baseline of the benchmark, the test oracle of the rollups, and
what the rollup builder itself runs for one day.

OWNER: helper A (metrics and rollups). The signatures below are the contract the pages,
the API, the rankings, the cockpit and the report are written against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from wangge.analytics.access import Scope
from wangge.analytics.metrics import Bucket, Dim
from wangge.territory.models import Grid

#: key → base code → value (codes with 0 may be absent)
Figures = dict[int, dict[str, int]]


@dataclass(frozen=True)
class Query:
    by: Dim
    since: dt.date
    until: dt.date  # inclusive
    #: a grid subtree to count in (None: the whole scope)
    within: Grid | None = None
    #: by grid: the level of the grids listed (default: one level below `within`, or the
    #: scope's top grids' children)
    level: int | None = None


def figures(scope: Scope, q: Query) -> Figures:
    """Per key of the breakdown, the base counts over the span, within the scope. A
    department-only scope gets its own departments' keys only."""
    raise NotImplementedError


def totals(scope: Scope, q: Query) -> dict[str, int]:
    """The base counts of the whole scope (or `within`) over the span, every key added."""
    raise NotImplementedError


def series(scope: Scope, q: Query, bucket: Bucket) -> list[tuple[dt.date, Figures]]:
    """`figures` per bucket of the span (bucket starts in order, empty buckets included)."""
    raise NotImplementedError


def raw_figures(q: Query, *, paths: list[str] | None = None,
                departments: frozenset[int] | None = None) -> Figures:
    """The same numbers as `figures`, straight from the records (GROUP BY)."""
    raise NotImplementedError


def labels(by: Dim, keys: Iterable[int]) -> dict[int, str]:
    """Display names of keys: grid name, department name, category name, channel label,
    worker name (a grid worker's name is not personal data here: it is on the QR card)."""
    raise NotImplementedError
