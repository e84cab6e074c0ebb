"""The monthly evaluation report (月度考核通报) of one grid's subtree: data only.

`build(scope, month, grid)` assembles what the page (views_report) and the PDF
(report_pdf) print, as plain dataclasses that round-trip through JSON (`to_json` /
`from_json`), so the stored report (EvaluationReport.figures) is printed again exactly as
it was circulated, whatever the rollups say later:

- the totals of the main metrics over the month, with the previous month's value and the
  change (环比: per cent for a count, points for a rate, hours for a time —
  analytics.compare.change);
- the rankings (红黑榜, best and worst 10) of the departments, of the grids one level below
  the report's grid, and of the grid workers, by the active evaluation schemes;
- the cases circulated: late cases (超期: a handling clock that breached its deadline in the
  month) and reworked cases (返工: 核查不通过 or 不满意重办 in the month) with register
  number, category, grid, department and days late / times reworked. Confidential cases are
  counted and never listed; no personal data (no reporter, title or description).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from wangge.analytics import compare, ranking
from wangge.analytics import figures as fig
from wangge.analytics.access import Scope, check_grid
from wangge.analytics.facts import HANDLING_GOAL, Span
from wangge.analytics.figures import Query
from wangge.analytics.metrics import METRIC_BY_CODE, Dim, evaluate
from wangge.cases.models import Case, CaseClock, CaseEvent
from wangge.territory.models import Grid

#: the metrics of the totals table, in print order
MAIN_METRICS: tuple[str, ...] = (
    "reported", "valid_rate", "registered", "dispatched", "return_rate", "handled",
    "on_time_handle_rate", "closed", "on_time_close_rate", "reworked", "rework_rate",
    "overdue", "reply_rate", "avg_handling_hours", "satisfaction_rate", "followup_rate",
    "visit_people", "opinions", "proxy_items",
)
#: how many peers the red and the black list each hold
LIST_N = 10
#: at most this many cases are listed per list (the count says how many there are)
CASE_LIST_MAX = 300
RANK_TITLES: dict[str, str] = {"department": "职能部门考核排名", "grid": "网格考核排名",
                               "worker": "网格员考核排名"}

Value = float | int | None


@dataclass
class MetricLine:
    code: str
    name: str
    unit: str
    value: Value
    previous: Value
    change: float | None


@dataclass
class RankLine:
    rank: int
    label: str
    score: float | None
    values: dict[str, Value]


@dataclass
class RankingSection:
    dim: str
    title: str
    scheme: str  # the scheme's name ("" when none is active)
    metrics: list[str]  # the scheme's metric codes, in order
    peers: int  # how many were ranked
    red: list[RankLine] = field(default_factory=list)
    black: list[RankLine] = field(default_factory=list)


@dataclass
class CaseLine:
    register_no: str
    category: str
    grid: str
    department: str
    #: late cases: natural days past the deadline (to when it was met, or the month's end);
    #: reworked cases: times reworked in the month
    amount: int


@dataclass
class CaseList:
    total: int  # listed + confidential (+ any beyond CASE_LIST_MAX)
    confidential: int
    lines: list[CaseLine] = field(default_factory=list)


@dataclass
class Report:
    month: str  # YYYY-MM
    grid_code: str
    grid_name: str
    since: str  # ISO dates, inclusive
    until: str
    previous_since: str
    previous_until: str
    generated_at: str  # ISO, aware
    totals: list[MetricLine]
    rankings: list[RankingSection]
    late: CaseList
    reworked: CaseList

    def total(self, code: str) -> Value:
        return next((m.value for m in self.totals if m.code == code), None)


def month_span(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return first, nxt - dt.timedelta(days=1)


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' → its first day; ValueError otherwise."""
    if len(text) != 7 or text[4] != "-":
        raise ValueError(text)
    year, mon = int(text[:4]), int(text[5:])
    if not 2000 <= year <= 2100:
        raise ValueError(text)
    return dt.date(year, mon, 1)


def _totals(scope: Scope, grid: Grid, since: dt.date, until: dt.date
            ) -> tuple[list[MetricLine], tuple[dt.date, dt.date]]:
    q = Query(by="grid", since=since, until=until, within=grid, level=grid.level)
    now = evaluate(fig.totals(scope, q))
    before_span = compare.previous_span(since, until)
    before = evaluate(fig.totals(scope, Query(by="grid", since=before_span[0],
                                              until=before_span[1], within=grid,
                                              level=grid.level)))
    lines = []
    for code in MAIN_METRICS:
        m = METRIC_BY_CODE[code]
        lines.append(MetricLine(code, m.name, m.unit, now.get(code), before.get(code),
                                compare.change(m, now.get(code), before.get(code))))
    return lines, before_span


def _ranking(scope: Scope, dim: Dim, grid: Grid, since: dt.date, until: dt.date
             ) -> RankingSection | None:
    scheme = ranking.default_scheme(dim)
    codes = [c for c, _w in ranking.weights_of(scheme)] if scheme is not None else []
    section = RankingSection(dim, RANK_TITLES[dim], scheme.name if scheme else "", codes, 0)
    if scheme is None:
        return section
    level = grid.level + 1 if dim == "grid" else None
    if dim == "grid" and grid.level >= 4:
        return None  # a basic grid has no grids below it
    ranked = ranking.rank(scope, dim=dim, since=since, until=until, scheme=scheme,
                          within=grid, level=level)
    red, black = ranking.red_black(ranked, LIST_N)

    def line(r: ranking.Ranked) -> RankLine:
        return RankLine(r.rank, r.label, r.score, {c: r.values.get(c) for c in codes})

    section.peers = len(ranked)
    section.red = [line(r) for r in red]
    section.black = [line(r) for r in black]
    return section


def _secret() -> Q:
    return Q(case__confidential=True) | Q(case__category__confidential=True)


def _line(case: Case, amount: int) -> CaseLine:
    return CaseLine(case.register_no, case.category.name, case.grid.name,
                    case.department.name if case.department_id else "", amount)


def late_cases(grid: Grid, since: dt.date, until: dt.date) -> CaseList:
    """Cases whose handling clock breached its deadline in the month, most days late
    first."""
    span = Span.days(since, until)
    clocks = CaseClock.objects.filter(goal=HANDLING_GOAL, breached_at__gte=span.start,
                                      breached_at__lt=span.end,
                                      case__grid__path__startswith=grid.path)
    secret = clocks.filter(_secret()).values("case_id").distinct().count()
    shown = (clocks.exclude(_secret())
             .select_related("case__category", "case__grid", "case__department"))
    lines: dict[int, CaseLine] = {}
    for clock in shown:
        end = clock.met_at if clock.met_at is not None and clock.met_at < span.end else span.end
        days = max(1, math.ceil((end - clock.deadline).total_seconds() / 86400)
                   ) if clock.deadline else 1
        old = lines.get(clock.case_id)
        if old is None or days > old.amount:
            lines[clock.case_id] = _line(clock.case, days)
    ordered = sorted(lines.values(), key=lambda c: (-c.amount, c.register_no))
    return CaseList(len(ordered) + secret, secret, ordered[:CASE_LIST_MAX])


def reworked_cases(grid: Grid, since: dt.date, until: dt.date) -> CaseList:
    """Cases reworked in the month (核查不通过 or 不满意重办), most reworked first."""
    span = Span.days(since, until)
    events = CaseEvent.objects.filter(action__in=("verify_fail", "reopen"),
                                      at__gte=span.start, at__lt=span.end,
                                      case__grid__path__startswith=grid.path)
    secret = events.filter(_secret()).values("case_id").distinct().count()
    per_case = dict(events.exclude(_secret()).order_by().values("case_id")
                    .annotate(n=Count("id")).values_list("case_id", "n"))
    cases = (Case.objects.filter(pk__in=list(per_case))
             .select_related("category", "grid", "department"))
    ordered = sorted((_line(c, per_case[c.pk]) for c in cases),
                     key=lambda c: (-c.amount, c.register_no))
    return CaseList(len(ordered) + secret, secret, ordered[:CASE_LIST_MAX])


def build(scope: Scope, month: dt.date, grid: Grid, *, now: dt.datetime | None = None
          ) -> Report:
    """The report of `month` (any day of it) for `grid`'s subtree, as `scope` may see it
    (PermissionDenied for a grid outside it)."""
    check_grid(scope, grid)
    since, until = month_span(month)
    totals, before = _totals(scope, grid, since, until)
    sections = [s for dim in ("department", "grid", "worker")
                if (s := _ranking(scope, dim, grid, since, until)) is not None]
    return Report(
        month=f"{since:%Y-%m}", grid_code=grid.code, grid_name=grid.name,
        since=since.isoformat(), until=until.isoformat(),
        previous_since=before[0].isoformat(), previous_until=before[1].isoformat(),
        generated_at=timezone.localtime(now or timezone.now()).isoformat(timespec="seconds"),
        totals=totals, rankings=sections,
        late=late_cases(grid, since, until), reworked=reworked_cases(grid, since, until))


def to_json(report: Report) -> dict[str, Any]:
    return asdict(report)


def from_json(data: dict[str, Any]) -> Report:
    def case_list(d: dict[str, Any]) -> CaseList:
        return CaseList(d["total"], d["confidential"], [CaseLine(**c) for c in d["lines"]])

    sections = [RankingSection(
        s["dim"], s["title"], s["scheme"], list(s["metrics"]), s["peers"],
        [RankLine(**r) for r in s["red"]], [RankLine(**r) for r in s["black"]])
        for s in data["rankings"]]
    fields = {k: data[k] for k in ("month", "grid_code", "grid_name", "since", "until",
                                   "previous_since", "previous_until", "generated_at")}
    return Report(**fields, totals=[MetricLine(**m) for m in data["totals"]],
                  rankings=sections, late=case_list(data["late"]),
                  reworked=case_list(data["reworked"]))
