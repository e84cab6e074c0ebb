"""今日安排: the rota covers every building in time, the plan holds what the worker has to do
that day in order, is built once, and is edited by the station only, in scope."""

from __future__ import annotations

import datetime as dt
import json
import random
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.cases.access import states_waiting_on
from wangge.cases.models import Case
from wangge.cases.workflow import Actor
from wangge.core.models import AuditEntry
from wangge.fieldwork import rota
from wangge.fieldwork.actions.plan import build_day_plan, build_day_plans, do_build_patrol_areas
from wangge.fieldwork.jobs import build_plans
from wangge.fieldwork.models import (
    Appointment,
    BuildingPass,
    DayPlan,
    Patrol,
    PlanItem,
    Task,
    VisitFrequency,
    VisitKind,
)
from wangge.org.actions import do_assign_role, do_give_login
from wangge.org.models import Person, Role
from wangge.registry.actions import do_add_special_group
from wangge.registry.models import Building, Resident
from wangge.registry.tests import factories
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 3, 2)  # a Monday


# -- the rota, without a database ----------------------------------------------------------

def _fortnight(buildings: list[rota.BuildingPoint], every_days: int) -> None:
    """Walk the due area every working day for four weeks; every building must be passed
    within `every_days` of its previous pass (and of the start)."""
    areas = dict(enumerate(rota.group(buildings, rota.areas_for(every_days))))
    assert sorted(b for a in areas.values() for b in a) == sorted(b[0] for b in buildings)
    passed: dict[int, dt.datetime] = {}
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for d in range(28):
        now = start + dt.timedelta(days=d)
        if now.weekday() < 5:
            due = rota.due_area(areas, passed)
            for b in areas[due]:  # type: ignore[index]
                passed[b] = now
        if d >= every_days:
            for b in buildings:
                assert b[0] in passed and (now - passed[b[0]]).days < every_days, (d, b)


points = st.lists(st.tuples(st.floats(113.49, 113.51), st.floats(27.64, 27.66)),
                  min_size=1, max_size=120)


@given(points, st.integers(7, 14))
@settings(max_examples=60)
def test_rota_covers_every_building_in_time(pts, every_days) -> None:  # type: ignore[no-untyped-def]
    _fortnight([(i + 1, lng, lat) for i, (lng, lat) in enumerate(pts)], every_days)


def test_a_missed_day_is_caught_up_not_skipped() -> None:
    areas = {1: [1], 2: [2], 3: [3]}
    t = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    passed = {1: t, 2: t - dt.timedelta(days=3)}   # area 3 never walked, area 2 long ago
    assert rota.due_area(areas, passed) == 3
    passed[3] = t + dt.timedelta(days=1)
    # a day missed: the next working day takes the oldest, area 2, not "the next one"
    assert rota.due_area(areas, passed) == 2


def test_groups_are_even_and_names_survive_a_rebuild() -> None:
    rng = random.Random(3)
    bs = [(i, 113.5 + rng.random() / 100, 27.65 + rng.random() / 100) for i in range(1, 53)]
    groups = rota.group(bs, 5)
    assert sorted(len(g) for g in groups) == [10, 10, 10, 11, 11]
    old = {f"片区{i + 1}": set(g) for i, g in enumerate(groups)}
    assert rota.match_names(old, rota.group(bs, 5)) == list(old)


# -- patrol areas in the database -------------------------------------------------------------

@pytest.fixture
def grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def worker() -> Person:
    return Person.objects.get(user__username="gridworker")


def test_areas_are_rebuilt_idempotently(grid) -> None:  # type: ignore[no-untyped-def]
    first = do_build_patrol_areas(grid)
    assert first and len(first) <= rota.areas_for(7)
    snapshot = {a.name: (a.pk, set(a.buildings.values_list("pk", flat=True))) for a in first}
    again = do_build_patrol_areas(grid)
    assert {a.name: (a.pk, set(a.buildings.values_list("pk", flat=True)))
            for a in again} == snapshot
    assert set(Building.objects.filter(grid=grid).values_list("pk", flat=True)) == {
        b for _pk, bs in snapshot.values() for b in bs}
    # one new building: every existing area keeps its name and row
    factories.building(grid)
    third = {a.name: a.pk for a in do_build_patrol_areas(grid)}
    assert {n: third.get(n) for n in snapshot} == {n: v[0] for n, v in snapshot.items()}


def test_due_area_comes_from_building_passes(grid, worker) -> None:  # type: ignore[no-untyped-def]
    BuildingPass.objects.filter(building__grid=grid).delete()  # the demo's own patrols
    areas = do_build_patrol_areas(grid)
    if len(areas) < 2:
        pytest.skip("the demo grid has too few buildings for two areas")
    plan = build_day_plan(worker, DAY)
    first = plan.items.get(kind=PlanItem.Kind.PATROL).patrol_area
    walk = Patrol.objects.create(worker=worker, grid=grid, patrol_area=first,
                                 started_at=timezone.make_aware(dt.datetime(2026, 3, 2, 9)))
    BuildingPass.objects.bulk_create([BuildingPass(patrol=walk, building=b, at=walk.started_at)
                                      for b in first.buildings.all()])
    nxt = build_day_plan(worker, DAY + dt.timedelta(days=1))
    assert nxt.items.get(kind=PlanItem.Kind.PATROL).patrol_area != first


# -- the plan's content -----------------------------------------------------------------------

def _at(h: int, m: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=SH)


@pytest.fixture
def world(grid, worker):  # type: ignore[no-untyped-def]
    """The worker's grid as a hand-built day: two appointments, two open tasks (one
    confidential), a special-group member never visited, one visited 40 days ago and one
    10 days ago, twelve residents not updated for years."""
    admin = factories.admin()
    Appointment.objects.filter(worker=worker).delete()
    Task.objects.filter(worker=worker).update(state=Task.State.CANCELLED)
    Resident.objects.filter(grid=grid).update(last_visited_on=DAY, updated_at=timezone.now())
    VisitFrequency.objects.all().delete()
    kind, _ = VisitKind.objects.get_or_create(code="special", defaults={"name": "特殊人群走访"})
    VisitFrequency.objects.create(special_group_kind="elderly_alone", every_days=30,
                                  visit_kind=kind)
    h = factories.house(factories.building(grid))
    never = factories.resident(h, name="从未走访")
    long_ago = factories.resident(h, name="早已走访")
    recent = factories.resident(h, name="近期走访")
    for r, last in ((never, None), (long_ago, DAY - dt.timedelta(days=40)),
                    (recent, DAY - dt.timedelta(days=10))):
        do_add_special_group(r, "elderly_alone", admin)
        Resident.objects.filter(pk=r.pk).update(last_visited_on=last)
    Resident.objects.filter(pk__in=[never.pk, long_ago.pk, recent.pk]).update(
        updated_at=timezone.now())
    olds = list(Resident.objects.filter(grid=grid).exclude(
        pk__in=[never.pk, long_ago.pk, recent.pk]).order_by("pk")[:12])
    for n, r in enumerate(olds):
        Resident.objects.filter(pk=r.pk).update(
            updated_at=timezone.now() - dt.timedelta(days=800 - n))
    a1 = Appointment.objects.create(worker=worker, grid=grid, at=_at(10),
                                    purpose=Appointment.Purpose.COLLECT, resident=olds[0])
    a0 = Appointment.objects.create(worker=worker, grid=grid, at=_at(9),
                                    purpose=Appointment.Purpose.VISIT, resident=never)
    Appointment.objects.create(worker=worker, grid=grid, at=_at(11), resident=olds[1],
                               purpose=Appointment.Purpose.VISIT,
                               state=Appointment.State.CANCELLED)
    Appointment.objects.create(worker=worker, grid=grid, at=_at(9, day=DAY + dt.timedelta(1)),
                               purpose=Appointment.Purpose.VISIT, resident=olds[1])
    police = get_user_model().objects.get(username="grid_police")
    t1 = Task.objects.create(worker=worker, grid=grid, kind=Task.Kind.HAZARD, title="查看消防通道",
                             due_on=DAY)
    t2 = Task.objects.create(worker=worker, grid=grid, kind=Task.Kind.OBSERVE,
                             title="留意可疑聚集", confidential=True, given_by=police)
    return {"appointments": [a0, a1], "tasks": [t1, t2], "due": [never, long_ago],
            "stale": olds[:10], "not_due": recent}


def test_plan_content_and_order(world, worker, grid) -> None:  # type: ignore[no-untyped-def]
    plan = build_day_plan(worker, DAY)
    items = list(plan.items.order_by("order"))
    kinds = [i.kind for i in items]
    verify = list(Case.objects.filter(grid=grid, confidential=False,
                                      state__in=states_waiting_on(Actor.GRID_WORKER))
                  .order_by("id").values_list("pk", flat=True))
    assert kinds == (["appointment"] * 2 + ["patrol"] + ["task"] * 2 + ["verify"] * len(verify)
                     + ["visit_due"] * 2 + ["register"] * 10)
    assert [i.appointment_id for i in items[:2]] == [a.pk for a in world["appointments"]]
    assert items[0].at == dt.time(9, 0)
    assert items[2].patrol_area.grid == grid
    assert [i.task_id for i in items[3:5]] == [t.pk for t in world["tasks"]]
    assert [i.case_id for i in items if i.kind == "verify"] == verify
    due = [i for i in items if i.kind == "visit_due"]
    assert [i.resident_id for i in due] == [r.pk for r in world["due"]]
    # the visit names the person and the visit kind, never the sealed group kind
    assert "特殊人群走访" in due[0].title and "独居" not in due[0].title
    assert [i.resident_id for i in items if i.kind == "register"] == [
        r.pk for r in world["stale"]]
    # built once: a second call answers the same plan
    assert build_day_plan(worker, DAY).pk == plan.pk
    assert plan.items.count() == len(items)


def get_plan(client, **params):  # type: ignore[no-untyped-def]
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/v1/fieldwork/plan?{q}")


def test_worker_sees_their_confidential_task_station_does_not(world, worker, login_as
                                                              ) -> None:  # type: ignore[no-untyped-def]
    mine = get_plan(login_as("gridworker"), date=DAY.isoformat())
    assert mine.status_code == 200, mine.json()
    secret = world["tasks"][1].pk
    assert secret in [i["task_id"] for i in mine.json()["items"]]
    assert mine.json()["can_edit"] is False
    station = get_plan(login_as("station"), date=DAY.isoformat(), worker=worker.pk)
    assert station.status_code == 200 and station.json()["id"] == mine.json()["id"]
    assert secret not in [i["task_id"] for i in station.json()["items"]]
    assert "留意可疑聚集" not in json.dumps(station.json(), ensure_ascii=False)
    assert station.json()["can_edit"] is True


@pytest.fixture
def other_station(grid):  # type: ignore[no-untyped-def]
    """Workstation staff of another community."""
    other = Grid.objects.filter(level=3).exclude(pk=grid.parent_id).order_by("pk").first()
    person = Person.objects.create(name="外社区工作站")
    do_assign_role(person, Role.STATION_STAFF, other)
    do_give_login(person, "other_station", password_hash="!")
    from django.test import Client
    c = Client()
    c.force_login(person.user)
    return c


def post(client, url: str, body: object):  # type: ignore[no-untyped-def]
    return client.post(url, json.dumps(body), content_type="application/json")


def test_plan_edits_by_station_only_in_scope(world, worker, login_as, other_station
                                             ) -> None:  # type: ignore[no-untyped-def]
    station = login_as("station")
    plan = get_plan(station, date=DAY.isoformat(), worker=worker.pk).json()
    base = f"/api/v1/fieldwork/plan/{plan['id']}"
    # a time with an offset is refused, naming the field, with nothing added
    r = post(station, f"{base}/items", {"title": "x", "at": "15:00:00+01:00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "at"
    assert PlanItem.objects.filter(plan_id=plan["id"], title="x").count() == 0
    r = post(station, f"{base}/items", {"title": "到3栋张大爷家送老年证", "at": "15:00"})
    assert r.status_code == 201, r.json()
    added = r.json()
    assert added["version"] != plan["version"] and added["items"][-1]["title"].startswith("到3栋")
    assert AuditEntry.objects.filter(action="fieldwork.plan_item_added",
                                     object_id=str(plan["id"])).exists()
    # reorder: the station's view in reverse; the hidden confidential task keeps its slot
    ids = [i["id"] for i in added["items"]]
    r = post(station, f"{base}/order", {"item_ids": ids[::-1]})
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == ids[::-1]
    secret_item = PlanItem.objects.get(plan_id=plan["id"], task=world["tasks"][1])
    assert secret_item.order == 4  # where it was
    assert post(station, f"{base}/order", {"item_ids": ids[:-1]}).json()["detail"][0][
        "loc"] == ["body", "item_ids"]
    r = station.delete(f"{base}/items/{ids[-1]}")
    assert r.status_code == 200 and ids[-1] not in [i["id"] for i in r.json()["items"]]
    # the worker may read but not edit; another community's station does not see it
    worker_client = login_as("gridworker")
    assert post(worker_client, f"{base}/items", {"title": "x"}).status_code == 403
    assert worker_client.delete(f"{base}/items/{ids[0]}").status_code == 403
    assert post(other_station, f"{base}/items", {"title": "x"}).status_code == 404
    assert other_station.delete(f"{base}/items/{ids[0]}").status_code == 404
    assert get_plan(other_station, date=DAY.isoformat(), worker=worker.pk).status_code == 404
    # the secret item is not the station's to delete
    assert station.delete(f"{base}/items/{secret_item.pk}").status_code == 404


def test_item_done_is_the_workers_and_a_rebuild_keeps_it(world, worker, login_as
                                                         ) -> None:  # type: ignore[no-untyped-def]
    client = login_as("gridworker")
    plan = get_plan(client, date=DAY.isoformat()).json()
    item = plan["items"][2]
    url = f"/api/v1/fieldwork/plan/items/{item['id']}/done"
    r = post(client, url, {"done": True, "client_key": "done-1"})
    assert r.status_code == 201 and r.json()["done"] is True
    assert post(client, url, {"done": True, "client_key": "done-1"}).status_code == 200
    assert r.json()["version"] != plan["version"]
    rebuilt = post(login_as("station"), f"/api/v1/fieldwork/plan/{plan['id']}/rebuild", {})
    assert rebuilt.status_code == 200
    again = {(i["kind"], i["patrol_area_id"]): i["done"] for i in rebuilt.json()["items"]}
    assert again[("patrol", item["patrol_area_id"])] is True


def test_the_morning_job_builds_every_plan_once(worker) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.combine(DAY, dt.time(5, 0), tzinfo=SH)
    assert build_plans(now)["built"] == 0  # before the morning
    result = build_plans(now.replace(hour=7))
    workers = Person.objects.filter(roles__role=Role.GRID_WORKER,
                                    roles__ended_on__isnull=True).distinct().count()
    assert result["built"] == workers == DayPlan.objects.filter(day=DAY).count()
    assert build_plans(now.replace(hour=8))["built"] == 0
    assert build_day_plans(DAY) == 0
    assert PlanItem.objects.filter(plan__day=DAY, kind="patrol").count() == workers
