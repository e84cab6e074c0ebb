"""The patrol coverage page (tracks, buildings passed or not in N days) and the plan editor
in the console: scope, the data the map draws, server-rendered edits."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from wangge.fieldwork.models import BuildingPass, DayPlan, Patrol, PlanItem
from wangge.fieldwork.track import encode
from wangge.org.models import Person
from wangge.registry.models import Building
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def grid() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def walked(grid):  # type: ignore[no-untyped-def]
    """One building passed two days ago, one 20 days ago, the rest never."""
    worker = Person.objects.get(user__username="gridworker")
    now = timezone.now()
    bs = list(Building.objects.filter(grid=grid).order_by("pk"))
    assert len(bs) >= 3
    BuildingPass.objects.filter(building__grid=grid).delete()  # the demo's own patrols
    Patrol.objects.filter(grid=grid).delete()
    recent = Patrol.objects.create(
        worker=worker, grid=grid, started_at=now - dt.timedelta(days=2),
        track=encode([(b.lng, b.lat) for b in bs[:2]]), points=2, distance_m=120)
    old = Patrol.objects.create(worker=worker, grid=grid, started_at=now - dt.timedelta(days=20))
    BuildingPass.objects.create(patrol=recent, building=bs[0], at=recent.started_at)
    BuildingPass.objects.create(patrol=old, building=bs[1], at=old.started_at)
    return bs


def _data(html: str) -> dict:
    m = re.search(r'<script id="coverage-data" type="application/json">(.*?)</script>', html,
                  re.S)
    assert m, "the map's data is in the page"
    return json.loads(m.group(1))


def test_coverage_marks_buildings_passed_within_the_period(login_as, grid, walked
                                                           ) -> None:  # type: ignore[no-untyped-def]
    r = login_as("station").get(f"/console/fieldwork/coverage/?grid={grid.code}&days=7")
    assert r.status_code == 200
    html = r.content.decode()
    data = _data(html)
    status = {b["name"]: b["passed"] for b in data["buildings"]}
    assert status[walked[0].name] is True
    assert status[walked[1].name] is False and status[walked[2].name] is False
    assert len(data["tracks"]) == 1 and len(data["tracks"][0]["points"]) == 2
    assert data["grid"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # no inline script: every script is a file or JSON data (CSP)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "fieldwork/coverage.js" in html and "leaflet/leaflet.js" in html
    # 30 days: the building passed 20 days ago counts as passed, with both tracks' periods
    data = _data(login_as("station").get(
        f"/console/fieldwork/coverage/?grid={grid.code}&days=30").content.decode())
    assert {b["name"]: b["passed"] for b in data["buildings"]}[walked[1].name] is True


def test_coverage_is_scoped(login_as, grid) -> None:  # type: ignore[no-untyped-def]
    assert login_as("water").get(
        f"/console/fieldwork/coverage/?grid={grid.code}").status_code == 404
    # a worker sees their own grid without naming it
    r = login_as("gridworker").get("/console/fieldwork/coverage/")
    assert r.status_code == 200 and grid.name in r.content.decode()
    other = Grid.objects.filter(level=4).exclude(parent=grid.parent).first()
    assert login_as("gridworker").get(
        f"/console/fieldwork/coverage/?grid={other.code}").status_code == 404


def test_plan_editor_for_the_station(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = Person.objects.get(user__username="gridworker")
    station = login_as("station")
    r = station.get(f"/console/fieldwork/plans/worker/{worker.pk}/?date={DAY}")
    assert r.status_code == 302
    plan = DayPlan.objects.get(worker=worker, day=DAY)
    page = station.get(r.url)
    assert page.status_code == 200 and "添加事项" in page.content.decode()
    version = plan.version
    r = station.post(f"/console/fieldwork/plans/{plan.pk}/items/",
                     {"title": "给3栋老人送老年证", "at": "15:30"})
    assert r.status_code == 302
    item = PlanItem.objects.get(plan=plan, title="给3栋老人送老年证")
    assert item.at == dt.time(15, 30)
    plan.refresh_from_db()
    assert plan.version != version
    first = PlanItem.objects.filter(plan=plan).order_by("order").first()
    station.post(f"/console/fieldwork/plans/{plan.pk}/items/{item.pk}/move/", {"dir": "up"})
    item.refresh_from_db()
    assert item.order == PlanItem.objects.filter(plan=plan).count() - 2
    station.post(f"/console/fieldwork/plans/{plan.pk}/items/{item.pk}/remove/")
    assert not PlanItem.objects.filter(pk=item.pk).exists()
    assert PlanItem.objects.filter(pk=first.pk).exists()
    # the worker reads and ticks, but does not edit
    me = login_as("gridworker")
    page = me.get(f"/console/fieldwork/plans/{plan.pk}/").content.decode()
    assert "添加事项" not in page
    assert me.post(f"/console/fieldwork/plans/{plan.pk}/items/", {"title": "x"}).status_code == 403
    r = me.post(f"/console/fieldwork/plans/{plan.pk}/items/{first.pk}/done/", {"done": "1"})
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.done is True
    assert login_as("water").get(f"/console/fieldwork/plans/{plan.pk}/").status_code == 404
