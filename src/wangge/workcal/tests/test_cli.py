"""The operator's commands: `wangge calendar show YEAR`, `wangge sla policies`,
`wangge sla deadline --policy CODE --at MOMENT`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from wangge import cli

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_calendar_show_2026() -> None:
    lines = run("calendar", "show", "2026").splitlines()
    # the package's version is in the note: chinesecalendar 1.11.0 or later
    assert lines[0].startswith("2026: covered, source package (chinesecalendar ")
    assert lines[0].endswith("), 248 working days")
    assert lines[1:5] == [
        "2026-01-01 Thu  holiday  元旦",
        "2026-01-02 Fri  holiday  元旦",
        "2026-01-03 Sat  holiday  元旦",
        "2026-01-04 Sun  makeup   元旦",
    ]
    assert "2026-02-14 Sat  makeup   春节" in lines
    assert "2026-02-28 Sat  makeup   春节" in lines
    assert "2026-09-20 Sun  makeup   国庆节" in lines
    assert "2026-10-10 Sat  makeup   国庆节" in lines
    assert lines[-1] == "2026-10-10 Sat  makeup   国庆节"
    assert len(lines) == 1 + 39


def test_calendar_show_of_a_year_not_entered() -> None:
    with pytest.raises(CommandError, match="2031: no schedule entered"):
        run("calendar", "show", "2031")


def test_sla_deadline_general() -> None:
    assert run("sla", "deadline", "--policy", "general_7wd", "--at", "2026-09-30T16:00") == (
        "general_7wd 一般事件：7个工作日内办结\tfrom 2026-09-30T16:00:00+08:00\n"
        "resolve\t2026-10-16T00:00:00+08:00\t办结 7 working_days  (24:00 of 2026-10-15)\n")


def test_sla_deadline_utility_from_a_utc_moment() -> None:
    out = run("sla", "deadline", "--policy", "utility_24h_3wd", "--at", "2026-09-30T08:00Z")
    assert out.splitlines()[1:] == [
        "on_site\t2026-10-01T16:00:00+08:00\t到场处置 24 hours",
        "resolve\t2026-10-11T00:00:00+08:00\t修复 3 working_days  (24:00 of 2026-10-10)",
    ]


def test_sla_deadline_json() -> None:
    data = json.loads(run("sla", "deadline", "--policy", "utility_24h_3wd", "--at",
                          "2026-02-13T10:00", "--json"))
    assert data["at"] == "2026-02-13T10:00:00+08:00"
    assert [(c["code"], c["deadline"]) for c in data["clocks"]] == [
        ("on_site", "2026-02-14T10:00:00+08:00"), ("resolve", "2026-02-26T00:00:00+08:00")]


def test_sla_deadline_errors() -> None:
    with pytest.raises(CommandError, match="does not cover 2027"):
        run("sla", "deadline", "--policy", "general_7wd", "--at", "2026-12-28T16:00")
    with pytest.raises(CommandError, match="known: general_7wd, utility_24h_3wd"):
        run("sla", "deadline", "--policy", "nope", "--at", "2026-09-30T16:00")
    with pytest.raises(CommandError, match="not an ISO 8601 time"):
        run("sla", "deadline", "--policy", "general_7wd", "--at", "30/9/2026")


def test_sla_policies() -> None:
    assert run("sla", "policies").splitlines() == [
        "general_7wd  一般事件：7个工作日内办结",
        "  resolve    办结  7 working_days  from register  until handled  warn at 80%  "
        "on breach reply_due",
        "utility_24h_3wd  水电气事件：24小时内到场、3个工作日内修复",
        "  on_site    到场处置  24 hours  from dispatch  until in_progress  warn at 80%  "
        "on breach overdue",
        "  resolve    修复  3 working_days  from dispatch  until handled  warn at 80%  "
        "on breach overdue",
    ]


def test_the_wangge_command_knows_both() -> None:
    assert {"calendar", "sla"} <= set(cli.COMMANDS)
    assert "wangge sla policies | deadline --policy CODE --at" in (cli.__doc__ or "")
