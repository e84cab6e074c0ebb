"""The cockpit's data (analytics.cockpit) on hand-made records, and its two views.

Today's figures are read at a moment in 2031, a year the demo never reaches, so the day's
counters and hourly flow are exactly what the test wrote. Late cases are judged at the real
moment, with clocks the test makes late a year ago (so they are the most overdue)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, OuterRef

from wangge.analytics import cockpit
from wangge.analytics.access import analytics_scope
from wangge.analytics.headline import day_start, headline
from wangge.analytics.tests.test_headline import grids, write
from wangge.cases.access import overdue
from wangge.cases.models import Assignment, Case, CaseClock, CaseEvent
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

DAY = dt.date(2031, 6, 10)
#: 10:30 in Shanghai on DAY
NOON = day_start(DAY) + dt.timedelta(hours=10, minutes=30)
PAGE = "/console/analytics/cockpit/"
DATA = "/console/analytics/cockpit/data"


def user(name: str) -> Any:
    return get_user_model().objects.get(username=name)


def figures(name: str, **kw: Any) -> dict[str, Any]:
    who = user(name)
    return cockpit.data(who, analytics_scope(who), **kw)


def fresh_open(n: int, grid: Grid) -> list[Case]:
    """n open cases of `grid`, late on nothing: closed demo cases without supervisions or
    open assignments, reopened as dispatched and moved there."""
    pending = Assignment.objects.filter(case=OuterRef("pk"), closed_at__isnull=True)
    ids = list(Case.objects.filter(state="closed", confidential=False,
                                   supervisions__isnull=True)
               .filter(~Exists(pending)).order_by("pk").values_list("pk", flat=True)[:n])
    Case.objects.filter(pk__in=ids).update(state="dispatched", closed_at=None, grid=grid)
    CaseClock.objects.filter(case_id__in=ids, status=CaseClock.Status.RUNNING).delete()
    cases = list(Case.objects.filter(pk__in=ids).filter(~overdue()).order_by("pk"))
    assert len(cases) == n
    return cases


def event(case: Case, action: str, at: dt.datetime) -> CaseEvent:
    e = CaseEvent.objects.create(case=case, action=action, from_state=case.state,
                                 to_state=case.state)
    CaseEvent.objects.filter(pk=e.pk).update(at=at)
    return e


def make_late(case: Case, deadline: dt.datetime) -> None:
    CaseClock.objects.create(case=case, policy="test", code="t-late", name="处置时限",
                             amount=1, unit="working_days", goal="handled",
                             started_at=deadline - dt.timedelta(days=1), deadline=deadline)


def test_todays_counters_and_flow_are_the_records_of_the_day() -> None:
    where = grids()
    reported, secret = fresh_open(2, where["own"])
    # one visit (6 people), one opinion, 25 leaflets and a case in the worker's grid at 10:00
    write(where["own"], DAY, 6, 25, reported)
    # a confidential case reported at 09:15 the same day in the sibling grid: counted
    Case.objects.filter(pk=secret.pk).update(confidential=True, grid=where["sibling"],
                                             created_at=day_start(DAY) + dt.timedelta(hours=9,
                                                                                       minutes=15))
    event(reported, "handle", day_start(DAY) + dt.timedelta(hours=10, minutes=5))
    event(reported, "close", day_start(DAY) + dt.timedelta(hours=10, minutes=20))
    event(secret, "close", day_start(DAY) + dt.timedelta(hours=3))
    # yesterday's close is not today's
    event(reported, "close", day_start(DAY) - dt.timedelta(minutes=1))

    data = figures("station", now=NOON)
    assert data["today"] == "2031-06-10" and data["time"] == "10:30:00"
    assert data["headline"]["today"] == {"visits": 6, "events": 2, "opinions": 1,
                                         "proxy_items": 0, "leaflets": 25}
    assert data["headline"]["total"] == headline(user("station")).as_dict()
    flow = data["flow"]
    assert len(flow["hours"]) == 11 and flow["hours"][-1] == "10:00"
    assert flow["reported"][9] == 1 and flow["reported"][10] == 1
    assert flow["handled"][10] == 1
    assert flow["closed"][3] == 1 and flow["closed"][10] == 1
    assert flow["totals"] == {"reported": 2, "handled": 1, "closed": 2}
    # the grid worker's own scope has the visit and the open case, not the sibling's
    mine = figures("gridworker", now=NOON)
    assert mine["headline"]["today"]["events"] == 1
    assert mine["flow"]["totals"] == {"reported": 1, "handled": 1, "closed": 1}


def test_the_ticker_never_shows_a_confidential_case_nor_a_title() -> None:
    where = grids()
    plain, secret = fresh_open(2, where["sibling"])
    now = dt.datetime.now(dt.UTC)
    Case.objects.filter(pk=secret.pk).update(confidential=True)
    shown = event(plain, "dispatch", now + dt.timedelta(seconds=1))
    hidden = event(secret, "close", now + dt.timedelta(seconds=2))
    event(plain, "photos", now + dt.timedelta(seconds=3))  # not news on the wall
    ticker = figures("station")["ticker"]
    assert len(ticker) == cockpit.TICKER_SIZE
    first = ticker[0]
    assert first["id"] == shown.pk
    assert first["action"] == "派遣"
    assert first["category"] == plain.category.name and first["grid"] == plain.grid.name
    assert hidden.pk not in {row["id"] for row in ticker}
    text = repr(ticker)
    assert plain.title not in text and secret.title not in text
    # a community's workstation sees its community's events only
    community = {g.name for g in Grid.objects.filter(path__startswith=where["own"].parent.path)}
    assert {row["grid"] for row in ticker} <= community


def test_late_cases_count_the_confidential_and_list_only_the_others() -> None:
    where = grids()
    community = where["own"].parent
    before = figures("station")["late"]
    plain, secret = fresh_open(2, where["sibling"])
    year_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    make_late(plain, year_ago)
    make_late(secret, year_ago - dt.timedelta(days=1))  # the later of the two, confidential
    Case.objects.filter(pk=secret.pk).update(confidential=True)
    late = figures("station")["late"]
    assert late["count"] == before["count"] + 2
    numbers = [row["register_no"] for row in late["cases"]]
    assert secret.register_no not in numbers
    assert numbers[0] == plain.register_no
    top = late["cases"][0]
    assert top["category"] == plain.category.name and top["grid"] == plain.grid.name
    # a year late is about 250 working days (when the calendar covers the year; else None)
    assert top["days_late"] is None or 230 <= top["days_late"] <= 260
    assert len(late["cases"]) <= cockpit.LATE_SIZE
    # the count is the one definition of late over the community's cases, confidential in
    expected = Case.objects.filter(grid__path__startswith=community.path).filter(
        overdue()).count()
    assert late["count"] == expected
    # the city sees at least as many
    assert figures("dispatcher")["late"]["count"] >= late["count"]


def test_working_days_late() -> None:
    now = dt.datetime(2026, 3, 13, 4, tzinfo=dt.UTC)  # Friday 12:00 in Shanghai
    assert cockpit.working_days_late(now - dt.timedelta(hours=1), now) == 0  # today
    assert cockpit.working_days_late(None, now) is None
    # due Monday the 9th: late Tuesday to Friday
    assert cockpit.working_days_late(dt.date(2026, 3, 9), now) in (4, None)


def test_the_page_and_its_data_for_the_center(login_as) -> None:
    client = login_as("dispatcher")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-refresh="30"' in html and "cockpit-page" in html
    assert 'class="main-nav"' not in html  # the wall screen has no menu bar
    for label in ("走访帮扶人次", "事件", "社情民意", "代办件数", "政策宣传资料（份）"):
        assert label in html
    assert 'data-refresh="2"' in client.get(PAGE, {"refresh": "2"}).content.decode()
    assert 'data-refresh="2"' in client.get(PAGE, {"refresh": "0"}).content.decode()
    bad = client.get(PAGE, {"refresh": "fast"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["query", "refresh"]
    r = client.get(DATA)
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) >= {"headline", "flow", "ticker", "rates", "map", "rankings", "late",
                         "time", "unavailable"}
    assert body["headline"]["total"] == headline(user("dispatcher")).as_dict()
    bad = client.get(DATA, {"geometry": "yes"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["query", "geometry"]


def test_department_staff_and_strangers_see_no_cockpit(login_as, client) -> None:
    for url in (PAGE, DATA):
        assert login_as("water").get(url).status_code == 403
    assert client.get(DATA).status_code == 403
    assert client.get(PAGE).status_code == 302  # to the login page


def test_a_closed_case_shows_within_the_cache_time(login_as) -> None:
    """The figures are reused for a few seconds per scope; a new close shows after that."""
    client = login_as("dispatcher")
    first = client.get(DATA).json()["flow"]["totals"]["closed"]
    case = fresh_open(1, grids()["far"])[0]
    event(case, "close", dt.datetime.now(dt.UTC))
    assert client.get(DATA).json()["flow"]["totals"]["closed"] == first  # cached
    cache.clear()  # what CACHE_SECONDS passing does
    assert client.get(DATA).json()["flow"]["totals"]["closed"] == first + 1



def test_the_map_numbers_on_every_refresh_and_the_outlines_once(login_as, monkeypatch
                                                               ) -> None:
    """A refresh carries each area's numbers by code; the outlines come when asked for,
    match those codes and are not rebuilt from the records for the next screen."""
    from wangge.analytics import hotspots

    client = login_as("dispatcher")
    first = client.get(DATA, {"geometry": "1"}).json()["map"]
    assert first["level"] == 4 and first["default_level"] == 4
    codes = {f["properties"]["code"] for f in first["geojson"]["features"]}
    assert codes == set(first["grids"]) and len(codes) == Grid.objects.filter(level=4).count()
    cache.clear()
    refresh = client.get(DATA).json()["map"]
    assert "geojson" not in refresh and set(refresh["grids"]) == codes
    assert refresh["total"] == sum(g["cases"] for g in refresh["grids"].values())
    # a province-sized tree: the map draws the level that fits (here the level-2 grids:
    # 24 towns fit, 270 communities do not), and goes down on request to levels of up to
    # 4 × that many grids (the 820 basic grids)
    monkeypatch.setattr(hotspots, "MAP_MAX_AREAS", 220)
    cache.clear()
    towns = client.get(DATA, {"geometry": "1"}).json()["map"]
    assert towns["level"] == 2
    assert set(towns["grids"]) == {f["properties"]["code"] for f in towns["geojson"]["features"]}
    assert towns["total"] == refresh["total"]
    calls = []
    monkeypatch.setattr(hotspots, "area_outlines",
                        lambda *a, **k: calls.append(a) or {"features": []})
    again = client.get(DATA, {"geometry": "1"}).json()["map"]
    assert again["geojson"] == towns["geojson"] and calls == []  # from the cache
    # going down on request: the basic grids again
    down = client.get(DATA, {"level": "4"}).json()["map"]
    assert down["level"] == 4 and set(down["grids"]) == codes
    bad = client.get(DATA, {"level": "9"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["loc"] == ["query", "level"]
    # levels with too many grids to draw are refused, and not offered on the page
    monkeypatch.setattr(hotspots, "MAP_MAX_AREAS", 24)
    too_many = client.get(DATA, {"level": "4"})
    assert too_many.status_code == 400
    assert too_many.json()["detail"][0]["loc"] == ["query", "level"]
    page = client.get("/console/analytics/cockpit/").content.decode()
    assert '<option value="2">' in page and '<option value="4">' not in page
