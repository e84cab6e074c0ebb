"""A year of synthetic cases for the demo city: pure data, deterministic per seed.

`generate_cases` returns `CaseSpec` rows, each with its timeline, for the year before
`now`; `demo/caseload.py` inserts them below the ORM and then walks the source's four
stories through the real actions.

Every timeline is a walk through `cases.workflow.STEPS` (the same table the actions apply),
cut off at `now`: a case reported months ago has long been closed and evaluated, one reported
last week may still sit with a department. The field changes mirror `cases.actions.loop._apply`
(registered_at, routed_by, department, closeout_reason/closed_at, rework_count, ...), and
the event data has the same keys, so the console shows a generated case just as it shows
a real one. No case is younger than 48 hours: duplicate detection looks back 24 hours, and a real
report made right after loading (in a test, in a demo) must never be flagged as a
duplicate of generated history.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import shapely

from wangge.cases.workflow import STEPS, State
from wangge.demo import casetext

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
#: generated cases are at least this old (see the module docstring)
MIN_AGE = dt.timedelta(hours=48)

# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class GridInput:
    """A basic grid, with the logins (user ids) that act on its cases, where they exist."""

    code: str
    kind: str  # "urban" | "rural"
    geometry: shapely.Geometry
    label: tuple[float, float]
    village: str  # the community's or village's name, for titles
    worker: int | None = None  # the responsible grid worker
    station: int | None = None  # workstation staff of its village
    subcenter: int | None = None  # sub-center staff of its town


@dataclass(frozen=True, slots=True)
class CategoryInput:
    code: str  # a small class
    name: str
    confidential: bool = False
    urgent: bool = False  # a 24-hour policy: handled in hours, not days


@dataclass(frozen=True, slots=True)
class Target:
    """Where the duty list routes a category in a grid: its rule and department (an external
    system's department too)."""

    rule: int | None
    department: str | None = None


#: (category code, grid code) → target; the caller precomputes `routing.route`
Router = Callable[[str, str], Target | None]


@dataclass(frozen=True, slots=True)
class Staff:
    dispatcher: int | None = None  # the center's dispatcher login
    departments: Mapping[str, int] = field(default_factory=dict)  # code → a staff login


# ---------------------------------------------------------------------------- outputs


@dataclass(slots=True)
class EventSpec:
    at: dt.datetime
    actor: int | None
    action: str
    from_state: str
    to_state: str
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CaseSpec:
    register_no: str
    category: str
    grid: str
    lng: float
    lat: float
    title: str
    description: str
    channel: str
    reporter: int | None
    confidential: bool
    created_at: dt.datetime
    state: str = State.REPORTED.value
    department: str | None = None
    routed_by: int | None = None
    handling_level: int = 3
    rework_count: int = 0
    closeout_reason: str = ""
    satisfaction: int | None = None
    followup_note: str = ""
    written_reply: str = ""
    replied_at: dt.datetime | None = None
    registered_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    events: list[EventSpec] = field(default_factory=list)


# ------------------------------------------------------------------------------ mix

#: relative weight of each small class; the source's mix: urban management and public
#: facilities most, then disputes, water/power/gas, public opinion, consultations, help,
#: and a handful of confidential reports. Classes not listed (another city's) weigh 1.
CATEGORY_WEIGHTS: dict[str, float] = {
    "0101": 9, "0102": 6, "0103": 2, "0201": 3, "0301": 3, "0401": 1, "0501": 6, "0502": 3,
    "0601": 3, "0602": 6, "0603": 3,
    "0701": 4, "0801": 2, "0901": 3, "1101": 3,
    "1301": 2, "1302": 1, "1303": 2, "1304": 1, "1305": 1.5, "1306": 4, "1307": 1,
    "1308": 0.5, "1309": 1, "1310": 1, "1311": 1, "1312": 1, "1313": 1,
    "1001": 3, "1002": 3, "1003": 0.5,
    "1401": 4, "1501": 3, "1601": 2.5,
    "1201": 0.3, "1202": 0.1,
}  # fmt: skip
#: storms and heat: trees fall and pipes and lines fail in summer (June–August)
SUMMER_BOOST: dict[str, float] = {"0801": 3.0, "1001": 1.8, "1002": 1.8, "0401": 1.5}
MONTH_FACTOR = {1: .85, 2: .7, 3: 1, 4: 1, 5: 1.05, 6: 1.15, 7: 1.2, 8: 1.15, 9: 1.05,
                10: .9, 11: 1, 12: .95}  # fmt: skip  (Spring Festival lull, summer peak)
WEEKEND_FACTOR = 0.8
#: local hour of a report: patrols in the morning and afternoon, little at night
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 8, 9, 12, 12, 11, 10, 8, 7, 6, 4, 2, 1]
CHANNEL_WEIGHTS = {"grid_worker": 52, "resident": 18, "station": 14, "external": 11,
                   "walk_in": 5}
#: urban basic grids are dense: a grid there sees several times a rural grid's cases
GRID_KIND_WEIGHT = {"urban": 4.0, "rural": 1.0}
SATISFACTION = ([5, 4, 3, 2, 1], [60, 25, 9, 4, 2])
SATISFACTION_AFTER_REWORK = ([5, 4, 3, 2, 1], [30, 30, 22, 11, 7])
#: who takes a case a department returned (退回): the neighbour it is usually mistaken for
ALTERNATE = {"urban-management": "housing", "housing": "urban-management",
             "transport": "urban-management", "emergency": "urban-management",
             "natural-resources": "housing", "letters-visits": "civil-affairs",
             "civil-affairs": "letters-visits", "human-resources": "letters-visits"}


# ------------------------------------------------------------------------ generation


def generate_cases(
    grids: Sequence[GridInput], categories: Sequence[CategoryInput], route: Router, *,
    now: dt.datetime, n: int, seed: int = 2026, staff: Staff | None = None,
    prefix: str = "LL", counters: Mapping[int, int] | None = None,
    until: dt.datetime | None = None, tz: dt.tzinfo = SHANGHAI,
) -> list[CaseSpec]:
    """n cases reported in the year before `until` (at the latest `now` - MIN_AGE), handled
    until `now`, in created order, numbered per local year after `counters` (year → last
    number already issued)."""
    if n <= 0 or not grids or not categories:
        return []
    rng = random.Random(seed)
    staff = staff or Staff()
    bounds = shapely.bounds([g.geometry for g in grids]).tolist()
    end = min(now - MIN_AGE, until or now)
    times = sorted(_report_times(rng, n, end, tz))
    grid_cum = list(itertools.accumulate(GRID_KIND_WEIGHT.get(g.kind, 1.0) for g in grids))
    cat_cum = {m: list(itertools.accumulate(_category_weight(c, m) for c in categories))
               for m in range(1, 13)}
    channels = list(CHANNEL_WEIGHTS)
    channel_cum = list(itertools.accumulate(CHANNEL_WEIGHTS.values()))
    numbers = dict(counters or {})
    cases = []
    for created in times:
        i = bisect.bisect_right(grid_cum, rng.random() * grid_cum[-1])
        grid = grids[i]
        cum = cat_cum[created.astimezone(tz).month]
        cat = categories[bisect.bisect_right(cum, rng.random() * cum[-1])]
        channel = rng.choices(channels, cum_weights=channel_cum)[0]
        year = created.astimezone(tz).year
        numbers[year] = numbers.get(year, 0) + 1
        lng, lat = _point_in(rng, grid, bounds[i])
        title = casetext.title(rng, cat.code, cat.name, grid.village, grid.kind)
        case = CaseSpec(
            register_no=f"{prefix}-{year}-{numbers[year]:06d}", category=cat.code,
            grid=grid.code, lng=lng, lat=lat, title=title,
            description=casetext.description(channel, title), channel=channel,
            reporter=_reporter(channel, grid), confidential=cat.confidential, created_at=created,
        )
        case.events.append(EventSpec(created, case.reporter, "report", "", case.state,
                                     data={"possible_duplicate": False, "photos": 0}))
        with contextlib.suppress(_Cut):  # the rest of this case's story lies in the future
            _live(_Walk(case, grid, cat, staff, rng, now, tz), route(cat.code, grid.code))
        cases.append(case)
    return cases


def _report_times(rng: random.Random, n: int, end: dt.datetime,
                  tz: dt.tzinfo) -> list[dt.datetime]:
    """n moments before `end` (UTC): days weighted by month and weekday, local hours by
    HOUR_WEIGHTS."""
    last = end.astimezone(tz).date()
    days = [last - dt.timedelta(days=i) for i in range(365)]
    day_cum = list(itertools.accumulate(
        MONTH_FACTOR[d.month] * (WEEKEND_FACTOR if d.weekday() >= 5 else 1.0) for d in days))
    hours, hour_cum = range(24), list(itertools.accumulate(HOUR_WEIGHTS))
    out = []
    while len(out) < n:
        day = days[bisect.bisect_right(day_cum, rng.random() * day_cum[-1])]
        hour = rng.choices(hours, cum_weights=hour_cum)[0]
        local = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60),
                            rng.randrange(60), tzinfo=tz)
        if local < end:  # the last day is only partly in the window
            out.append(local.astimezone(UTC))
    return out


def _category_weight(cat: CategoryInput, month: int) -> float:
    w = CATEGORY_WEIGHTS.get(cat.code, 1.0)
    return w * SUMMER_BOOST.get(cat.code, 1.0) if month in (6, 7, 8) else w


def _point_in(rng: random.Random, grid: GridInput, bounds: list[float]) -> tuple[float, float]:
    """A uniform point inside the grid (about 10 cm precision), never its label point,
    which tests and the map use as the grid's own spot."""
    if not shapely.is_prepared(grid.geometry):  # only the grids drawn (a province has 100k)
        shapely.prepare(grid.geometry)
    x0, y0, x1, y1 = bounds
    while True:  # 6 decimals, like a phone's fix; int() / 1e6 is thrice as fast as round()
        x, y = int(rng.uniform(x0, x1) * 1e6) / 1e6, int(rng.uniform(y0, y1) * 1e6) / 1e6
        if (x, y) != grid.label and shapely.contains_xy(grid.geometry, x, y):
            return x, y


def _reporter(channel: str, grid: GridInput) -> int | None:
    if channel == "grid_worker":
        return grid.worker
    if channel in ("station", "walk_in"):
        return grid.station  # registered at the workstation counter
    return None  # residents on the public page and the hotline have no login


# ------------------------------------------------------------------------ timelines


class _Cut(Exception):
    """The next step would happen after `now`."""


class _Walk:
    """One case's path through STEPS, applying what each action changes."""

    def __init__(self, case: CaseSpec, grid: GridInput, cat: CategoryInput, staff: Staff,
                 rng: random.Random, now: dt.datetime, tz: dt.tzinfo) -> None:
        self.case, self.grid, self.staff, self.rng = case, grid, staff, rng
        self.now, self.t, self.tz = now, case.created_at, tz
        self.pace = 0.3 if cat.urgent else 1.0  # a 24-hour category moves faster
        # one case in 25 waits at every desk: these are the ones still registered or
        # dispatched days later
        self.slow = 8.0 if rng.random() < 0.04 else 1.0

    def dispatcher(self) -> int | None:
        """Whoever dispatches at the case's current level (the center may always act)."""
        level, g = self.case.handling_level, self.grid
        local = (g.station if level == 3 else g.subcenter if level == 2 else None)
        return self.staff.dispatcher if self.case.confidential else local or self.staff.dispatcher

    def department(self) -> int | None:
        return self.staff.departments.get(self.case.department or "")

    def step(self, action: str, actor: int | None, hours: tuple[float, float],
             note: str = "", *, sets: dict[str, Any] | None = None, **data: Any) -> None:
        """Take `action` some hours after the last step: `sets` are fields the caller
        decides (dispatch target, rating), `data` goes into the timeline event."""
        at = self.t + dt.timedelta(seconds=int(self.rng.uniform(*hours) * 3600 * self.slow))
        if at > self.now:
            raise _Cut
        c, rule = self.case, STEPS[action]
        assert c.state in rule.sources, (action, c.state)  # the generator's own bug
        before, self.t = c.state, at
        if action == "escalate":
            data = {"from_level": c.handling_level, "to_level": 2 if c.handling_level == 3 else 0}
            c.handling_level = data["to_level"]
        elif action in ("resume", "reply"):
            entered = "suspend" if action == "resume" else "reply_due"
            c.state = next(e for e in reversed(c.events) if e.action == entered).data["previous"]
        elif action in ("suspend", "reply_due"):
            data = {"previous": c.state, **data}
        if rule.target is not None:
            c.state = rule.target.value
        for name, value in (sets or {}).items():
            setattr(c, name, value)
        self._apply(action, at, note, data)
        c.events.append(EventSpec(at, actor, action, before, c.state, note, data))

    def _apply(self, action: str, at: dt.datetime, note: str, data: dict[str, Any]) -> None:
        """What the action changes beyond the state, as cases.actions.loop._apply does."""
        c = self.case
        if action == "register":
            c.registered_at, c.routed_by = at, data["rule"]
        elif action == "return":
            c.department = None
        elif action == "verify_fail":
            c.rework_count += 1
        elif action in ("close", "cancel", "reject"):
            c.closeout_reason, c.closed_at = note[:200], at
        elif action == "evaluate":
            c.followup_note = note
        elif action == "reply":
            c.written_reply, c.replied_at = note, at

    def dispatch(self, target: Target | None, department: str | None = None) -> None:
        """To the chosen department, else the duty rule's target (as actions.loop._dispatch)."""
        if department or target is None:
            code = department or "letters-visits"  # no rule: the dispatcher chooses
            self.step("dispatch", self.dispatcher(), (0.2, 12), department=code, rule=None,
                      sets={"department": code})
        else:
            self.step("dispatch", self.dispatcher(), (0.2, 12),
                      department=target.department, rule=target.rule,
                      sets={"department": target.department})


def _live(w: _Walk, target: Target | None) -> None:
    """The case's fate: mostly the whole closed loop; some rejected, cancelled, escalated,
    returned, suspended, answered in writing, or reworked. Raises _Cut at `now`."""
    rng, c, p = w.rng, w.case, w.pace
    fate = rng.random()
    if fate < 0.03:
        w.step("reject", w.dispatcher(), (0.2, 8), rng.choice(casetext.REJECT_REASONS))
        return
    if fate < 0.04:
        w.step("cancel", w.dispatcher(), (0.2, 8), rng.choice(casetext.CANCEL_REASONS))
        return
    w.step("register", w.dispatcher(), (0.1, 6 * p + 1), rule=target.rule if target else None)
    if not c.confidential and rng.random() < 0.06:
        w.step("escalate", w.dispatcher(), (0.5, 24), rng.choice(casetext.ESCALATE_REASONS))
        if rng.random() < 0.35:
            w.step("escalate", w.dispatcher(), (1, 48), "需市级统筹协调")
    if rng.random() < 0.01:
        w.step("cancel", w.dispatcher(), (1, 48), rng.choice(casetext.CANCEL_REASONS))
        return
    w.dispatch(target)
    alternate = ALTERNATE.get(c.department or "")
    if alternate and rng.random() < 0.04:
        w.step("return", w.department(), (1, 24), "不属于本部门职责，请重新分派")
        w.dispatch(target, department=alternate)
    w.step("accept", w.department(), (0.3, 24 * p + 1))
    if rng.random() < 0.025:
        planned = w.t + dt.timedelta(days=rng.randint(5, 30))
        w.step("suspend", w.dispatcher(), (1, 48), rng.choice(casetext.SUSPEND_REASONS),
               planned_date=planned.astimezone(w.tz).date().isoformat())
        if rng.random() < 0.1:
            w.step("cancel", w.dispatcher(), (48, 240), "诉求已不存在，经核实予以撤销")
            return
        w.step("resume", w.dispatcher(), (48, 24 * 20))
    w.step("start", w.department(), (0.2, 24 * p + 1))
    if rng.random() < 0.04:
        w.step("reply_due", w.department(), (6, 72), rng.choice(casetext.REPLY_DUE_REASONS))
        w.step("reply", w.department(), (2, 120), casetext.written_reply(rng))
    w.step("handle", w.department(), (2, 120 * p + 6), casetext.feedback(rng, c.category))
    reworked = rng.random() < 0.06
    if reworked:
        w.step("verify_fail", w.grid.worker or w.dispatcher(), (1, 48),
               rng.choice(casetext.REWORK_REASONS))
        w.step("handle", w.department(), (4, 72), "已按核查意见返工处理")
    w.step("verify_pass", w.grid.worker or w.dispatcher(), (1, 48))
    w.step("close", w.dispatcher(), (0.5, 24), rng.choice(casetext.CLOSEOUT_REASONS))
    if rng.random() < 0.88:
        values, weights = SATISFACTION_AFTER_REWORK if reworked else SATISFACTION
        score = rng.choices(values, weights)[0]
        actor = c.reporter if c.reporter and rng.random() < 0.5 else w.dispatcher()
        w.step("evaluate", actor, (2, 72), casetext.followup(score),
               sets={"satisfaction": score})
