"""Reading the evaluation's base counts (analytics.metrics.BASES) for a scope, a breakdown
and a span of days: from the rollups (MetricTally) for the days they hold, from the
records for the rest (today; days never rolled up; scopes below metrics.SCOPE_LEVELS).

`raw_figures` computes the same numbers directly from the records with GROUP BY
(analytics.facts): it is the baseline of the benchmark, the test oracle of the rollups, and
what the rollup builder itself runs for one day.

Building coverage: `buildings_covered` is a distinct count per bucket (each whole calendar
month of the span, and each remaining day: facts.months_and_days), and `buildings_total`
is not stored but computed when read: the number of those buckets × the buildings of the
key's grid subtree (grid dim) or of the grids where the person is an active grid worker
(worker dim), within the scope. Coverage over any span is then the mean of its buckets'.

OWNER: helper A (metrics and rollups). The signatures below are the contract the pages,
the API, the rankings, the cockpit and the report are written against.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, connections
from django.db.models import BigIntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from wangge.analytics import facts
from wangge.analytics.access import Scope, check_breakdown, check_grid
from wangge.analytics.metrics import (
    BASE_CODES,
    CHANNELS,
    COMPUTED_BASES,
    FIELD_DIMS,
    SCOPE_LEVELS,
    SCREENING_DIMS,
    Bucket,
    Dim,
)
from wangge.analytics.models import MetricTally
from wangge.analytics.rollup import current_state
from wangge.territory.models import Grid

#: key → base code → value (codes with 0 may be absent)
Figures = dict[int, dict[str, int]]
ONE_DAY = dt.timedelta(days=1)


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


def _paths(scope: Scope, q: Query) -> list[str] | None:
    """The subtrees to count in: `within` (checked against the scope), else the scope's."""
    if q.within is not None:
        check_grid(scope, q.within)
        return [q.within.path]
    if scope.department_only:
        return None  # a department's figures are the whole territory's, its keys only
    return None if scope.paths is None else list(scope.paths)


def default_level(q: Query, paths: list[str] | None) -> int:
    """The level of the grids a by-grid breakdown lists."""
    if q.level is not None:
        top = 0
        if paths:  # never above the subtrees counted in (their parents' other children)
            top = min(Grid.objects.filter(path__in=paths).values_list("level", flat=True),
                      default=0)
        return max(top, min(4, q.level))
    if q.within is not None:
        return min(4, q.within.level + 1)
    if paths:
        top = min(Grid.objects.filter(path__in=paths).values_list("level", flat=True),
                  default=0)
        return min(4, top + 1)
    return 1


def resolve(scope: Scope, q: Query) -> tuple[Query, list[str] | None]:
    """The query with its grid level decided, and the subtrees it counts in."""
    check_breakdown(scope, q.by)
    if q.since > q.until:
        raise ValueError("since is after until")
    paths = _paths(scope, q)
    if q.by == "grid":
        q = replace(q, level=default_level(q, paths))
    return q, paths


def figures(scope: Scope, q: Query) -> Figures:
    """Per key of the breakdown, the base counts over the span, within the scope. A
    department-only scope gets its own departments' keys only."""
    q, paths = resolve(scope, q)
    departments = scope.departments if q.by == "department" else None
    state = current_state()
    rolled = None
    if state is not None:
        lo = max(q.since, state.covers_from or q.since)
        hi = min(q.until, state.last_day)
        rolled = (lo, hi) if lo <= hi else None
    if rolled is None:
        return raw_figures(q, paths=paths, departments=scope.departments)
    # the subtrees read from the rollups; the others (scopes of levels without rows for
    # this breakdown) are counted from the records over the whole span
    if q.by in ("grid", "worker"):
        from_rows, from_records = paths, []
    else:
        from_rows, from_records = _tally_scopes(paths)
    gk = facts.grid_key(q.level)
    out: dict[tuple[int, ...], dict[str, int]] = {}
    if from_records:
        for key, counts in raw_figures(replace(q, within=None), paths=from_records,
                                       departments=None, building_totals=False).items():
            facts._add(out, (key,), counts)
    if from_rows is None or from_rows:
        buckets = facts.months_and_days(q.since, q.until)
        inside = [b for b in buckets if rolled[0] <= b[1] and b[2] <= rolled[1]]
        outside = [b for b in buckets if b not in inside]
        for part in _tally_reads(q, from_rows, inside):
            for key, counts in part.items():
                facts._add(out, (key,), counts)
        for lo, hi in _runs(outside):
            sub = replace(q, since=lo, until=hi, within=None)
            for key, counts in raw_figures(sub, paths=from_rows, departments=None,
                                           building_totals=False, buildings=False).items():
                facts._add(out, (key,), counts)
        if q.by in FIELD_DIMS:  # distinct buildings: per bucket, as raw_figures counts them
            keyer = facts.Keyer(gk, (q.by,))
            for _p, lo, hi in outside:
                for key, counts in facts.buildings_passed(
                        facts.Span.days(lo, hi), (q.by,), where=facts.Filter(from_rows),
                        keyer=keyer):
                    facts._add(out, key, counts)
    result = {k[0]: v for k, v in out.items()}
    if q.by in FIELD_DIMS:
        add_building_totals(result, q.by, len(facts.months_and_days(q.since, q.until)), gk,
                            facts.Filter(paths))
    if q.by in SCREENING_DIMS:
        add_screenings_due(result, q.by, q.since, q.until, gk, facts.Filter(paths))
    return _only(result, departments)


def _tally_scopes(paths: list[str] | None) -> tuple[list[str] | None, list[str]]:
    """Which of the subtrees have rollup rows for the breakdowns other than grid and
    worker (their grid's level is in SCOPE_LEVELS): (read from rows, count from records).
    None for everything (the root grids' rows)."""
    if paths is None:
        return None, []
    levels = dict(Grid.objects.filter(path__in=paths).values_list("path", "level"))
    rows = [p for p in paths if levels.get(p) in SCOPE_LEVELS]
    return rows, [p for p in paths if p not in rows]


def _runs(buckets: list[tuple[str, dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Adjacent buckets joined into spans of days."""
    runs: list[tuple[dt.date, dt.date]] = []
    for _p, lo, hi in buckets:
        if runs and runs[-1][1] + ONE_DAY == lo:
            runs[-1] = (runs[-1][0], hi)
        else:
            runs.append((lo, hi))
    return runs


def _tally_reads(q: Query, paths: list[str] | None,
                 buckets: list[tuple[str, dt.date, dt.date]]) -> Iterable[Figures]:
    """The rows of MetricTally for these buckets (month rows for whole months, day rows
    for single days), summed per key in SQL."""
    if not buckets:
        return
    rows = _tally_rows(q, paths, buckets)
    codes = [c for c in BASE_CODES if c not in COMPUTED_BASES]
    yield {key: {c: int(v) for c, v in zip(codes, vals, strict=True) if v}
           for key, *vals in _summed(rows, codes)}


def _tally_rows(q: Query, paths: list[str] | None,
                buckets: list[tuple[str, dt.date, dt.date]]) -> QuerySet[MetricTally]:
    """The MetricTally rows of these buckets (month rows for whole months, day rows for
    single days) for the breakdown within the subtrees."""
    months = [lo for p, lo, _hi in buckets if p == "m"]
    days = [lo for p, lo, _hi in buckets if p == "d"]
    rows = MetricTally.objects.filter(dim=q.by)
    when = Q(pk__in=[])
    if months:
        when |= Q(period="m", start__in=months)
    for lo, hi in _runs([("d", d, d) for d in days]):
        when |= Q(period="d", start__gte=lo, start__lte=hi)
    rows = rows.filter(when)
    if q.by == "grid":
        rows = rows.filter(level=q.level)
    if q.by in ("grid", "worker"):
        if paths is not None:
            rows = rows.filter(facts.Filter(paths).q("scope"))
    elif paths is None:
        rows = rows.filter(scope__parent__isnull=True)
    else:
        rows = rows.filter(scope__path__in=paths)
    return rows


def _summed(rows: QuerySet[MetricTally], codes: Sequence[str]) -> list[tuple[int, ...]]:
    """(key, the sum of each code) per key, summed in SQL and fetched as plain tuples: at
    100,000 keys the ORM's per-value converters cost more than the query (benchmarks/
    README.md), and the sums are cast to bigint so PostgreSQL does not answer numeric."""
    qs = rows.order_by().values("key").annotate(
        **{f"s_{c}": Cast(Sum(c), BigIntegerField()) for c in codes}).values_list(
        "key", *(f"s_{c}" for c in codes))
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()  # ints: the sums of non-null columns, cast to bigint


def _plain(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of a values_list query, without the ORM's per-value converters."""
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def base_rows(scope: Scope, q: Query, bases: Sequence[str]) -> list[tuple[int, ...]]:
    """(key, the value of each of `bases`) per key of the breakdown: the same numbers as
    `figures` (0 where it has none) for the few bases a ranking's scheme needs. When the
    rollups hold the whole span and the breakdown reads them alone, one query summing only
    those columns; otherwise `figures` itself."""
    bases = tuple(bases)
    fast = _rolled_rows(scope, q, bases)
    if fast is not None:
        return fast
    return [(k, *(c.get(b, 0) for b in bases)) for k, c in figures(scope, q).items()]


def _rolled_rows(scope: Scope, q: Query, bases: tuple[str, ...]
                 ) -> list[tuple[int, ...]] | None:
    """`base_rows` from MetricTally alone, or None when `figures` would also read the
    records (a span not entirely rolled up, scopes below metrics.SCOPE_LEVELS)."""
    q, paths = resolve(scope, q)
    state = current_state()
    if state is None or state.last_day < q.until or (
            state.covers_from is not None and state.covers_from > q.since):
        return None
    if q.by in ("grid", "worker"):
        from_rows: list[str] | None = paths
    else:
        from_rows, from_records = _tally_scopes(paths)
        if from_records:
            return None
    if from_rows is not None and not from_rows:
        return None
    buckets = facts.months_and_days(q.since, q.until)
    stored = [b for b in bases if b not in COMPUTED_BASES]  # computed on read
    rows = _summed(_tally_rows(q, from_rows, buckets), stored) if buckets else []
    departments = scope.departments if q.by == "department" else None
    if departments is not None:
        rows = [r for r in rows if r[0] in departments]
    if not any(b in COMPUTED_BASES for b in bases):
        return rows
    found: Figures = {r[0]: dict(zip(stored, r[1:], strict=True)) for r in rows}
    if "buildings_total" in bases:
        add_building_totals(found, q.by, len(buckets), facts.grid_key(q.level),
                            facts.Filter(paths))
    if "screenings_due" in bases and q.by in SCREENING_DIMS:
        add_screenings_due(found, q.by, q.since, q.until, facts.grid_key(q.level),
                           facts.Filter(paths))
    return [(k, *(c.get(b, 0) for b in bases)) for k, c in found.items()]


def totals(scope: Scope, q: Query) -> dict[str, int]:
    """The base counts of the whole scope (or `within`) over the span, every key added.
    Only the bases the breakdown has are there (by="grid" has them all)."""
    out: dict[str, int] = {}
    for counts in figures(scope, q).values():
        for code, n in counts.items():
            out[code] = out.get(code, 0) + n
    return out


def bucket_start(day: dt.date, bucket: Bucket) -> dt.date:
    if bucket == "day":
        return day
    if bucket == "week":
        return day - dt.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    if bucket == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_bucket(start: dt.date, bucket: Bucket) -> dt.date:
    if bucket == "day":
        return start + ONE_DAY
    if bucket == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[bucket]
    m = start.month - 1 + months
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def series(scope: Scope, q: Query, bucket: Bucket) -> list[tuple[dt.date, Figures]]:
    """`figures` per bucket of the span (bucket starts in order, empty buckets included).
    The first and last buckets are cut to the span."""
    q, _paths = resolve(scope, q)
    out = []
    start = bucket_start(q.since, bucket)
    while start <= q.until:
        nxt = next_bucket(start, bucket)
        part = replace(q, since=max(start, q.since), until=min(nxt - ONE_DAY, q.until))
        out.append((start, figures(scope, part)))
        start = nxt
    return out


def raw_figures(q: Query, *, paths: list[str] | None = None,
                departments: frozenset[int] | None = None, building_totals: bool = True,
                buildings: bool = True) -> Figures:
    """The same numbers as `figures`, straight from the records (GROUP BY the breakdown's
    key in SQL, per source). `paths`: the subtrees counted in (None: everywhere; `within`
    narrows them); `departments`: keep only these department keys."""
    if q.within is not None:
        paths = [q.within.path]
    level = default_level(q, paths) if q.by == "grid" else None
    gk = facts.grid_key(level)
    where = facts.Filter(paths)
    span = facts.Span.days(q.since, q.until)
    keyer = facts.Keyer(gk, (q.by,))
    out: dict[tuple[int, ...], dict[str, int]] = {}
    for source in facts.sources_for(q.by):
        for key, counts in facts.count(source, span, (q.by,), where=where, keyer=keyer):
            facts._add(out, key, counts)
    if q.by in facts.HANDLE_SOURCE.dims:  # cases only
        for key, counts in facts.handling_minutes(span, (q.by,), where=where, keyer=keyer):
            facts._add(out, key, counts)
    if q.by in FIELD_DIMS and buildings:
        buckets = facts.months_and_days(q.since, q.until)
        for _p, lo, hi in buckets:
            for key, counts in facts.buildings_passed(facts.Span.days(lo, hi), (q.by,),
                                                      where=where, keyer=keyer):
                facts._add(out, key, counts)
        result = {k[0]: v for k, v in out.items()}
        if building_totals:
            add_building_totals(result, q.by, len(buckets), gk, where)
            if q.by in SCREENING_DIMS:
                add_screenings_due(result, q.by, q.since, q.until, gk, where)
        return _only(result, departments if q.by == "department" else None)
    return _only({k[0]: v for k, v in out.items()},
                 departments if q.by == "department" else None)


def add_building_totals(result: Figures, by: Dim, buckets: int, gk: facts.GridKey,
                        where: facts.Filter) -> None:
    """buildings_total = buckets × the key's buildings (grid: its subtree; worker: the
    grids they are grid worker of), for the keys listed (and, by grid, every grid of the
    level with buildings, so an unpatrolled grid shows 0 % rather than nothing)."""
    if not buckets:
        return
    if by == "grid":
        counts = facts.building_counts(gk, where)
        for key, n in counts.items():
            if n:
                result.setdefault(key, {})["buildings_total"] = buckets * n
    else:
        counts = facts.worker_building_counts([k for k in result if k], where)
        for key, n in counts.items():
            if n and key in result:
                result[key]["buildings_total"] = buckets * n


def add_screenings_due(result: Figures, by: Dim, since: dt.date, until: dt.date,
                       gk: facts.GridKey, where: facts.Filter) -> None:
    """screenings_due = the screening periods starting in the span of the key's basic
    grids (grid: its subtree, every grid of the level that owes any, so a grid that never
    screened shows 0 %; worker: the grids they are grid worker of, for the keys listed)."""
    if by == "grid":
        for key, n in facts.screenings_due(gk, since, until, where).items():
            result.setdefault(key, {})["screenings_due"] = n
    elif by == "worker":
        for key, n in facts.worker_screenings_due([k for k in result if k], since, until,
                                                  where).items():
            result[key]["screenings_due"] = n


def _only(result: Figures, departments: frozenset[int] | None) -> Figures:
    if departments is None:
        return result
    return {k: v for k, v in result.items() if k in departments}


def peer_keys(scope: Scope, q: Query) -> set[int]:
    """Every key a ranking of `q.by` compares within the scope, figures or not, so that a
    grid worker who did nothing in the period is ranked (at the bottom) rather than left
    out: by grid, the grids of the level in the subtrees; by worker, the grid workers of
    grids there during the period; by department, the line departments (职能部门) and a
    department-only scope's own. Other breakdowns are not ranked: no keys."""
    from wangge.org.models import Department, Role, RoleAssignment

    q, paths = resolve(scope, q)
    where = facts.Filter(paths)
    if q.by == "grid":  # 100,000 basic grids: fetched as plain rows, not through the ORM
        return {pk for pk, in _plain(Grid.objects.filter(Scope(paths, None).grid_q(),
                                                         level=q.level).values_list("id"))}
    if q.by == "worker":
        # grid workers at some time in the period (not today: a newcomer is not on last
        # month's 黑榜, a worker who left in it is)
        return set(RoleAssignment.objects.filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=q.since),
            where.q("grid"), role=Role.GRID_WORKER, started_on__lte=q.until,
        ).values_list("person_id", flat=True))
    if q.by == "department":
        keys = set(Department.objects.filter(kind=Department.Kind.DEPARTMENT)
                   .values_list("id", flat=True))
        return keys if scope.departments is None else keys & set(scope.departments)
    return set()


def idle_computed(scope: Scope, q: Query, keys: Iterable[int],
                  bases: Sequence[str]) -> Figures:
    """The computed bases (metrics.COMPUTED_BASES) among `bases` of peers with no figures,
    as `figures` computes them for the others: an idle grid worker's building coverage
    and screening rate are 0 %, not missing."""
    keys = list(keys)
    out: Figures = {k: {} for k in keys}
    if "buildings_total" in bases:
        for k, n in idle_building_totals(scope, q, keys).items():
            out[k]["buildings_total"] = n
    if "screenings_due" in bases:
        q, paths = resolve(scope, q)
        if q.by == "worker":
            for k, n in facts.worker_screenings_due(keys, q.since, q.until,
                                                    facts.Filter(paths)).items():
                out[k]["screenings_due"] = n
    return {k: v for k, v in out.items() if v}


def idle_building_totals(scope: Scope, q: Query, keys: Iterable[int]) -> dict[int, int]:
    """buildings_total of peers with no figures (`peer_keys` not in `figures`), as
    `figures` computes it for the others, so an idle grid worker's coverage is 0 %, not
    missing (by grid every grid of the level has its total already)."""
    q, paths = resolve(scope, q)
    if q.by != "worker":
        return {}
    result: Figures = {k: {} for k in keys}
    add_building_totals(result, "worker", len(facts.months_and_days(q.since, q.until)),
                        facts.grid_key(None), facts.Filter(paths))
    return {k: c["buildings_total"] for k, c in result.items() if c.get("buildings_total")}


def labels(by: Dim, keys: Iterable[int]) -> dict[int, str]:
    """Display names of keys: grid name, department name, category name, channel label,
    worker name (a grid worker's name is not personal data here: it is on the QR card)."""
    from wangge.cases.models import Case, CaseCategory
    from wangge.disputes.models import DisputeKind
    from wangge.org.models import Department, Person

    keys = list(keys)
    if by == "channel":
        names = dict(Case.Channel.choices)
        return {k: str(names[CHANNELS[k]]) if 0 <= k < len(CHANNELS) else _("其他")
                for k in keys}
    model, none = {
        "grid": (Grid, _("未知网格")), "department": (Department, _("未派遣")),
        "category": (CaseCategory, _("未分类")), "worker": (Person, _("非网格员上报")),
        "dispute_kind": (DisputeKind, _("未分类")),
    }[by]
    found = dict(model.objects.filter(pk__in=[k for k in keys if k]).values_list("id", "name"))
    return {k: found.get(k, none) if k else none for k in keys}


def many_labels(by: Dim, keys: Iterable[int]) -> dict[int, str]:
    """`labels` for many keys at once (a ranking's tied peers: tens of thousands of basic
    grids can share the top score): the ids go to the database as one array (PostgreSQL)
    or one JSON text (SQLite) instead of one placeholder each, and the rows come back
    without the ORM. The same names as `labels`."""
    from wangge.cases.models import CaseCategory
    from wangge.org.models import Department, Person

    keys = list(keys)
    models = {"grid": Grid, "department": Department, "category": CaseCategory,
              "worker": Person}
    if by not in models or len(keys) < 1000:
        return labels(by, keys)
    model = models[by]
    ids = [k for k in keys if k]
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        sql, param = f"SELECT id, name FROM {table} WHERE id = ANY(%s)", ids
    else:
        sql, param = (f"SELECT id, name FROM {table} WHERE id IN "
                      "(SELECT value FROM json_each(%s))", json.dumps(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, [param])
        found = dict(cursor.fetchall())
    missing = [k for k in keys if not k or k not in found]
    out = labels(by, missing) if missing else {}
    return {k: found[k] if k in found else out[k] for k in keys}
