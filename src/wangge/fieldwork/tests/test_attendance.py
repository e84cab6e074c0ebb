"""The attendance board: who checked in, late, absent on a working day (nobody on a rest
day), counts; scoped to the viewer's subtree; a few queries whatever the size."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wangge.fieldwork import queries
from wangge.fieldwork.models import CheckIn
from wangge.org.models import Role, RoleAssignment
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
WORKDAY = dt.date(2026, 3, 2)   # Monday
REST_DAY = dt.date(2026, 3, 1)  # Sunday


@pytest.fixture
def community() -> Grid:
    return Grid.objects.get(name="胜利社区")


def _workers(grid: Grid) -> list[RoleAssignment]:
    return list(RoleAssignment.objects.filter(
        role=Role.GRID_WORKER, ended_on__isnull=True, grid__path__startswith=grid.path)
        .select_related("grid", "person").order_by("grid__path"))


def _check_in(a: RoleAssignment, day: dt.date, hh: int, late: bool) -> CheckIn:
    return CheckIn.objects.create(
        worker=a.person, grid=a.grid, day=day, place=CheckIn.Place.GRID, late=late,
        at=dt.datetime.combine(day, dt.time(hh, 0), tzinfo=SH))


@pytest.fixture
def day_of_community(community):  # type: ignore[no-untyped-def]
    workers = _workers(community)
    CheckIn.objects.filter(day__in=[WORKDAY, REST_DAY]).delete()
    assert len(workers) >= 3
    _check_in(workers[0], WORKDAY, 8, False)
    _check_in(workers[1], WORKDAY, 9, True)
    return workers


def test_counts_and_absent_on_a_working_day(login_as, community, day_of_community) -> None:  # type: ignore[no-untyped-def]
    assert queries.is_working_day(WORKDAY)[0] is True
    r = login_as("station").get("/api/v1/fieldwork/checkins/board?date=2026-03-02")
    assert r.status_code == 200
    board = r.json()
    n = len(day_of_community)
    assert board["working_day"] is True
    assert board["counts"]["workers"] == n
    assert board["counts"]["checked_in"] == 2
    assert board["counts"]["late"] == 1
    assert board["counts"]["absent"] == n - 2
    rows = {row["worker_id"]: row for row in board["rows"]}
    assert rows[day_of_community[1].person_id]["late"] is True
    assert rows[day_of_community[2].person_id]["absent"] is True
    assert rows[day_of_community[0].person_id]["absent"] is False


def test_nobody_is_absent_on_a_rest_day(login_as, day_of_community) -> None:  # type: ignore[no-untyped-def]
    assert queries.is_working_day(REST_DAY)[0] is False
    board = login_as("station").get("/api/v1/fieldwork/checkins/board?date=2026-03-01").json()
    assert board["working_day"] is False
    assert board["counts"].get("absent", 0) == 0
    assert not any(row["absent"] for row in board["rows"])


def test_a_station_sees_its_community_only(login_as, community, day_of_community) -> None:  # type: ignore[no-untyped-def]
    board = login_as("station").get("/api/v1/fieldwork/checkins/board?date=2026-03-02").json()
    codes = {row["grid"] for row in board["rows"]}
    assert codes == {a.grid.code for a in day_of_community}
    other = Grid.objects.filter(level=3).exclude(pk=community.pk).first()
    r = login_as("station").get(f"/api/v1/fieldwork/checkins/board?grid={other.code}")
    assert r.status_code == 404


def test_the_subcenter_narrows_to_a_community(login_as, community, day_of_community) -> None:  # type: ignore[no-untyped-def]
    whole = login_as("subcenter").get("/api/v1/fieldwork/checkins/board?date=2026-03-02").json()
    part = login_as("subcenter").get(
        f"/api/v1/fieldwork/checkins/board?date=2026-03-02&grid={community.code}").json()
    assert whole["counts"]["workers"] > part["counts"]["workers"] == len(day_of_community)


@pytest.mark.parametrize("username", ["gridworker", "water", "department"])
def test_who_has_no_board(login_as, username) -> None:  # type: ignore[no-untyped-def]
    r = login_as(username).get("/api/v1/fieldwork/checkins/board")
    assert r.status_code == 403


def test_before_the_start_time_today_is_pending_not_absent(community) -> None:
    user = get_user_model().objects.get(username="station")
    tomorrow = dt.date.today() + dt.timedelta(days=3)
    board = queries.attendance(user, tomorrow)
    assert not any(row["absent"] for row in board.rows)


def test_the_board_costs_a_few_queries(community) -> None:
    user = get_user_model().objects.get(username="dispatcher")
    with CaptureQueriesContext(connection) as ctx:
        board = queries.attendance(user, WORKDAY)
    assert board.counts["workers"] >= 800
    assert len(ctx.captured_queries) <= 6, [q["sql"][:80] for q in ctx.captured_queries]


# -- the console pages ------------------------------------------------------------------

def test_board_page(login_as, day_of_community) -> None:  # type: ignore[no-untyped-def]
    page = login_as("station").get("/console/fieldwork/attendance/?date=2026-03-02")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="count-checked-in">2<' in html
    assert f'id="count-absent">{len(day_of_community) - 2}<' in html
    assert day_of_community[2].person.name in html
    assert login_as("gridworker").get("/console/fieldwork/attendance/").status_code == 403


@pytest.fixture
def march(community):  # type: ignore[no-untyped-def]
    """gridworker's 2 March: a visit of 3 people, 40 leaflets, a 2.5 km patrol."""
    from wangge.fieldwork.models import Distribution, Material, Patrol, Visit, VisitKind
    user = get_user_model().objects.get(username="gridworker")
    row = user.person.roles.get(role=Role.GRID_WORKER, ended_on__isnull=True)
    for model in (Visit, Distribution, Patrol):
        model.objects.filter(worker=user.person, grid=row.grid).delete()
    CheckIn.objects.filter(worker=user.person).delete()
    kind, _ = VisitKind.objects.get_or_create(code="test-visit", defaults={"name": "测试走访"})
    material, _ = Material.objects.get_or_create(code="test-leaflet",
                                                 defaults={"name": "测试", "topic": "t"})
    noon = dt.datetime.combine(WORKDAY, dt.time(12, 0), tzinfo=SH)
    Visit.objects.create(worker=user.person, grid=row.grid, kind=kind, visited_at=noon,
                         people_met=3)
    Distribution.objects.create(worker=user.person, grid=row.grid, material=material,
                                count=40, day=WORKDAY)
    Patrol.objects.create(worker=user.person, grid=row.grid, started_at=noon,
                          distance_m=2500, duration_s=5400)
    _check_in(row, WORKDAY, 9, True)
    return user.person


def test_worker_month_and_day(login_as, march) -> None:  # type: ignore[no-untyped-def]
    c = login_as("station")
    month = c.get(f"/console/fieldwork/workers/{march.pk}/month/?month=2026-03")
    assert month.status_code == 200
    html = month.content.decode()
    assert 'id="month-visits">3<' in html and "2.5" in html and "迟到" in html
    # every other working day of March before today is absent (no check-in)
    rows = queries.worker_month(get_user_model().objects.get(username="station"), march,
                                dt.date(2026, 3, 1))
    assert next(r for r in rows if r["day"] == WORKDAY)["absent"] is False
    assert next(r for r in rows if r["day"] == dt.date(2026, 3, 3))["absent"] is True
    assert next(r for r in rows if r["day"] == REST_DAY)["absent"] is False
    day = c.get(f"/console/fieldwork/workers/{march.pk}/?date=2026-03-02").content.decode()
    assert "测试走访" in day and "× 40" in day


def test_a_worker_reads_their_own_day_only(login_as, march, community) -> None:  # type: ignore[no-untyped-def]
    c = login_as("gridworker")
    assert c.get(f"/console/fieldwork/workers/{march.pk}/").status_code == 200
    other = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True,
                                          grid__parent=community).exclude(
        person=march).first()
    assert c.get(f"/console/fieldwork/workers/{other.person_id}/").status_code == 404
    far = RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True).exclude(
        grid__path__startswith=community.path).first()
    assert login_as("station").get(
        f"/console/fieldwork/workers/{far.person_id}/").status_code == 404


def test_workload_per_worker_and_grid(login_as, march) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.get(username="station")
    rows = queries.workload(user, dt.date(2026, 3, 1), dt.date(2026, 3, 31), sort="leaflets")
    mine = next(r for r in rows if r["id"] == march.pk)
    assert (mine["visits"], mine["leaflets"], mine["patrol_hours"]) == (3, 40, 1.5)
    assert [r["leaflets"] for r in rows] == sorted((r["leaflets"] for r in rows), reverse=True)
    grids = queries.workload(user, dt.date(2026, 3, 1), dt.date(2026, 3, 31), by="grid")
    assert len(grids) == len({r["grid"] for r in rows})
    page = login_as("station").get(
        "/console/fieldwork/workload/?from=2026-03-01&to=2026-03-31&sort=visits&by=grid")
    assert page.status_code == 200 and march.name not in page.content.decode()


@pytest.mark.parametrize("query", ["?date=2026-02-30", "?date=9999-12-31", "?month=9999-12"])
def test_odd_dates_on_the_pages_fall_back_to_today(login_as, query) -> None:  # type: ignore[no-untyped-def]
    c = login_as("station")
    pid = get_user_model().objects.get(username="gridworker").person.pk
    for url in ("/console/fieldwork/attendance/", f"/console/fieldwork/workers/{pid}/",
                f"/console/fieldwork/workers/{pid}/month/", "/console/fieldwork/workload/"):
        assert c.get(url + query).status_code == 200, url


@pytest.mark.parametrize("username", ["station", "subcenter", "dispatcher"])
@pytest.mark.parametrize("day", [WORKDAY, REST_DAY])
def test_counts_only_agree_with_the_rows(login_as, day_of_community, username, day) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.get(username=username)
    with CaptureQueriesContext(connection) as ctx:
        fast = queries.attendance_counts(user, day)
    assert len(ctx.captured_queries) <= 5
    assert fast == queries.attendance(user, day).counts
    api = login_as(username).get(f"/api/v1/fieldwork/checkins/board?date={day}&rows=false")
    assert api.json()["counts"] == fast and api.json()["rows"] == []


def test_a_big_board_shows_counts_and_asks_for_a_grid(  # type: ignore[no-untyped-def]
        login_as, day_of_community, monkeypatch) -> None:
    from wangge.fieldwork import views_day
    monkeypatch.setattr(views_day, "BOARD_ROWS", 3)
    page = login_as("station").get("/console/fieldwork/attendance/?date=2026-03-02")
    html = page.content.decode()
    assert 'id="count-checked-in">2<' in html and "请选择网格" in html
    assert day_of_community[2].person.name not in html
