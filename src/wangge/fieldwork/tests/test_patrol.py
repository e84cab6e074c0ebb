"""巡查: start, points, checks, stop through the sync engine and their REST mirrors; buildings
passed by proximity; a problem becomes a case in one step; replays create nothing twice;
only the patrol's own worker records it; nothing after the stop."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from wangge.cases.models import Case, CaseCategory, CasePhoto, InspectionItem
from wangge.core.models import OutboxMessage
from wangge.fieldwork.actions.sync import apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.models import BuildingPass, DayPlan, InspectionCheck, Patrol, Upload
from wangge.registry.models import Building
from wangge.registry.tests import factories
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)
MS0 = int(T0.timestamp() * 1000)
M_LAT = 1 / 111_195  # one metre of latitude, in degrees


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def user():  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username="gridworker")


@pytest.fixture
def street(grid):  # type: ignore[no-untyped-def]
    """Three buildings on a north-south line at the grid's label point: 0 m, 200 m and
    400 m north; the walk passes the first two and stops 100 m short of the third."""
    Building.objects.filter(grid=grid).update(lng=grid.label_lng + 0.05)  # out of the way
    out = []
    for n in range(3):
        b = factories.building(grid)
        Building.objects.filter(pk=b.pk).update(lat=grid.label_lat + n * 200 * M_LAT,
                                                lng=grid.label_lng + 10 * M_LAT)
        out.append(b)
    return out


def walk(grid: Grid, metres: range, every_s: int = 5) -> list[list[float]]:
    return [[MS0 + i * every_s * 1000, grid.label_lng, grid.label_lat + m * M_LAT, 8]
            for i, m in enumerate(metres)]


def send(user, kind: str, key: str, **payload):  # type: ignore[no-untyped-def]
    return apply_envelope(user, Envelope(key, kind, payload))


def test_a_patrol_from_start_to_stop(user, grid, street) -> None:  # type: ignore[no-untyped-def]
    start = send(user, "patrol.start", "p1", started_at=T0.isoformat())
    assert start.status == "created", start.errors
    pts = walk(grid, range(0, 301, 6))
    noisy = [*pts, [MS0 + 999_000, grid.label_lng, grid.label_lat, 200]]  # a bad fix
    out = send(user, "patrol.points", "p1-a", patrol_key="p1", points=noisy[:20])
    assert out.status == "created" and out.id == start.id
    out = send(user, "patrol.points", "p1-b", patrol_key="p1", points=noisy[20:])
    patrol = Patrol.objects.get(pk=start.id)
    assert patrol.points == len(pts)  # the 200 m fix was dropped
    assert abs(patrol.distance_m - 300) <= 2
    passed = set(BuildingPass.objects.filter(patrol=patrol).values_list("building_id", flat=True))
    assert passed == {street[0].pk, street[1].pk}
    stop = send(user, "patrol.stop", "p1-stop", patrol_key="p1",
                ended_at=(T0 + dt.timedelta(hours=1)).isoformat())
    assert stop.status == "created" and stop.record["duration_s"] == 3600
    assert OutboxMessage.objects.filter(topic="fieldwork.patrol_stopped",
                                        payload__patrol_id=patrol.pk).exists()
    # the detail gives the track back as points with their times
    from django.test import Client
    c = Client()
    c.force_login(user)
    detail = c.get(f"/api/v1/fieldwork/patrols/{patrol.pk}").json()
    assert len(detail["track"]) == len(pts)
    t, _lng, lat = detail["track"][-1]
    assert t == pts[-1][0] and math.isclose(lat, pts[-1][2], abs_tol=1e-5)
    assert set(detail["buildings"]) == passed


def test_replays_create_nothing_twice(user, grid, street) -> None:  # type: ignore[no-untyped-def]
    item = InspectionItem.objects.filter(grid_kind=grid.kind, category__isnull=False).first()
    envs = [("patrol.start", "r1", {"started_at": T0.isoformat()}),
            ("patrol.points", "r1-pts", {"patrol_key": "r1",
                                         "points": walk(grid, range(0, 250, 7))}),
            ("patrol.check", "r1-chk", {"patrol_key": "r1", "item_id": item.pk,
                                        "result": "problem", "note": "井盖缺失",
                                        "report_case": True}),
            ("patrol.stop", "r1-stop", {"patrol_key": "r1",
                                        "ended_at": (T0 + dt.timedelta(hours=2)).isoformat()})]
    first = [send(user, k, key, **p) for k, key, p in envs]
    assert [o.status for o in first] == ["created"] * 4, [o.errors for o in first]

    def counts() -> tuple[int, ...]:
        return (Patrol.objects.count(), BuildingPass.objects.count(),
                InspectionCheck.objects.count(), Case.objects.count(),
                Patrol.objects.get(pk=first[0].id).points)
    before = counts()
    again = [send(user, k, key, **p) for k, key, p in envs]
    assert [o.status for o in again] == ["replayed"] * 4
    assert again[2].record["case"] == first[2].record["case"]  # the same case, not a 2nd
    assert [o.id for o in again] == [o.id for o in first]
    assert counts() == before


def test_problem_becomes_a_case_with_category_location_and_photo(user, grid, street
                                                                 ) -> None:  # type: ignore[no-untyped-def]
    item = InspectionItem.objects.filter(grid_kind=grid.kind, category__isnull=False).first()
    raw = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(raw, format="JPEG")
    sha = hashlib.sha256(raw.getvalue()).hexdigest()
    up = Upload(sha256=sha, uploaded_by=user, content_type="image/jpeg", size=len(raw.getvalue()))
    up.file.save("p.jpg", ContentFile(raw.getvalue()), save=True)
    start = send(user, "patrol.start", "c1", started_at=T0.isoformat())
    pts = walk(grid, range(0, 120, 10))
    send(user, "patrol.points", "c1-pts", patrol_key="c1", points=pts)
    out = send(user, "patrol.check", "c1-chk", patrol_key="c1", item_id=item.pk,
               result="problem", note="路灯不亮", report_case=True, photo_hashes=[sha])
    assert out.status == "created", out.errors
    case = Case.objects.get(register_no=out.record["case"])
    assert case.category_id == item.category_id and case.channel == "grid_worker"
    assert math.isclose(case.lat, pts[-1][2], abs_tol=1e-5) and case.grid == grid
    assert "路灯不亮" in case.title and case.reporter == user
    assert CasePhoto.objects.filter(case=case).count() == 1
    check = InspectionCheck.objects.get(pk=out.id)
    assert check.case == case and check.patrol_id == start.id
    # a given location wins over the track; an OK result makes no case
    item2 = InspectionItem.objects.filter(grid_kind=grid.kind, category__isnull=False).exclude(
        pk=item.pk).first()
    out = send(user, "patrol.check", "c1-chk2", patrol_key="c1", item_id=item2.pk,
               result="ok")
    assert out.status == "created" and out.record["case"] is None
    # a photo not uploaded, an item checked twice: 422 naming the field, nothing written
    n = Case.objects.count()
    bad = send(user, "patrol.check", "c1-chk3", patrol_key="c1", item_id=item.pk,
               result="problem")
    assert bad.status == "invalid" and bad.errors[0]["loc"] == ["payload", "item_id"]
    item3 = InspectionItem.objects.filter(category__isnull=False).exclude(
        pk__in=[item.pk, item2.pk]).first()
    bad = send(user, "patrol.check", "c1-chk4", patrol_key="c1", item_id=item3.pk,
               result="problem", report_case=True, photo_hashes=["0" * 64])
    assert bad.status == "invalid" and bad.errors[0]["loc"] == ["payload", "photo_hashes", "0"]
    assert Case.objects.count() == n
    assert not InspectionCheck.objects.filter(patrol_id=start.id, item=item3).exists()
    assert CaseCategory.objects.filter(pk=item.category_id).exists()


def test_nothing_after_the_stop_and_only_the_own_worker(user, grid, street, login_as
                                                        ) -> None:  # type: ignore[no-untyped-def]
    start = send(user, "patrol.start", "s1", started_at=T0.isoformat())
    assert send(user, "patrol.stop", "s1-stop", patrol_key="s1",
                ended_at=(T0 + dt.timedelta(minutes=30)).isoformat()).status == "created"
    again = send(user, "patrol.stop", "s1-stop2", patrol_key="s1",
                 ended_at=(T0 + dt.timedelta(minutes=40)).isoformat())
    assert again.status == "invalid" and again.errors[0]["code"] == "patrol_stopped"
    late = send(user, "patrol.points", "s1-pts", patrol_key="s1", points=walk(grid, range(3)))
    assert late.status == "invalid" and late.errors[0]["loc"] == ["payload", "patrol_key"]
    assert Patrol.objects.get(pk=start.id).points == 0
    # REST mirrors: the station reads the patrol but may not add to it; 404 beyond scope
    station = login_as("station")
    r = station.post(f"/api/v1/fieldwork/patrols/{start.id}/points",
                     json.dumps({"points": walk(grid, range(3))}),
                     content_type="application/json")
    assert r.status_code == 403
    assert station.get(f"/api/v1/fieldwork/patrols/{start.id}").status_code == 200
    water = login_as("water")
    assert water.get(f"/api/v1/fieldwork/patrols/{start.id}").status_code == 404
    # the worker's REST: a new patrol, bad points named, stop
    worker = login_as("gridworker")
    assert worker.get(f"/api/v1/fieldwork/plan?date={T0.date()}").status_code == 200
    r = worker.post("/api/v1/fieldwork/patrols", json.dumps({"started_at": T0.isoformat()}),
                    content_type="application/json")
    assert r.status_code == 201, r.json()
    pid = r.json()["id"]
    # without an area named, the patrol walks the one the day's plan gives
    planned = DayPlan.objects.get(worker__user=user, day=T0.date()).items.get(kind="patrol")
    assert r.json()["patrol_area"] == planned.patrol_area_id is not None
    r = worker.post(f"/api/v1/fieldwork/patrols/{pid}/points",
                    json.dumps({"points": [[MS0, 500.0, 27.0, 5]]}),
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "points", 0]
    r = worker.post(f"/api/v1/fieldwork/patrols/{pid}/stop",
                    json.dumps({"ended_at": (T0 + dt.timedelta(hours=1)).isoformat()}),
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["ended_at"]
    listed = worker.get(f"/api/v1/fieldwork/patrols?grid={grid.code}").json()
    assert {start.id, pid} <= {p["id"] for p in listed}
    areas = worker.get(f"/api/v1/fieldwork/patrol-areas?grid={grid.code}")
    assert areas.status_code == 200
    assert water.get(f"/api/v1/fieldwork/patrol-areas?grid={grid.code}").status_code == 404


bad_point = st.one_of(
    st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=6),
    st.lists(st.integers(-(2**70), 2**70), min_size=3, max_size=4),
    st.lists(st.one_of(st.none(), st.floats(-1e3, 1e3)), min_size=3, max_size=4))


@given(points=st.lists(bad_point, min_size=1, max_size=4),
       started=st.one_of(st.just(T0.isoformat()), st.just(T0.isoformat()), st.text(max_size=30),
                         st.just("2026-02-30T09:00:00+08:00"),
                         st.just("9999-12-31T23:59:59+08:00")))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_hostile_points_and_times_are_4xx_never_500(login_as, grid, points, started
                                                    ) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    r = worker.post("/api/v1/fieldwork/patrols", json.dumps({"started_at": started}),
                    content_type="application/json")
    assert r.status_code in (201, 422), r.content
    if r.status_code == 422:
        assert r.json()["detail"][0]["loc"] == ["body", "started_at"]
        return
    p = Patrol.objects.get(pk=r.json()["id"])
    before = (p.points, p.track)
    r = worker.post(f"/api/v1/fieldwork/patrols/{p.pk}/points", json.dumps({"points": points}),
                    content_type="application/json")
    assert r.status_code in (200, 201, 422), r.content
    if r.status_code == 422:
        assert r.json()["detail"][0]["loc"][:2] == ["body", "points"]
        p.refresh_from_db()
        assert (p.points, p.track) == before
