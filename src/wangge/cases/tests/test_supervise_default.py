"""A supervision opened on the case page without a date answers within three working days
from the calendar, not three calendar days."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from wangge.cases.actions.clocks import supervision_deadline
from wangge.cases.models import Case, Supervision
from wangge.cases.workflow import State
from wangge.workcal.deadlines import SHANGHAI

pytestmark = pytest.mark.django_db


def test_default_supervision_deadline_counts_working_days(login_as) -> None:
    thursday = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    case = Case.objects.exclude(state__in=[State.CLOSED, State.REJECTED,
                                           State.CANCELLED]).first()
    client = login_as("dispatcher")
    with mock.patch.object(timezone, "now", return_value=thursday):
        r = client.post(f"/console/cases/{case.register_no}/supervise/",
                        {"level": "normal", "reason": "请加快处置"})
    assert r.status_code == 302
    sup = Supervision.objects.filter(case=case).latest("id")
    # Fri 27, Mon 30, Tue 1 December: the weekend does not count
    assert sup.deadline == dt.date(2026, 12, 1)
    assert sup.deadline != thursday.date() + dt.timedelta(days=3)


def test_a_posted_date_still_wins(login_as) -> None:
    case = Case.objects.exclude(state__in=[State.CLOSED, State.REJECTED,
                                           State.CANCELLED]).first()
    r = login_as("dispatcher").post(f"/console/cases/{case.register_no}/supervise/",
                                    {"level": "yellow", "reason": "黄牌", "deadline": "2027-01-08"})
    assert r.status_code == 302
    assert Supervision.objects.filter(case=case).latest("id").deadline == dt.date(2027, 1, 8)


def test_without_the_year_in_the_calendar_it_says_so() -> None:
    due, why = supervision_deadline(dt.datetime(2199, 3, 6, 10, 0, tzinfo=SHANGHAI), 3)
    assert due == dt.date(2199, 3, 9) and "2199年日历未录入" in why
