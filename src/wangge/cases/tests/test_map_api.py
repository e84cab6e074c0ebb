"""The map's numbers and points: open and late cases per grid, and the located open cases of
the grid being viewed — only what the viewer may see, confidential cases included only for
those who may see them, "late" exactly as the overdue queue counts it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wangge.cases import queues
from wangge.cases.map_queries import open_cases
from wangge.cases.models import Assignment, Case
from wangge.cases.tests.helpers import act, report
from wangge.org.models import Department
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def counts(client: Client, url: str) -> dict[str, dict[str, int]]:
    r = client.get(url)
    assert r.status_code == 200, r.content
    return {row["code"]: {"open": row["open"], "late": row["late"]} for row in r.json()["grids"]}


def points(client: Client, code: str, **query: Any) -> dict[str, Any]:
    r = client.get(f"/api/v1/map/grids/{code}/cases", query)
    assert r.status_code == 200, r.content
    return r.json()


def make_late(no: str) -> None:
    """A past deadline on an open assignment: late by the overdue queue's definition."""
    case = Case.objects.get(register_no=no)
    Assignment.objects.create(case=case, department=Department.objects.first(), task="清理",
                              deadline=timezone.localdate().replace(year=2020))


def test_counts_per_child_agree_with_the_queues(login_as) -> None:
    dispatcher = login_as("dispatcher")
    city = Grid.objects.get(level=0)
    by_child = counts(dispatcher, f"/api/v1/map/grids/{city.code}/children")
    assert set(by_child) == set(city.children.values_list("code", flat=True))
    me = get_user_model().objects.get(username="dispatcher")
    today = timezone.localdate()
    for child in city.children.all():
        mine = open_cases(me).filter(grid__path__startswith=child.path)
        assert by_child[child.code]["open"] == mine.count(), child.name
        late = queues.queue(me, "overdue", today).filter(grid__path__startswith=child.path)
        assert by_child[child.code]["late"] == late.count(), child.name
    assert sum(c["open"] for c in by_child.values()) > 0
    top = counts(dispatcher, "/api/v1/map/grids/top")
    assert top[city.code]["open"] == sum(c["open"] for c in by_child.values())


def test_a_new_case_and_a_late_one_show_in_their_grid(login_as, spot) -> None:
    dispatcher, worker = login_as("dispatcher"), login_as("gridworker")
    basic = Grid.objects.get(name="胜利社区第1网格")
    community = basic.parent
    before = counts(dispatcher, f"/api/v1/map/grids/{community.code}/children")[basic.code]
    no = report(worker, spot, category="0101", title="暴露垃圾")["register_no"]
    act(dispatcher, no, "register")
    after = counts(dispatcher, f"/api/v1/map/grids/{community.code}/children")[basic.code]
    assert after == {"open": before["open"] + 1, "late": before["late"]}
    make_late(no)
    late = counts(dispatcher, f"/api/v1/map/grids/{community.code}/children")[basic.code]
    assert late == {"open": before["open"] + 1, "late": before["late"] + 1}
    answer = points(dispatcher, basic.code)
    mine = [c for c in answer["cases"] if c["register_no"] == no]
    assert mine and mine[0]["late"] is True and mine[0]["title"] == "暴露垃圾"
    assert mine[0]["url"] == f"/console/cases/{no}/"
    assert answer["cases"][0]["late"] is True  # late cases come first
    # a closed case leaves the map
    Case.objects.filter(register_no=no).update(state="closed")
    assert no not in {c["register_no"] for c in points(dispatcher, basic.code)["cases"]}


def test_points_are_bounded_and_say_how_many_there_are(login_as) -> None:
    dispatcher = login_as("dispatcher")
    city = Grid.objects.get(level=0)
    answer = points(dispatcher, city.code, limit=5)
    assert len(answer["cases"]) == 5 and answer["total"] > 5 and answer["truncated"] is True
    for bad in (0, 2001, "x"):
        r = dispatcher.get(f"/api/v1/map/grids/{city.code}/cases", {"limit": bad})
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"][-1] == "limit"


def test_confidential_cases_only_for_those_who_may_see_them(login_as, spot) -> None:
    basic = Grid.objects.get(name="胜利社区第1网格")
    no = report(login_as("gridworker"), spot, category="1201", title="可疑人员聚集")[
        "register_no"]
    assert Case.objects.get(register_no=no).confidential
    for username in ("dispatcher", "grid_police"):
        seen = points(login_as(username), basic.code)["cases"]
        assert [c["confidential"] for c in seen if c["register_no"] == no] == [True], username
        assert "可疑人员聚集" not in str(seen)  # a marker never spells out a secret
    for username in ("gridworker", "station", "grid_chief"):
        client = login_as(username)
        text = client.get(f"/api/v1/map/grids/{basic.code}/cases").content.decode()
        assert no not in text and "可疑人员聚集" not in text, username
    # and the counts agree: one more for the dispatcher, none for the station
    community = basic.parent
    for username, more in (("dispatcher", 1), ("station", 0)):
        client = login_as(username)
        now = counts(client, f"/api/v1/map/grids/{community.code}/children")[basic.code]
        Case.objects.filter(register_no=no).update(state="closed")
        without = counts(client, f"/api/v1/map/grids/{community.code}/children")[basic.code]
        Case.objects.filter(register_no=no).update(state="reported")
        assert now["open"] - without["open"] == more, username


def test_grids_outside_the_scope_are_not_found(login_as) -> None:
    station = login_as("station")
    mine = Grid.objects.get(name="胜利社区第1网格")
    other = Grid.objects.filter(level=4).exclude(path__startswith=mine.parent.path).first()
    assert other is not None
    for url in (f"/api/v1/map/grids/{other.code}/children",
                f"/api/v1/map/grids/{other.code}/cases"):
        assert station.get(url).status_code == 404, url
    assert station.get(f"/api/v1/map/grids/{mine.code}/cases").status_code == 200
    # the station's top is its own community, not the city
    top = counts(station, "/api/v1/map/grids/top")
    assert Grid.objects.get(level=0).code not in top
    assert Client().get(f"/api/v1/map/grids/{mine.code}/cases").status_code == 401
