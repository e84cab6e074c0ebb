"""Load a year of demo cases: the generated history in bulk, then the source's four stories
through the real actions.

The history (casegen.py) goes below the ORM with core.bulk (COPY on PostgreSQL), like the
demo register: tens of thousands of cases and a quarter of a million timeline events in
seconds. It is history, so it is not announced: no outbox rows. The register counters are
moved past the numbers it used, so the next real report continues the sequence.

The four stories (a missing manhole cover, a tree across a community entrance, a water
outage, a suspicious group) are walked through `cases.actions` by the demo logins, so
their timelines, routing and side effects are exactly what the console produces.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone

from wangge.cases.actions import (
    do_assignment_feedback,
    do_close_assignment,
    do_consult,
    do_report,
    do_transition,
)
from wangge.cases.models import (
    Case,
    CaseCategory,
    CaseClock,
    CaseEvent,
    DutyRule,
    RegisterCounter,
    new_follow_code,
)
from wangge.core.bulk import allocate_ids, insert_rows
from wangge.demo.caseclocks import open_case_clocks
from wangge.demo.casegen import (
    CaseSpec,
    CategoryInput,
    GridInput,
    Router,
    Staff,
    Target,
    generate_cases,
)
from wangge.org.models import Department, Role, RoleAssignment
from wangge.territory.models import Grid, Level

BATCH = 4000
Progress = Callable[[str, int], None]


@dataclass
class CaseLoad:
    cases: int  # generated + stories
    events: int  # of the generated cases
    stories: dict[str, str]  # "manhole", "tree", "water", "suspicious" → register number


def load_demo_cases(*, n: int, seed: int = 2026, now: dt.datetime | None = None,
                    progress: Progress | None = None) -> CaseLoad:
    """n generated cases for the year before the stories, then the four stories (the day
    before yesterday and yesterday), all in one transaction."""
    now = now or timezone.now()
    grids, categories, route, staff = casegen_inputs()
    with transaction.atomic(), _gc_paused():
        counters = dict(RegisterCounter.objects.values_list("year", "last"))
        specs = generate_cases(grids, categories, route, now=now, n=n, seed=seed, staff=staff,
                               prefix=settings.WANGGE_CASE_PREFIX, counters=counters,
                               until=moment(now, FIRST_STORY))
        events = _insert(specs, progress)
        _advance_counters(specs)
        stories = walk_stories(now, specs)
    return CaseLoad(cases=len(specs) + len(stories), events=events, stories=stories)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A quarter of a million small objects that all live until the insert: the cyclic
    collector would walk them again and again for nothing (a third of the run time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# ---------------------------------------------------------------- generator inputs


def casegen_inputs() -> tuple[list[GridInput], list[CategoryInput], Router, Staff]:
    """The basic grids (with the logins acting on them), small classes, duty list and
    staff, read once so generation needs no queries."""
    logins: dict[str, dict[Any, int]] = defaultdict(dict)
    rows = (RoleAssignment.objects.filter(ended_on__isnull=True, person__user__isnull=False)
            .order_by("id").values_list("role", "grid_id", "department__code",
                                        "person__user_id", "responsible"))
    for role, grid_id, dept, user, responsible in rows:
        key = dept if role == Role.DEPARTMENT_STAFF else grid_id
        if role != Role.GRID_WORKER or responsible:
            logins[role].setdefault(key, user)
    villages = dict(Grid.objects.filter(level=Level.VILLAGE).values_list("id", "name"))
    towns = dict(Grid.objects.filter(level=Level.VILLAGE).values_list("id", "parent_id"))
    basic = Grid.objects.filter(level=Level.BASIC).order_by("code").values_list(
        "code", "kind", "boundary", "label_lng", "label_lat", "parent_id", "id")
    grids = [
        GridInput(code=code, kind=kind, geometry=shapely.from_wkb(bytes(wkb)),
                  label=(lng, lat), village=villages[parent],
                  worker=logins[Role.GRID_WORKER].get(pk),
                  station=logins[Role.STATION_STAFF].get(parent),
                  subcenter=logins[Role.SUBCENTER_STAFF].get(towns[parent]))
        for code, kind, wkb, lng, lat, parent, pk in basic
    ]
    categories = [CategoryInput(c.code, c.name, c.confidential, "24h" in c.sla_policy)
                  for c in CaseCategory.objects.filter(parent__isnull=False).order_by("code")]
    staff = Staff(dispatcher=next(iter(logins[Role.DISPATCHER].values()), None),
                  departments=logins[Role.DEPARTMENT_STAFF])
    return grids, categories, _router(), staff


def _router() -> Router:
    """routing.route in memory: the deepest rule on the grid's path, a small class before
    its big class."""
    parents = dict(CaseCategory.objects.values_list("code", "parent__code"))
    paths = dict(Grid.objects.filter(level=Level.BASIC).values_list("code", "path"))
    rules: dict[str, list[tuple[str, Target]]] = defaultdict(list)
    for pk, cat, path, dept in DutyRule.objects.values_list(
            "id", "category__code", "grid__path", "department__code"):
        rules[cat].append((path, Target(pk, dept)))

    @functools.cache
    def route(category: str, grid: str) -> Target | None:
        path = paths[grid]
        matching = [(len(p), cat == category, target)
                    for cat in (category, parents.get(category)) if cat
                    for p, target in rules[cat] if path.startswith(p)]
        return max(matching, key=lambda m: m[:2])[2] if matching else None

    return route


# ---------------------------------------------------------------------- bulk insert

CASE_FIELDS = ["register_no", "category_id", "grid_id", "lng", "lat", "title", "description",
               "channel", "reporter_id", "state", "confidential", "department_id",
               "routed_by_id", "handling_level", "rework_count",
               "closeout_reason", "satisfaction", "followup_note", "written_reply",
               "replied_at", "created_at", "registered_at", "closed_at", "follow_code"]
EVENT_FIELDS = ["case_id", "at", "actor_id", "action", "from_state", "to_state", "note", "data"]


def _insert(specs: Sequence[CaseSpec], progress: Progress | None) -> int:
    """Cases and their events as plain tuples (core.bulk), and the open cases' SLA clocks;
    returns the number of events."""
    if not specs:
        return 0
    ids = {
        "category": dict(CaseCategory.objects.values_list("code", "id")),
        "grid": dict(Grid.objects.filter(level=Level.BASIC).values_list("code", "id")),
        "department": dict(Department.objects.values_list("code", "id")),
    }
    when = _datetime_adapter()
    case_ids = allocate_ids(Case, len(specs))
    event_ids = iter(allocate_ids(CaseEvent, sum(len(s.events) for s in specs)))
    case_cols, case_rest = _columns(Case, CASE_FIELDS)
    event_cols, event_rest = _columns(CaseEvent, EVENT_FIELDS)
    for start in range(0, len(specs), BATCH):
        chunk = list(zip(case_ids[start:start + BATCH], specs[start:start + BATCH], strict=True))
        insert_rows(Case, case_cols, (
            (pk, s.register_no, ids["category"][s.category], ids["grid"][s.grid], s.lng, s.lat,
             s.title, s.description, s.channel, s.reporter, s.state, s.confidential,
             ids["department"].get(s.department or ""),
             s.routed_by, s.handling_level, s.rework_count, s.closeout_reason, s.satisfaction,
             s.followup_note, s.written_reply, when(s.replied_at), when(s.created_at),
             when(s.registered_at), when(s.closed_at), new_follow_code(), *case_rest)
            for pk, s in chunk))
        insert_rows(CaseEvent, event_cols, (
            (next(event_ids), pk, when(e.at), e.actor, e.action, e.from_state, e.to_state,
             e.note, _json(tuple(e.data.items())), *event_rest)
            for pk, s in chunk for e in s.events))
        if progress:
            progress("cases", len(chunk))
    CaseClock.objects.bulk_create(open_case_clocks(specs, case_ids), batch_size=BATCH)
    return sum(len(s.events) for s in specs)


def _datetime_adapter() -> Callable[[dt.datetime | None], Any]:
    """Aware datetimes → what the backend stores. The generator's are all UTC and SQLite
    stores naive UTC text, so a quarter of a million of them are formatted directly rather
    than through the general (timezone-converting) ops.adapt_datetimefield_value."""
    general = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or connection.timezone_name != "UTC":
        return general

    def sqlite(value: dt.datetime | None) -> Any:
        if value is None or value.tzinfo is not dt.UTC:
            return general(value)
        return value.isoformat(" ")[:-6]  # naive text: without the "+00:00"

    return sqlite


@functools.cache
def _json(items: tuple[tuple[str, Any], ...]) -> str:
    """Event data as JSON text: few distinct values (most are {} or one rule id)."""
    return json.dumps(dict(items))


def _columns(model: type[models.Model], given: list[str]) -> tuple[list[str], list[Any]]:
    """The insert's columns: id, the given ones, then any other concrete field with its
    default, so a column added to the model later does not break the demo load."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rest = [f for f in model._meta.concrete_fields
            if f.attname not in given and not f.primary_key]
    defaults = [now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_db_prep_save(f.get_default(), connection) for f in rest]
    return ["id", *given, *(f.attname for f in rest)], defaults


def _advance_counters(specs: Iterable[CaseSpec]) -> None:
    last: dict[int, int] = {}
    for s in specs:
        _prefix, year, number = s.register_no.rsplit("-", 2)
        last[int(year)] = max(last.get(int(year), 0), int(number))
    for year, number in last.items():
        counter, _ = RegisterCounter.objects.get_or_create(year=year)
        if counter.last < number:
            counter.last = number
            counter.save(update_fields=["last"])


# -------------------------------------------------------------------------- stories

STORY_LOGINS = ("gridworker", "station", "subcenter", "dispatcher", "department", "water",
                "police")
#: a story's moment: (days before today, local time); they happen the day before yesterday
#: and yesterday, at hours people work
Moment = tuple[int, str]
FIRST_STORY: Moment = (2, "06:40")
#: how far from the grid's label point a story happens (tests report there and just beside
#: it), and how far from a same-kind case reported in the 24 hours before it (duplicate
#: detection looks 50 m around)
STORY_DISTANCE_M = 220.0
CLEAR_M = 60.0

Users = dict[str, AbstractBaseUser]
Steps = list[tuple[int, str, str, str, dict[str, Any]]]  # (*moment, login, action, fields)


def moment(now: dt.datetime, when: Moment) -> dt.datetime:
    days, hhmm = when
    day = timezone.localdate(now) - dt.timedelta(days=days)
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), timezone.get_current_timezone())


@contextmanager
def _clock(now: dt.datetime) -> Iterator[Callable[[int, str], None]]:
    """The actions read Django's clock themselves, so while the stories run it is set to
    each step's moment (`at(days, "HH:MM")`): the timeline, register number, deadlines and
    outbox rows all carry the story's time."""
    current = [now]
    with mock.patch("django.utils.timezone.now", lambda: current[0]):
        yield lambda days, hhmm: current.__setitem__(0, moment(now, (days, hhmm)))


def walk_stories(now: dt.datetime, generated: Sequence[CaseSpec] = ()) -> dict[str, str]:
    """The source's four stories in the demo grid worker's grid, told in the order they
    were reported; story → register number. Skipped when a login they need is missing."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=STORY_LOGINS)}
    if len(users) < len(STORY_LOGINS):
        return {}
    home = (RoleAssignment.objects.filter(person__user=users["gridworker"],
                                          role=Role.GRID_WORKER, ended_on__isnull=True)
            .select_related("grid__parent__parent").first())
    if home is None:
        return {}
    grid = home.grid
    village, town = grid.parent, grid.parent.parent
    stem = village.name.removesuffix("社区").removesuffix("村")
    placed: list[tuple[float, float]] = []

    def spot(category: str, when: Moment, bearing: float) -> dict[str, float]:
        t = moment(now, when)
        busy = [(c.lng, c.lat) for c in generated if c.category == category
                and t - dt.timedelta(hours=24) <= c.created_at <= t]
        lng, lat = _spot(grid, bearing, [*busy, *placed])
        placed.append((lng, lat))
        return {"lng": lng, "lat": lat}

    with _clock(now) as at:
        cases = {
            "tree": _fallen_tree(users, at, f"{village.name}入口大树倒伏阻断通行",
                                 spot("0801", FIRST_STORY, 300)),
            "manhole": _manhole(users, at, f"{stem}路中段井盖缺失",
                                spot("0601", (2, "08:50"), 200)),
            "water": _water_outage(users, at, f"{town.name}片区停水",
                                   spot("1001", (1, "07:30"), 135), village.name),
            "suspicious": _suspicious_group(users, at, "出租屋可疑人员聚集",
                                            spot("1201", (1, "20:40"), 10)),
        }
    return {key: case.register_no for key, case in cases.items()}


def _spot(grid: Grid, bearing: float, clear_of: list[tuple[float, float]]) -> tuple[float, float]:
    """A point in `grid` about STORY_DISTANCE_M from its label point, as a phone would fix
    it, clear of the given points."""
    geom = grid.geometry
    x0, y0 = grid.label_lng, grid.label_lat
    for turn in range(0, 360, 20):
        for d in (STORY_DISTANCE_M, STORY_DISTANCE_M * 0.7, STORY_DISTANCE_M * 0.5):
            b = math.radians(bearing + turn)
            x = round(x0 + d * math.sin(b) / (111_320 * math.cos(math.radians(y0))), 6)
            y = round(y0 + d * math.cos(b) / 111_320, 6)
            if shapely.contains_xy(geom, x, y) and all(
                    _metres(x, y, *p) >= CLEAR_M for p in clear_of):
                return x, y
    raise RuntimeError(f"no room for a story in {grid.name}")


def _metres(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    kx = 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lng1 - lng2) * kx, (lat1 - lat2) * 111_320)


def _report(users: Users, at: Callable[[int, str], None], when: Moment, login: str,
            channel: str, data: dict[str, Any]) -> Case:
    at(*when)
    return do_report(data, users[login], channel=channel)


def _walk(case: Case, users: Users, at: Callable[[int, str], None], steps: Steps) -> Case:
    for days, hhmm, login, action, fields in steps:
        at(days, hhmm)
        case = do_transition(case, action, users[login], **fields)
    return case


def _fallen_tree(users: Users, at: Callable[[int, str], None], title: str,
                 where: dict[str, float]) -> Case:
    """树木倒伏 after a night storm: found on the morning patrol, the workstation sends it
    to urban management, cleared by mid-morning."""
    case = _report(users, at, FIRST_STORY, "gridworker", "grid_worker", {
        "category": "0801", "title": title, **where,
        "description": "夜间大风，社区入口一棵大樟树连根倒伏，横在路中，车辆行人无法通行。"})
    return _walk(case, users, at, [
        (2, "06:55", "station", "register", {}),
        (2, "07:05", "station", "dispatch", {}),  # the duty list: urban management
        (2, "07:30", "department", "accept", {}),
        (2, "07:45", "department", "start", {}),
        (2, "10:30", "department", "handle", {"feedback": "已切割清运倒伏树木，恢复通行"}),
        (2, "11:20", "gridworker", "verify_pass", {}),
        (2, "11:40", "station", "close", {"closeout_reason": "道路已恢复通行"}),
    ])


def _manhole(users: Users, at: Callable[[int, str], None], title: str,
             where: dict[str, float]) -> Case:
    """井盖缺失 on a road: the grid worker's GPS report, fixed the same day, rated 5."""
    case = _report(users, at, (2, "08:50"), "gridworker", "grid_worker", {
        "category": "0601", "title": title, **where,
        "description": "巡查发现路中窨井盖缺失，已摆放锥桶临时警示，需尽快补装。"})
    return _walk(case, users, at, [
        (2, "09:05", "dispatcher", "register", {}),
        (2, "09:15", "dispatcher", "dispatch", {}),  # the duty list: urban management
        (2, "09:40", "department", "accept", {}),
        (2, "10:00", "department", "start", {}),
        (2, "12:30", "department", "handle", {"feedback": "已补装球墨铸铁井盖并加装防坠网"}),
        (2, "14:10", "gridworker", "verify_pass", {}),
        (2, "14:30", "dispatcher", "close", {"closeout_reason": "井盖已补装，现场核实无隐患"}),
        (1, "10:00", "gridworker", "evaluate", {"satisfaction": 5,
                                                "followup_note": "过往居民反映处置及时"}),
    ])


def _water_outage(users: Users, at: Callable[[int, str], None], title: str,
                  where: dict[str, float], village: str) -> Case:
    """停水: escalated to the sub-center; after a consultation the water company repairs
    and urban management fences the dig; a written reply because it takes all day."""
    case = _report(users, at, (1, "07:30"), "station", "station", {
        "category": "1001", "title": title, **where,
        "description": f"{village}多栋居民来站反映自清晨起停水，家中老人用水困难。"})
    case = _walk(case, users, at, [
        (1, "07:45", "station", "register", {}),
        (1, "08:00", "station", "escalate", {"reason": "停水涉及多个社区，需分中心协调"}),
        (1, "08:20", "subcenter", "dispatch", {}),  # the duty list: the water company
        (1, "08:35", "water", "accept", {}),
        (1, "08:50", "water", "start", {}),
    ])
    at(1, "09:30")
    today = timezone.localdate()
    do_consult(case, users["subcenter"], held_on=today,
               participants=f"自来水公司、城管执法局、{village}",
               decision="自来水公司抢修破裂主管，城管执法局办理占道开挖并设围挡",
               tasks=[("water", "抢修破裂主管，恢复供水", today),
                      ("urban-management", "办理占道开挖并设置围挡", today)])
    case = _walk(case, users, at, [
        (1, "10:30", "water", "reply_due", {"reason": "主管爆裂需更换管段，上午无法恢复"}),
        (1, "11:00", "water", "reply", {"reply": "破裂主管正在更换，预计今晚22时前恢复供水；"
                                                 "其间在社区党群服务中心设临时供水点。"}),
    ])
    for fed_back, closed, login, code, feedback in [
            ("12:30", "12:45", "department", "urban-management", "已审批占道开挖，现场设置围挡"),
            ("19:10", "19:20", "water", "water", "已更换破裂管段，供水恢复")]:
        assignment = case.assignments.get(department__code=code)
        at(1, fed_back)
        do_assignment_feedback(assignment, users[login], feedback=feedback)
        at(1, closed)
        do_close_assignment(assignment, users["subcenter"])
    return _walk(case, users, at, [
        (1, "19:30", "water", "handle", {"feedback": "已更换破裂管段，管网冲洗后恢复供水"}),
        (1, "20:10", "gridworker", "verify_pass", {}),
        (1, "20:30", "subcenter", "close", {"closeout_reason": "供水已恢复，入户核实水质正常"}),
    ])


def _suspicious_group(users: Users, at: Callable[[int, str], None], title: str,
                      where: dict[str, float]) -> Case:
    """可疑人员 (confidential): residents tell the workstation, the center sends it to the
    police, who watch quietly; still open."""
    case = _report(users, at, (1, "20:40"), "station", "resident", {
        "category": "1201", "title": title, **where,
        "description": "居民反映一出租屋近期多名陌生男子深夜出入，门窗常遮挡。"})
    return _walk(case, users, at, [
        (1, "20:55", "dispatcher", "register", {}),
        (1, "21:05", "dispatcher", "dispatch", {}),  # the duty list: public security
        (1, "21:30", "police", "accept", {}),
        (1, "22:00", "police", "start", {"reason": "已安排民警外围观察，暂不惊动"}),
    ])
