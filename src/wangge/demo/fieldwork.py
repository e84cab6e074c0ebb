"""A year and more of the grid workers' day for the demo city, in bulk (core.bulk: COPY on
PostgreSQL), then the stories of the demo logins through the real actions.

Proportions follow Liling's headline figures relative to its events (680,276 visits as
people met, 82,513 events, 11,851 opinions, 650,000+ leaflets): over the loaded span the
visits' people met and the leaflets handed out are each 8 × the cases reported in that
span, and opinions 1/7 of them. The totals are fixed first and then spread over the
workers' days on duty, so the ratios hold exactly whatever the sample.

Check-ins cover every working day (workcal) of every worker, with some late and some on
leave; patrols follow the rota over the last `PATROL_DAYS` (the coverage map reads recent
passes; a year of tracks would only weigh the demo down). It is history: no outbox rows,
no audit entries (like the case history).

The stories: `gridworker` (胜利社区第1网格) has a full plan today — five elderly residents
of one building booked for their 老年证 annual review, an open task from the station, the
due patrol area, due special-group visits — and `grid_police` has given that worker the
confidential observation task of the suspicious-group story, with one report back.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from wangge.cases.models import Case
from wangge.core.bulk import allocate_ids, db_json, insert_rows
from wangge.core.bulk import db_date as _db_date
from wangge.demo import fieldtext, service_story
from wangge.fieldwork import plan_sources, rota, track
from wangge.fieldwork.actions.catalogue import do_seed_fieldwork
from wangge.fieldwork.actions.plan import build_day_plan
from wangge.fieldwork.actions.tasks import do_give_task, do_report_task
from wangge.fieldwork.models import (
    Appointment,
    BuildingPass,
    CheckIn,
    DiaryEntry,
    Distribution,
    FieldRule,
    Material,
    Meeting,
    Opinion,
    OpinionTopic,
    Patrol,
    PatrolArea,
    Task,
    Visit,
    VisitKind,
)
from wangge.org.models import Person, Role, RoleAssignment
from wangge.registry.actions import do_mark_visited
from wangge.registry.models import Building, Household, SpecialGroup
from wangge.territory.models import Grid, Level
from wangge.workcal.calendar import current as work_calendar

Progress = Callable[[str, int], None]

#: Liling's ratios to its events (82,513): 680,276 people visited, 11,851 opinions,
#: 650,000+ leaflets
VISITS_PER_CASE = 8.0
OPINIONS_PER_CASE = 1 / 7
LEAFLETS_PER_CASE = 8.0
#: patrols (with tracks and building passes) over the most recent days only
PATROL_DAYS = 42
#: the demo worker's special-group members are last visited this long ago: due today
DUE_GAP_DAYS = 45
#: the 老年证 story: this many elderly residents of one building, booked for today
ELDERLY_AGE = 60
ELDERLY_BOOKINGS = 5
OBSERVE_TITLE = "以信息采集名义留意某小区疑似传销聚集人员"
DEMO_WORKER = "gridworker"


@dataclass
class FieldworkLoad:
    since: dt.date
    until: dt.date  # exclusive: records are dated before it ("today")
    cases: int  # cases reported in the span, the basis of the proportions
    counts: dict[str, int] = field(default_factory=dict)
    stories: dict[str, int] = field(default_factory=dict)


@dataclass
class Worker:
    person: int
    grid: Grid
    rule: FieldRule
    households: list[int]
    members: list[tuple[int, int | None]]  # special-group residents: (resident, household)


def load_demo_fieldwork(*, seed: int = 2026, since: dt.date, until: dt.date,
                        progress: Progress | None = None) -> FieldworkLoad:
    """Fieldwork for the days `since` ≤ day < `until` (`until` is today: its plan and the
    stories, no history), in one transaction."""
    rng = random.Random(seed)
    do_seed_fieldwork()
    start, end = plan_sources.day_bounds(since)[0], plan_sources.day_bounds(until)[0]
    n_cases = Case.objects.filter(created_at__gte=start, created_at__lt=end).count()
    load = FieldworkLoad(since=since, until=until, cases=n_cases)
    with transaction.atomic(), _big_page_cache():
        workers = _workers()
        days = _working_days(since, until)
        duty = _checkins(rng, workers, days, load, progress)
        _patrols(rng, workers, days[-PATROL_DAYS:], duty, load, progress)
        demo = _demo_person()
        _visits(rng, workers, duty, round(VISITS_PER_CASE * n_cases), demo, until, load)
        _opinions(rng, workers, duty, round(OPINIONS_PER_CASE * n_cases), until, load)
        _distributions(rng, workers, duty, round(LEAFLETS_PER_CASE * n_cases), load)
        _diaries(rng, workers, duty, load)
        _meetings(rng, workers, days, load)
        if progress:
            progress("fieldwork", sum(load.counts.values()))
        load.stories = _stories(until, demo)
    return load


@contextmanager
def _big_page_cache() -> Iterator[None]:
    """SQLite's default 2 MB page cache makes every insert into a big table's indexes a
    trip to the disk: half a million rows go three times faster with a larger one."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        was = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size = -262144")  # 256 MB, returned when done
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(was)}")


# ------------------------------------------------------------------ inputs


def _workers() -> list[Worker]:
    grids = plan_sources.worker_grids()
    rules = plan_sources.rules_for(list(grids.values()))
    households: dict[int, list[int]] = defaultdict(list)
    for pk, grid_id in Household.objects.order_by("pk").values_list("pk", "grid_id"):
        households[grid_id].append(pk)
    members: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for rid, hh, grid_id in (SpecialGroup.objects.order_by("resident_id")
                             .values_list("resident_id", "resident__household_id", "grid_id")
                             .distinct()):
        members[grid_id].append((rid, hh))
    return [Worker(pid, g, rules[g.pk], households[g.pk], members[g.pk])
            for pid, g in sorted(grids.items())]


def _working_days(since: dt.date, until: dt.date) -> list[dt.date]:
    cal = work_calendar()
    out = []
    day = since
    while day < until:
        # a year the calendar does not cover (a test database) falls back to Mon–Fri
        if cal.is_workday(day) if cal.covers(day) else day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


#: a few hundred distinct days, adapted once each
db_date = functools.cache(_db_date)


@functools.cache
def _midnight(day: dt.date) -> dt.datetime:
    return plan_sources.day_bounds(day)[0]


def _at(day: dt.date, minutes: float) -> dt.datetime:
    """`minutes` after local midnight of `day`, as an aware datetime."""
    return _midnight(day) + dt.timedelta(minutes=minutes)


@functools.cache
def _db_midnight(day: dt.date) -> dt.datetime:
    midnight = _midnight(day)
    if connection.vendor == "postgresql":
        return midnight
    return timezone.make_naive(midnight, dt.UTC)  # how Django's SQLite backend stores it


def _db_at(day: dt.date, minutes: float) -> Any:
    """_at as the backend stores it, without adapting each of a few hundred thousand
    values through Django (SQLite: naive UTC text)."""
    value = _db_midnight(day) + dt.timedelta(minutes=minutes)
    return value if value.tzinfo else str(value)


def _near(grid: Grid, rng: random.Random, spread: float = 0.3) -> tuple[float, float]:
    """A point around the grid's label point, inside its bounding box."""
    w, h = grid.max_lng - grid.min_lng, grid.max_lat - grid.min_lat
    return (grid.label_lng + rng.uniform(-spread, spread) * w / 2,
            grid.label_lat + rng.uniform(-spread, spread) * h / 2)


def _write(model: type, fields: Sequence[str], rows: list[Sequence[Any]],
           load: FieldworkLoad, name: str) -> None:
    insert_rows(model, fields, rows)
    load.counts[name] = load.counts.get(name, 0) + len(rows)


# ------------------------------------------------------------------ check-ins, patrols


def _checkins(rng: random.Random, workers: list[Worker], days: list[dt.date],
              load: FieldworkLoad, progress: Progress | None) -> dict[int, list[dt.date]]:
    """One check-in per worker and working day: mostly on duty in the grid, ~4 % late, ~6 %
    leave, sick or training. Returns the days each worker was on duty."""
    S = CheckIn.Status
    duty: dict[int, list[dt.date]] = defaultdict(list)
    fields = ["worker_id", "grid_id", "day", "at", "status", "lng", "lat", "accuracy_m",
              "place", "late", "note", "recorded_at"]
    for w in workers:
        rows = []
        start = w.rule.start_time.hour * 60 + w.rule.start_time.minute
        for day in days:
            roll = rng.random()
            status = (S.ON_DUTY if roll < 0.94 else S.LEAVE if roll < 0.97
                      else S.TRAINING if roll < 0.99 else S.SICK)
            if status == S.ON_DUTY:
                late = rng.random() < 0.04
                minute = start + (rng.uniform(w.rule.grace_minutes + 1, 50) if late
                                  else rng.uniform(-40, w.rule.grace_minutes))
                lng, lat = _near(w.grid, rng)
                at = _db_at(day, minute)
                rows.append((w.person, w.grid.pk, db_date(day), at, status, lng,
                             lat, rng.uniform(5, 30), CheckIn.Place.GRID, late, "", at))
                duty[w.person].append(day)
            else:
                at = _db_at(day, start - rng.uniform(30, 90))
                note = {S.LEAVE: "事假", S.SICK: "病假", S.TRAINING: "参加网格员业务培训"}[status]
                rows.append((w.person, w.grid.pk, db_date(day), at, status, None,
                             None, None, CheckIn.Place.NONE, False, note, at))
        _write(CheckIn, fields, rows, load, "checkins")
        if progress:
            progress("check-ins", len(rows))
    return duty


def _patrol_areas(workers: list[Worker], load: FieldworkLoad) -> None:
    """Every grid's rota areas at once, grouped and named by fieldwork.rota exactly as
    actions.plan.do_build_patrol_areas does one grid at a time (820 of those calls would
    add a quarter of a minute to the load). Grids that already have areas keep them."""
    have = set(PatrolArea.objects.values_list("grid_id", flat=True).distinct())
    todo = {w.grid.pk: w for w in workers if w.grid.pk not in have}
    buildings: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for pk, grid_id, lng, lat in Building.objects.filter(grid_id__in=todo).order_by(
            "pk").values_list("pk", "grid_id", "lng", "lat"):
        buildings[grid_id].append((pk, lng, lat))
    plans = []
    for grid_id, w in todo.items():
        groups = rota.group(buildings[grid_id], rota.areas_for(w.rule.patrol_every_days))
        plans += [(grid_id, name, order, ids) for order, (name, ids) in enumerate(
            zip(rota.match_names({}, groups), groups, strict=True))]
    ids = allocate_ids(PatrolArea, len(plans))
    _write(PatrolArea, ["id", "grid_id", "name", "order"],
           [(pk, g, name, order) for pk, (g, name, order, _b) in zip(ids, plans, strict=True)],
           load, "patrol_areas")
    _write(PatrolArea.buildings.through, ["patrolarea_id", "building_id"],
           [(pk, b) for pk, (_g, _n, _o, members) in zip(ids, plans, strict=True)
            for b in members], load, "patrol_area_buildings")


def _patrols(rng: random.Random, workers: list[Worker], days: list[dt.date],
             duty: dict[int, list[dt.date]], load: FieldworkLoad,
             progress: Progress | None) -> None:
    """A patrol on each recent day on duty, walking the rota's areas in turn: a short track
    through the area's buildings, each building passed."""
    _patrol_areas(workers, load)
    areas = plan_sources.areas_of([w.grid.pk for w in workers])
    points = {pk: (lng, lat) for pk, lng, lat in Building.objects.filter(
        grid_id__in=[w.grid.pk for w in workers]).values_list("pk", "lng", "lat")}
    recent = set(days)
    plan = [(w, day) for w in workers for day in duty[w.person] if day in recent]
    ids = iter(allocate_ids(Patrol, len(plan)))
    rows, passes = [], []
    turn: dict[int, int] = defaultdict(int)
    for w, day in plan:
        order = sorted(areas.get(w.grid.pk, {}).items())
        area_id, buildings = order[turn[w.person] % len(order)] if order else (None, [])
        turn[w.person] += 1
        walk = [points[b] for b in buildings] or [_near(w.grid, rng)]
        pts = [(lng + rng.uniform(-2e-4, 2e-4), lat + rng.uniform(-2e-4, 2e-4))
               for lng, lat in walk for _ in range(3)]
        offsets = [i * rng.randint(40, 90) for i in range(len(pts))]
        started = rng.uniform(9 * 60, 10 * 60)
        pk = next(ids)
        duration = offsets[-1] + 300
        rows.append((pk, w.person, w.grid.pk, area_id, _db_at(day, started),
                     _db_at(day, started + duration / 60), track.encode(pts),
                     track.encode_times(offsets), len(pts), round(track.path_length_m(pts)),
                     duration))
        passes += [(pk, b, _db_at(day, started + offsets[3 * i] / 60))
                   for i, b in enumerate(buildings)]
    _write(Patrol, ["id", "worker_id", "grid_id", "patrol_area_id", "started_at", "ended_at",
                    "track", "track_times", "points", "distance_m", "duration_s"], rows, load,
           "patrols")
    _write(BuildingPass, ["patrol_id", "building_id", "at"], passes, load, "building_passes")
    if progress:
        progress("patrols", len(rows) + len(passes))


# ------------------------------------------------------------------ visits and outreach


def _slots(rng: random.Random, workers: list[Worker], duty: dict[int, list[dt.date]],
           n: int) -> Iterator[tuple[Worker, dt.date]]:
    """n (worker, day on duty) pairs drawn evenly over all days on duty."""
    pool = [(w, d) for w in workers for d in duty[w.person]]
    for _ in range(n if pool else 0):
        yield rng.choice(pool)


def _visits(rng: random.Random, workers: list[Worker], duty: dict[int, list[dt.date]],
            people: int, demo: Person | None, until: dt.date, load: FieldworkLoad) -> None:
    """Visits whose people met add up to exactly `people`; 'last visited' moves set-wise."""
    kinds = dict(VisitKind.objects.values_list("code", "pk"))
    pool = [k for k in fieldtext.VISITS if k[0] in kinds]
    weights = [k[1] for k in pool]
    sizes: list[int] = []
    left = people
    while left > 0:
        sizes.append(min(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)), left))
        left -= sizes[-1]
    gap = until - dt.timedelta(days=DUE_GAP_DAYS)
    rows = []
    latest_hh: dict[int, dt.date] = {}
    latest_res: dict[int, dt.date] = {}
    for met, (w, day) in zip(sizes, _slots(rng, workers, duty, len(sizes)), strict=False):
        code, _weight, needs, helps = rng.choices(pool, weights)[0]
        household = resident = None
        member_ok = w.members and not (demo and w.person == demo.pk and day >= gap)
        if code in ("special_group", "care_visit") and member_ok:
            resident, household = rng.choice(w.members)
        elif w.households:
            household = rng.choice(w.households)
        at = _db_at(day, rng.uniform(9 * 60, 17 * 60 + 30))
        follow = day + dt.timedelta(days=30) if rng.random() < 0.2 else None
        rows.append((w.person, w.grid.pk, kinds[code], at, household, resident,
                     met, rng.choice(needs), rng.choice(helps), db_date(follow), "[]", at))
        for latest, key in ((latest_hh, household), (latest_res, resident)):
            if key is not None and latest.get(key, dt.date.min) < day:
                latest[key] = day
    _write(Visit, ["worker_id", "grid_id", "kind_id", "visited_at", "household_id",
                   "resident_id", "people_met", "needs", "help_given", "follow_up_on",
                   "photo_hashes", "recorded_at"], rows, load, "visits")
    by_day: dict[dt.date, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for hh, day in latest_hh.items():
        by_day[day][0].append(hh)
    for res, day in latest_res.items():
        by_day[day][1].append(res)
    for day, (hhs, residents) in sorted(by_day.items()):
        do_mark_visited(day=day, household_ids=hhs, resident_ids=residents)


def _opinions(rng: random.Random, workers: list[Worker], duty: dict[int, list[dt.date]],
              n: int, until: dt.date, load: FieldworkLoad) -> None:
    topics = dict(OpinionTopic.objects.values_list("code", "pk"))
    pool = [o for o in fieldtext.OPINIONS if o[0] in topics]
    sources = list(Opinion.Source.values)
    rows = []
    for w, day in _slots(rng, workers, duty, n if pool else 0):
        code, content = rng.choice(pool)
        minute = rng.uniform(9 * 60, 18 * 60)
        age = (until - day).days
        roll = rng.random()
        state = (Opinion.State.ANSWERED if age > 20 and roll < 0.7
                 else Opinion.State.FORWARDED if age > 3 and roll < 0.9
                 else Opinion.State.RECORDED)
        forwarded = (_db_at(day, minute + 1440) if state != Opinion.State.RECORDED
                     else None)
        answered = (_db_at(day, minute + 1440 * rng.randint(5, 15))
                    if state == Opinion.State.ANSWERED else None)
        rows.append((w.person, w.grid.pk, topics[code], content, rng.choice(sources),
                     rng.randint(1, 40), "urgent" if rng.random() < 0.05 else "normal",
                     state, "已转相关部门研究办理，并向居民反馈" if answered else "",
                     _db_at(day, minute), forwarded, answered))
    _write(Opinion, ["author_id", "grid_id", "topic_id", "content", "source",
                     "people_concerned", "urgency", "state", "answer", "collected_at",
                     "forwarded_at", "answered_at"], rows, load, "opinions")


def _distributions(rng: random.Random, workers: list[Worker],
                   duty: dict[int, list[dt.date]], copies: int, load: FieldworkLoad) -> None:
    """Handed to a household (1–3 copies) or at a place (20–80); exactly `copies` in all."""
    materials = list(Material.objects.filter(active=True).values_list("pk", flat=True))
    places = ["小区广场", "党群服务中心", "农贸市场门口", "村民小组活动室", "学校门口"]
    counts: list[int] = []
    left = copies if materials else 0
    while left > 0:
        counts.append(min(rng.randint(1, 3) if rng.random() < 0.7 else rng.randint(20, 80),
                          left))
        left -= counts[-1]
    rows = []
    for count, (w, day) in zip(counts, _slots(rng, workers, duty, len(counts)), strict=False):
        to_home = count <= 3 and w.households
        rows.append((w.person, w.grid.pk, rng.choice(materials), count,
                     rng.choice(w.households) if to_home else None,
                     "" if to_home else rng.choice(places), db_date(day)))
    _write(Distribution, ["worker_id", "grid_id", "material_id", "count", "household_id",
                          "place", "day"], rows, load, "distributions")


# ------------------------------------------------------------------ diaries, meetings


def _diaries(rng: random.Random, workers: list[Worker], duty: dict[int, list[dt.date]],
             load: FieldworkLoad) -> None:
    """About one entry a week per worker."""
    rows = []
    for w in workers:
        for day in duty[w.person]:
            if rng.random() < 0.2:
                text = rng.choice(fieldtext.DIARY).format(grid=w.grid.name, n=rng.randint(2, 8))
                tags = rng.sample(fieldtext.DIARY_TAGS, 2)
                rows.append((w.person, w.grid.pk, db_date(day), text, db_json(tags),
                             _db_at(day, rng.uniform(17 * 60, 21 * 60))))
    _write(DiaryEntry, ["author_id", "grid_id", "day", "text", "tags", "written_at"], rows,
           load, "diary")


def _meetings(rng: random.Random, workers: list[Worker], days: list[dt.date],
              load: FieldworkLoad) -> None:
    """The weekly meeting of every community: its workers, station staff and the town's
    grid police attend; the station's login records it where there is one."""
    by_village: dict[int, list[int]] = defaultdict(list)
    for w in workers:
        by_village[w.grid.parent_id].append(w.person)
    staff: dict[int, list[int]] = defaultdict(list)
    recorder: dict[int, int] = {}
    for role, grid_id, person, user in RoleAssignment.objects.filter(
            ended_on__isnull=True, role__in=[Role.STATION_STAFF, Role.GRID_POLICE]
    ).order_by("id").values_list("role", "grid_id", "person_id", "person__user_id"):
        staff[grid_id].append(person)
        if role == Role.STATION_STAFF and user:
            recorder.setdefault(grid_id, user)
    villages = Grid.objects.filter(level=Level.VILLAGE, pk__in=by_village)
    firsts = sorted({min(d for d in days if d.isocalendar()[:2] == day.isocalendar()[:2])
                     for day in days})
    ids = iter(allocate_ids(Meeting, len(firsts) * len(villages)))
    rows, attendees = [], []
    for v in villages:
        people = by_village[v.pk] + staff[v.pk] + staff[v.parent_id]
        for day in firsts:
            pk = next(ids)
            rows.append((pk, v.pk, db_date(day), fieldtext.MEETING_MINUTES.format(village=v.name),
                         rng.choice(fieldtext.MEETING_DECISIONS), recorder.get(v.pk)))
            attendees += [(pk, p) for p in people]
    _write(Meeting, ["id", "grid_id", "held_on", "minutes", "decisions", "recorded_by_id"],
           rows, load, "meetings")
    _write(Meeting.attendees.through, ["meeting_id", "person_id"], attendees, load,
           "meeting_attendees")


# ------------------------------------------------------------------ the stories


def _demo_person() -> Person | None:
    return Person.objects.filter(user__username=DEMO_WORKER).first()


def _stories(today: dt.date, person: Person | None) -> dict[str, int]:
    """The demo logins' day, through the real actions where one exists."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(
        username__in=[DEMO_WORKER, "station", "grid_police"])}
    if person is None or len(users) < 3:
        return {}
    grid = plan_sources.worker_grids([person.pk])[person.pk]
    out: dict[str, int] = {}
    out["appointments"] = _elderly_bookings(person, grid, today)
    task = do_give_task(users["station"], {
        "worker_id": person.pk, "kind": Task.Kind.COLLECT, "due_on": str(today + dt.timedelta(
            days=2)), "title": "核实出租房屋新承租人信息",
        "detail": "物业反映有新承租人入住，请上门核实并更新人口登记。",
        "building_id": Building.objects.filter(grid=grid).order_by("pk").values_list(
            "pk", flat=True).first()})
    out["station_task"] = task.pk
    # given a few days ago, reported on yesterday evening (history, like the case stories)
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    secret = do_give_task(users["grid_police"], {
        "worker_id": person.pk, "kind": Task.Kind.OBSERVE, "confidential": True,
        "title": OBSERVE_TITLE,
        "detail": "有群众反映某小区一出租屋近期常有外地人员聚集、早出晚归，疑似传销。请以"
                  "入户信息采集名义留意人员往来情况，不要惊动，发现情况及时反馈。"})
    Task.objects.filter(pk=secret.pk).update(created_at=_at(today - dt.timedelta(days=3),
                                                            15 * 60))
    reported = _at(today - dt.timedelta(days=1), 19 * 60)
    do_report_task(users[DEMO_WORKER], {
        "task_id": secret.pk, "at": reported.isoformat(),
        "text": "以核实出租房屋信息为由入户，见屋内有十余名外地青年，床铺较多，墙上贴有"
                "“成功学”标语；已记下出入时间，未惊动。"})
    out["confidential_task"] = secret.pk
    out["plan"] = build_day_plan(person, today).pk
    return out


def _elderly_bookings(person: Person, grid: Grid, today: dt.date) -> int:
    """老年证年审: five residents aged 60 or more of one building, booked for today — real
    proxy requests (services) where the catalogue has the item, plain appointments else."""
    buildings = service_story.elderly_by_building(grid.pk, today)
    if not buildings:
        return 0
    chosen = buildings[0][:ELDERLY_BOOKINGS]
    booked = service_story.book_for_today(person, grid.pk, chosen, _at(today, 9 * 60))
    if booked is not None:
        return booked
    Appointment.objects.bulk_create([
        Appointment(worker=person, grid=grid, at=_at(today, 9 * 60 + 30 * i),
                    purpose=Appointment.Purpose.PROXY, resident=r, house=r.house,
                    note="老年证年审：收取照片和身份证复印件，代办后送证上门")
        for i, r in enumerate(chosen)])
    return len(chosen)
