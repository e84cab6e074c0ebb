"""A year of dispute screening and mediation (矛盾纠纷排查调解) for the demo city, in bulk
(core.bulk: COPY on PostgreSQL), then the labour-wage story through the real actions.

History (like the cases' and the fieldwork's: no outbox rows, no audit entries, no
signature images — the story has those):

- **Screenings.** Every basic grid files its return every period of its rule (monthly, from
  the root's ScreeningRule; weekly where a city puts a grid under watch), on a day in the
  period's first weeks; `MISS_RATE` of the returns are missing, so the coverage page has
  gaps, and this period's are filed only up to today. Most returns are nil (`NIL_RATE`).
  The grid worker screens, with the grid's mediator on most returns.
- **Disputes.** A return that is not nil lists 1–3 tensions; a few more come from visits,
  residents and the 12345 hotline. The 13 kinds in the proportions of disputetext.KINDS
  (neighbours, marriage and family, labour first; domestic violence rare, and sensitive by
  its kind); risk mostly low (disputetext.RISKS); an amount where money is at stake.
  Parties: a resident of the grid from the register (their data stays there: masked copies),
  a named outsider whose phone and ID number are sealed, hashed and masked by the disputes
  app's own helper (records.seal_party, the one do_record_dispute uses), or an organisation.
- **Mediation.** `PATHS`: most are mediated to an agreement by the grid's mediator or the
  workstation's 调委会, some are escalated to the town or the city, some referred (court,
  arbitration, petition office: a department referral opens a case, which only the actions
  do), some withdrawn. Sessions, assignments, agreements (signed), referrals, follow-ups
  (mostly honoured; a partly honoured one is followed up again, an unhonoured one is
  mediated again) and the timeline are written with their moments; whatever would happen
  after today is cut, so the recent ones are still registered, being mediated or waiting
  for their follow-up, with their stage clock (workcal) and its warning / breach marks.
- High-risk disputes alerted the workstation and the sub-center when found (seen, except
  the last day's).

Numbers (TJ…, XY…) continue the gapless counters of core.numbers, so the actions' numbers
follow on. Recorded by: the grid worker's login where there is one, else the superuser
(history entered by the center); the person who screened is always the grid worker.

The story: 8 workers' unpaid wages (¥46,800) on a building site of 胜利社区第1网格, found
in a screening by `gridworker`, mediated by the grid's mediator (`joint_group_leader`, the
community's 联组长) in two sessions to an agreement both parties signed on the phone, and
followed up as honoured — each step through its action, then dated over the last weeks.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from wangge.core import crypto
from wangge.core.bulk import allocate_ids, db_date, db_datetime, db_json, insert_rows
from wangge.core.models import NumberCounter
from wangge.demo import disputetext as text
from wangge.demo import names
from wangge.demo.fieldwork import _big_page_cache
from wangge.disputes.actions import clocks
from wangge.disputes.actions.records import seal_party as sealed_party
from wangge.disputes.actions.seeds import do_seed_disputes
from wangge.disputes.models import (
    Agreement,
    Alert,
    Assignment,
    Dispute,
    DisputeKind,
    Event,
    FollowUp,
    Party,
    Referral,
    Screening,
    ScreeningRule,
    Session,
    StageClock,
)
from wangge.org.models import Role, RoleAssignment
from wangge.registry.identity import make_id_number, mask_name
from wangge.registry.models import Resident
from wangge.territory.models import Grid, Level
from wangge.workcal.deadlines import SHANGHAI

Progress = Callable[[str, int], None]

#: returns missing (the grid did not screen that period)
MISS_RATE = 0.04
#: returns with nothing to report
NIL_RATE = 0.72
#: tensions listed by a return that is not nil
ITEMS = ((1, 0.7), (2, 0.22), (3, 0.08))
#: disputes from other sources per grid and month
OTHER_SOURCES_PER_MONTH = 0.12
OTHER_SOURCES = (("resident", 0.55), ("visit", 0.3), ("hotline_12345", 0.15))
#: how mediation goes: (name, the levels it reaches, the outcome, weight)
PATHS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("grid", ("grid",), "agreed", 0.60),
    ("workstation", ("grid", "workstation"), "agreed", 0.17),
    ("town", ("grid", "workstation", "town"), "agreed", 0.04),
    ("city", ("grid", "workstation", "town", "city"), "agreed", 0.01),
    ("referred", ("grid",), "referred", 0.05),
    ("referred_up", ("grid", "workstation"), "referred", 0.05),
    ("withdrawn", ("grid",), "withdrawn", 0.08),
)
#: what a follow-up finds
HONOURED = (("yes", 0.86), ("partly", 0.1), ("no", 0.04))
#: a party is a resident of the grid (when it has residents with a phone) this often
RESIDENT_PARTY = 0.6
#: synthetic mobile block of the outsiders (never dialled): 1708 + 7 digits, apart from the
#: residents' 1709 block and the staff's 1700731 block (demo.people, demo.names)
OUTSIDER_PHONE_PREFIX = "1708"

#: the story
STORY_GRID = "胜利社区第1网格"
STORY_WORKER = "gridworker"
STORY_MEDIATOR = "joint_group_leader"
STORY_ORGANISATION = "醴陵市晟垣建筑劳务有限公司"
STORY_AMOUNT = "46800.00"
STORY_WORKERS = 8
#: days before today of the story's steps
STORY_DAYS = {"screened": 16, "accepted": 15, "session1": 13, "session2": 9, "agreed": 9,
              "perform_by": 4, "follow_up": 2}

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass
class DisputesLoad:
    since: dt.date
    until: dt.date  # exclusive: history is dated before it
    counts: dict[str, int] = field(default_factory=dict)
    story: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(slots=True)
class GridIn:
    pk: int
    path: str
    village: int
    town: int
    worker: int | None  # the grid worker (Person)
    recorder: int  # the user recording (the worker's login, else the superuser)
    mediators: dict[str, int]  # level → Person
    period: str | None  # the screening rule's period; None: no rule
    residents: list[int]


def load_demo_disputes(*, seed: int = 2026, since: dt.date, until: dt.date,
                       progress: Progress | None = None, story: bool = True) -> DisputesLoad:
    """Screenings and disputes of the days `since` ≤ day < `until` (today), then the story
    (when the demo logins exist), in one transaction."""
    t0 = time.perf_counter()
    load = DisputesLoad(since=since, until=until)
    do_seed_disputes()
    with transaction.atomic(), _big_page_cache():
        grids, city = _inputs()
        skip = _story_period(until) if story else None
        _History(random.Random(seed * 7919 + 17), grids, city, since, until, skip,
                 load).run()
        if progress:
            progress("disputes", sum(load.counts.values()))
        if story and skip is not None:
            load.story = labour_story(until)
    load.seconds = time.perf_counter() - t0
    return load


# ------------------------------------------------------------------ inputs


def _inputs() -> tuple[list[GridIn], int]:
    User = get_user_model()
    admin = User.objects.filter(is_superuser=True).order_by("id").values_list(
        "id", flat=True).first()
    if admin is None:
        admin = User.objects.create_superuser("demo-history").pk
    city = Grid.objects.filter(level=Level.CITY).order_by("id").values_list(
        "id", flat=True).first()
    workers: dict[int, tuple[int, int | None]] = {}
    mediators: dict[int, int] = {}
    for role, grid_id, person, user in RoleAssignment.objects.filter(
            ended_on__isnull=True, role__in=[Role.GRID_WORKER, Role.MEDIATOR]).order_by(
            "id").values_list("role", "grid_id", "person_id", "person__user_id"):
        if role == Role.GRID_WORKER:
            workers.setdefault(grid_id, (person, user))
        else:
            mediators.setdefault(grid_id, person)
    rules = sorted(ScreeningRule.objects.values_list("grid__path", "period"),
                   key=lambda r: -len(r[0]))
    residents: dict[int, list[int]] = defaultdict(list)
    for pk, grid_id in Resident.objects.exclude(phone_masked="").filter(
            moved_out__isnull=True).order_by("pk").values_list("pk", "grid_id"):
        residents[grid_id].append(pk)
    parents = dict(Grid.objects.filter(level__in=[Level.VILLAGE, Level.BASIC]).values_list(
        "id", "parent_id"))
    out = []
    for pk, path, village in Grid.objects.filter(level=Level.BASIC).order_by(
            "code").values_list("id", "path", "parent_id"):
        town = parents.get(village)
        if town is None:
            continue
        worker, user = workers.get(pk, (None, None))
        levels = {"grid": mediators.get(pk), "workstation": mediators.get(village),
                  "town": mediators.get(town), "city": mediators.get(city)}
        period = next((p for rule, p in rules if path.startswith(rule)), None)
        out.append(GridIn(pk, path, village, town, worker, user or admin,
                          {k: v for k, v in levels.items() if v is not None}, period,
                          residents.get(pk, [])))
    return out, city


def _story_period(until: dt.date) -> tuple[int, dt.date] | None:
    """The (grid, period start) of the story's screening, which the history leaves to it."""
    grid = Grid.objects.filter(name=STORY_GRID, level=Level.BASIC).first()
    User = get_user_model()
    logins = User.objects.filter(username__in=[STORY_WORKER, STORY_MEDIATOR]).count()
    if grid is None or logins != 2:
        return None
    day = until - STORY_DAYS["screened"] * DAY
    return grid.pk, period_start(_rule_period(grid) or "month", day)


def _rule_period(grid: Grid) -> str | None:
    rules = sorted(ScreeningRule.objects.values_list("grid__path", "period"),
                   key=lambda r: -len(r[0]))
    return next((p for rule, p in rules if grid.path.startswith(rule)), None)


def period_start(period: str, day: dt.date) -> dt.date:
    if period == ScreeningRule.Period.WEEK:
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_period(period: str, start: dt.date) -> dt.date:
    if period == ScreeningRule.Period.WEEK:
        return start + dt.timedelta(days=7)
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@functools.cache
def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def _at(day: dt.date, hour: float) -> dt.datetime:
    return _midnight(day) + dt.timedelta(hours=hour)


def _db(value: dt.datetime | None) -> Any:
    """An aware datetime as the backend stores it, without Django's per-value adaptation
    (a hundred thousand of them): SQLite naive UTC text, as db_datetime writes it."""
    if value is None or connection.vendor != "sqlite":
        return db_datetime(value)
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


# ------------------------------------------------------------------ the history


@dataclass(slots=True)
class Found:
    """A dispute as found, before its mediation is walked."""

    grid: GridIn
    kind: str
    risk: str
    source: str
    reported: dt.datetime
    screening: int | None


class _History:
    def __init__(self, rng: random.Random, grids: list[GridIn], city: int, since: dt.date,
                 until: dt.date, skip: tuple[int, dt.date] | None, load: DisputesLoad):
        self.rng, self.grids, self.city = rng, grids, city
        self.since, self.until, self.skip, self.load = since, until, skip, load
        self.end = _midnight(until)  # nothing after today's midnight happens in the history
        kinds = {k.code: k for k in DisputeKind.objects.filter(active=True)}
        self.kinds = kinds
        self.kind_codes = [c for c in text.KINDS if c in kinds]
        self.kind_weights = [text.KINDS[c][0] for c in self.kind_codes]
        self.clocks = {c.stage: c for c in StageClock.objects.all()}
        self.ring = crypto.keyring()
        self.users = dict(RoleAssignment.objects.filter(
            ended_on__isnull=True, person__user__isnull=False).values_list(
            "person_id", "person__user_id"))
        self.rows: dict[str, list[tuple]] = defaultdict(list)

    def run(self) -> None:
        if not self.kind_codes:
            return
        found = self.screenings()
        found += self.other_sources()
        found.sort(key=lambda f: f.reported)
        self.disputes(found)

    # -- screenings ------------------------------------------------------------------

    def screenings(self) -> list[Found]:
        rng, out, rows = self.rng, [], []
        plan = []
        for g in self.grids:
            if g.period is None or g.worker is None:
                continue
            start = period_start(g.period, self.since)
            while start < self.until:
                nxt = _next_period(g.period, start)
                if (g.pk, start) != self.skip and rng.random() >= MISS_RATE:
                    last = (nxt - start).days - 1
                    offset = rng.randint(0, min(last, 24 if g.period == "month" else 4))
                    day = start + dt.timedelta(days=offset)
                    if self.since <= day < self.until:
                        plan.append((g, start, day))
                start = nxt
        ids = iter(allocate_ids(Screening, len(plan)))
        for g, start, day in plan:
            pk = next(ids)
            at = _at(day, rng.uniform(9, 17.5))
            nil = rng.random() < NIL_RATE
            mediator = g.mediators.get("grid") if rng.random() < 0.7 else None
            rows.append((pk, g.pk, g.period, db_date(start), _db(at), g.worker, mediator, nil,
                         rng.choice(text.NIL_NOTES) if nil else "", g.recorder, _db(at)))
            if not nil:
                n = rng.choices([n for n, _w in ITEMS], [w for _n, w in ITEMS])[0]
                for i in range(n):
                    out.append(self.found(g, "screening", at + i * dt.timedelta(minutes=5), pk))
        insert_rows(Screening, ["id", "grid_id", "period", "period_start", "screened_at",
                                "screened_by_id", "mediator_id", "nil", "note",
                                "recorded_by_id", "recorded_at"], rows)
        self.load.counts["screenings"] = len(rows)
        self.load.counts["nil_returns"] = sum(1 for r in rows if r[7])
        return out

    def other_sources(self) -> list[Found]:
        rng, out = self.rng, []
        days = (self.until - self.since).days
        p = OTHER_SOURCES_PER_MONTH * days / 30.4
        sources = [s for s, _w in OTHER_SOURCES]
        weights = [w for _s, w in OTHER_SOURCES]
        for g in self.grids:
            n = int(p) + (1 if rng.random() < p - int(p) else 0)
            for _ in range(n):
                day = self.since + dt.timedelta(days=rng.randrange(days))
                out.append(self.found(g, rng.choices(sources, weights)[0],
                                      _at(day, rng.uniform(8, 20)), None))
        return out

    def found(self, g: GridIn, source: str, at: dt.datetime, screening: int | None) -> Found:
        kind = self.rng.choices(self.kind_codes, self.kind_weights)[0]
        risk = self.rng.choices(("low", "medium", "high"),
                                text.RISKS.get(kind, text.DEFAULT_RISK))[0]
        return Found(g, kind, risk, source, at, screening)

    # -- disputes ----------------------------------------------------------------------

    def disputes(self, found: list[Found]) -> None:
        rng, R = self.rng, self.rows
        ids = allocate_ids(Dispute, len(found))
        numbers = _Numbers("TJ")
        agreement_numbers = _Numbers("XY")
        path_weights = [p[3] for p in PATHS]
        for pk, f in zip(ids, found, strict=True):
            kind = self.kinds[f.kind]
            subject = rng.choice(text.KINDS[f.kind][1])
            amount = None
            if f.kind in text.AMOUNTS:
                lo, hi = text.AMOUNTS[f.kind]
                amount = Decimal(rng.randrange(lo // 100, hi // 100 + 1) * 100)
            g = f.grid
            self.parties(pk, f, kind.money or f.kind in text.ORGANISATIONS)
            name, levels, outcome, _w = rng.choices(PATHS, path_weights)[0]
            steps = self.walk(f, levels, outcome)
            kept = [s for s in steps if s[1] < self.end]
            state = self.write_steps(pk, f, kept, agreement_numbers, subject)
            handling_level, mediator = state["level"], state["mediator"]
            handling = {"grid": g.pk, "workstation": g.village, "town": g.town,
                        "city": self.city}[handling_level]
            stage, started = state["stage"], state["stage_at"]
            warn = due = warned = breached = None
            if stage:
                warn, due = clocks.deadlines(stage, started, self.clocks.get(stage))
                if warn is not None and warn < self.end:
                    warned = warn
                    R["events"].append((pk, Event.Kind.WARNED, _db(warn), None, "",
                                        db_json({"stage": stage})))
                if due is not None and due < self.end:
                    breached = due
                    R["events"].append((pk, Event.Kind.BREACHED, _db(due), None, "",
                                        db_json({"stage": stage})))
            last = max([f.reported, *(s[1] for s in kept)])
            account = (f"{subject}，当事人请求调解。" if f.source != "screening"
                       else f"排查发现：{subject}。")
            R["disputes"].append((
                pk, numbers.next(f.reported), kind.pk, g.pk, subject, account, amount, f.risk,
                f.source, kind.sensitive, state["state"], f.screening, handling_level,
                handling, mediator, stage, _db(started), _db(due), _db(warn), _db(warned),
                _db(breached), _db(f.reported), _db(state["settled"]), _db(state["closed"]),
                g.recorder, _db(f.reported), _db(last)))
            if f.risk == "high":
                seen = f.reported + dt.timedelta(hours=rng.uniform(0.2, 3))
                for body in (g.village, g.town):
                    R["alerts"].append((pk, body, _db(f.reported),
                                        _db(seen) if seen < self.end else None, None))
            self.load.counts[f"path_{name}"] = self.load.counts.get(f"path_{name}", 0) + 1
        self.flush(numbers, agreement_numbers)

    def parties(self, pk: int, f: Found, organisation: bool) -> None:
        rng, g = self.rng, f.grid.residents
        roles = ["applicant", "respondent"]
        for order, role in enumerate(roles):
            if role == "respondent" and organisation and rng.random() < 0.75:
                suffix = rng.choice(text.ORGANISATIONS.get(f.kind, ("有限公司",)))
                self.outsider(pk, order, role, "organisation",
                              f"醴陵市{rng.choice(text.ORG_STEMS)}{suffix}")
            elif g and rng.random() < RESIDENT_PARTY:
                self.rows["resident_parties"].append((pk, order, role, rng.choice(g)))
            else:
                self.outsider(pk, order, role, "person",
                              names.person_name(rng.randrange(1 << 40)))

    def outsider(self, pk: int, order: int, role: str, kind: str, name: str) -> None:
        """Sealed, hashed and masked by the disputes app's own helper (the one
        do_record_dispute uses): no second copy of the rule here."""
        rng = self.rng
        raw: dict[str, Any] = {"role": role, "kind": kind, "name": name}
        if rng.random() < 0.85:
            raw["phone"] = f"{OUTSIDER_PHONE_PREFIX}{rng.randrange(10**7):07d}"
        if kind == "person" and rng.random() < 0.5:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
            raw["id_number"] = make_id_number("430281", birth, rng.randrange(100),
                                              rng.choice(("male", "female")))
        p: Party = sealed_party(None, raw, order, self.ring)  # type: ignore[arg-type]
        self.rows["parties"].append((pk, p.role, p.kind, None, p.name, p.name_masked,
                                     p.phone_enc, p.phone_hash, p.phone_masked,
                                     p.id_number_enc, p.id_number_hash, p.id_number_masked,
                                     order))

    def walk(self, f: Found, levels: tuple[str, ...], outcome: str
             ) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
        """The steps of the dispute's mediation with their moments (some after today)."""
        rng = self.rng
        t = f.reported + dt.timedelta(hours=rng.uniform(1, 40))
        steps: list[tuple[str, dt.datetime, dict[str, Any]]] = []
        for i, level in enumerate(levels):
            steps.append(("accepted", t, {"level": level}))
            top = i == len(levels) - 1
            sessions = 0 if outcome == "withdrawn" and rng.random() < 0.5 else (
                rng.randint(1, 3) if top else rng.randint(1, 2))
            for _ in range(sessions):
                t += dt.timedelta(days=rng.uniform(0.5, 6))
                steps.append(("session", t, {"level": level}))
            if not top:
                t += dt.timedelta(days=rng.uniform(0.5, 3))
                steps.append(("escalated", t, {"level": level}))
                t += dt.timedelta(hours=rng.uniform(2, 48))
        t += dt.timedelta(days=rng.uniform(0.2, 4))
        if outcome == "agreed":
            steps.append(("agreed", t, {}))
            steps.append(("signed", t + dt.timedelta(minutes=rng.uniform(5, 90)), {}))
            t += dt.timedelta(days=rng.uniform(5, 14))
            honoured = rng.choices([h for h, _w in HONOURED], [w for _h, w in HONOURED])[0]
            steps.append(("followed_up", t, {"honoured": honoured}))
            if honoured == "partly":
                t += dt.timedelta(days=rng.uniform(8, 20))
                steps.append(("followed_up", t, {"honoured": "yes"}))
            elif honoured == "no":
                steps.append(("reopened", t + dt.timedelta(minutes=30), {}))
        elif outcome == "referred":
            steps.append(("referred", t, {}))
        else:
            steps.append(("withdrawn", t, {}))
        return steps

    def write_steps(self, pk: int, f: Found, steps: list[tuple[str, dt.datetime, dict]],
                    agreement_numbers: _Numbers, subject: str) -> dict[str, Any]:
        """The rows of the kept steps; the dispute's state after them."""
        rng, R, g = self.rng, self.rows, f.grid
        state: dict[str, Any] = {"state": "registered", "level": "grid", "mediator": None,
                                 "stage": "accept", "stage_at": f.reported, "settled": None,
                                 "closed": None}
        R["events"].append((pk, Event.Kind.RECORDED, _db(f.reported), None, "", "{}"))
        assignment: list[Any] | None = None
        for kind, at, data in steps:
            level = data.get("level", state["level"])
            mediator = g.mediators.get(level) or g.mediators.get("grid")
            actor = self.users.get(mediator) if mediator else None
            recorder = actor or g.recorder
            if kind == "accepted":
                if mediator is None:
                    break
                state.update(state="mediating", level=level, mediator=mediator,
                             stage="mediate", stage_at=at)
                handling = {"grid": g.pk, "workstation": g.village, "town": g.town,
                            "city": self.city}[level]
                assignment = [pk, mediator, level, handling, _db(at), None]
                R["assignments"].append(assignment)
                R["events"].append((pk, Event.Kind.ACCEPTED, _db(at), actor, "",
                                    db_json({"level": level})))
            elif kind == "session":
                R["sessions"].append((pk, _db(at), rng.choice(text.PLACES[level]), level,
                                      state["mediator"], text.ATTENDEES,
                                      rng.choice(text.SESSION_NOTES), "[]", recorder, _db(at)))
                R["events"].append((pk, Event.Kind.SESSION, _db(at), actor, "", "{}"))
            elif kind == "escalated":
                if assignment is not None:
                    assignment[5] = _db(at)
                nxt = ("grid", "workstation", "town", "city")[
                    ("grid", "workstation", "town", "city").index(level) + 1]
                state.update(state="registered", level=nxt, mediator=None, stage="accept",
                             stage_at=at)
                R["events"].append((pk, Event.Kind.ESCALATED, _db(at), actor,
                                    "需上一级调解组织调解", db_json({"to": nxt})))
            elif kind == "agreed":
                terms = rng.choice(text.AGREEMENT_TERMS).format(subject=subject)
                perform = (at + dt.timedelta(days=rng.randint(7, 30))).astimezone(
                    SHANGHAI).date() if rng.random() < 0.6 else None
                R["agreements"].append([pk, agreement_numbers.next(at), terms,
                                        db_date(perform), _db(at), state["mediator"], None])
                state.update(state="agreed", stage="follow_up", stage_at=at, settled=at)
                R["events"].append((pk, Event.Kind.AGREED, _db(at), actor, "", "{}"))
            elif kind == "signed":
                R["agreements"][-1][6] = _db(at)
                R["events"].append((pk, Event.Kind.SIGNED, _db(at), actor, "", "{}"))
            elif kind == "followed_up":
                honoured = data["honoured"]
                by = state["mediator"] or g.worker
                R["follow_ups"].append((pk, _db(at), by, honoured,
                                        text.FOLLOW_UP_NOTES[honoured], recorder))
                R["events"].append((pk, Event.Kind.FOLLOWED_UP, _db(at), actor, "",
                                    db_json({"honoured": honoured})))
                if honoured == "yes":
                    state.update(state="closed", stage="", stage_at=None, closed=at)
                    if assignment is not None:
                        assignment[5] = _db(at)
                elif honoured == "partly":
                    state.update(stage="follow_up", stage_at=at)
            elif kind == "reopened":
                state.update(state="mediating", stage="mediate", stage_at=at, settled=None)
                R["events"].append((pk, Event.Kind.REOPENED, _db(at), actor, "", "{}"))
            elif kind == "referred":
                body = text.REFERRAL_BODIES.get(f.kind, "court")
                R["referrals"].append((pk, body, rng.choice(text.REFERRAL_REASONS), _db(at),
                                       recorder))
                state.update(state="referred", stage="", stage_at=None, settled=at)
                if assignment is not None:
                    assignment[5] = _db(at)
                R["events"].append((pk, Event.Kind.REFERRED, _db(at), actor, "",
                                    db_json({"body": body})))
            elif kind == "withdrawn":
                state.update(state="withdrawn", stage="", stage_at=None, settled=at,
                             closed=at)
                if assignment is not None and state["mediator"] is not None:
                    assignment[5] = _db(at)
                R["events"].append((pk, Event.Kind.WITHDRAWN, _db(at), actor,
                                    rng.choice(text.WITHDRAW_REASONS), "{}"))
        if state["state"] == "registered" and state["level"] == "grid":
            state["mediator"] = None
        return state

    def flush(self, numbers: _Numbers, agreement_numbers: _Numbers) -> None:
        R, counts = self.rows, self.load.counts
        insert_rows(Dispute, [
            "id", "number", "kind_id", "grid_id", "subject", "account", "amount", "risk",
            "source", "sensitive", "state", "screening_id", "level", "handling_grid_id",
            "mediator_id", "stage", "stage_started_at", "due_at", "warn_at", "warned_at",
            "breached_at", "reported_at", "settled_at", "closed_at", "recorded_by_id",
            "created_at", "updated_at"], R["disputes"])
        counts["disputes"] = len(R["disputes"])
        parties = R["parties"] + self.resident_parties(R["resident_parties"])
        insert_rows(Party, ["dispute_id", "role", "kind", "resident_id", "name",
                            "name_masked", "phone_enc", "phone_hash", "phone_masked",
                            "id_number_enc", "id_number_hash", "id_number_masked", "order"],
                    parties)
        counts["parties"] = len(parties)
        for model, key, fields in (
                (Assignment, "assignments", ["dispute_id", "mediator_id", "level",
                                             "handling_grid_id", "assigned_at", "ended_at"]),
                (Session, "sessions", ["dispute_id", "held_at", "place", "level",
                                       "mediator_id", "attendees", "notes", "photo_hashes",
                                       "recorded_by_id", "recorded_at"]),
                (Agreement, "agreements", ["dispute_id", "number", "terms", "perform_by",
                                           "made_at", "mediator_id", "signed_at"]),
                (Referral, "referrals", ["dispute_id", "body", "reason", "referred_at",
                                         "referred_by_id"]),
                (FollowUp, "follow_ups", ["dispute_id", "at", "by_id", "honoured", "note",
                                          "recorded_by_id"]),
                (Event, "events", ["dispute_id", "kind", "at", "actor_id", "note", "data"]),
                (Alert, "alerts", ["dispute_id", "grid_id", "raised_at", "seen_at",
                                   "seen_by_id"])):
            insert_rows(model, fields, R[key])
            counts[key] = len(R[key])
        numbers.save()
        agreement_numbers.save()

    def resident_parties(self, rows: list[tuple[int, int, str, int]]) -> list[tuple]:
        """Residents as parties: their data stays in the register (masked copies here)."""
        ids = sorted({r[3] for r in rows})
        found: dict[int, tuple[str, str, str]] = {}
        for i in range(0, len(ids), 900):
            for pk, name, phone, number in Resident.objects.filter(
                    pk__in=ids[i:i + 900]).values_list("pk", "name", "phone_masked",
                                                       "id_number_masked"):
                found[pk] = (name, phone, number)
        out = []
        for dispute, order, role, resident in rows:
            name, phone, number = found[resident]
            out.append((dispute, role, "person", resident, name, mask_name(name), None, "",
                        phone, None, "", number, order))
        return out


class _Numbers:
    """Gapless numbers per prefix and year, continuing core.numbers' counters."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.last: dict[int, int] = {}

    def next(self, at: dt.datetime) -> str:
        year = at.astimezone(SHANGHAI).year
        if year not in self.last:
            self.last[year] = NumberCounter.objects.filter(
                key=f"{self.prefix}{year}").values_list("last", flat=True).first() or 0
        self.last[year] += 1
        return f"{self.prefix}{year}{self.last[year]:06d}"

    def save(self) -> None:
        for year, last in self.last.items():
            NumberCounter.objects.update_or_create(key=f"{self.prefix}{year}",
                                                   defaults={"last": last})


# ------------------------------------------------------------------ the story


def labour_story(until: dt.date) -> dict[str, int]:
    """The labour-wage story through the actions, then dated over the last weeks (the
    actions stamp "now"; like the other stories, history is moved into place after)."""
    from wangge.demo.service_story import picture
    from wangge.disputes.actions.mediation import do_accept, do_record_session
    from wangge.disputes.actions.outcome import do_make_agreement, do_record_follow_up, do_sign
    from wangge.disputes.actions.screening import do_record_screening
    from wangge.fieldwork.actions.uploads import do_upload

    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(
        username__in=[STORY_WORKER, STORY_MEDIATOR])}
    worker, mediator = users[STORY_WORKER], users[STORY_MEDIATOR]
    grid = Grid.objects.get(name=STORY_GRID, level=Level.BASIC)
    when = {step: until - days * DAY for step, days in STORY_DAYS.items()}
    representative = (Resident.objects.filter(grid=grid, moved_out__isnull=True)
                      .exclude(phone_masked="").order_by("pk").first())
    applicant: dict[str, Any] = {"role": "applicant", "kind": "person"}
    if representative is not None:
        applicant["resident_id"] = representative.pk
    else:
        applicant.update(name=names.person_name(2026_0046_800), phone="17080046800")
    screened = _at(when["screened"], 10)
    screening = do_record_screening(worker, {
        "grid_id": grid.pk, "screened_at": screened.isoformat(),
        "mediator_id": mediator.person.pk, "nil": False,
        "note": "入户走访排查，发现一起欠薪纠纷。",
        "items": [{
            "kind": "labour", "risk": "high", "subject": f"拖欠{STORY_WORKERS}名工人工资",
            "account": f"辖区某在建住宅项目的劳务分包方拖欠{STORY_WORKERS}名工人三个月工资共计"
                       f"46800元，工人多次讨要未果，情绪激动，扬言到工地聚集。工人推举代表申请调解。",
            "amount": STORY_AMOUNT,
            "parties": [applicant, {"role": "respondent", "kind": "organisation",
                                    "name": STORY_ORGANISATION, "phone": "17080046801"}],
        }],
    })
    dispute = Dispute.objects.get(screening=screening)
    do_accept(mediator, dispute.pk)
    sessions = [
        do_record_session(mediator, {
            "dispute_id": dispute.pk, "held_at": timezone.now().isoformat(),
            "place": "胜利社区网格服务站",
            "attendees": f"工人代表、{STORY_ORGANISATION}负责人、网格调解员、网格员",
            "notes": "核对考勤表和工资表，确认拖欠8名工人三个月工资共46800元；分包方称总包方"
                     "工程款未到位，请求分期支付，工人代表不同意。", "photo_hashes": []}),
        do_record_session(mediator, {
            "dispute_id": dispute.pk, "held_at": timezone.now().isoformat(),
            "place": "胜利社区网格服务站",
            "attendees": f"工人代表、{STORY_ORGANISATION}负责人、总包方项目经理、网格调解员",
            "notes": "邀请总包方参加，总包方同意从应付工程款中先行垫付；双方就支付期限达成一致。",
            "photo_hashes": []})]
    agreement = do_make_agreement(
        mediator, dispute.pk, perform_by=timezone.localdate() + 5 * DAY,  # dated below
        terms=f"一、{STORY_ORGANISATION}于协议签订之日起5日内向{STORY_WORKERS}名工人支付拖欠工资"
              "共计人民币46800元，由总包方从应付工程款中代为支付；\n二、工人收到工资后不再"
              "就此事到工地聚集；\n三、本协议自双方签字之日起生效。")
    signatures = []
    for i, party in enumerate(dispute.parties.order_by("order", "pk")):
        upload, _new = do_upload(mediator, picture(4680 + i, signature=True), "image/png")
        signatures.append(do_sign(mediator, {
            "agreement_id": agreement.pk, "party_id": party.pk, "image_hash": upload.sha256,
            "method": "phone", "signed_at": timezone.now().isoformat()}))
    follow_up = do_record_follow_up(mediator, {
        "dispute_id": dispute.pk, "at": timezone.now().isoformat(), "honoured": "yes",
        "note": "电话回访工人代表，46800元工资已全部到账，工人表示满意。"})
    _date_the_story(dispute, when, sessions, agreement, signatures, follow_up)
    return {"screening": screening.pk, "dispute": dispute.pk, "agreement": agreement.pk,
            "signatures": len(signatures), "follow_up": follow_up.pk}


def _date_the_story(dispute: Dispute, when: dict[str, dt.date], sessions: list[Session],
                    agreement: Agreement, signatures: list[Any], follow_up: FollowUp) -> None:
    """Move the story's moments (stamped now by the actions) to the days it happened."""
    from wangge.disputes.models import Signature

    reported = _at(when["screened"], 10)
    accepted = _at(when["accepted"], 9.5)
    held = [_at(when["session1"], 15), _at(when["session2"], 10)]
    agreed = _at(when["agreed"], 11.5)
    signed = agreed + dt.timedelta(minutes=20)
    followed = _at(when["follow_up"], 16)
    Dispute.objects.filter(pk=dispute.pk).update(
        reported_at=reported, created_at=reported, settled_at=agreed, closed_at=followed)
    Assignment.objects.filter(dispute=dispute).update(assigned_at=accepted)
    for s, at in zip(sessions, held, strict=True):
        Session.objects.filter(pk=s.pk).update(held_at=at, recorded_at=at)
    Agreement.objects.filter(pk=agreement.pk).update(made_at=agreed, signed_at=signed,
                                                      perform_by=when["perform_by"])
    Signature.objects.filter(pk__in=[s.pk for s in signatures]).update(signed_at=signed)
    FollowUp.objects.filter(pk=follow_up.pk).update(at=followed)
    Alert.objects.filter(dispute=dispute).update(raised_at=reported)
    moments = {Event.Kind.RECORDED: [reported], Event.Kind.ACCEPTED: [accepted],
               Event.Kind.ASSIGNED: [accepted], Event.Kind.SESSION: held,
               Event.Kind.AGREED: [agreed], Event.Kind.SIGNED: [signed, signed],
               Event.Kind.FOLLOWED_UP: [followed]}
    for kind, ats in moments.items():
        for event, at in zip(Event.objects.filter(dispute=dispute, kind=kind).order_by("pk"),
                             ats, strict=False):
            Event.objects.filter(pk=event.pk).update(at=at)
