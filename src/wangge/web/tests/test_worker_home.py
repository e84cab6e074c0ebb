"""A grid worker lands on their desk: cases to verify in their grid, the cases they
reported, their unread reminders and a big 上报事件 button. Everyone else gets the map."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case, CaseCategory, Notification
from wangge.cases.workflow import State
from wangge.org.actions import do_assign_role
from wangge.org.models import Person, Role
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

MINE = "胜利社区第1网格"


def make_case(title: str, grid: Grid, state: str, reporter: object = None) -> Case:
    from django.utils import timezone

    from wangge.cases.actions.intake import next_register_no

    return Case.objects.create(
        register_no=next_register_no(timezone.now()), grid=grid, title=title, state=state,
        category=CaseCategory.objects.get(code="0601"), channel=Case.Channel.GRID_WORKER,
        reporter=reporter, lng=grid.label_lng, lat=grid.label_lat)


def section(html: str, heading_id: str) -> str:
    match = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match, heading_id
    return match.group(1)


def test_a_grid_worker_lands_on_what_is_theirs(login_as) -> None:
    users = get_user_model().objects
    worker, dispatcher = users.get(username="gridworker"), users.get(username="dispatcher")
    mine = Grid.objects.get(name=MINE)
    other = Grid.objects.filter(level=4).exclude(pk=mine.pk).first()
    Case.objects.filter(grid=mine, state=State.HANDLED).update(state=State.CLOSED)
    to_verify = make_case("测试待核查路灯", mine, State.HANDLED)
    make_case("测试别的网格待核查", other, State.HANDLED)
    make_case("测试本网格在处理中", mine, State.IN_PROGRESS)
    mine_reported = make_case("测试我报的井盖", mine, State.DISPATCHED, reporter=worker)
    make_case("测试调度员报的", mine, State.REPORTED, reporter=dispatcher)
    Notification.objects.create(user=worker, case=to_verify, kind="sla_warning",
                                note="快到期", source="test-1")
    Notification.objects.create(user=worker, case=mine_reported, kind="sla_breach",
                                note="已读的", source="test-2",
                                read_at=to_verify.created_at)
    Notification.objects.create(user=dispatcher, case=mine_reported, kind="sla_breach",
                                note="别人的", source="test-3")

    r = login_as("gridworker").get("/")
    html = r.content.decode()
    assert r.status_code == 200 and "web/worker_home.html" in [t.name for t in r.templates]
    assert 'class="button report-big" href="/console/cases/new/"' in html
    assert "leaflet/leaflet.js" not in html
    verify = section(html, "verify-title")
    assert "测试待核查路灯" in verify and to_verify.register_no in verify
    assert "测试别的网格待核查" not in verify and "测试本网格在处理中" not in verify
    reported = section(html, "reported-title")
    assert "测试我报的井盖" in reported
    assert f'<span class="state">{STATE_LABELS[State.DISPATCHED]}</span>' in reported
    assert "测试调度员报的" not in reported and "测试待核查路灯" not in reported
    reminders = section(html, "reminders-title")
    assert reminders.count("<li>") == 1 and "测试待核查路灯" in reminders
    assert 'action="/console/cases/notifications/' in reminders
    assert r.context["verify_count"] == 1 and r.context["reminders_count"] == 1


def test_the_worker_still_reaches_the_map(login_as) -> None:
    worker = login_as("gridworker")
    assert 'href="/?view=map"' in worker.get("/").content.decode()
    html = worker.get("/?view=map").content.decode()
    assert 'id="map"' in html and "leaflet/leaflet.js" in html


@pytest.mark.parametrize("username", ["dispatcher", "station", "grid_chief", "department"])
def test_other_roles_still_get_the_map(login_as, username: str) -> None:
    r = login_as(username).get("/")
    assert r.status_code == 200 and 'id="map"' in r.content.decode()
    assert "web/worker_home.html" not in [t.name for t in r.templates]


def test_a_grid_worker_with_another_role_gets_the_map(django_user_model) -> None:
    user = django_user_model.objects.create(username="test-two-hats")
    person = Person.objects.create(name="两顶帽子", user=user)
    grid = Grid.objects.get(name=MINE)
    do_assign_role(person, Role.GRID_WORKER, grid, employment="part_time")
    do_assign_role(person, Role.STATION_STAFF, grid.parent)
    client = Client()
    client.force_login(user)
    assert 'id="map"' in client.get("/").content.decode()
