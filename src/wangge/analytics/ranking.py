"""The composite evaluation score (综合考核得分) and the league table (红黑榜).

A scheme (analytics.models.EvaluationScheme, seeded from schemes.json, edited through
analytics.schemes) gives metrics of one breakdown weights. Each peer's metric earns points
out of 100:

- a rate (per cent): the rate itself, or 100 − rate when lower is better;
- a count or a time: against the best peer in the ranking, 100 × value ÷ the largest
  value when higher is better, 100 × the smallest value ÷ value when lower is better
  (a value of 0 when lower is better earns 100; when every peer has 0 of a
  higher-is-better count, each earns 0); capped to 0..100.

score = Σ weight × points ÷ Σ weight, over the metrics that have a value: a metric
without one (no ratings: no 满意率) drops out of both sums instead of counting as 0; a peer
with no metric valued has no score and is ranked last. Ties (equal scores to 2 decimals)
share a rank (1, 1, 3).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wangge.analytics import figures as fig
from wangge.analytics.access import Scope, check_breakdown, check_grid
from wangge.analytics.figures import Query
from wangge.analytics.metrics import METRIC_BY_CODE, Dim, evaluate
from wangge.analytics.models import EvaluationScheme
from wangge.core.tables import Table
from wangge.territory.models import Grid

Value = float | int | None

#: the breakdowns a scheme may rank
RANKED_DIMS: tuple[Dim, ...] = ("department", "grid", "worker")
RANKED_DIM_LABELS: dict[str, str] = {"department": "部门", "grid": "网格", "worker": "网格员"}


class HasWeights(Protocol):
    weights: Any


@dataclass
class Ranked:
    rank: int
    key: int
    label: str
    score: float | None
    values: dict[str, Value]
    points: dict[str, float | None]


def weights_of(scheme: HasWeights) -> list[tuple[str, float]]:
    """(metric code, weight) of a scheme, in its order."""
    return [(str(w["metric"]), float(w["weight"])) for w in scheme.weights]


def default_scheme(dim: Dim) -> EvaluationScheme | None:
    """The active scheme of that breakdown (the first by code if a city keeps several)."""
    return EvaluationScheme.objects.filter(dim=dim, active=True).order_by("code").first()


def _clip(points: float) -> float:
    return round(min(100.0, max(0.0, points)), 2)


def metric_points(code: str, value: Value, peers: Sequence[float]) -> float | None:
    """The points (0..100) of one metric's value among its peers' values (which include
    it); None without a value."""
    if value is None:
        return None
    metric = METRIC_BY_CODE[code]
    v = float(value)
    if metric.unit == "percent":
        return _clip(v if metric.higher_is_better else 100 - v)
    if metric.higher_is_better:
        best = max(peers)
        return _clip(100 * v / best) if best > 0 else 0.0
    best = min(peers)
    if v <= 0:
        return 100.0
    return _clip(100 * best / v)


def score(values_by_key: Mapping[int, Mapping[str, Value]], scheme: HasWeights
          ) -> dict[int, tuple[float | None, dict[str, float | None]]]:
    """Per key: (the composite score or None, the points of each of the scheme's metrics,
    None where the key has no value)."""
    weights = weights_of(scheme)
    peers: dict[str, list[float]] = {}
    for code, _w in weights:
        peers[code] = [float(v) for vals in values_by_key.values()
                       if (v := vals.get(code)) is not None]
    # the best peer once per metric: taking max/min over every peer for every key was
    # quadratic in the peers (100,000 basic grids: hours; benchmarks/README.md)
    best: dict[str, list[float]] = {
        code: ([max(vs) if METRIC_BY_CODE[code].higher_is_better else min(vs)] if vs else [])
        for code, vs in peers.items()}
    out: dict[int, tuple[float | None, dict[str, float | None]]] = {}
    for key, vals in values_by_key.items():
        points = {code: metric_points(code, vals.get(code), best[code])
                  for code, _w in weights}
        weighed = [(w, points[code]) for code, w in weights if points[code] is not None]
        total_weight = math.fsum(w for w, _p in weighed)
        if not weighed or total_weight <= 0:
            out[key] = (None, points)
            continue
        total = math.fsum(w * p for w, p in weighed if p is not None)
        out[key] = (round(total / total_weight, 2), points)
    return out


def assign_ranks(items: list[Ranked]) -> list[Ranked]:
    """Sort by score (None last), then label; equal scores share a rank (1, 1, 3), and
    every peer without a score shares the rank after the last scored one."""
    items.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.label, r.key))
    previous: float | None = None
    rank = 0
    for position, r in enumerate(items, start=1):
        if position == 1 or r.score != previous:
            rank = position
        r.rank = rank
        previous = r.score
    return items


def _resolve(dim: Dim, scheme: EvaluationScheme | None) -> EvaluationScheme:
    if scheme is None:
        scheme = default_scheme(dim)
        if scheme is None:
            raise LookupError(f"no active evaluation scheme for {dim}")
    if scheme.dim != dim:
        raise ValueError(f"scheme {scheme.code} ranks {scheme.dim}, not {dim}")
    return scheme


def rank(scope: Scope, *, dim: Dim, since: dt.date, until: dt.date,
         scheme: EvaluationScheme | None = None, within: Grid | None = None,
         level: int | None = None) -> list[Ranked]:
    """The ranking of `dim`'s peers within the scope over since..until (inclusive), by
    `scheme` (default: the active scheme of that dim). Key 0 ("not dispatched", "not a
    grid worker") is never ranked. Department staff may see the departments' ranking (it
    is circulated to every department): it is computed over all departments; any other
    ranking is PermissionDenied for them, like a grid outside the scope.
    LookupError: no active scheme; ValueError: a scheme of another dim."""
    scheme = _resolve(dim, scheme)
    if dim not in RANKED_DIMS:
        raise ValueError(f"{dim} is not ranked")
    if scope.department_only:
        check_breakdown(scope, dim)
        scope = Scope(None, None)  # the departments' ranking: every department
    elif within is not None:
        check_grid(scope, within)
    q = Query(by=dim, since=since, until=until, within=within, level=level)
    counts = {k: c for k, c in fig.figures(scope, q).items() if k != 0}
    for key in fig.peer_keys(scope, q) - counts.keys() - {0}:
        counts[key] = {}  # a peer with nothing counted is ranked, on its zeros
    values = {k: evaluate(c, dim) for k, c in counts.items()}
    scored = score(values, scheme)
    names = fig.labels(dim, counts.keys())
    items = [Ranked(0, key, names.get(key, str(key)), scored[key][0], values[key],
                    scored[key][1]) for key in counts]
    return assign_ranks(items)


def red_black(ranked: list[Ranked], n: int = 10) -> tuple[list[Ranked], list[Ranked]]:
    """红榜: the best n, best first; 黑榜: the worst n, worst first. Only peers with a
    score; when there are fewer than 2n, they are shared out (the better half red, the
    rest black) so no one is on both lists."""
    scored = [r for r in ranked if r.score is not None]
    red_n = min(n, (len(scored) + 1) // 2)
    black_n = min(n, len(scored) - red_n)
    red = scored[:red_n]
    black = list(reversed(scored[len(scored) - black_n:])) if black_n else []
    return red, black


def ranking_table(ranked: list[Ranked], scheme: EvaluationScheme | None) -> Table:
    """名次, 名称, 综合得分, then per metric of the scheme its value and its points."""
    codes = [c for c, _w in weights_of(scheme)] if scheme is not None else []
    headers = ["名次", "名称", "综合得分"]
    for code in codes:
        name = METRIC_BY_CODE[code].name
        headers += [name, f"{name} 得分"]
    title = f"考核排名_{scheme.name}" if scheme is not None else "考核排名"
    table = Table(title=title, headers=headers)
    for r in ranked:
        row: list[str | int | float | None] = [r.rank, r.label, r.score]
        for code in codes:
            row += [r.values.get(code), r.points.get(code)]
        table.rows.append(row)
    return table
