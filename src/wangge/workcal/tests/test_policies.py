"""SLA policies as data: Liling's two policies, clock specs a case can snapshot, and seeding
from JSON with every bad field named."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

import wangge.cases
from wangge.workcal import policies
from wangge.workcal.actions import do_seed_policies
from wangge.workcal.deadlines import SHANGHAI
from wangge.workcal.models import SlaClock, SlaPolicy
from wangge.workcal.seed import policy_rows
from wangge.workcal.specs import ClockSpec
from wangge.workcal.validation import WorkcalError

pytestmark = pytest.mark.django_db

GENERAL = ClockSpec("resolve", "办结", 7.0, "working_days", "register", "handled", 0.8,
                    "reply_due")
ON_SITE = ClockSpec("on_site", "到场处置", 24.0, "hours", "dispatch", "in_progress", 0.8,
                    "overdue")
FIX = ClockSpec("resolve", "修复", 3.0, "working_days", "dispatch", "handled", 0.8, "overdue")


def test_liling_policies() -> None:
    assert policies.clocks_for("general_7wd") == [GENERAL]
    assert policies.clocks_for("utility_24h_3wd") == [ON_SITE, FIX]


def test_every_category_names_a_policy_that_exists() -> None:
    rows = json.loads((Path(wangge.cases.__file__).parent / "categories.json").read_text())
    for code in {r["sla_policy"] for r in rows if r["sla_policy"]}:
        assert policies.clocks_for(code), code


def test_deadlines_of_a_policy() -> None:
    at = dt.datetime(2026, 9, 30, 16, tzinfo=SHANGHAI)
    assert policies.deadlines("utility_24h_3wd", at) == [
        (ON_SITE, dt.datetime(2026, 10, 1, 16, tzinfo=SHANGHAI)),
        (FIX, dt.datetime(2026, 10, 11, tzinfo=SHANGHAI)),
    ]
    general = policies.deadlines("general_7wd", at)
    assert general == [(GENERAL, dt.datetime(2026, 10, 16, tzinfo=SHANGHAI))]


def test_unknown_and_switched_off_policies_are_errors() -> None:
    with pytest.raises(policies.UnknownPolicy, match="'nope'"):
        policies.clocks_for("nope")
    SlaPolicy.objects.filter(code="general_7wd").update(active=False)
    with pytest.raises(policies.UnknownPolicy, match="switched off"):
        policies.clocks_for("general_7wd")
    assert policies.clocks_for("general_7wd", include_inactive=True) == [GENERAL]


def test_a_spec_is_a_frozen_snapshot() -> None:
    spec = SlaClock.objects.get(policy__code="general_7wd").spec()
    stored = json.loads(json.dumps(spec.to_dict()))  # as a JSON column keeps it
    SlaClock.objects.filter(policy__code="general_7wd").update(amount=5)
    assert ClockSpec(**stored) == spec == GENERAL
    assert policies.clocks_for("general_7wd")[0].amount == 5
    with pytest.raises(AttributeError):
        spec.amount = 3  # type: ignore[misc]


def test_seeding_keeps_existing_policies_unless_replaced() -> None:
    SlaClock.objects.filter(policy__code="general_7wd").update(amount=5)
    result = do_seed_policies(policy_rows())
    assert result.kept == ["general_7wd", "utility_24h_3wd"] and not result.created
    assert policies.clocks_for("general_7wd")[0].amount == 5
    result = do_seed_policies(policy_rows(), replace=True)
    assert result.updated == ["general_7wd", "utility_24h_3wd"]
    assert policies.clocks_for("general_7wd") == [GENERAL]


def test_a_new_policy_from_json() -> None:
    rows = [{"code": "hotline_2wd", "name": "热线转办", "clocks": [
        {"code": "reply", "name": "答复", "amount": 2, "unit": "working_days",
         "starts_on": "register", "goal": "handled", "on_breach": "reply_due"},
        {"code": "first_call", "name": "首次联系", "amount": 4, "unit": "working_hours",
         "starts_on": "dispatch", "goal": "accepted", "warn_fraction": 0.5}]}]
    assert do_seed_policies(rows).created == ["hotline_2wd"]
    reply, call = policies.clocks_for("hotline_2wd")
    assert (reply.warn_fraction, call.warn_fraction, call.on_breach) == (0.8, 0.5, "overdue")
    at = dt.datetime(2026, 9, 30, 16, tzinfo=SHANGHAI)
    assert [d for _s, d in policies.deadlines("hotline_2wd", at)] == [
        dt.datetime(2026, 10, 10, tzinfo=SHANGHAI),
        dt.datetime(2026, 10, 8, 11, 0, tzinfo=SHANGHAI),  # 1.5 h on Sep 30, 2.5 h on Oct 8
    ]


def test_bad_policy_rows_name_the_row_and_field_and_write_nothing() -> None:
    rows = copy.deepcopy(policy_rows())
    rows[0]["clocks"][0]["unit"] = "fortnights"
    rows[1]["clocks"][1]["amount"] = 2.5  # working days must be whole
    rows[1]["clocks"][0]["warn_fraction"] = 1.2
    rows.append({"code": "general_7wd", "name": "again", "clocks": []})
    before = SlaClock.objects.count()
    with pytest.raises(WorkcalError) as e:
        do_seed_policies(rows, replace=True)
    shown = [str(p) for p in e.value.problems]
    assert "row 1, clocks[0].unit: 'fortnights': expected one of working_days, hours, " \
           "natural_days, working_hours" in shown
    assert "row 2, clocks[1].amount: working_days must be a whole number" in shown
    assert any(s.startswith("row 2, clocks[0].warn_fraction") for s in shown)
    assert "row 3, code: general_7wd appears twice" in shown
    assert "row 3, clocks: at least one clock" in shown
    assert SlaClock.objects.count() == before
    assert policies.clocks_for("general_7wd") == [GENERAL]
