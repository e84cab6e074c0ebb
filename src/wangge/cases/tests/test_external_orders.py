"""转办单 as the case sees them (cases.actions.external): an order opened on each dispatch to
an external system (numbered -2 … after a return), their answer and failures recorded once,
a failed order resent, and the status words that only ever move an order forward."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.cases.actions.external import (
    RANK,
    STATUS_WORDS,
    do_external_status,
    do_mark_failed,
    do_mark_resend,
    do_mark_sent,
    find_order,
)
from wangge.cases.actions.intake import do_report
from wangge.cases.actions.loop import do_transition
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import Case, ExternalOrder
from wangge.cases.workflow import State
from wangge.core.models import OutboxMessage
from wangge.org.models import Department

pytestmark = pytest.mark.django_db

S = ExternalOrder.State
SYSTEM = "hotline_12345"


def user(username: str) -> AbstractBaseUser:
    return get_user_model().objects.get(username=username)


def dispatched(spot: tuple[float, float], system: str = SYSTEM) -> Case:
    lng, lat = spot
    case = do_report({"category": "1001", "title": "胜利路停水", "lng": lng, "lat": lat},
                     user("gridworker"), channel=Case.Channel.GRID_WORKER)
    do_transition(case, "register", user("dispatcher"))
    return do_transition(case, "dispatch", user("dispatcher"), department=system)


def order_of(case: Case) -> ExternalOrder:
    return ExternalOrder.objects.filter(case=case).order_by("-id").first()  # type: ignore[return-value]


def transfers(case: Case) -> list[dict[str, Any]]:
    return list(OutboxMessage.objects.filter(topic="external.order",
                                             payload__register_no=case.register_no)
                .order_by("id").values_list("payload", flat=True))


def test_a_dispatch_to_a_system_opens_an_order_and_queues_it(spot) -> None:
    case = dispatched(spot)
    order = order_of(case)
    assert (order.direction, order.state, order.our_no) == (
        ExternalOrder.Direction.OUT, S.PENDING, case.register_no)
    assert order.system.code == SYSTEM
    assert transfers(case) == [{"register_no": case.register_no, "order": order.pk,
                                "system": SYSTEM, "our_no": case.register_no}]


def test_a_second_transfer_after_a_return_is_numbered_2(spot) -> None:
    case = dispatched(spot)
    first = order_of(case)
    do_external_status(first, "退回", note="不属于热线受理范围")
    case.refresh_from_db()
    assert case.state == State.REGISTERED and case.department is None
    case = do_transition(case, "dispatch", user("dispatcher"), department=SYSTEM)
    second = order_of(case)
    assert second.pk != first.pk and second.our_no == f"{case.register_no}-2"
    assert second.state == S.PENDING
    assert [p["our_no"] for p in transfers(case)] == [case.register_no,
                                                      f"{case.register_no}-2"]
    # numbers count per system: the other system's first order is the plain number
    do_external_status(second, "退回", note="再次退回")
    case.refresh_from_db()
    case = do_transition(case, "dispatch", user("dispatcher"), department="city_management")
    assert order_of(case).our_no == case.register_no


def test_their_answer_is_recorded_once(spot) -> None:
    case = dispatched(spot)
    order = do_mark_sent(order_of(case), "GD20261130000001", note="201")
    assert (order.state, order.their_no) == (S.SENT, "GD20261130000001")
    assert order.sent_at is not None
    again = do_mark_sent(order, "GD-ANOTHER")  # a resend after a lost reply
    assert (again.state, again.their_no) == (S.SENT, "GD20261130000001")
    assert case.events.filter(action="transfer_sent").count() == 1
    # once they have moved it, a late answer changes nothing either
    do_external_status(order, "受理")
    late = do_mark_sent(order, "GD-LATE")
    assert (late.state, late.their_no) == (S.ACCEPTED, "GD20261130000001")


def test_a_late_answer_after_a_call_back_still_teaches_their_number(spot) -> None:
    """Their call-back (naming our number) overtook their answer to our send: the answer
    keeps the state the call-back set but records their number, which later call-backs
    use."""
    case = dispatched(spot)
    order = order_of(case)
    do_external_status(order, "受理")
    late = do_mark_sent(order, "GD20261130000009")
    assert (late.state, late.their_no) == (S.ACCEPTED, "GD20261130000009")
    assert find_order(order.system, "GD20261130000009") == order
    assert do_mark_sent(order, "GD-OTHER").their_no == "GD20261130000009"
    assert case.events.filter(action="transfer_sent").count() == 1


def test_a_failed_order_is_resent_by_the_dispatcher(spot) -> None:
    case = dispatched(spot)
    order = do_mark_failed(order_of(case), "400 category_code: not mapped")
    assert order.state == S.FAILED and "category_code" in order.last_note
    event = case.events.get(action="transfer_failed")
    assert event.note == "400 category_code: not mapped"
    # failing again (the last attempt's reason) keeps it failed, with the newer reason
    assert do_mark_failed(order, "dead letter").last_note == "dead letter"
    order = do_mark_resend(order, user("dispatcher"))
    assert (order.state, order.last_note) == (S.PENDING, "")
    resend = case.events.get(action="transfer_resend")
    assert resend.actor == user("dispatcher")
    # only a failed order is resent
    with pytest.raises(IllegalTransition):
        do_mark_resend(order, user("dispatcher"))
    # a sent order does not fail after the fact
    do_mark_sent(order, "GD1")
    assert do_mark_failed(order, "late timeout").state == S.SENT


def test_an_unknown_status_word_names_status(spot) -> None:
    order = order_of(dispatched(spot))
    with pytest.raises(CaseError) as e:
        do_external_status(order, "办结")
    assert e.value.field == "status"


def test_an_order_they_sent_us_takes_no_call_back(spot) -> None:
    case = dispatched(spot)
    order = order_of(case)
    ExternalOrder.objects.filter(pk=order.pk).update(direction=ExternalOrder.Direction.IN,
                                                     state=S.RECEIVED)
    with pytest.raises(IllegalTransition):
        do_external_status(order, "受理")


#: how far a case is along our loop (a call-back never moves it back either)
CASE_RANK = {State.DISPATCHED: 0, State.ACCEPTED: 1, State.IN_PROGRESS: 2, State.HANDLED: 3,
             State.REGISTERED: 4}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(list(STATUS_WORDS)), min_size=1, max_size=8))
def test_any_sequence_of_status_words_only_moves_forward(spot, words: list[str]) -> None:
    case = dispatched(spot)
    order = order_of(case)
    service_user = Department.objects.get(code=SYSTEM).service_user
    returned = False
    for word in words:
        before_state = ExternalOrder.objects.get(pk=order.pk).state
        before_case = Case.objects.get(pk=case.pk).state
        try:
            result = do_external_status(order, word, note=f"对方：{word}")
        except IllegalTransition:
            after = ExternalOrder.objects.get(pk=order.pk).state
            assert after == before_state  # a refused step changes nothing
            assert Case.objects.get(pk=case.pk).state == before_case
            continue
        after = result.order.state
        if after == S.RETURNED:
            assert before_state in {S.PENDING, S.SENT, S.ACCEPTED, S.RETURNED}
            returned = True
        else:
            assert not returned, "nothing moves a returned order"
            assert RANK[after] >= RANK[before_state]
        assert result.result == ("unchanged" if after == before_state else "applied")
        now_case = Case.objects.get(pk=case.pk).state
        assert CASE_RANK[now_case] >= CASE_RANK[before_case]
    case.refresh_from_db()
    order.refresh_from_db()
    if order.state == S.RETURNED:
        assert case.state == State.REGISTERED and case.department is None
    elif order.state in (S.HANDLED, S.CLOSED):
        assert case.state == State.HANDLED
    elif order.state == S.CHECKING:  # 核查 itself moves no case (the doc's table)
        assert case.state != State.REGISTERED
    elif order.state in (S.DISPATCHED, S.IN_PROGRESS):
        assert case.state == State.IN_PROGRESS
    else:
        assert case.state == State.DISPATCHED
    # every step taken on the case was the system's own
    assert not case.events.filter(action__in=["accept", "start", "handle", "return"]).exclude(
        actor=service_user).exists()


def test_a_failed_check_sends_a_new_order_and_the_old_ones_late_news_moves_nothing(
        spot) -> None:
    """Their 已处置, our grid worker finds the water still off: the case goes back in
    progress and the system gets a new order (-2); their late 结案 of the first order does
    not mark the rework handled, the second order's 已处置 does."""
    case = dispatched(spot)
    first = order_of(case)
    do_mark_sent(first, "GD1")
    do_external_status(first, "已处置", note="已恢复供水")
    case.refresh_from_db()
    assert case.state == State.HANDLED
    case = do_transition(case, "verify_fail", user("gridworker"), reason="仍然停水")
    second = order_of(case)
    assert second.pk != first.pk and second.our_no == f"{case.register_no}-2"
    assert second.state == S.PENDING and case.state == State.IN_PROGRESS
    do_external_status(first, "结案", note="热线已结案")
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    do_mark_sent(second, "GD2")
    do_external_status(second, "已处置", note="更换阀门后恢复")
    case.refresh_from_db()
    assert case.state == State.HANDLED


def test_a_confidential_case_is_never_dispatched_to_a_system(spot) -> None:
    lng, lat = spot
    case = do_report({"category": "1201", "title": "可疑人员", "lng": lng, "lat": lat},
                     user("gridworker"), channel=Case.Channel.GRID_WORKER)
    do_transition(case, "register", user("dispatcher"))
    with pytest.raises(CaseError) as refused:
        do_transition(case, "dispatch", user("dispatcher"), department=SYSTEM)
    assert refused.value.field == "department"
    case.refresh_from_db()
    assert case.state == State.REGISTERED and not ExternalOrder.objects.filter(case=case)


def test_their_return_of_the_new_order_after_a_failed_check_reaches_the_dispatcher(
        spot) -> None:
    case = dispatched(spot)
    first = order_of(case)
    do_mark_sent(first, "GD1")
    do_external_status(first, "已处置")
    case = do_transition(Case.objects.get(pk=case.pk), "verify_fail", user("gridworker"),
                         reason="仍然停水")
    do_external_status(order_of(case), "退回", note="非供水管网问题")
    case.refresh_from_db()
    assert case.state == State.REGISTERED and case.department is None
    assert case.events.filter(action="return", note="非供水管网问题").exists()


def test_news_that_came_while_suspended_applies_on_resume(spot) -> None:
    case = dispatched(spot)
    case = do_transition(case, "suspend", user("dispatcher"), reason="等待施工",
                         planned_date="2026-12-31")
    order = order_of(case)
    for word in ("受理", "派遣", "已处置"):
        do_external_status(order, word, note="已恢复供水")
    case.refresh_from_db()
    assert case.state == State.SUSPENDED
    case = do_transition(case, "resume", user("dispatcher"))
    assert case.state == State.HANDLED  # not waiting on news it already has
    assert Case.objects.get(pk=case.pk).state == State.HANDLED


def test_a_cancelled_cases_failed_order_is_not_resent_and_a_failed_one_is_recalled(
        spot) -> None:
    from wangge.cases.actions.external import do_recall, in_their_hands

    case = dispatched(spot)
    order = do_mark_failed(order_of(case), "未配置分类映射：1001 停水")
    with pytest.raises(CaseError):
        do_recall(order, user("dispatcher"), reason=" ")
    case = do_recall(order, user("dispatcher"), reason="改派自来水公司")
    assert case.state == State.REGISTERED and case.department is None
    assert not in_their_hands(order)
    with pytest.raises(IllegalTransition):
        do_mark_resend(order, user("dispatcher"))

    other = dispatched(spot)
    failed = do_mark_failed(order_of(other), "HTTP 400")
    do_transition(other, "cancel", user("dispatcher"), reason="重复上报")
    with pytest.raises(IllegalTransition):
        do_mark_resend(failed, user("dispatcher"))
