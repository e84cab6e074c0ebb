"""/console/calendar/: everyone signed in reads it; only the center's administrators (and
superusers) change a day or a year."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.core.models import AuditEntry
from wangge.workcal import calendar
from wangge.workcal.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db
URL = "/console/calendar/"


def test_signed_out_goes_to_login(client) -> None:
    r = client.get(URL)
    assert r.status_code == 302 and "login" in r["Location"]


def test_a_grid_worker_reads_the_year_but_cannot_edit(login_as) -> None:
    client = login_as("gridworker")
    page = client.get(URL + "?year=2026").content.decode()
    assert "2026 年工作日历" in page and "春节" in page and "调休上班" in page
    assert "全年工作日 248 天" in page
    assert "general_7wd" in page and "utility_24h_3wd" in page and "到场处置" in page
    assert 'action="/console/calendar/day/"' not in page
    r = client.post(URL + "day/", {"date": "2026-12-31", "kind": "holiday", "name": "x"})
    assert r.status_code == 403
    assert client.post(URL + "year/", {"year": 2027, "covered": "on"}).status_code == 403
    assert not CalendarDay.objects.filter(date=dt.date(2026, 12, 31)).exists()


def test_a_dispatcher_is_not_an_admin(login_as) -> None:
    r = login_as("dispatcher").post(URL + "day/", {"date": "2026-12-31", "kind": "holiday",
                                                   "name": "x"})
    assert r.status_code == 403


def test_a_center_admin_sets_a_day(login_as) -> None:
    client = login_as("center_admin")
    assert 'action="/console/calendar/day/"' in client.get(URL).content.decode()
    r = client.post(URL + "day/", {"date": "2026-12-31", "kind": "holiday", "name": "临时放假"})
    assert r.status_code == 302 and r["Location"] == URL + "?year=2026"
    assert not calendar.current().is_workday(dt.date(2026, 12, 31))
    entry = AuditEntry.objects.filter(action="workcal.day_set").first()
    assert entry.actor.username == "center_admin" and entry.detail["name"] == "临时放假"
    assert "临时放假" in client.get(r["Location"]).content.decode()
    client.post(URL + "day/", {"date": "2026-12-31", "kind": "normal", "name": ""})
    assert calendar.current().is_workday(dt.date(2026, 12, 31))


def test_bad_input_is_shown_on_the_form(login_as) -> None:
    client = login_as("center_admin")
    r = client.post(URL + "day/", {"date": "2026-12-30", "kind": "makeup", "name": "元旦"})
    assert r.status_code == 400
    assert "only a Saturday or Sunday can be a make-up working day" in r.content.decode()
    r = client.post(URL + "day/", {"date": "not a date", "kind": "holiday", "name": "x"})
    assert r.status_code == 400
    assert not CalendarDay.objects.filter(date=dt.date(2026, 12, 30)).exists()


def test_a_superuser_marks_a_year_covered(login_as) -> None:
    client = login_as("admin")
    page = client.get(URL + "?year=2027").content.decode()
    assert "尚未完整录入" in page
    r = client.post(URL + "year/", {"year": 2027, "covered": "on", "note": "国办通知"})
    assert r.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    assert year.covered and year.note == "国办通知"
    assert calendar.current().is_workday(dt.date(2027, 1, 4))


def test_trying_a_policy(login_as) -> None:
    client = login_as("gridworker")
    page = client.get(URL, {"policy": "general_7wd", "at": "2026-09-30T16:00"}).content.decode()
    assert "2026-10-15 24:00" in page and "2026-10-16T00:00:00+08:00" in page
    page = client.get(URL, {"policy": "general_7wd", "at": "2026-12-28T16:00"}).content.decode()
    assert "工作日历未覆盖 2027 年" in page


def test_the_nav_links_to_the_calendar(login_as) -> None:
    assert 'href="/console/calendar/"' in login_as("gridworker").get("/").content.decode()


@pytest.mark.parametrize("username", ["dispatcher", "leader", "gridworker"])
def test_check_edit_calendar_is_the_one_gate(django_user_model, username: str) -> None:
    """The views ask the action; the action refuses everyone but the center's admins."""
    from django.core.exceptions import PermissionDenied

    from wangge.workcal.actions import check_edit_calendar

    with pytest.raises(PermissionDenied):
        check_edit_calendar(django_user_model.objects.get(username=username))
    check_edit_calendar(django_user_model.objects.get(username="center_admin"))
