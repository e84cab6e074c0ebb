"""Acceptance: `wangge sla deadline` gives the right deadlines across every 2025–2026
holiday and make-up working day, for both Liling policies. "Right" is the naive day-by-day
count over the notices (schedules.py), independent of the code under test."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from wangge.workcal.deadlines import SHANGHAI
from wangge.workcal.tests.schedules import NAMED_DAYS, naive_working_days

pytestmark = pytest.mark.django_db


def cli_deadlines(policy: str, at: dt.datetime) -> dict[str, str]:
    out = io.StringIO()
    # a naive --at is Asia/Shanghai, as an operator types it
    call_command("sla", "deadline", "--policy", policy, "--at",
                 at.strftime("%Y-%m-%dT%H:%M"), "--json", stdout=out)
    return {c["code"]: c["deadline"] for c in json.loads(out.getvalue())["clocks"]}


def moments_around(day: dt.date) -> list[dt.datetime]:
    """On the day itself, and the afternoon before, so the count starts on or crosses it."""
    on = dt.datetime.combine(day, dt.time(9, 0), SHANGHAI)
    return [on, on - dt.timedelta(hours=17), on - dt.timedelta(days=3)]


@pytest.mark.parametrize("day", NAMED_DAYS, ids=str)
def test_both_liling_policies_around(day: dt.date) -> None:
    for at in moments_around(day):
        assert cli_deadlines("general_7wd", at) == {
            "resolve": naive_working_days(at, 7).isoformat()}, at
        assert cli_deadlines("utility_24h_3wd", at) == {
            "on_site": (at + dt.timedelta(hours=24)).isoformat(),
            "resolve": naive_working_days(at, 3).isoformat()}, at
