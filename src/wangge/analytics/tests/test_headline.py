"""The headline counters come from the records and respect scope: a grid worker counts
their own grid, a workstation its community, the center the city, a line department none
of the grid workers' records. Records are built by hand in 2031, a year the demo never
reaches, so every expected figure is the sum of what the test wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.analytics.headline import day_start, headline
from wangge.cases.models import Case
from wangge.fieldwork.models import Distribution, Material, Opinion, OpinionTopic, Visit, VisitKind
from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.services.models import ItemType, ProxyRequest, ServiceItem
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

YEAR = dt.date(2031, 1, 1)
URL = "/api/v1/stats/headline"
#: the worker's own grid, a sibling in the same community, a grid in another town
PLACES = ("own", "sibling", "far")


def grids() -> dict[str, Grid]:
    own = Grid.objects.get(name="胜利社区第1网格")
    sibling = Grid.objects.filter(parent=own.parent).exclude(pk=own.pk).order_by("code").first()
    far = (Grid.objects.filter(level=4).exclude(path__startswith=own.parent.parent.path)
           .order_by("code").first())
    assert sibling and far
    return {"own": own, "sibling": sibling, "far": far}


def worker_of(grid: Grid) -> Person:
    return RoleAssignment.objects.filter(grid=grid, role=Role.GRID_WORKER,
                                         ended_on__isnull=True).first().person


def catalogue() -> tuple[VisitKind, OpinionTopic, Material]:
    kind, _ = VisitKind.objects.get_or_create(code="t-visit", defaults={"name": "测试走访"})
    topic, _ = OpinionTopic.objects.get_or_create(code="t-topic", defaults={"name": "测试"})
    material, _ = Material.objects.get_or_create(code="t-leaflet",
                                                 defaults={"name": "测试资料", "topic": "测试"})
    return kind, topic, material


def write(place: Grid, day: dt.date, people: int, copies: int, case: Case | None) -> None:
    """One visit (people met), one opinion, one distribution (copies) and, if given, a case
    moved into this grid and day."""
    kind, topic, material = catalogue()
    worker = worker_of(place)
    at = day_start(day) + dt.timedelta(hours=10)
    Visit.objects.create(worker=worker, grid=place, kind=kind, visited_at=at, people_met=people)
    Opinion.objects.create(author=worker, grid=place, topic=topic, content="路灯不亮",
                           source=Opinion.Source.RESIDENT, collected_at=at)
    Distribution.objects.create(worker=worker, grid=place, material=material, count=copies,
                                day=day)
    if case is not None:
        Case.objects.filter(pk=case.pk).update(grid=place, created_at=at)


def proxy_item() -> ServiceItem:
    item = ServiceItem.objects.filter(proxy_eligible=True).order_by("code").first()
    if item is None:  # a catalogue-less database: one item is enough to count against
        item = ServiceItem.objects.create(
            code="T-HEADLINE", name="测试代办事项", type=ItemType.CONFIRMATION, level="city",
            department=Department.objects.get(code="civil-affairs"), proxy_eligible=True)
    return item


def deliver(place: Grid, day: dt.date, state: str = ProxyRequest.State.DELIVERED) -> None:
    """A proxy request of this grid delivered on `day` (counted when delivered or rated;
    one still ready to deliver carries no delivery time and counts nowhere)."""
    at = day_start(day) + dt.timedelta(hours=15)
    done = state in (ProxyRequest.State.DELIVERED, ProxyRequest.State.RATED)
    n = ProxyRequest.objects.count()
    ProxyRequest.objects.create(
        no=f"DBT{day:%Y%m%d}{n:06d}", item=proxy_item(), grid=place, worker=worker_of(place),
        channel=ProxyRequest.Channel.PHONE, state=state, applicant_name="测试",
        delivered_at=at if done else None, rating=5 if state == ProxyRequest.State.RATED
        else None)


def counters(client: Client, **query: Any) -> dict[str, int]:
    r = client.get(URL, {"from": "2031-01-01", "to": "2031-12-31", **query})
    assert r.status_code == 200, r.content
    return r.json()


PROXY_STATES = (None, ProxyRequest.State.DELIVERED, ProxyRequest.State.RATED,
                ProxyRequest.State.READY)
RECORD = st.tuples(st.sampled_from(PLACES), st.integers(0, 364), st.integers(1, 9),
                   st.integers(1, 300), st.booleans(), st.sampled_from(PROXY_STATES))


class Rollback(Exception):
    pass


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORD, max_size=8))
def test_the_counters_are_sums_of_the_records_in_scope(records: list[tuple], login_as) -> None:
    from django.db import transaction

    where = grids()
    spare = iter(Case.objects.filter(confidential=False).order_by("pk")[:len(records)])
    expected: dict[str, dict[str, int]] = {
        who: {"visits": 0, "events": 0, "opinions": 0, "proxy_items": 0, "leaflets": 0}
        for who in ("gridworker", "station", "dispatcher")}
    sees = {"gridworker": {"own"}, "station": {"own", "sibling"},
            "dispatcher": set(PLACES)}
    try:
        with transaction.atomic():
            for place, offset, people, copies, with_case, proxy in records:
                write(where[place], YEAR + dt.timedelta(days=offset), people, copies,
                      next(spare) if with_case else None)
                if proxy is not None:
                    deliver(where[place], YEAR + dt.timedelta(days=offset), proxy)
                for who, places in sees.items():
                    if place in places:
                        row = expected[who]
                        row["visits"] += people
                        row["opinions"] += 1
                        row["leaflets"] += copies
                        row["events"] += int(with_case)
                        row["proxy_items"] += int(proxy in (ProxyRequest.State.DELIVERED,
                                                            ProxyRequest.State.RATED))
            for who, row in expected.items():
                assert counters(login_as(who)) == row, who
            # a line department reads none of the grid workers' records, nor a territory
            assert counters(login_as("water")) == dict.fromkeys(row, 0)
            raise Rollback
    except Rollback:
        pass


def test_a_grid_and_a_span_narrow_the_figures(login_as) -> None:
    where = grids()
    write(where["own"], dt.date(2031, 3, 1), 3, 10, None)
    write(where["sibling"], dt.date(2031, 3, 2), 4, 20, None)
    write(where["own"], dt.date(2031, 4, 1), 5, 40, None)
    deliver(where["own"], dt.date(2031, 3, 2))
    deliver(where["sibling"], dt.date(2031, 3, 1), ProxyRequest.State.RATED)
    deliver(where["sibling"], dt.date(2031, 3, 2), ProxyRequest.State.READY)
    station = login_as("station")
    assert counters(station, grid=where["own"].code)["visits"] == 8
    assert counters(station, grid=where["own"].parent.code)["leaflets"] == 70
    # both ends of the span are whole days in Shanghai, included
    march = counters(station, **{"from": "2031-03-01", "to": "2031-03-02"})
    assert (march["visits"], march["opinions"], march["leaflets"]) == (7, 2, 30)
    assert counters(station, **{"from": "2031-03-02", "to": "2031-03-02"})["visits"] == 4
    assert march["proxy_items"] == 2  # the one still ready to deliver is not counted
    assert counters(station, grid=where["own"].code)["proxy_items"] == 1
    assert counters(login_as("gridworker"), **{"from": "2031-03-01", "to": "2031-03-01"}
                    )["proxy_items"] == 0  # the sibling's is not the worker's


def test_confidential_cases_count_only_for_those_the_case_statistics_count_them_for(
        login_as) -> None:
    where = grids()
    case = Case.objects.filter(confidential=False).order_by("pk").first()
    write(where["own"], dt.date(2031, 5, 5), 1, 1, case)
    Case.objects.filter(pk=case.pk).update(confidential=True)
    for who in ("gridworker", "grid_police", "dispatcher"):
        assert counters(login_as(who))["events"] == 1, who
    assert counters(login_as("water"))["events"] == 0


def test_defaults_are_the_whole_scope_and_all_time(login_as) -> None:
    me = get_user_model().objects.get(username="station")
    everything = headline(me)
    r = login_as("station").get(URL)
    assert r.status_code == 200
    assert r.json() == everything.as_dict()
    # 代办件数: the community's proxy requests delivered (or delivered and rated)
    community = Grid.objects.get(name="胜利社区第1网格").parent
    assert everything.proxy_items == ProxyRequest.objects.filter(
        grid__path__startswith=community.path, delivered_at__isnull=False,
        state__in=("delivered", "rated")).count()
    # the whole scope is the community's: the city's figure is at least as large
    assert headline(get_user_model().objects.get(username="dispatcher")).events >= \
        everything.events


@pytest.mark.parametrize("query, field", [
    ({"from": "2031-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2031-02-01", "to": "2031-01-01"}, "from"),
])
def test_bad_dates_are_refused_naming_the_field(login_as, query: dict, field: str) -> None:
    r = login_as("station").get(URL, query)
    assert r.status_code == 422
    assert [d["loc"] for d in r.json()["detail"]] == [["query", field]]


def test_a_grid_outside_the_scope_is_not_found(login_as) -> None:
    where = grids()
    worker = login_as("gridworker")
    assert worker.get(URL, {"grid": where["sibling"].code}).status_code == 404
    assert worker.get(URL, {"grid": "no-such-grid"}).status_code == 404
    assert worker.get(URL, {"grid": where["own"].code}).status_code == 200
    assert Client().get(URL).status_code == 401


def test_the_calendars_ends_are_open_spans(login_as) -> None:
    station = login_as("station")
    r = station.get(URL, {"from": "0001-01-01", "to": "9999-12-31"})
    assert r.status_code == 200
    assert r.json() == station.get(URL).json()


@pytest.mark.parametrize("who", ["station", "dispatcher"])
def test_the_console_home_shows_the_five_counters_of_the_scope(login_as, who: str) -> None:
    client = login_as(who)
    figures = client.get(URL).json()
    page = client.get("/").content.decode()
    for label in ("走访帮扶人次", "事件", "社情民意", "代办件数", "政策宣传资料（份）"):
        assert f"<dt>{label}</dt>" in page
    for key, dom in (("visits", "visits"), ("events", "events"), ("opinions", "opinions"),
                     ("proxy_items", "proxy"), ("leaflets", "leaflets")):
        assert f'id="headline-{dom}">{figures[key]}</dd>' in page


# -- the same figures from the daily rollups ------------------------------------------------

#: the rollup runs "today" = START + TODAY; records fall on START + 0..DAYS-1
START, TODAY, DAYS = dt.date(2031, 3, 1), 12, 16
LATE = st.tuples(st.sampled_from(PLACES), st.integers(0, TODAY), st.integers(1, 9),
                 st.integers(1, 300), st.booleans(), st.sampled_from(PROXY_STATES))
SPANS = [(None, None), (START, START + dt.timedelta(days=DAYS)), (START + dt.timedelta(3),
         START + dt.timedelta(3)), (START + dt.timedelta(TODAY - 1), START + dt.timedelta(TODAY)),
         (dt.date(2031, 2, 1), START + dt.timedelta(2)), (START + dt.timedelta(TODAY), None),
         (START + dt.timedelta(5), START + dt.timedelta(TODAY - 2))]


def assert_headline_is_raw(where: dict[str, Grid]) -> int:
    """headline == raw_headline for every login, grid (none, and each level of the worker's
    chain, and the far grid) and span; returns how many combinations were compared."""
    from wangge.analytics.headline import raw_headline

    own = where["own"]
    chain = list(Grid.objects.filter(path__in=own.ancestor_paths()))
    compared = 0
    for who in ("gridworker", "station", "dispatcher", "admin", "water", "grid_police"):
        user = get_user_model().objects.get(username=who)
        for grid in [None, *chain, where["far"], where["far"].parent]:
            for since, until in SPANS:
                fast = headline(user, grid=grid, since=since, until=until)
                raw = raw_headline(user, grid=grid, since=since, until=until)
                assert fast == raw, (who, grid and grid.code, since, until)
                compared += 1
    return compared


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORD.map(lambda r: (r[0], r[1] % DAYS, *r[2:])), max_size=10),
       late=st.lists(LATE, min_size=1, max_size=4))
def test_the_rollups_give_the_records_figures(records: list[tuple], late: list[tuple]) -> None:
    """Records over several days and grids, rolled up; then records of today and late ones
    of earlier days in the window; rolled up again (the worker's window): the counters
    equal the raw computation for every login, grid and span, at each step."""
    from django.db import transaction

    from wangge.analytics.actions import do_rebuild, do_rollup
    from wangge.analytics.models import RollupState

    where = grids()
    today = START + dt.timedelta(days=TODAY)
    spare = iter(Case.objects.filter(confidential=False).order_by("pk")[:len(records) + 4])
    try:
        with transaction.atomic():
            for place, offset, people, copies, with_case, proxy in records:
                write(where[place], START + dt.timedelta(days=offset), people, copies,
                      next(spare) if with_case else None)
                if proxy is not None:
                    deliver(where[place], START + dt.timedelta(days=offset), proxy)
            do_rebuild(START, today=today)
            state = RollupState.objects.get()
            assert (state.covers_from, state.last_day) == (START, today - dt.timedelta(1))
            assert_headline_is_raw(where)
            for place, offset, people, copies, with_case, proxy in late:
                write(where[place], START + dt.timedelta(days=offset), people, copies,
                      next(spare) if with_case else None)
                if proxy is not None:
                    deliver(where[place], START + dt.timedelta(days=offset), proxy)
            do_rollup(today - dt.timedelta(days=35), today - dt.timedelta(1), today=today)
            assert assert_headline_is_raw(where) > 100
            raise Rollback
    except Rollback:
        pass
