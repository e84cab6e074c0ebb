"""The evaluation's base counts (analytics.metrics.BASES) counted from the records: one
counting function per source, each one GROUP BY over the source's rows of a span.

A source's rows are grouped by the breakdown keys asked for, among:

- ``grid``: the record's grid (the case's grid; a visit's, patrol's, opinion's or proxy
  request's own grid), or its ancestor at a given level (`GridKey`);
- ``category``: the case's category;
- ``channel``: the index of the case's channel in metrics.CHANNELS;
- ``department``: for dispatch events the department dispatched to (the event's
  data["department"], a code); for return, handle, verify_fail, reopen, reply_due and
  reply events the department of the latest dispatch event of the case at or before the
  event; for everything else about a case (created, registered, closed, ratings, clocks)
  the case's current department; 0 when there is none;
- ``worker``: for cases the org.Person whose login reported the case (0: not reported by
  a person with a login: a resident, an external system …); for fieldwork the record's
  worker (Visit.worker, Patrol.worker, Opinion.author, ProxyRequest.worker).

Days are Asia/Shanghai days (analytics.rollup.day_start): a span is [start, end) of aware
datetimes. Every function yields ``(key tuple, {base code: n})`` with the key in the order
of the dims asked for.

Two bases cannot be a plain SQL aggregate:
- ``handling_minutes`` needs the working-day calendar (workcal): the handle events of the
  span are read with the moment their handling started (the latest dispatch, verify_fail or
  reopen before them) and their keys, and the working minutes are added up in Python; an
  event whose interval touches a year the calendar does not cover adds no minutes (it is
  still counted as handled).
- ``buildings_covered`` is a distinct count: not additive over days, so it is counted per
  bucket (a calendar month, or a single day) with COUNT(DISTINCT building).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Case as CaseWhen
from django.db.models import (
    CharField,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Length, Substr
from django.utils import timezone

from wangge.analytics.metrics import CHANNELS, SATISFIED_LEVEL
from wangge.cases.models import Case, CaseClock, CaseEvent, Rating
from wangge.disputes.models import (
    Agreement,
    Dispute,
    FollowUp,
    Referral,
    Risk,
    Screening,
    ScreeningRule,
)
from wangge.disputes.models import Event as DisputeEvent
from wangge.fieldwork.models import BuildingPass, Opinion, Patrol, Visit
from wangge.org.models import Department
from wangge.registry.models import Building
from wangge.services.models import ProxyRequest
from wangge.territory.models import Grid
from wangge.workcal import calendar as workcal
from wangge.workcal.deadlines import CalendarNotCovered

#: a proxy request counts once delivered; rating it afterwards keeps it counted
DELIVERED = Q(state__in=(ProxyRequest.State.DELIVERED, ProxyRequest.State.RATED))


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Shanghai (the day the user means), as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


Key = tuple[int, ...]
Row = tuple[Key, dict[str, int]]
ONE_DAY = dt.timedelta(days=1)
#: the clock whose deadline a case's handling is judged by
HANDLING_GOAL = "handled"
#: events whose department is the one of the latest dispatch before them
AFTER_DISPATCH = ("return", "handle", "verify_fail", "reopen", "reply_due", "reply")
#: the events handling (re)starts with: handling time runs from the latest one before a
#: handle event
HANDLING_STARTS = ("dispatch", "verify_fail", "reopen")


@dataclass(frozen=True)
class Span:
    start: dt.datetime  # aware, included
    end: dt.datetime  # aware, excluded

    @classmethod
    def days(cls, since: dt.date, until: dt.date) -> Span:
        return cls(day_start(since), day_start(until + ONE_DAY))


@dataclass(frozen=True)
class GridKey:
    """How records are keyed by grid: by their own grid (`level` None), or by their grid's
    ancestor at `level` (records of grids above that level are left out)."""

    level: int | None = None
    #: the length of every path at `level` when they all have the same (then the key is a
    #: prefix of the record grid's path, grouped in SQL); None: keyed by grid id and folded
    prefix: int | None = None


def grid_key(level: int | None) -> GridKey:
    if level is None:
        return GridKey()
    lengths = list(Grid.objects.filter(level=level).order_by()
                   .values_list(Length("path"), flat=True).distinct()[:2])
    return GridKey(level, lengths[0] if len(lengths) == 1 else None)


@dataclass(frozen=True)
class Filter:
    """Which records count: subtrees (grid paths; None: everywhere)."""

    paths: Sequence[str] | None = None

    def q(self, grid: str) -> Q:
        if self.paths is None:
            return Q()
        q = Q(pk__in=[])
        for p in self.paths:
            q |= Q(**{f"{grid}__path__startswith": p})
        return q


# --- key expressions ------------------------------------------------------------------

def channel_index(field: str) -> Expression:
    return CaseWhen(*(When(**{field: name, "then": Value(i)}) for i, name in enumerate(CHANNELS)),
                    default=Value(len(CHANNELS)), output_field=IntegerField())


def latest_dispatch_code(case_field: str = "case_id", at: str = "at") -> Subquery:
    """The department code of the latest dispatch event of the case at or before `at`."""
    return Subquery(CaseEvent.objects.filter(
        case_id=OuterRef(case_field), action="dispatch", at__lte=OuterRef(at)
    ).order_by("-at", "-id").annotate(code=KeyTextTransform("department", "data"))
        .values("code")[:1])


def handling_started(case_field: str = "case_id", at: str = "at") -> Subquery:
    return Subquery(CaseEvent.objects.filter(
        case_id=OuterRef(case_field), action__in=HANDLING_STARTS, at__lt=OuterRef(at)
    ).order_by("-at", "-id").values("at")[:1])


def late_clock(case_field: str, at: str) -> Exists:
    """The case's handling clock had its deadline before `at`."""
    return Exists(CaseClock.objects.filter(case_id=OuterRef(case_field), goal=HANDLING_GOAL,
                                           deadline__lt=OuterRef(at)))


def breached_clock(case_field: str) -> Exists:
    """The case's handling clock breached (the sweep said so, or it was met after its
    deadline)."""
    return Exists(CaseClock.objects.filter(
        Q(breached_at__isnull=False) | Q(met_at__gt=F("deadline")),
        case_id=OuterRef(case_field), goal=HANDLING_GOAL))


@dataclass(frozen=True)
class Source:
    """One kind of record: its rows in a span, how each dim keys them, what is counted."""

    name: str
    rows: Callable[[Span], QuerySet]
    grid: str  # the grid foreign key's path from the row ("grid", "case__grid" …)
    keys: dict[str, Callable[[], Expression | str]]  # dim → key expression (not grid)
    counts: Callable[[], dict[str, object]]  # base code → aggregate
    #: department key is a code to map to an id (dispatch events, latest dispatch)
    department_code: bool = False

    @property
    def dims(self) -> tuple[str, ...]:
        return ("grid", *self.keys)


def _case_keys(c: str, department: Callable[[], Expression | str]
               ) -> dict[str, Callable[[], Expression | str]]:
    return {
        "category": lambda: f"{c}category_id",
        "channel": lambda: channel_index(f"{c}channel"),
        "department": department,
        "worker": lambda: Coalesce(f"{c}reporter__person__id", Value(0)),
    }


def _current(c: str) -> Callable[[], Expression]:
    return lambda: Coalesce(f"{c}department_id", Value(0))


def _events(*actions: str) -> Callable[[Span], QuerySet]:
    return lambda s: CaseEvent.objects.filter(action__in=actions, at__gte=s.start,
                                              at__lt=s.end)


CASE_SOURCES: tuple[Source, ...] = (
    Source("created", lambda s: Case.objects.filter(created_at__gte=s.start,
                                                    created_at__lt=s.end),
           "grid", _case_keys("", _current("")),
           lambda: {"reported": Count("id"),
                    "valid": Count("id", filter=~Q(state="rejected")
                                   & Q(merged_into__isnull=True))}),
    Source("registered", lambda s: Case.objects.filter(registered_at__gte=s.start,
                                                       registered_at__lt=s.end),
           "grid", _case_keys("", _current("")), lambda: {"registered": Count("id")}),
    Source("dispatched", _events("dispatch"), "case__grid",
           _case_keys("case__", lambda: Coalesce(KeyTextTransform("department", "data"),
                                                 Value(""), output_field=CharField())),
           lambda: {"dispatched": Count("id")}, department_code=True),
    Source("after_dispatch", lambda s: _events(*AFTER_DISPATCH)(s).annotate(
               late=late_clock("case_id", "at")),
           "case__grid", _case_keys("case__", lambda: Coalesce(
               latest_dispatch_code(), Value(""), output_field=CharField())),
           lambda: {"returned": Count("id", filter=Q(action="return")),
                    "handled": Count("id", filter=Q(action="handle")),
                    "handled_on_time": Count("id", filter=Q(action="handle", late=False)),
                    "reworked": Count("id", filter=Q(action__in=("verify_fail", "reopen"))),
                    "reply_owed": Count("id", filter=Q(action="reply_due")),
                    "replied": Count("id", filter=Q(action="reply"))},
           department_code=True),
    Source("closed", lambda s: _events("close")(s).annotate(
               breached=breached_clock("case_id"),
               rated=Exists(Rating.objects.filter(case_id=OuterRef("case_id")))),
           "case__grid", _case_keys("case__", _current("case__")),
           lambda: {"closed": Count("id"),
                    "closed_on_time": Count("id", filter=Q(breached=False)),
                    "closed_rated": Count("id", filter=Q(rated=True))}),
    Source("ratings", lambda s: Rating.objects.filter(created_at__gte=s.start,
                                                      created_at__lt=s.end),
           "case__grid", _case_keys("case__", _current("case__")),
           lambda: {"rated": Count("id"),
                    "satisfied": Count("id", filter=Q(level__gte=SATISFIED_LEVEL))}),
    Source("overdue", lambda s: CaseClock.objects.filter(
               goal=HANDLING_GOAL, breached_at__gte=s.start, breached_at__lt=s.end),
           "case__grid", _case_keys("case__", _current("case__")),
           lambda: {"overdue": Count("id")}),
)

FIELD_SOURCES: tuple[Source, ...] = (
    Source("visits", lambda s: Visit.objects.filter(visited_at__gte=s.start,
                                                    visited_at__lt=s.end),
           "grid", {"worker": lambda: "worker_id"},
           lambda: {"visit_people": Sum("people_met")}),
    # minutes per patrol, whole minutes (so a month is the sum of its days)
    Source("patrols", lambda s: Patrol.objects.filter(
               started_at__gte=s.start, started_at__lt=s.end, ended_at__isnull=False),
           "grid", {"worker": lambda: "worker_id"},
           lambda: {"patrol_minutes": Sum(F("duration_s") / Value(60),
                                          output_field=IntegerField())}),
    Source("opinions", lambda s: Opinion.objects.filter(collected_at__gte=s.start,
                                                        collected_at__lt=s.end),
           "grid", {"worker": lambda: "author_id"}, lambda: {"opinions": Count("id")}),
    Source("proxy", lambda s: ProxyRequest.objects.filter(
               DELIVERED, delivered_at__gte=s.start, delivered_at__lt=s.end),
           "grid", {"worker": lambda: "worker_id"}, lambda: {"proxy_items": Count("id")}),
)


# --- disputes (矛盾纠纷排查调解) ------------------------------------------------------------

def _dispute_keys(d: str, *, worker: bool) -> dict[str, Callable[[], Expression | str]]:
    """The dispute's kind, and (for what was found) the person whose login recorded it."""
    keys: dict[str, Callable[[], Expression | str]] = {
        "dispute_kind": lambda: f"{d}kind_id"}
    if worker:
        keys["worker"] = lambda: Coalesce(f"{d}recorded_by__person__id", Value(0))
    return keys


def _first_accepted(s: Span) -> QuerySet:
    """Each dispute's first accepted event, when it falls in the span (an escalated
    dispute is taken up again by the next level: not a second mediation in the counts)."""
    earlier = DisputeEvent.objects.filter(
        Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")),
        dispute_id=OuterRef("dispute_id"), kind=DisputeEvent.Kind.ACCEPTED)
    return DisputeEvent.objects.filter(kind=DisputeEvent.Kind.ACCEPTED, at__gte=s.start,
                                       at__lt=s.end).exclude(Exists(earlier))


DISPUTE_SOURCES: tuple[Source, ...] = (
    Source("screenings", lambda s: Screening.objects.filter(screened_at__gte=s.start,
                                                            screened_at__lt=s.end),
           "grid", {"worker": lambda: "screened_by_id"},
           lambda: {"screenings": Count("id"),
                    "screenings_nil": Count("id", filter=Q(nil=True))}),
    Source("disputes", lambda s: Dispute.objects.filter(reported_at__gte=s.start,
                                                        reported_at__lt=s.end),
           "grid", _dispute_keys("", worker=True),
           lambda: {"disputes_found": Count("id"),
                    "disputes_high": Count("id", filter=Q(risk=Risk.HIGH))}),
    Source("dispute_accepted", _first_accepted, "dispute__grid",
           _dispute_keys("dispute__", worker=False),
           lambda: {"disputes_mediated": Count("id")}),
    Source("agreements", lambda s: Agreement.objects.filter(made_at__gte=s.start,
                                                            made_at__lt=s.end),
           "dispute__grid", _dispute_keys("dispute__", worker=False),
           lambda: {"agreements": Count("id"), "mediations_concluded": Count("id")}),
    Source("referrals", lambda s: Referral.objects.filter(referred_at__gte=s.start,
                                                          referred_at__lt=s.end),
           "dispute__grid", _dispute_keys("dispute__", worker=False),
           lambda: {"referrals": Count("id"), "mediations_concluded": Count("id")}),
    Source("follow_ups", lambda s: FollowUp.objects.filter(at__gte=s.start, at__lt=s.end),
           "dispute__grid", _dispute_keys("dispute__", worker=False),
           lambda: {"follow_ups": Count("id"),
                    "honoured": Count("id", filter=Q(honoured=FollowUp.Honoured.YES))}),
)
SOURCES: tuple[Source, ...] = CASE_SOURCES + FIELD_SOURCES + DISPUTE_SOURCES


# --- grouping -------------------------------------------------------------------------

def department_ids() -> dict[str, int]:
    return dict(Department.objects.values_list("code", "id"))


class Keyer:
    """Turns the grouped values of a row into a key tuple of ids."""

    def __init__(self, gk: GridKey, dims: Sequence[str]):
        self.gk, self.dims = gk, tuple(dims)
        self._departments: dict[str, int] | None = None
        self._paths: dict[str, int] | None = None
        self._up: dict[int, int] | None = None

    def grid_expr(self, grid: str) -> Expression | str:
        if self.gk.level is not None and self.gk.prefix is not None:
            return Substr(f"{grid}__path", 1, self.gk.prefix)
        return f"{grid}_id"

    def grid_filter(self, grid: str) -> Q:
        if self.gk.level is None:
            return Q()
        return Q(**{f"{grid}__level__gte": self.gk.level})

    def grid(self, value: object) -> int | None:
        if self.gk.level is None:
            return int(value)  # type: ignore[call-overload]
        if self.gk.prefix is not None:
            if self._paths is None:
                self._paths = dict(Grid.objects.filter(level=self.gk.level)
                                   .values_list("path", "id"))
            return self._paths.get(str(value))
        if self._up is None:
            self._up = ancestors_at(self.gk.level)
        return self._up.get(int(value))  # type: ignore[call-overload]

    def department(self, value: object, is_code: bool) -> int:
        if not is_code:
            return int(value or 0)  # type: ignore[call-overload]
        if not value:
            return 0
        if self._departments is None:
            self._departments = department_ids()
        return self._departments.get(str(value), 0)


def ancestors_at(level: int) -> dict[int, int]:
    """grid id → the id of its ancestor (or itself) at `level`, for grids at or below it."""
    out: dict[int, int] = {}
    for pk, parent, lv in Grid.objects.order_by("level").values_list("id", "parent_id", "level"):
        if lv == level:
            out[pk] = pk
        elif lv > level and parent in out:
            out[pk] = out[parent]
    return out


def count(source: Source, span: Span, dims: Sequence[str], *, where: Filter = Filter(),
          gk: GridKey = GridKey(), keyer: Keyer | None = None) -> Iterator[Row]:
    """The source's base counts in the span, grouped by `dims` (each in source.dims)."""
    keyer = keyer or Keyer(gk, dims)
    qs = source.rows(span).filter(where.q(source.grid))
    names = {}
    for d in dims:
        if d == "grid":
            qs = qs.filter(keyer.grid_filter(source.grid))
            names[d] = keyer.grid_expr(source.grid)
        else:
            names[d] = source.keys[d]()
    aliases = {f"k_{d}": (F(e) if isinstance(e, str) else e) for d, e in names.items()}
    qs = qs.order_by().values(**aliases).annotate(**source.counts())
    codes = list(source.counts())
    merged: dict[Key, dict[str, int]] = {}
    for row in qs:
        key = _key(keyer, source, dims, row)
        if key is None:
            continue
        _add(merged, key, {c: int(row[c] or 0) for c in codes})
    yield from merged.items()


def _key(keyer: Keyer, source: Source, dims: Sequence[str], row: dict) -> Key | None:
    out = []
    for d in dims:
        v = row[f"k_{d}"]
        if d == "grid":
            g = keyer.grid(v)
            if g is None:
                return None
            out.append(g)
        elif d == "department":
            out.append(keyer.department(v, source.department_code))
        else:
            out.append(int(v or 0))
    return tuple(out)


def _add(into: dict[Key, dict[str, int]], key: Key, counts: dict[str, int]) -> None:
    row = into.setdefault(key, {})
    for c, n in counts.items():
        if n:
            row[c] = row.get(c, 0) + n


def handling_minutes(span: Span, dims: Sequence[str], *, where: Filter = Filter(),
                     gk: GridKey = GridKey(), keyer: Keyer | None = None) -> Iterator[Row]:
    """Working minutes from the latest dispatch / verify_fail / reopen to each handle event
    of the span (workcal), added up per key. Events in a year the calendar lacks: none."""
    keyer = keyer or Keyer(gk, dims)
    source = HANDLE_SOURCE
    qs = source.rows(span).filter(where.q(source.grid))
    names: dict[str, Expression | str] = {}
    for d in dims:
        if d == "grid":
            qs = qs.filter(keyer.grid_filter(source.grid))
            names[d] = keyer.grid_expr(source.grid)
        else:
            names[d] = source.keys[d]()
    aliases = {f"k_{d}": (F(e) if isinstance(e, str) else e) for d, e in names.items()}
    qs = qs.order_by().annotate(started=handling_started()).values(
        "at", "started", **aliases)
    calendar = workcal.current()
    sums: dict[Key, dict[str, int]] = {}
    for row in qs.iterator(chunk_size=5000):
        if row["started"] is None:
            continue
        try:
            minutes = calendar.working_minutes_between(row["started"], row["at"])
        except CalendarNotCovered:
            continue
        key = _key(keyer, source, dims, row)
        if key is not None and minutes:
            _add(sums, key, {"handling_minutes": minutes})
    yield from sums.items()


HANDLE_SOURCE = Source(
    "handle", _events("handle"), "case__grid",
    _case_keys("case__", lambda: Coalesce(latest_dispatch_code(), Value(""),
                                     output_field=CharField())),
    lambda: {}, department_code=True)


def buildings_passed(span: Span, dims: Sequence[str], *, where: Filter = Filter(),
                     gk: GridKey = GridKey(), keyer: Keyer | None = None) -> Iterator[Row]:
    """Distinct buildings passed on patrols in the span (one bucket), per key (the patrol's
    grid and worker)."""
    keyer = keyer or Keyer(gk, dims)
    qs = BuildingPass.objects.filter(at__gte=span.start, at__lt=span.end).filter(
        where.q("patrol__grid"))
    aliases: dict[str, Expression] = {}
    for d in dims:
        if d == "grid":
            qs = qs.filter(keyer.grid_filter("patrol__grid"))
            e = keyer.grid_expr("patrol__grid")
            aliases["k_grid"] = F(e) if isinstance(e, str) else e
        else:
            aliases[f"k_{d}"] = F("patrol__worker_id")
    qs = qs.order_by().values(**aliases).annotate(n=Count("building_id", distinct=True))
    merged: dict[Key, dict[str, int]] = {}
    for row in qs:
        key = _key(keyer, PASS_SOURCE, dims, row)
        if key is not None:
            _add(merged, key, {"buildings_covered": int(row["n"])})
    yield from merged.items()


PASS_SOURCE = Source("passes", lambda s: BuildingPass.objects.none(), "patrol__grid",
                     {"worker": lambda: "patrol__worker_id"}, lambda: {})


def building_pass_tuples(span: Span) -> Iterator[tuple[int, int, int]]:
    """(patrol grid, patrol worker, building) passed in the span, distinct (for the
    rollup's fold, where distinct counts are taken per ancestor)."""
    yield from BuildingPass.objects.filter(at__gte=span.start, at__lt=span.end).order_by(
    ).values_list("patrol__grid_id", "patrol__worker_id", "building_id").distinct()


def building_counts(gk: GridKey, where: Filter = Filter()) -> dict[int, int]:
    """Buildings per grid key (the grid's subtree), within the filter."""
    keyer = Keyer(gk, ("grid",))
    qs = Building.objects.filter(where.q("grid")).filter(keyer.grid_filter("grid"))
    e = keyer.grid_expr("grid")
    out: dict[int, int] = {}
    for v, n in qs.order_by().values(k_grid=F(e) if isinstance(e, str) else e).annotate(
            n=Count("id")).values_list("k_grid", "n"):
        g = keyer.grid(v)
        if g is not None:
            out[g] = out.get(g, 0) + int(n)
    return out


def worker_building_counts(workers: Iterable[int], where: Filter = Filter()) -> dict[int, int]:
    """Buildings in the grids where each person is an active grid worker, within the
    filter (the worker dim's building total)."""
    from wangge.org.models import Role, RoleAssignment

    grids: dict[int, set[int]] = {}
    for person, grid in RoleAssignment.objects.filter(
            where.q("grid"), role=Role.GRID_WORKER, ended_on__isnull=True,
            person_id__in=list(workers)).values_list("person_id", "grid_id"):
        grids.setdefault(person, set()).add(grid)
    all_grids = set().union(*grids.values()) if grids else set()
    per_grid = dict(Building.objects.filter(grid_id__in=all_grids).order_by().values(
        "grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    return {p: sum(per_grid.get(g, 0) for g in gs) for p, gs in grids.items()}


def sources_for(dim: str) -> tuple[Source, ...]:
    return tuple(s for s in SOURCES if dim in s.dims)


def months_and_days(since: dt.date, until: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The buckets of a span: each whole calendar month inside it ('m', first, last) and the
    days outside whole months ('d', day, day), in order. Distinct counts are per bucket."""
    out: list[tuple[str, dt.date, dt.date]] = []
    day = since
    while day <= until:
        if day.day == 1:
            last = month_end(day)
            if last <= until:
                out.append(("m", day, last))
                day = last + ONE_DAY
                continue
        out.append(("d", day, day))
        day += ONE_DAY
    return out


def month_end(first: dt.date) -> dt.date:
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - ONE_DAY


# --- screenings due (computed when read) ----------------------------------------------------

def period_starts(since: dt.date, until: dt.date, period: str) -> int:
    """How many screening periods (ScreeningRule.Period: month or week) start in the span:
    the 1sts of months, or the Mondays."""
    if since > until:
        return 0
    if period == ScreeningRule.Period.WEEK:
        first = since + dt.timedelta(days=(7 - since.weekday()) % 7)
        return 0 if first > until else (until - first).days // 7 + 1
    months = (until.year - since.year) * 12 + until.month - since.month
    return months + (1 if since.day == 1 else 0)


def screening_periods(where: Filter = Filter()) -> dict[int, tuple[str, str]]:
    """basic grid id → (its path, the period of the deepest ScreeningRule above or on
    it), for the basic grids within the filter that some rule covers."""
    rules = sorted(ScreeningRule.objects.values_list("grid__path", "period"),
                   key=lambda r: -len(r[0]))
    if not rules:
        return {}
    out: dict[int, tuple[str, str]] = {}
    for pk, path in Grid.objects.filter(_path_q(where), level=4).values_list("id", "path"):
        for rule_path, period in rules:
            if path.startswith(rule_path):
                out[pk] = (path, period)
                break
    return out


def _path_q(where: Filter) -> Q:
    if where.paths is None:
        return Q()
    q = Q(pk__in=[])
    for p in where.paths:
        q |= Q(path__startswith=p)
    return q


def screenings_due(gk: GridKey, since: dt.date, until: dt.date,
                   where: Filter = Filter()) -> dict[int, int]:
    """Screenings due per grid key: the periods starting in the span of every basic grid
    in the key's subtree, within the filter."""
    grids = screening_periods(where)
    if not grids:
        return {}
    per = {p: period_starts(since, until, p) for p in ScreeningRule.Period.values}
    keyer = Keyer(gk, ("grid",))
    out: dict[int, int] = {}
    for pk, (path, period) in grids.items():
        n = per[period]
        if not n:
            continue
        if gk.level is None:
            key: int | None = pk
        elif gk.prefix is not None:
            key = keyer.grid(path[:gk.prefix])
        else:
            key = keyer.grid(pk)
        if key is not None:
            out[key] = out.get(key, 0) + n
    return out


def worker_screenings_due(workers: Iterable[int], since: dt.date, until: dt.date,
                          where: Filter = Filter()) -> dict[int, int]:
    """Screenings due of the grids where each person is an active grid worker."""
    from wangge.org.models import Role, RoleAssignment

    grids = screening_periods(where)
    per = {p: period_starts(since, until, p) for p in ScreeningRule.Period.values}
    out: dict[int, int] = {}
    for person, grid in RoleAssignment.objects.filter(
            where.q("grid"), role=Role.GRID_WORKER, ended_on__isnull=True,
            person_id__in=list(workers)).values_list("person_id", "grid_id"):
        if grid in grids and (n := per[grids[grid][1]]):
            out[person] = out.get(person, 0) + n
    return out
