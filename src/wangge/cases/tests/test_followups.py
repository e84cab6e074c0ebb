"""回访 desk: resident cases closed at least N working days ago and not yet rated, within the
user's dispatching scope; recording the call rates the case under the same rule; the
unsatisfied ratings of the last 30 days with their comments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from wangge.cases import access
from wangge.cases.actions import do_rate, feedback_rule
from wangge.cases.actions.intake import next_register_no
from wangge.cases.actions.rating import followup_due_before
from wangge.cases.models import Case, CaseCategory, Rating
from wangge.territory.models import Grid
from wangge.workcal import calendar as workcal

pytestmark = pytest.mark.django_db


def user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=name)


def closed(grid: Grid, closed_at: dt.datetime, channel: str = "resident") -> Case:
    return Case.objects.create(
        register_no=next_register_no(timezone.now()), grid=grid, title="居民反映：路灯不亮",
        category=CaseCategory.objects.get(code="0601"), channel=channel, state="closed",
        closed_at=closed_at, closeout_reason="已修复")


def due_numbers(username: str) -> set[str]:
    rule = feedback_rule()
    before = followup_due_before(timezone.now(), rule.followup_after_days)
    return set(access.followups_due(user(username), rule.followup_channels, before)
               .values_list("register_no", flat=True))


@pytest.fixture
def home() -> Grid:
    return Grid.objects.get(name="胜利社区第1网格")


@pytest.fixture
def away(home) -> Grid:
    """A basic grid outside the 胜利社区 workstation's subtree."""
    community = Grid.objects.get(name="胜利社区")
    return Grid.objects.filter(level=4).exclude(path__startswith=community.path).first()


def working_days_since(moment: dt.datetime) -> int:
    """Working days after the close day up to today (an independent count)."""
    calendar, day = workcal.current(), timezone.localdate(moment)
    today, n = timezone.localdate(), 0
    while day < today:
        day += dt.timedelta(days=1)
        n += int(calendar.is_workday(day))
    return n


def test_due_after_two_working_days_counted_by_the_calendar(home) -> None:
    boundary = followup_due_before(timezone.now(), 2)
    due = closed(home, boundary - dt.timedelta(minutes=1))
    early = closed(home, boundary + dt.timedelta(minutes=1))
    assert working_days_since(due.closed_at) >= 2 > working_days_since(early.closed_at)
    staff = closed(home, boundary - dt.timedelta(days=3), channel="grid_worker")
    numbers = due_numbers("dispatcher")
    assert due.register_no in numbers and early.register_no not in numbers
    assert staff.register_no not in numbers  # the rule's channels: residents only
    do_rate(due, 4, "", via="resident")
    assert due.register_no not in due_numbers("dispatcher")  # rated: no call needed


def test_a_workstation_sees_its_subtree_and_a_department_none(home, away) -> None:
    old = timezone.now() - dt.timedelta(days=10)
    mine, theirs = closed(home, old), closed(away, old)
    assert {mine.register_no, theirs.register_no} <= due_numbers("dispatcher")
    station = due_numbers("station")
    assert mine.register_no in station and theirs.register_no not in station
    assert not due_numbers("department") and not due_numbers("gridworker")
    for case in (mine, theirs):
        do_rate(case, 1, f"{case.register_no} 没修好", via="resident")
    since = timezone.now() - dt.timedelta(days=30)
    seen = {r.case.register_no for r in access.unsatisfied_ratings(user("station"), since)}
    assert mine.register_no in seen and theirs.register_no not in seen
    assert not access.unsatisfied_ratings(user("department"), since).exists()


def test_recording_a_call_rates_the_case_under_the_rule(login_as, home) -> None:
    dispatcher = login_as("dispatcher")
    page = dispatcher.get("/console/cases/followups/")
    assert page.status_code == 200 and "待回访" in page.content.decode()
    ok, unhappy = (closed(home, timezone.now() - dt.timedelta(days=5)) for _ in range(2))
    url = "/console/cases/followups/{}/"
    r = dispatcher.post(url.format(ok.register_no), {"level": "9", "note": "?"})
    assert r.status_code == 422 and "满意度" in r.content.decode()
    assert not Rating.objects.filter(case=ok).exists()
    r = dispatcher.post(url.format(ok.register_no), {"level": "4", "note": "电话回访：满意"})
    assert r.status_code == 302
    ok.refresh_from_db()
    assert ok.state == "evaluated" and ok.satisfaction == 4 and ok.followup_note == "电话回访：满意"
    rating = Rating.objects.get(case=ok)
    assert rating.via == "followup" and rating.entered_by == user("dispatcher")
    r = dispatcher.post(url.format(unhappy.register_no), {"level": "1", "note": "路灯还是不亮"})
    unhappy.refresh_from_db()
    assert r.status_code == 302 and unhappy.state == "in_progress"  # within 15 days: reopened
    html = dispatcher.get("/console/cases/followups/").content.decode()
    assert unhappy.register_no in html and "路灯还是不亮" in html and "已重办" in html
    again = dispatcher.post(url.format(ok.register_no), {"level": "4"})
    assert again.status_code == 409 and Rating.objects.filter(case=ok).count() == 1
    # someone who cannot see the case cannot record a call on it
    assert login_as("water").post(url.format(unhappy.register_no),
                                  {"level": "5"}).status_code == 404
