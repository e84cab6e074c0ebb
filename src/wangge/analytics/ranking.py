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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wangge.analytics import figures as fig
from wangge.analytics.access import Scope, check_breakdown, check_grid
from wangge.analytics.figures import Query
from wangge.analytics.metrics import METRIC_BY_CODE, Dim, metric_value
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


class Board:
    """A whole ranking, scored but not yet labelled: per peer (in the order of `keys`) the
    scheme's metric values, their points and the score, and the peers' order by score.

    Labels are read only for the rows asked for (`rows`, `red_black`, `row`): the order
    within equal scores is by label, so a slice reads the labels of every peer tied with
    the rows at its two ends, no others. At 100,000 basic grids that is a page's names
    instead of 100,000 (benchmarks/README.md, "analytics_province")."""

    def __init__(self, dim: Dim, codes: list[str], keys: list[int],
                 values: dict[str, list[Value]], points: dict[str, list[float | None]],
                 scores: list[float | None],
                 labeller: Callable[[list[int]], Mapping[int, str]] | None = None) -> None:
        self.dim = dim
        self.labeller = labeller or (lambda keys: fig.many_labels(dim, keys))
        self.codes = codes
        self.keys = keys
        self.values = values
        self.points = points
        self.scores = scores
        # by score (None last), then key: equal scores are contiguous; labels order them
        # (two stable sorts on plain lists: no tuple per peer, at 100,000 peers it counts)
        behind = [math.inf if sc is None else -sc for sc in scores]
        self.order = sorted(range(len(keys)), key=keys.__getitem__)
        self.order.sort(key=behind.__getitem__)
        self.scored = sum(1 for sc in scores if sc is not None)
        self._labels: dict[int, str] = {}

    @property
    def total(self) -> int:
        return len(self.keys)

    def _group(self, position: int) -> tuple[int, int]:
        """The positions [start, end) of the peers tied with the one at `position`."""
        sc = self.scores[self.order[position]]
        start = position
        while start > 0 and self.scores[self.order[start - 1]] == sc:
            start -= 1
        end = position + 1
        while end < len(self.order) and self.scores[self.order[end]] == sc:
            end += 1
        return start, end

    def _label(self, keys: list[int]) -> None:
        missing = [k for k in keys if k not in self._labels]
        if missing:
            names = self.labeller(missing)
            self._labels.update({k: names.get(k, str(k)) for k in missing})

    def rows(self, offset: int = 0, limit: int | None = None) -> list[Ranked]:
        """The ranked rows at positions offset .. offset + limit − 1 (all from offset
        without a limit), in the order and with the ranks `assign_ranks` gives."""
        end = self.total if limit is None else min(self.total, offset + max(0, limit))
        if offset >= end:
            return []
        lo, _e = self._group(offset)
        _s, hi = self._group(end - 1)
        span = self.order[lo:hi]
        self._label([self.keys[i] for i in span])
        labels = self._labels
        span.sort(key=lambda i: (self.scores[i] is None, -(self.scores[i] or 0.0),
                                 labels[self.keys[i]], self.keys[i]))
        out: list[Ranked] = []
        rank_ = lo + 1
        previous: float | None = None
        for position, i in enumerate(span, start=lo):
            sc = self.scores[i]
            if position == lo or sc != previous:
                rank_ = position + 1
            previous = sc
            if offset <= position < end:
                out.append(self._ranked(i, rank_))
        return out

    def _ranked(self, i: int, rank_: int) -> Ranked:
        key = self.keys[i]
        return Ranked(rank_, key, self._labels[key], self.scores[i],
                      {c: self.values[c][i] for c in self.codes},
                      {c: self.points[c][i] for c in self.codes})

    def position(self, key: int) -> int | None:
        """Where the peer `key` stands in the ranking (0 first), None if not a peer."""
        try:
            i = self.keys.index(key)
        except ValueError:
            return None
        lo, hi = self._group(self.order.index(i))
        span = self.order[lo:hi]
        self._label([self.keys[j] for j in span])
        span.sort(key=lambda j: (self._labels[self.keys[j]], self.keys[j]))
        return lo + span.index(i)

    def red_black(self, n: int = 10) -> tuple[list[Ranked], list[Ranked]]:
        """`red_black` of the whole ranking, labelling only the two lists."""
        red_n = min(n, (self.scored + 1) // 2)
        black_n = min(n, self.scored - red_n)
        red = self.rows(0, red_n) if red_n else []
        black = list(reversed(self.rows(self.scored - black_n, black_n))) if black_n else []
        return red, black


class _Memo(dict[tuple[int, int], Value]):
    """A metric's value per (numerator, denominator): computed once per distinct pair by
    metrics.metric_value itself (the same rounding), looked up for every other peer."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.metric = METRIC_BY_CODE[code]

    def __missing__(self, pair: tuple[int, int]) -> Value:
        m = self.metric
        counts = {m.numerator: pair[0]}
        if m.denominator is not None:
            counts[m.denominator] = pair[1]
        value = self[pair] = metric_value(m, counts)
        return value


def board_of(counts: list[tuple[int, ...]], bases: list[str], dim: Dim,
             scheme: HasWeights,
             labeller: Callable[[list[int]], Mapping[int, str]] | None = None) -> Board:
    """The Board of peers given as rows (key, the value of each of `bases`): the values of
    the scheme's metrics, their points and the score, exactly as `evaluate` and `score`
    compute them (each distinct value or set of points worked out once: a month's counts
    per basic grid are small numbers, so most peers share them)."""
    weights = weights_of(scheme)
    codes = list(dict.fromkeys(code for code, _w in weights))
    keys = [row[0] for row in counts]
    column = {b: [row[1 + j] for row in counts] for j, b in enumerate(bases)}
    zeros = [0] * len(keys)
    values: dict[str, list[Value]] = {}
    points: dict[str, list[float | None]] = {}
    for code in codes:
        m = METRIC_BY_CODE[code]
        memo = _Memo(code)
        top = column[m.numerator]
        bottom = column[m.denominator] if m.denominator is not None else zeros
        vals = [memo[pair] for pair in zip(top, bottom, strict=True)]
        valued = {float(v) for v in memo.values() if v is not None}
        best = ([max(valued) if m.higher_is_better else min(valued)] if valued else [])
        earned = {v: metric_points(code, v, best) for v in memo.values()}
        values[code] = vals
        points[code] = [earned[v] for v in vals]
    memo_scores: dict[tuple[float | None, ...], float | None] = {}
    scores: list[float | None] = []
    columns = [points[code] for code, _w in weights]
    ws = [w for _c, w in weights]
    for pts in zip(*columns, strict=True) if columns else ([()] * len(keys)):
        sc = memo_scores.get(pts, _UNSET)
        if sc is _UNSET:
            weighed = [(w, p) for w, p in zip(ws, pts, strict=True) if p is not None]
            total_weight = math.fsum(w for w, _p in weighed)
            sc = (None if not weighed or total_weight <= 0 else
                  round(math.fsum(w * p for w, p in weighed) / total_weight, 2))
            memo_scores[pts] = sc
        scores.append(sc)  # type: ignore[arg-type]
    return Board(dim, codes, keys, values, points, scores, labeller)


_UNSET: Any = object()


def scheme_bases(scheme: HasWeights) -> list[str]:
    """The base counts the scheme's metrics are computed from, in a fixed order."""
    out: dict[str, None] = {}
    for code, _w in weights_of(scheme):
        m = METRIC_BY_CODE[code]
        out[m.numerator] = None
        if m.denominator is not None:
            out[m.denominator] = None
    return list(out)


def board(scope: Scope, *, dim: Dim, since: dt.date, until: dt.date,
          scheme: EvaluationScheme | None = None, within: Grid | None = None,
          level: int | None = None) -> Board:
    """The whole ranking of `dim`'s peers (see `rank`), scored; rows are labelled when
    asked for."""
    scheme = _resolve(dim, scheme)
    if dim not in RANKED_DIMS:
        raise ValueError(f"{dim} is not ranked")
    if scope.department_only:
        check_breakdown(scope, dim)
        scope = Scope(None, None)  # the departments' ranking: every department
    elif within is not None:
        check_grid(scope, within)
    q = Query(by=dim, since=since, until=until, within=within, level=level)
    bases = scheme_bases(scheme)
    rows = [r for r in fig.base_rows(scope, q, bases) if r[0] != 0]
    idle = (0, *([0] * len(bases)))
    # a peer with nothing counted is ranked, on its zeros
    seen = {r[0] for r in rows}
    idle_keys = [key for key in fig.peer_keys(scope, q) if key not in seen and key]
    computed = fig.idle_computed(scope, q, idle_keys, bases)
    for key in idle_keys:
        row = [key, *idle[1:]]
        for code, n in computed.get(key, {}).items():
            row[bases.index(code) + 1] = n
        rows.append(tuple(row))
    return board_of(rows, bases, dim, scheme)


def rank(scope: Scope, *, dim: Dim, since: dt.date, until: dt.date,
         scheme: EvaluationScheme | None = None, within: Grid | None = None,
         level: int | None = None) -> list[Ranked]:
    """The ranking of `dim`'s peers within the scope over since..until (inclusive), by
    `scheme` (default: the active scheme of that dim): every peer, labelled (a page or the
    lists alone: `board`). Key 0 ("not dispatched", "not a grid worker") is never ranked.
    Department staff may see the departments' ranking (it is circulated to every
    department): it is computed over all departments; any other ranking is
    PermissionDenied for them, like a grid outside the scope. `values` and `points` hold
    the scheme's metrics. LookupError: no active scheme; ValueError: a scheme of another
    dim."""
    return board(scope, dim=dim, since=since, until=until, scheme=scheme, within=within,
                 level=level).rows()


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
