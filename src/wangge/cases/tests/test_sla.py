"""SLA clocks on cases: started by registration or dispatch with workcal deadlines, met by
the loop, paused while suspended, swept for warnings and breaches exactly once."""

from __future__ import annotations

import datetime as dt

import pytest

from wangge.cases import jobs
from wangge.cases.actions import clocks as clocks_actions
from wangge.cases.models import Case, CaseClock, CaseEvent, Supervision
from wangge.cases.tests.helpers import act, report
from wangge.workcal import calendar as workcal

pytestmark = pytest.mark.django_db


def count(no: str, action: str) -> int:
    return CaseEvent.objects.filter(case__register_no=no, action=action).count()


def clocks(no: str) -> dict[str, CaseClock]:
    return {c.code: c for c in CaseClock.objects.filter(case__register_no=no)}


def test_a_general_case_gets_7_working_days_and_a_written_reply_when_late(
        login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="暴露垃圾")["register_no"]
    assert not clocks(no)
    act(dispatcher, no, "register")
    (clock,) = clocks(no).values()
    assert clock.code == "resolve" and clock.unit == "working_days" and clock.amount == 7
    assert clock.deadline == workcal.current().deadline(clock.started_at, 7, "working_days")
    assert clock.started_at < clock.warn_at < clock.deadline

    jobs.sweep(clock.warn_at - dt.timedelta(seconds=1))
    assert count(no, "sla_warning") == 0
    jobs.sweep(clock.warn_at)
    jobs.sweep(clock.warn_at)
    assert count(no, "sla_warning") == 1 and count(no, "sla_breach") == 0  # once
    jobs.sweep(clock.deadline)
    jobs.sweep(clock.deadline)
    assert count(no, "sla_breach") == 1
    case = Case.objects.get(register_no=no)
    assert case.handling_level == Case.Level.SUBCENTER  # escalated one level
    assert case.state == "reply_due"  # the policy: a written reply is owed
    (sup,) = case.supervisions.all()
    assert sup.level == Supervision.Level.YELLOW and sup.opened_by is None
    r = act(dispatcher, no, "reply", reply="因需协调产权单位，预计下周清运完毕。")
    assert r.json()["state"] == "registered"


def test_a_utility_case_has_two_clocks_and_a_second_breach_is_a_red_card(
        login_as, spot) -> None:
    dispatcher, water = login_as("dispatcher"), login_as("water")
    no = report(login_as("station"), spot, category="1001", title="停水")["register_no"]
    act(dispatcher, no, "register")
    assert not clocks(no)  # these clocks start at dispatch
    act(dispatcher, no, "dispatch")
    c = clocks(no)
    assert set(c) == {"on_site", "resolve"}
    assert c["on_site"].deadline - c["on_site"].started_at == dt.timedelta(hours=24)
    jobs.sweep(c["on_site"].deadline)
    case = Case.objects.get(register_no=no)
    assert [s.level for s in case.supervisions.all()] == ["yellow"]
    assert case.state == "dispatched"  # no reply is owed for this clock
    act(water, no, "accept")
    act(water, no, "start")
    c = clocks(no)
    assert c["on_site"].status == "met" and c["on_site"].breached_at is not None
    assert c["resolve"].status == "running"
    jobs.sweep(c["resolve"].deadline)
    assert sorted(s.level for s in case.supervisions.all()) == ["red", "yellow"]
    case.refresh_from_db()
    assert case.handling_level == Case.Level.CENTER
    page = dispatcher.get("/console/cases/sla/").content.decode()
    assert no in page
    notice = dispatcher.get("/console/cases/notice/").content.decode()
    assert no in notice and "红牌督办" in notice


def test_clocks_stop_when_met_or_closed(login_as, spot) -> None:
    dispatcher, dept, worker = login_as("dispatcher"), login_as("department"), login_as(
        "gridworker")
    no = report(worker, spot, category="0101", title="暴露垃圾")["register_no"]
    for client, step, body in [(dispatcher, "register", {}), (dispatcher, "dispatch", {}),
                               (dept, "accept", {}), (dept, "start", {}),
                               (dept, "handle", {"feedback": "已清运"})]:
        assert act(client, no, step, **body).status_code == 200
    clock = clocks(no)["resolve"]
    assert clock.status == "met" and clock.met_at is not None
    jobs.sweep(clock.deadline + dt.timedelta(days=30))
    assert count(no, "sla_breach") == 0


def test_suspended_time_does_not_count(login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="x")["register_no"]
    act(dispatcher, no, "register")
    act(dispatcher, no, "suspend", reason="等待产权单位", planned_date="2026-12-31")
    clock = clocks(no)["resolve"]
    assert clock.status == "paused"
    jobs.sweep(clock.deadline + dt.timedelta(days=60))
    assert count(no, "sla_breach") == 0  # paused
    cal = workcal.current()
    # resume three working days later (a Monday pause, a Thursday resume: 3 working days)
    monday = dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC)
    before = cal.add_working_days(monday, 7)
    CaseClock.objects.filter(pk=clock.pk).update(paused_at=monday, deadline=before,
                                                 warn_at=before)
    clock.refresh_from_db()
    clocks_actions._resume(clock, monday + dt.timedelta(days=3))
    assert clock.status == "running"
    assert cal.working_days_between(monday, clock.deadline) == 7 + 3


def test_a_policy_change_applies_to_new_cases_only(login_as, spot) -> None:
    from wangge.workcal.models import SlaClock

    dispatcher = login_as("dispatcher")
    old = report(login_as("gridworker"), spot, category="0101", title="旧")["register_no"]
    act(dispatcher, old, "register")
    SlaClock.objects.filter(policy__code="general_7wd", code="resolve").update(amount=5)
    workcal_cache_clear()
    new = report(login_as("gridworker"), (spot[0] + 0.002, spot[1]), category="0101",
                 title="新")["register_no"]
    act(dispatcher, new, "register")
    assert clocks(old)["resolve"].amount == 7 and clocks(new)["resolve"].amount == 5


def workcal_cache_clear() -> None:
    """Policies are read fresh per call or cached by stamp; either way a direct update in a
    test must be visible."""
    from wangge.workcal import policies

    clear = getattr(policies, "cache_clear", None)
    if clear:
        clear()


def test_every_sweep_event_is_on_the_timeline(login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="x")["register_no"]
    act(dispatcher, no, "register")
    jobs.sweep(clocks(no)["resolve"].deadline)
    actions = list(CaseEvent.objects.filter(case__register_no=no).values_list("action",
                                                                             flat=True))
    assert actions[-5:] == ["sla_warning", "sla_breach", "escalate", "supervise", "reply_due"]


def test_a_clock_waiting_for_its_calendar_year_gets_its_deadline_when_entered(
        login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="x")["register_no"]
    act(dispatcher, no, "register")
    clock = clocks(no)["resolve"]
    expected = clock.deadline
    # as it is while the year is missing: no deadline, the year named on the case page
    CaseClock.objects.filter(pk=clock.pk).update(deadline=None, warn_at=None,
                                                 calendar_missing=2027)
    assert "2027年工作日历未录入" in dispatcher.get(f"/console/cases/{no}/").content.decode()
    jobs.sweep()  # the year it waits for is in the calendar now (this case's really is)
    clock.refresh_from_db()
    assert clock.deadline == expected and clock.calendar_missing is None
    assert count(no, "sla_deadline") == 1


def test_two_clocks_of_a_case_breaching_in_one_sweep_act_as_if_one_after_the_other(
        login_as, spot) -> None:
    """The sweep handles a batch set-wise; a case with two overdue clocks still gets two
    escalations and a yellow card, then a red one, as two sweeps would give it."""
    dispatcher = login_as("dispatcher")
    no = report(login_as("station"), spot, category="1001", title="停水")["register_no"]
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    c = clocks(no)
    jobs.sweep(max(c["on_site"].deadline, c["resolve"].deadline))
    case = Case.objects.get(register_no=no)
    assert case.handling_level == Case.Level.CENTER  # workstation → sub-center → center
    assert sorted(s.level for s in case.supervisions.all()) == ["red", "yellow"]
    escalations = [e.data for e in case.events.filter(action="escalate")]
    assert [(d["from_level"], d["to_level"]) for d in escalations] == [(3, 2), (2, 0)]
    assert count(no, "sla_breach") == 2 and count(no, "sla_warning") == 2


def test_the_sweep_announces_each_step_with_the_state_it_left(login_as, spot) -> None:
    from wangge.integration.models import OutboxMessage

    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="0101", title="x")["register_no"]
    act(dispatcher, no, "register")
    first = OutboxMessage.objects.order_by("-id").values_list("id", flat=True).first()
    jobs.sweep(clocks(no)["resolve"].deadline)
    mine = [m for m in OutboxMessage.objects.filter(id__gt=first).order_by("id")
            if m.payload.get("register_no") == no]  # (the demo's cases are swept too)
    sent = [(m.topic, m.payload["register_no"], m.payload["state"]) for m in mine]
    assert sent == [(f"case.{topic}", no, state) for topic, state in [
        ("sla_warning", "registered"), ("sla_breach", "registered"),
        ("escalate", "registered"), ("supervise", "registered"),
        ("reply_due", "reply_due")]]
    assert mine[0].payload["note"] == "办结即将到期"  # what the people responsible are told
    events = CaseEvent.objects.filter(case__register_no=no, action="reply_due").get()
    assert (events.from_state, events.to_state, events.data["previous"]) == (
        "registered", "reply_due", "registered")
    assert len({m.idempotency_key for m in mine}) == 5
