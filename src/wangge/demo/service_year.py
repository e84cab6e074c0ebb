"""A year of the service hall for the demo city: proxy requests (代办) and online
applications (网上预审), in bulk (core.bulk: COPY on PostgreSQL), then the five seniors'
story through the real actions (demo.service_story).

Proportions follow the source: Liling counts 99,407 items handled by proxy in about 18
months, so the city books ~181 proxy requests a day (~5,500 a month over its 820 grids,
fewer at weekends), spread over the 50 proxy-eligible items with the elderly's and the
insurance items most frequent (老年证, 高龄津贴, 医保/养老参保, 残疾证). Online applications
come at about a third of that rate over the items that offer pre-review.

Every record is a full, consistent timeline cut at the present moment: a request booked
last year went booked → collected → in review → handling → ready → delivered → rated
(a few returned for correction and collected again, a few rejected or cancelled); one booked
yesterday is still waiting for the worker's visit. So the last weeks hold some of every
open state, and the states, the time columns and the ProxyEvent / ApplicationEvent rows
always agree. Applicants are the register's (synthetic) residents of the grid: their name,
and their sealed ID number and phone copied as the register holds them (sealed with the
same key, hashed and masked the same way), never a real person.

History, like the case and fieldwork history: no audit entries, no outbox rows, no
material files or signature images (the stories made through the actions have those).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from wangge.cases.models import FOLLOW_CODE_ALPHABET, FOLLOW_CODE_LENGTH
from wangge.core.bulk import allocate_ids, db_json, insert_rows
from wangge.demo.fieldwork import _big_page_cache as big_page_cache
from wangge.demo.service_story import five_seniors
from wangge.fieldwork import plan_sources
from wangge.fieldwork.models import Appointment
from wangge.org.models import Role, RoleAssignment
from wangge.registry.models import Resident
from wangge.services.actions.numbers import APPLICATION_PREFIX, PROXY_PREFIX
from wangge.services.models import (
    Application,
    ApplicationEvent,
    NumberCounter,
    ProxyEvent,
    ProxyRequest,
    ServiceItem,
    StageClock,
)
from wangge.workcal.calendar import current as work_calendar

Progress = Callable[[str, int], None]

#: Liling: 99,407 items handled by proxy in 18 months (547.9 days)
PROXY_PER_DAY = 99_407 / (18 * 365.25 / 12)
#: online applications (public channel) per proxy request
ONLINE_PER_PROXY = 0.35
#: a weekend or holiday books this share of a working day's requests
OFF_DAY_WEIGHT = 0.3
#: a working day's rate, so that the calendar days average PROXY_PER_DAY (about 250 of
#: 365.25 days are working days); ×1.08 because about 8 % are never delivered (open,
#: rejected, cancelled) and the source counts handled items
WORKDAY_SHARE = 250 / 365.25
PROXY_PER_WORKDAY = PROXY_PER_DAY / (WORKDAY_SHARE + (1 - WORKDAY_SHARE) * OFF_DAY_WEIGHT) * 1.08
#: item name fragments → weight; every other proxy-eligible item weighs 1–3
FREQUENT: tuple[tuple[str, float], ...] = (
    ("老年人优待证", 16.0), ("高龄津贴", 12.0), ("基本医疗保险参保", 11.0),
    ("基本养老保险", 10.0), ("残疾人证", 8.0), ("最低生活保障", 4.0), ("居住证", 4.0),
)
#: the items where the applicant is one of the grid's elderly (60+) where there is one
ELDERLY_ITEMS = ("老年", "高龄", "养老")
#: satisfaction levels 5 (非常满意) … 1 (非常不满意)
RATINGS = (5, 4, 3, 2, 1)
RATING_WEIGHTS = (0.76, 0.18, 0.045, 0.01, 0.005)
COMMENTS = {5: ["网格员上门服务，省了跑腿，非常满意", "送证上门，老人不用出门，感谢", ""],
            4: ["办得挺快", ""], 3: ["等的时间稍长", ""], 2: ["中途补了一次材料"],
            1: ["希望进度能及时告知"]}
RETURN_REASONS = ["身份证复印件不清晰，请重新拍照", "照片不符合要求（需白底近期免冠照）",
                  "缺少户口簿本人页"]
REJECT_REASONS = ["经核查不符合申请条件", "已在其他地方办理，不予重复受理"]
RATED_DATA = {r: db_json({"rating": r}) for r in RATINGS}
CHANNELS = (ProxyRequest.Channel.QR, ProxyRequest.Channel.PHONE,
            ProxyRequest.Channel.IN_PERSON, ProxyRequest.Channel.GUIDE)
CHANNEL_WEIGHTS = (0.35, 0.3, 0.25, 0.1)

P = ProxyRequest.State
A = Application.State
#: proxy event action (as services.actions.proxy names them) → the state it enters
PROXY_STEPS = {"book": P.BOOKED, "collect": P.COLLECTED, "submit": P.IN_REVIEW,
               "returned": P.RETURNED, "recollect": P.COLLECTED, "passed": P.HANDLING,
               "rejected": P.REJECTED, "ready": P.READY, "deliver": P.DELIVERED,
               "rate": P.RATED, "cancel": P.CANCELLED}
#: application event action (as services.actions.applications names them) → state
APP_STEPS = {"opened": A.DRAFT, "submitted": A.SUBMITTED, "return": A.RETURNED,
             "resubmitted": A.SUBMITTED, "pass": A.PASSED, "reject": A.REJECTED,
             "withdrawn": A.WITHDRAWN}
#: the proxy steps a department takes (the reviewer is their actor)
DEPARTMENT_STEPS = ("returned", "passed", "rejected", "ready")
#: the pre-review decision of each proxy step
DECISIONS = {"returned": "return", "passed": "pass", "rejected": "reject"}


@dataclass
class Applicant:
    resident: int
    grid: int
    house: int | None
    address: str
    born: dt.date
    sealed: tuple[Any, ...]  # name, id enc/hash/masked, phone enc/hash/masked


@dataclass
class Item:
    pk: int
    version: int
    department: int
    prereview_days: int
    promised_days: int
    elderly: bool
    #: the event data of a collection: the required materials' keys (JSON text)
    collected: str


@dataclass
class Timeline:
    """One record's steps (action, moment) as planned; cut at `now` when written."""

    steps: list[tuple[str, dt.datetime]] = field(default_factory=list)
    reason: str = ""

    def add(self, action: str, at: dt.datetime) -> dt.datetime:
        self.steps.append((action, at))
        return at


class Clock:
    """Working days of the span (workcal where it covers the year, Mon–Fri elsewhere) and
    moments on them, cached: a year of records asks the same few hundred questions."""

    def __init__(self, since: dt.date, until: dt.date) -> None:
        self.cal = work_calendar()
        self.days: list[dt.date] = []
        day = since - dt.timedelta(days=7)
        while day < until + dt.timedelta(days=90):
            if self.is_workday(day):
                self.days.append(day)
            day += dt.timedelta(days=1)
        self.index = {d: i for i, d in enumerate(self.days)}

    def is_workday(self, day: dt.date) -> bool:
        return self.cal.is_workday(day) if self.cal.covers(day) else day.weekday() < 5

    @functools.cache  # noqa: B019 - one Clock per load, a few hundred days
    def midnight(self, day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def at(self, day: dt.date, minutes: float) -> dt.datetime:
        return self.midnight(day) + dt.timedelta(minutes=minutes)

    def working(self, moment: dt.datetime, n: int) -> dt.date:
        """The n-th working day after the moment's day (n = 0: that day if it is one, else
        the next one)."""
        day = timezone.localtime(moment).date()
        i = bisect.bisect_left(self.days, day) if n == 0 else bisect.bisect_right(
            self.days, day) + n - 1
        return self.days[min(i, len(self.days) - 1)]

    @functools.cache  # noqa: B019
    def deadline(self, day: dt.date, n: int) -> dt.datetime:
        """24:00 of the n-th working day after `day` (workcal.add_working_days)."""
        if self.cal.covers(day) and self.cal.covers(day + dt.timedelta(days=3 * n + 30)):
            return self.cal.add_working_days(self.midnight(day), max(1, n))
        return self.midnight(self.working(self.midnight(day), max(1, n)) + dt.timedelta(days=1))

    def later(self, rng: random.Random, after: dt.datetime, n: int,
              start: float = 9 * 60, end: float = 17.5 * 60) -> dt.datetime:
        """A moment in office hours on the n-th working day after `after`, never before it."""
        day = self.working(after, n)
        moment = self.at(day, rng.uniform(start, end))
        if moment <= after:
            moment = after + dt.timedelta(minutes=rng.uniform(20, 90))
        return moment


#: whether the backend takes aware datetimes (PostgreSQL) or naive UTC text (SQLite); set
#: once per load: asking the connection for each of a million values costs seconds
_AWARE = [False]


def _db(value: dt.datetime | None) -> Any:
    """An aware datetime as the backend stores it (SQLite: naive UTC text)."""
    if value is None or _AWARE[0]:
        return value
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _follow(rng: random.Random) -> str:
    return "".join(rng.choices(FOLLOW_CODE_ALPHABET, k=FOLLOW_CODE_LENGTH))


# ------------------------------------------------------------------ inputs


def _items() -> tuple[list[Item], list[float], list[Item]]:
    """(proxy-eligible items, their weights, items offering online pre-review)."""
    proxy, weights, online = [], [], []
    rows = (ServiceItem.objects.filter(active=True, current__isnull=False).order_by("code")
            .values_list("pk", "name", "current_id", "department_id", "proxy_eligible",
                         "online_prereview", "current__prereview_days",
                         "current__promised_days", "current__materials"))
    for i, (pk, name, version, dept, eligible, online_ok, pre, promised, mats) in enumerate(
            rows):
        item = Item(pk, version, dept, max(1, pre or 1), max(1, promised or 1),
                    any(w in name for w in ELDERLY_ITEMS),
                    db_json({"materials": [m.get("key") for m in mats or []
                                           if m.get("required", True)]}))
        if eligible:
            proxy.append(item)
            weights.append(next((w for frag, w in FREQUENT if frag in name), 1.0 + i % 3))
        if online_ok:
            online.append(item)
    return proxy, weights, online


def _applicants(born_by: dt.date) -> tuple[dict[int, list[Applicant]], dict[int, list[Applicant]]]:
    """grid id → its residents (and its elderly) as applicants, in a fixed order."""
    everyone: dict[int, list[Applicant]] = defaultdict(list)
    elderly: dict[int, list[Applicant]] = defaultdict(list)
    rows = (Resident.objects.filter(moved_out__isnull=True).order_by("pk").values_list(
        "pk", "grid_id", "house_id", "house__building__address", "house__number",
        "birth_date", "name", "id_number_enc", "id_number_hash", "id_number_masked",
        "phone_enc", "phone_hash", "phone_masked"))
    for pk, grid, house, street, number, born, *sealed in rows:
        address = f"{street}{number}室" if street else ""
        a = Applicant(pk, grid, house, address, born, tuple(sealed))
        everyone[grid].append(a)
        if born <= born_by:
            elderly[grid].append(a)
    return everyone, elderly


def _reviewers() -> dict[int, int]:
    """department id → the user id of a staff member with a login (the reviewer shown on
    the timeline), where the demo has one."""
    out: dict[int, int] = {}
    for dept, user in (RoleAssignment.objects.filter(
            role=Role.DEPARTMENT_STAFF, ended_on__isnull=True, person__user__isnull=False)
            .order_by("id").values_list("department_id", "person__user_id")):
        out.setdefault(dept, user)
    return out


# ------------------------------------------------------------------ timelines


def _proxy_timeline(rng: random.Random, clock: Clock, booked: dt.datetime,
                    item: Item) -> Timeline:
    t = Timeline()
    t.add("book", booked)
    if rng.random() < 0.012:
        t.add("cancel", booked + dt.timedelta(hours=rng.uniform(1, 30)))
        return t
    same_day = timezone.localtime(booked).hour < 11 and rng.random() < 0.3
    collected = t.add("collect", clock.later(rng, booked, 0 if same_day else rng.choice(
        (1, 1, 1, 2))))
    # sent for pre-review the same afternoon, or the next working morning
    submitted = t.add("submit", collected + dt.timedelta(minutes=rng.uniform(30, 240))
                      if rng.random() < 0.7 else clock.later(rng, collected, 1, 8.5 * 60, 10 * 60))
    roll = rng.random()
    if roll < 0.06:  # returned for correction, collected again, then decided
        t.reason = rng.choice(RETURN_REASONS)
        returned = t.add("returned", clock.later(rng, submitted, rng.randint(
            0, item.prereview_days)))
        again = t.add("recollect", clock.later(rng, returned, rng.choice((1, 1, 2))))
        submitted = t.add("submit", again + dt.timedelta(minutes=rng.uniform(30, 180)))
    elif roll < 0.075:
        t.reason = rng.choice(REJECT_REASONS)
        t.add("rejected", clock.later(rng, submitted, rng.randint(0, item.prereview_days)))
        return t
    passed = t.add("passed", clock.later(rng, submitted, rng.randint(0, item.prereview_days)))
    ready = t.add("ready", clock.later(rng, passed, rng.randint(1, min(item.promised_days, 6))))
    delivered = t.add("deliver", clock.later(rng, ready, rng.choice((0, 1, 1, 2))))
    if rng.random() < 0.9:
        later = rng.random() < 0.7
        t.add("rate", delivered + (dt.timedelta(minutes=rng.uniform(2, 15)) if later
                                    else dt.timedelta(hours=rng.uniform(3, 40))))
    return t


def _online_timeline(rng: random.Random, clock: Clock, opened: dt.datetime,
                     item: Item) -> tuple[Timeline, bool]:
    """(timeline, breached): most passed, some returned then passed, some rejected, a few
    decided after the pre-review deadline (breached)."""
    t = Timeline()
    t.add("opened", opened)
    submitted = t.add("submitted", opened + dt.timedelta(minutes=rng.uniform(5, 60)))
    roll = rng.random()
    breached = rng.random() < 0.03
    lag = item.prereview_days + rng.randint(1, 3) if breached else rng.randint(
        0, item.prereview_days)
    if roll < 0.015:
        t.add("withdrawn", submitted + dt.timedelta(hours=rng.uniform(1, 20)))
        return t, False
    if roll < 0.14:
        t.reason = rng.choice(RETURN_REASONS)
        returned = t.add("return", clock.later(rng, submitted, lag))
        if roll < 0.12:  # corrected and passed; the rest never came back
            again = t.add("resubmitted", returned + dt.timedelta(hours=rng.uniform(2, 48)))
            t.add("pass", clock.later(rng, again, rng.randint(0, item.prereview_days)))
        return t, breached
    if roll < 0.19:
        t.reason = rng.choice(REJECT_REASONS)
        t.add("reject", clock.later(rng, submitted, lag))
        return t, breached
    t.add("pass", clock.later(rng, submitted, lag))
    return t, breached


# ------------------------------------------------------------------ the load


@dataclass
class Numbers:
    """Gapless numbers per year, continuing the counters (actions.numbers)."""

    prefix: str
    last: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.last = dict(NumberCounter.objects.filter(key__startswith=self.prefix)
                         .values_list("key", "last"))

    def next(self, at: dt.datetime) -> str:
        key = f"{self.prefix}{timezone.localtime(at).year}"
        self.last[key] = self.last.get(key, 0) + 1
        return f"{key}{self.last[key]:06d}"

    def save(self) -> None:
        for key, last in self.last.items():
            NumberCounter.objects.update_or_create(key=key, defaults={"last": last})


def load_service_year(*, seed: int, since: dt.date, until: dt.date,
                      progress: Progress | None = None, story: bool = True) -> dict[str, int]:
    """Proxy requests and online applications booked on the days since ≤ day < until,
    their timelines cut at now, in one transaction; then the five seniors' story
    (demo.service_story, through the actions). Returns the counts (and the story's numbers
    under `story_*`)."""
    rng = random.Random(seed * 7919 + 13)
    proxy_items, weights, online_items = _items()
    counts: dict[str, int] = {"proxy_items": len(proxy_items), "online_items": len(
        online_items)}
    if not proxy_items or since >= until:
        return counts
    now = min(timezone.now(), plan_sources.day_bounds(until)[1])
    clock = Clock(since, until)
    _AWARE[0] = connection.vendor == "postgresql"
    with transaction.atomic(), big_page_cache():
        workers = {g.pk: p for p, g in plan_sources.worker_grids().items()}
        everyone, elderly = _applicants(until.replace(year=until.year - 60, day=min(
            until.day, 28)))
        grids = sorted(g for g in workers if everyone.get(g))
        if not grids:
            return counts
        worker_users = dict(RoleAssignment.objects.filter(
            person_id__in=workers.values(), person__user__isnull=False).values_list(
            "person_id", "person__user_id"))
        reviewers = _reviewers()
        plans = []
        day = since
        while day < until:
            rate = PROXY_PER_WORKDAY * (1.0 if clock.is_workday(day) else OFF_DAY_WEIGHT)
            for _ in range(_poisson(rng, rate)):
                item = rng.choices(proxy_items, weights)[0]
                grid = rng.choice(grids)
                pool = elderly.get(grid) if item.elderly and elderly.get(grid) else everyone[
                    grid]
                who = rng.choice(pool)
                booked = clock.at(day, rng.uniform(8 * 60, 20 * 60))
                plans.append((booked, item, who, _proxy_timeline(rng, clock, booked, item),
                              rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0], _follow(rng)))
            day += dt.timedelta(days=1)
        plans.sort(key=lambda p: p[0])
        counts.update(_write_proxies(rng, plans, workers, worker_users, reviewers, clock, now))
        if progress:
            progress("proxy requests", counts["proxy_requests"])
        counts.update(_write_online(rng, clock, since, until, now, online_items, grids,
                                    everyone, reviewers))
        if progress:
            progress("applications", counts["applications"])
        if story:
            counts.update(five_seniors(until))
    return counts


def _poisson(rng: random.Random, mean: float) -> int:
    """Poisson-ish count around `mean` (normal approximation: the means are large)."""
    return max(0, round(rng.gauss(mean, mean ** 0.5)))


def _cut(t: Timeline, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    return [(a, at) for a, at in t.steps if at <= now]


SEALED = ["applicant_name", "id_number_enc", "id_number_hash", "id_number_masked",
          "phone_enc", "phone_hash", "phone_masked"]
APP_FIELDS = ["id", "no", "follow_code", "item_id", "version_id", "department_id", "grid_id",
              "resident_id", "channel", "state", "round", "created_by_id", "created_at",
              "submitted_at", "decided_at", "decided_by_id", "reason", "due_at", "warned_at",
              "breached_at", "escalated_at", *SEALED]
EVENT_FIELDS = ["at", "actor_id", "action", "from_state", "to_state", "note", "data"]


def _application_row(pk: int, no: str, follow: str, item: Item, who: Applicant, channel: str,
                     steps: list[tuple[str, dt.datetime]], reason: str, clock: Clock,
                     reviewer: int | None, created_by: int | None,
                     breached: bool = False) -> tuple[tuple, list[tuple]]:
    """The application row and its event rows from its (cut) steps."""
    state, rounds, submitted, decided, decider, due = A.DRAFT, 1, None, None, None, None
    events, prev = [], ""
    for action, at in steps:
        to = APP_STEPS[action]
        if action in ("submitted", "resubmitted"):
            submitted = at
            rounds += action == "resubmitted"
            due = clock.deadline(timezone.localtime(at).date(), item.prereview_days)
            decided = decider = None
        elif action in ("pass", "return", "reject"):
            decided, decider = at, reviewer
        actor = reviewer if action in ("pass", "return", "reject") else created_by
        note = reason if action in ("return", "reject") else ""
        events.append((pk, _db(at), actor, action, prev, to, note, "{}"))
        prev = state = to
    open_clock = state == A.SUBMITTED
    late = breached and due is not None and (decided is None or decided > due)
    warned = due - dt.timedelta(hours=4) if late else None
    row = (pk, no, follow, item.pk, item.version, item.department, who.grid, who.resident,
           channel, state, rounds, created_by, _db(steps[0][1]), _db(submitted),
           _db(decided), decider, reason if state in (A.RETURNED, A.REJECTED) else "",
           _db(due if (open_clock or decided) else None), _db(warned),
           _db(due if late else None), _db(due + dt.timedelta(hours=1) if late else None),
           *who.sealed)
    return row, events


def _write_proxies(rng: random.Random, plans: list, workers: dict[int, int],
                   worker_users: dict[int, int], reviewers: dict[int, int], clock: Clock,
                   now: dt.datetime) -> dict[str, int]:
    stage_days = dict(StageClock.objects.values_list("stage", "working_days"))
    proxy_numbers, app_numbers = Numbers(PROXY_PREFIX), Numbers(APPLICATION_PREFIX)
    plans = [(b, i, w, _cut(t, now), t.reason, c, f) for b, i, w, t, c, f in plans]
    with_app = [p for p in plans if any(a == "submit" for a, _ in p[3])]
    proxy_ids = iter(allocate_ids(ProxyRequest, len(plans)))
    app_ids = iter(allocate_ids(Application, len(with_app)))
    appt_ids = iter(allocate_ids(Appointment, len(plans)))
    proxies, apps, appts, p_events, a_events = [], [], [], [], []
    by_time = []
    for booked, item, who, steps, reason, channel, follow in plans:
        pk, appt = next(proxy_ids), next(appt_ids)
        worker = workers[who.grid]
        w_user = worker_users.get(worker)
        reviewer = reviewers.get(item.department)
        done = dict(steps)  # the last moment of each action
        state, prev = P.BOOKED, ""
        rating, comment = None, ""
        for action, at in steps:
            to = PROXY_STEPS[action]
            actor = reviewer if action in DEPARTMENT_STEPS else (
                None if action == "rate" else w_user)
            data = "{}"
            if action in ("collect", "recollect"):
                data = item.collected
            elif action == "rate":
                rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
                comment = rng.choice(COMMENTS[rating])
                data = RATED_DATA[rating]
            p_events.append((pk, _db(at), actor, action, prev, to,
                             reason if action in ("returned", "rejected") else "", data))
            prev = state = to
        app_pk = None
        if "submit" in done:
            app_pk = next(app_ids)
            app_steps = [("opened", done["collect"])]
            for action, at in steps:
                if action == "submit":
                    again = any(a == "submitted" for a, _ in app_steps)
                    app_steps.append(("resubmitted" if again else "submitted", at))
                elif action in DECISIONS:
                    app_steps.append((DECISIONS[action], at))
            by_time.append((app_steps[0][1], app_pk, item, who, app_steps, reason, reviewer,
                            w_user))
        collected = steps[1][1] if len(steps) > 1 and steps[1][0] == "collect" else None
        appt_at = collected or clock.later(rng, booked, 1)
        appt_state = (Appointment.State.CANCELLED if state == P.CANCELLED else
                      Appointment.State.BOOKED if state == P.BOOKED else
                      Appointment.State.DONE)
        appts.append((appt, worker, who.grid, _db(appt_at), Appointment.Purpose.PROXY,
                      who.resident, who.house, "代办上门收件", appt_state, _db(booked)))
        entered = steps[-1][1]
        days = stage_days.get(state)
        due = clock.deadline(timezone.localtime(entered).date(), days) if days else None
        originals = [{"name": "户口簿", "count": 1}] if item.elderly else []
        delivered = done.get("deliver")
        proxies.append((
            pk, proxy_numbers.next(booked), follow, item.pk, who.resident, who.grid, who.house,
            who.address, worker, appt, app_pk, channel, state, "",
            db_json(originals), _db(delivered if originals and delivered else None),
            _db(collected), _db(done.get("ready")), _db(delivered),
            who.sealed[0] if delivered else "", rating, comment, _db(due), None, None,
            w_user, _db(booked), _db(entered), *who.sealed))
    # application numbers in the order they were opened
    by_time.sort(key=lambda r: r[0])
    for _at, app_pk, item, who, app_steps, reason, reviewer, w_user in by_time:
        row, events = _application_row(
            app_pk, app_numbers.next(app_steps[0][1]), _follow(rng), item, who,
            Application.Channel.PROXY, app_steps, reason, clock, reviewer, w_user)
        apps.append(row)
        a_events += events
    insert_rows(Appointment, ["id", "worker_id", "grid_id", "at", "purpose", "resident_id",
                              "house_id", "note", "state", "created_at"], appts)
    insert_rows(Application, APP_FIELDS, apps)
    insert_rows(ApplicationEvent, ["application_id", *EVENT_FIELDS], a_events)
    insert_rows(ProxyRequest, [
        "id", "no", "follow_code", "item_id", "resident_id", "grid_id", "house_id", "address",
        "worker_id", "appointment_id", "application_id", "channel", "state", "note",
        "originals", "originals_returned_at", "collected_at", "ready_at", "delivered_at",
        "recipient_name", "rating", "rating_comment", "stage_due_at", "warned_at",
        "breached_at", "created_by_id", "created_at", "updated_at", *SEALED], proxies)
    insert_rows(ProxyEvent, ["proxy_id", *EVENT_FIELDS], p_events)
    proxy_numbers.save()
    app_numbers.save()
    return {"proxy_requests": len(proxies), "proxy_applications": len(apps),
            "proxy_events": len(p_events), "appointments": len(appts)}


def _write_online(rng: random.Random, clock: Clock, since: dt.date, until: dt.date,
                  now: dt.datetime, items: list[Item], grids: list[int],
                  everyone: dict[int, list[Applicant]],
                  reviewers: dict[int, int]) -> dict[str, int]:
    if not items:
        return {"applications": 0}
    numbers = Numbers(APPLICATION_PREFIX)
    plans = []
    day = since
    while day < until:
        rate = PROXY_PER_DAY * ONLINE_PER_PROXY * (1.0 if clock.is_workday(day) else 0.5)
        for _ in range(_poisson(rng, rate)):
            item = rng.choice(items)
            who = rng.choice(everyone[rng.choice(grids)])
            opened = clock.at(day, rng.uniform(7 * 60, 23 * 60))
            t, breached = _online_timeline(rng, clock, opened, item)
            plans.append((opened, item, who, t, breached, _follow(rng)))
        day += dt.timedelta(days=1)
    plans.sort(key=lambda p: p[0])
    ids = iter(allocate_ids(Application, len(plans)))
    rows, events = [], []
    for opened, item, who, t, breached, follow in plans:
        row, evs = _application_row(
            next(ids), numbers.next(opened), follow, item, who, Application.Channel.PUBLIC,
            _cut(t, now), t.reason, clock, reviewers.get(item.department), None, breached)
        rows.append(row)
        events += evs
    insert_rows(Application, APP_FIELDS, rows)
    insert_rows(ApplicationEvent, ["application_id", *EVENT_FIELDS], events)
    numbers.save()
    return {"applications": len(rows), "application_events": len(events)}

