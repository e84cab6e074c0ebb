"""The demo's year of cases: deterministic, every timeline a legal walk through the loop,
every case inside its grid, the register continuing after it, and the source's four stories
told through the real actions (the confidential one kept from those outside its roles)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
import shapely
from django.contrib.auth import get_user_model
from django.utils import timezone

from wangge.cases.access import visible_cases
from wangge.cases.actions import do_report
from wangge.cases.models import Case, RegisterCounter
from wangge.cases.workflow import STEPS, State
from wangge.demo.casegen import MIN_AGE, CaseSpec, generate_cases
from wangge.demo.caseload import FIRST_STORY, casegen_inputs, load_demo_cases, moment
from wangge.org.models import Role, RoleAssignment
from wangge.territory.models import Grid

NOW = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)  # 10:30 in Liling
N = 3000
FINISHED = {State.CLOSED, State.EVALUATED, State.REJECTED, State.CANCELLED}
STORIES = {"tree": "胜利社区入口大树倒伏阻断通行", "manhole": "胜利路中段井盖缺失",
           "water": "来龙门街道片区停水", "suspicious": "出租屋可疑人员聚集"}


@pytest.fixture(scope="module")
def inputs(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        return casegen_inputs()


def generate(inputs, seed: int = 7, **kw) -> list[CaseSpec]:  # type: ignore[no-untyped-def]
    grids, categories, route, staff = inputs
    return generate_cases(grids, categories, route, now=NOW, n=N, seed=seed, staff=staff, **kw)


@pytest.fixture(scope="module")
def year(inputs) -> list[CaseSpec]:  # type: ignore[no-untyped-def]
    return generate(inputs)


def test_the_same_seed_gives_the_same_year(inputs, year) -> None:
    assert generate(inputs) == year
    assert generate(inputs, seed=8) != year


def test_every_timeline_is_a_legal_walk_through_the_loop(year) -> None:
    for case in year:
        report, *steps = case.events
        assert (report.action, report.from_state, report.to_state) == ("report", "",
                                                                      State.REPORTED)
        assert report.at == case.created_at
        state, at, entered = State.REPORTED, case.created_at, {}
        for e in steps:
            step = STEPS[e.action]
            assert e.from_state == state and e.from_state in step.sources, (case, e)
            if step.target is not None:
                assert e.to_state == step.target
            elif e.action == "escalate":
                assert e.to_state == e.from_state
            else:  # resume / reply: back where the case was before suspend / reply_due
                assert e.to_state == entered["suspend" if e.action == "resume" else "reply_due"]
            if e.action in ("suspend", "reply_due"):
                entered[e.action] = e.from_state
            assert at <= e.at <= NOW
            state, at = e.to_state, e.at
        assert case.state == state


def test_the_fields_agree_with_the_timeline(year) -> None:
    for c in year:
        actions = [e.action for e in c.events]
        at = {e.action: e.at for e in c.events}
        assert c.registered_at == at.get("register")
        assert c.rework_count == actions.count("verify_fail")
        assert c.handling_level == {0: 3, 1: 2, 2: 0}[actions.count("escalate")]
        assert bool(c.written_reply) == ("reply" in actions) == (c.replied_at is not None)
        if c.state in FINISHED:
            assert c.closeout_reason and c.closed_at is not None
        else:
            assert not c.closeout_reason and c.closed_at is None
        assert (c.satisfaction is not None) == (c.state == State.EVALUATED)
        if c.state in (State.ACCEPTED, State.IN_PROGRESS, State.HANDLED, State.VERIFIED):
            dispatched = [e for e in c.events if e.action == "dispatch"][-1]
            assert c.department == dispatched.data["department"]
            assert c.routed_by == c.events[1].data["rule"]


def test_no_case_is_younger_than_48_hours_and_numbers_follow_the_reports(year) -> None:
    assert all(c.created_at <= NOW - MIN_AGE for c in year)
    assert NOW - year[0].created_at > dt.timedelta(days=360)
    numbers = [c.register_no for c in year]
    assert len(set(numbers)) == len(numbers)
    by_year: dict[str, list[int]] = {}
    for c in year:
        prefix, y, no = c.register_no.split("-")
        assert prefix == "LL" and int(y) == timezone.localtime(c.created_at).year
        by_year.setdefault(y, []).append(int(no))
    for seq in by_year.values():
        assert seq == list(range(1, len(seq) + 1))  # in created order, no gaps


def test_numbers_continue_after_those_already_issued(inputs) -> None:
    cases = generate(inputs, counters={2026: 500})
    assert min(int(c.register_no[-6:]) for c in cases if "-2026-" in c.register_no) == 501


def test_every_case_lies_inside_its_grid(inputs, year) -> None:
    grids = {g.code: g for g in inputs[0]}
    for c in year:
        grid = grids[c.grid]
        assert shapely.contains_xy(grid.geometry, c.lng, c.lat), c
        assert (c.lng, c.lat) != grid.label
    urban = sum(grids[c.grid].kind == "urban" for c in year) / len(year)
    assert 0.45 < urban < 0.75  # 220 urban grids outweigh 600 rural ones


def test_the_mix_looks_like_a_year_in_the_city(inputs, year) -> None:
    states, channels = Counter(c.state for c in year), Counter(c.channel for c in year)
    classes = Counter(c.category[:2] for c in year)
    old = [c for c in year if NOW - c.created_at > dt.timedelta(days=60)]
    assert sum(c.state in FINISHED for c in old) / len(old) > 0.99
    assert states[State.EVALUATED] > states[State.CLOSED] > states[State.REJECTED] > 0
    assert states[State.CANCELLED] > 0
    assert {State.IN_PROGRESS, State.HANDLED} <= set(states)  # the last days are still open
    assert channels.most_common(1)[0][0] == "grid_worker" and len(channels) == 5
    assert classes["13"] > classes["10"] > classes["14"] > classes["16"]  # disputes, utilities…
    assert 0 < sum(c.confidential for c in year) < len(year) * 0.01
    assert any(c.rework_count for c in year) and any(c.handling_level < 3 for c in year)
    scores = Counter(c.satisfaction for c in year if c.satisfaction)
    assert scores[5] > scores[4] > scores[3] > 0 and scores[1] > 0
    worker_grids = {g.code for g in inputs[0] if g.worker}
    assert all(c.reporter for c in year if c.channel == "grid_worker" and c.grid in worker_grids)


# ------------------------------------------------------------------ in the database


@pytest.fixture
def stories(db) -> Iterator[dict[str, Case]]:  # type: ignore[no-untyped-def]
    """The stories conftest's load_demo told; told here (in the test's transaction) when
    the session was loaded without cases."""
    if not Case.objects.filter(title=STORIES["tree"]).exists():
        load_demo_cases(n=200)
    yield {key: Case.objects.get(title=title) for key, title in STORIES.items()}


def user(username: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=username)


def test_the_four_stories_went_through_the_real_loop(stories) -> None:
    tree, manhole, water, secret = (stories[k] for k in ("tree", "manhole", "water",
                                                          "suspicious"))
    assert manhole.state == State.EVALUATED and manhole.satisfaction == 5
    assert manhole.department.code == "urban-management" and manhole.routed_by is not None
    assert tree.state == State.CLOSED and tree.category.code == "0801"
    assert water.state == State.CLOSED and water.department.code == "water"
    assert water.handling_level == Case.Level.SUBCENTER and water.written_reply
    assert sorted(water.assignments.values_list("department__code", flat=True)) == [
        "urban-management", "water"]
    assert not water.assignments.filter(closed_at__isnull=True).exists()
    assert secret.state == State.IN_PROGRESS and secret.confidential
    assert secret.department.code == "public-security" and secret.channel == "resident"
    assert [e.action for e in manhole.events.all()] == [
        "report", "register", "dispatch", "accept", "start", "handle", "verify_pass", "close",
        "evaluate"]
    home = Grid.objects.get(name="胜利社区第1网格")
    for case in stories.values():
        assert case.grid == home and case.duplicate_of is None
        assert (case.lng, case.lat) != (home.label_lng, home.label_lat)
        times = list(case.events.values_list("at", flat=True))
        assert times == sorted(times) and times[0] == case.created_at
        # the day before yesterday and yesterday
        assert timezone.now() - dt.timedelta(days=3) < times[0] < times[-1] < timezone.now()


def test_the_suspicious_group_stays_with_the_police_and_the_center(stories) -> None:
    secret = stories["suspicious"]
    for username in ("grid_police", "police", "dispatcher"):
        assert visible_cases(user(username)).filter(pk=secret.pk).exists(), username
    for username in ("gridworker", "station", "department", "subcenter"):
        assert not visible_cases(user(username)).filter(pk=secret.pk).exists(), username
    assert visible_cases(user("gridworker")).filter(pk=stories["manhole"].pk).exists()


def test_the_register_continues_after_the_demo_year(stories) -> None:
    for year, last in RegisterCounter.objects.values_list("year", "last"):
        numbers = Case.objects.filter(register_no__startswith=f"LL-{year}-").values_list(
            "register_no", flat=True)
        assert last == max(int(n[-6:]) for n in numbers)
    home = Grid.objects.get(name="胜利社区第1网格")
    this_year = timezone.localdate().year
    last = RegisterCounter.objects.get(year=this_year).last
    case = do_report({"category": "0601", "title": "胜利路井盖缺失", "lng": home.label_lng,
                      "lat": home.label_lat}, user("gridworker"), channel="grid_worker")
    assert case.register_no == f"LL-{this_year}-{last + 1:06d}"
    assert case.duplicate_of is None  # no demo case of its kind within 50 m and 24 h


def test_loaded_cases_read_back_as_generated(db, inputs) -> None:  # type: ignore[no-untyped-def]
    """The bulk insert's plain values (timestamps, JSON) come back as the ORM would
    write them, on this backend."""
    counters = dict(RegisterCounter.objects.values_list("year", "last"))
    load_demo_cases(n=40, seed=11, now=NOW)
    grids, categories, route, staff = casegen_inputs()
    specs = generate_cases(grids, categories, route, now=NOW, n=40, seed=11, staff=staff,
                           counters=counters, until=moment(NOW, FIRST_STORY))
    for spec in specs:
        case = Case.objects.select_related("category", "grid", "department").get(
            register_no=spec.register_no)
        assert (case.created_at, case.registered_at, case.closed_at) == (
            spec.created_at, spec.registered_at, spec.closed_at)
        assert (case.category.code, case.grid.code, case.state, case.title) == (
            spec.category, spec.grid, spec.state, spec.title)
        assert (case.department.code if case.department else None) == spec.department
        events = list(case.events.values_list("at", "action", "from_state", "to_state", "data"))
        assert events == [(e.at, e.action, e.from_state, e.to_state, e.data)
                          for e in spec.events]


def test_the_department_logins_belong_to_their_departments(db) -> None:  # type: ignore[no-untyped-def]
    for username, code in [("department", "urban-management"), ("water", "water"),
                           ("police", "public-security")]:
        assert RoleAssignment.objects.filter(person__user__username=username,
                                             role=Role.DEPARTMENT_STAFF,
                                             department__code=code).exists()
