"""满意度评价 and 不满意重办: one FeedbackRule for the resident's rating, the follow-up call and
the loop's `evaluate` step; an unsatisfied rating within the days and under the limit
reopens the case for rework, anything else ends it (evaluated)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.cases import access
from wangge.cases.actions import Where, do_rate, do_resident_report, feedback_rule
from wangge.cases.actions.intake import next_register_no
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import Case, CaseCategory, CaseClock, CaseEvent, PublicCategory, Rating
from wangge.cases.tests.helpers import act
from wangge.core.models import OutboxMessage
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

COMMENT = "井口还在冒水，没修好"
LOOP = [("dispatcher", "register", {}), ("dispatcher", "dispatch", {}),
        ("department", "accept", {}), ("department", "start", {})]
AGAIN = [("department", "handle", {"feedback": "已疏通管道"}), ("gridworker", "verify_pass", {}),
         ("dispatcher", "close", {"closeout_reason": "已疏通，现场核实"})]


@pytest.fixture
def drain() -> PublicCategory:
    """A resident-facing kind over 井盖/排水 (0601), seeded or made here."""
    found = PublicCategory.objects.filter(category__code="0601", active=True).first()
    return found or PublicCategory.objects.create(
        code="test-drain", name="下水道堵了", group="市政设施",
        category=CaseCategory.objects.get(code="0601"))


def closed_case(days_ago: int = 0, reopen_count: int = 0) -> Case:
    grid = Grid.objects.get(name="胜利社区第1网格")
    now = timezone.now()
    return Case.objects.create(
        register_no=next_register_no(now), grid=grid, title="居民反映：下水道堵了",
        category=CaseCategory.objects.get(code="0601"), channel=Case.Channel.RESIDENT,
        state="closed", closed_at=now - dt.timedelta(days=days_ago),
        closeout_reason="已疏通", reopen_count=reopen_count, rework_count=reopen_count)


def walk(login_as, no: str, steps: list[tuple[str, str, dict]]) -> None:
    for who, action, body in steps:
        r = act(login_as(who), no, action, **body)
        assert r.status_code == 200, (action, r.content)


def set_rule(**values: object) -> None:
    rule = feedback_rule()
    for k, v in values.items():
        setattr(rule, k, v)
    rule.save()


def test_the_rule_is_data_with_the_issues_defaults() -> None:
    rule = feedback_rule()
    assert (rule.pk, sorted(rule.reopen_levels), rule.reopen_within_days, rule.max_reopens,
            rule.followup_after_days, rule.followup_channels) == (1, [1, 2], 15, 1, 2,
                                                                   ["resident"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=st.integers(1, 5), days=st.integers(0, 40), reopen_count=st.integers(0, 3),
       levels=st.sets(st.integers(1, 5)), within=st.integers(0, 30),
       most=st.integers(0, 3))
def test_reopened_exactly_when_the_rule_says_so(level: int, days: int, reopen_count: int,
                                                levels: set[int], within: int,
                                                most: int) -> None:
    set_rule(reopen_levels=sorted(levels), reopen_within_days=within, max_reopens=most)
    case = closed_case(days, reopen_count)
    rating = do_rate(case, level, COMMENT, via="resident")
    expected = level in levels and days <= within and reopen_count < most
    case.refresh_from_db()
    assert rating.reopened == expected
    if expected:
        assert case.state == "in_progress" and case.closed_at is None
        assert (case.reopen_count, case.rework_count) == (reopen_count + 1, reopen_count + 1)
        assert case.satisfaction is None and case.closeout_reason == ""
    else:
        assert case.state == "evaluated" and case.satisfaction == level
        assert (case.reopen_count, case.rework_count) == (reopen_count, reopen_count)


def test_unsatisfied_reopens_as_rework_with_the_comment_and_the_second_rating_ends_it(
        login_as, spot, drain) -> None:
    lng, lat = spot
    case = do_resident_report(public_category=drain.code, description="楼下下水道堵了",
                              where=Where(lng=lng, lat=lat), source="qr").case
    no = case.register_no
    walk(login_as, no, LOOP + AGAIN)
    first_clock = CaseClock.objects.get(case=case, code="resolve")
    assert first_clock.status in ("met", "stopped")
    marker = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    rating = do_rate(case, 2, COMMENT, via="resident")
    case.refresh_from_db()
    assert rating.reopened and case.state == "in_progress"
    assert (case.rework_count, case.reopen_count, case.closed_at) == (1, 1, None)
    reopen = CaseEvent.objects.get(case=case, action="reopen")
    assert reopen.note == COMMENT and (reopen.from_state, reopen.to_state) == (
        "closed", "in_progress")
    assert CaseEvent.objects.filter(case=case, action="rate", data__level=2).exists()
    # the handling clock runs again, in full, from the reopen
    clock = CaseClock.objects.get(case=case, code="resolve")
    assert clock.status == "running" and clock.started_at >= reopen.at - dt.timedelta(
        seconds=1) and clock.breached_at is None and clock.deadline > clock.started_at
    # the outbox announces the change, never the resident's words
    payloads = [json.dumps(m.payload, ensure_ascii=False)
                for m in OutboxMessage.objects.filter(pk__gt=marker)]
    assert payloads and not any(COMMENT in p for p in payloads)
    # the department is on it again; the second close is rated and the case ends
    assert case.department.code == "urban-management"
    walk(login_as, no, AGAIN)
    second = do_rate(case, 2, "还是不满意", via="resident")  # the rule allows one reopen
    case.refresh_from_db()
    assert not second.reopened and case.state == "evaluated" and case.satisfaction == 2
    with pytest.raises(IllegalTransition):
        do_rate(case, 5, "", via="resident")
    assert act(login_as("dispatcher"), no, "evaluate", satisfaction=5).status_code == 409
    assert list(case.ratings.values_list("level", "reopened")) == [(2, True), (2, False)]


def test_an_open_case_is_refused_and_nothing_is_written() -> None:
    case = closed_case()
    Case.objects.filter(pk=case.pk).update(state="in_progress", closed_at=None)
    before = Rating.objects.count()
    with pytest.raises(IllegalTransition):
        do_rate(case, 1, COMMENT, via="resident")
    case = closed_case()
    for level in (0, 6, "x", None, "2.5"):
        with pytest.raises(CaseError) as e:
            do_rate(case, level, "", via="resident")  # type: ignore[arg-type]
        assert e.value.field == "level"
    with pytest.raises(CaseError) as e:
        do_rate(case, 3, "长" * 501, via="resident")
    assert e.value.field == "comment"
    assert Rating.objects.count() == before and Case.objects.get(pk=case.pk).state == "closed"


def test_a_follow_up_call_is_recorded_by_the_cases_dispatchers_only(login_as) -> None:
    users = get_user_model().objects
    case = closed_case()
    with pytest.raises(PermissionDenied):
        do_rate(case, 4, "回访：满意", via="followup", actor=users.get(username="department"))
    with pytest.raises(PermissionDenied):
        do_rate(case, 4, "回访：满意", via="followup", actor=None)
    rating = do_rate(case, 4, "回访：满意", via="followup",
                     actor=users.get(username="dispatcher"))
    case.refresh_from_db()
    assert rating.entered_by.username == "dispatcher" and case.followup_note == "回访：满意"


def test_the_api_evaluate_step_obeys_the_rule(login_as) -> None:
    dispatcher = login_as("dispatcher")
    reopened, late = closed_case(days_ago=1), closed_case(days_ago=16)
    r = act(dispatcher, reopened.register_no, "evaluate", satisfaction=2,
            followup_note="回访：仍有异味")
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    assert Rating.objects.get(case=reopened).via == "followup"
    r = act(dispatcher, late.register_no, "evaluate", satisfaction=2)
    assert r.status_code == 200 and r.json()["state"] == "evaluated"  # past the 15 days
    assert act(dispatcher, late.register_no, "evaluate", satisfaction=5).status_code == 409


def test_reopen_is_never_a_manual_action(login_as) -> None:
    dispatcher = login_as("dispatcher")
    case = closed_case()
    assert "reopen" not in access.allowed_actions(
        get_user_model().objects.get(username="dispatcher"), case)
    r = act(dispatcher, case.register_no, "reopen", reason="手工重办")
    assert r.status_code == 409 and Case.objects.get(pk=case.pk).state == "closed"
    html = dispatcher.get(f"/console/cases/{case.register_no}/").content.decode()
    assert 'data-action="reopen"' not in html and "居民" in html


def test_the_rule_is_changed_in_the_admin_through_the_action(login_as) -> None:
    from wangge.core.models import AuditEntry

    feedback_rule()
    admin = login_as("admin")
    url = "/admin/cases/feedbackrule/1/change/"
    assert admin.get(url).status_code == 200
    r = admin.post(url, {"reopen_levels": "[1]", "reopen_within_days": "10",
                         "max_reopens": "2", "followup_after_days": "3",
                         "followup_channels": '["resident", "external"]'})
    assert r.status_code == 302, r.content
    rule = feedback_rule()
    assert (rule.reopen_levels, rule.reopen_within_days, rule.max_reopens,
            rule.followup_after_days, rule.followup_channels) == (
        [1], 10, 2, 3, ["external", "resident"])
    assert AuditEntry.objects.filter(action="cases.feedback_rule_set").exists()
    bad = admin.post(url, {"reopen_levels": "[0, 9]", "reopen_within_days": "10",
                           "max_reopens": "2", "followup_after_days": "3",
                           "followup_channels": '["resident"]'})
    assert bad.status_code == 403 and feedback_rule().reopen_levels == [1]
    from wangge.cases.actions.rating import do_set_feedback_rule

    with pytest.raises(PermissionDenied):
        do_set_feedback_rule(get_user_model().objects.get(username="station"),
                             reopen_levels=[1], reopen_within_days=1, max_reopens=1,
                             followup_after_days=1, followup_channels=["resident"])
