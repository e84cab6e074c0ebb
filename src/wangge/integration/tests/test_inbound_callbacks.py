"""Status call-backs from 12345 (POST /integration/systems/<code>/callbacks): a signed call
moves the order we sent and, while the case is in the system's hands, the case along our
loop as the system's service user; unsigned, stale, unknown, disabled, impossible and
repeated calls are refused or answered once, and every call is in the exchange log."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from wangge.cases.actions.loop import do_transition
from wangge.cases.models import Case, CaseEvent, ExternalOrder
from wangge.cases.workflow import State
from wangge.integration.actions.external import do_save_adapter
from wangge.integration.models import Adapter, InboundCall
from wangge.integration.tests.inbound_support import (
    CODE,
    callback,
    make_adapter,
    signed_post,
    status_body,
    user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()  # nobody signed in: the signature is the only credential


def step(client: Client, order: ExternalOrder, status: str, event_id: str,
         note: str = "") -> Any:
    return callback(client, status_body(order.our_no, status, event_id, note))


def refresh(order: ExternalOrder) -> tuple[ExternalOrder, Case]:
    order = ExternalOrder.objects.select_related("case", "case__department").get(pk=order.pk)
    return order, order.case


def error_field(response: Any) -> str:
    return response.json()["error"]["field"]


def calls(adapter: Adapter) -> list[InboundCall]:
    return list(InboundCall.objects.filter(adapter=adapter).order_by("id"))


# --- who may call ----------------------------------------------------------------------


def test_a_wrong_or_missing_signature_is_401_logged_and_changes_nothing(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    body = status_body(order.our_no, "派遣", "cb-1")
    r = callback(client, body, secret="not-the-secret")
    assert r.status_code == 401 and error_field(r) == "signature"
    raw = json.dumps(body).encode()
    r = client.post(f"/integration/systems/{CODE}/callbacks", raw,
                    content_type="application/json")
    assert r.status_code == 401 and error_field(r) == "signature"
    assert "required" in r.json()["error"]["message"]
    # a body changed after signing
    r = signed_post(client, f"/integration/systems/{CODE}/callbacks", raw,
                    headers={"X-Wangge-Signature": "sha256=" + "0" * 64})
    assert r.status_code == 401

    order, case = refresh(order)
    assert order.state == ExternalOrder.State.PENDING and case.state == State.DISPATCHED
    logged = calls(adapter)
    assert [(c.outcome, c.http_status) for c in logged] == [("refused", 401)] * 3
    assert logged[0].event_id == "cb-1" and logged[0].status == "派遣"
    assert "signature" in logged[0].reason


def test_a_stale_timestamp_is_401(client: Client, adapter: Adapter,
                                  order: ExternalOrder) -> None:
    r = callback(client, status_body(order.our_no, "受理", "cb-1"), now=time.time() - 301)
    assert r.status_code == 401 and "from our clock" in r.json()["error"]["message"]
    r = callback(client, status_body(order.our_no, "受理", "cb-1"), now=time.time() + 600)
    assert r.status_code == 401
    assert refresh(order)[0].state == ExternalOrder.State.PENDING
    # within the window it is fine
    r = callback(client, status_body(order.our_no, "受理", "cb-1"), now=time.time() - 200)
    assert r.status_code == 200, r.content


def test_an_unknown_system_is_404(client: Client, adapter: Adapter,
                                  order: ExternalOrder) -> None:
    r = callback(client, status_body(order.our_no, "受理", "cb-1"), code="no_such_system")
    assert r.status_code == 404 and error_field(r) == "system"
    # a department without an adapter is no system we take calls from either
    r = callback(client, status_body(order.our_no, "受理", "cb-1"), code="water")
    assert r.status_code == 404
    assert refresh(order)[0].state == ExternalOrder.State.PENDING


def test_a_disabled_adapter_is_403_and_logged(client: Client, adapter: Adapter,
                                              order: ExternalOrder) -> None:
    do_save_adapter(system=adapter.system, kind=adapter.kind, endpoint=adapter.endpoint,
                    enabled=False)
    r = step(client, order, "派遣", "cb-1")
    assert r.status_code == 403 and error_field(r) == "system"
    assert refresh(order)[1].state == State.DISPATCHED
    assert [(c.outcome, c.http_status) for c in calls(adapter)] == [("refused", 403)]


def test_only_post(client: Client, adapter: Adapter) -> None:
    assert client.get(f"/integration/systems/{CODE}/callbacks").status_code == 405
    assert client.put(f"/integration/systems/{CODE}/work-orders").status_code == 405


def test_a_body_over_64_kb_is_413(client: Client, adapter: Adapter,
                                  order: ExternalOrder) -> None:
    r = step(client, order, "受理", "cb-1", note="水" * 30_000)  # 90 KB in UTF-8
    assert r.status_code == 413
    assert refresh(order)[0].state == ExternalOrder.State.PENDING
    assert [(c.outcome, c.http_status) for c in calls(adapter)] == [("refused", 413)]


# --- what they say -----------------------------------------------------------------------


def test_an_unknown_order_is_404_naming_order_no(client: Client, adapter: Adapter,
                                                 order: ExternalOrder) -> None:
    r = callback(client, status_body("GD-NO-SUCH", "受理", "cb-1"))
    assert r.status_code == 404 and error_field(r) == "order_no"
    # an order of another system is not this system's
    other = make_adapter("city_management")
    assert other.pk != adapter.pk
    r = callback(client, status_body(order.our_no, "受理", "cb-2"), code="city_management")
    assert r.status_code == 404 and error_field(r) == "order_no"
    assert refresh(order)[0].state == ExternalOrder.State.PENDING
    assert calls(adapter)[0].outcome == "refused" and calls(adapter)[0].order_no == "GD-NO-SUCH"


@pytest.mark.parametrize(("body", "field"), [
    ({"order_no": "X", "status": "受理", "occurred_at": "2026-11-30T10:00:00+08:00"},
     "event_id"),
    ({"event_id": "e", "status": "受理", "occurred_at": "2026-11-30T10:00:00+08:00"},
     "order_no"),
    ({"event_id": "e", "order_no": "X", "occurred_at": "2026-11-30T10:00:00+08:00"}, "status"),
    ({"event_id": "e", "order_no": "X", "status": "办结", "occurred_at": "2026-11-30"},
     "status"),
    ({"event_id": "e", "order_no": "X", "status": "受理"}, "occurred_at"),
    ({"event_id": "e", "order_no": "X", "status": "受理", "occurred_at": "昨天"},
     "occurred_at"),
    ({"event_id": "e", "order_no": "X", "status": "受理", "occurred_at": 1764468720},
     "occurred_at"),
    ({"event_id": "e" * 65, "order_no": "X", "status": "受理",
      "occurred_at": "2026-11-30T10:00:00+08:00"}, "event_id"),
    ({"event_id": "e", "order_no": "X", "status": "受理", "note": ["a"],
      "occurred_at": "2026-11-30T10:00:00+08:00"}, "note"),
])
def test_a_missing_or_invalid_field_is_400_naming_it(
        client: Client, adapter: Adapter, order: ExternalOrder, body: dict[str, Any],
        field: str) -> None:
    body = {**body, "order_no": order.our_no} if body.get("order_no") == "X" else body
    r = callback(client, body)
    assert r.status_code == 400, r.content
    assert error_field(r) == field
    assert refresh(order)[0].state == ExternalOrder.State.PENDING
    assert [c.outcome for c in calls(adapter)] == ["refused"]


def test_a_body_that_is_not_a_json_object_is_400(client: Client, adapter: Adapter) -> None:
    for raw in (b"not json", b"[1, 2]", "受理".encode("gbk")):
        r = signed_post(client, f"/integration/systems/{CODE}/callbacks", raw)
        assert r.status_code == 400 and error_field(r) == "body"


def test_an_impossible_step_is_409_naming_status(client: Client, adapter: Adapter,
                                                 order: ExternalOrder) -> None:
    assert step(client, order, "派遣", "cb-1").status_code == 200
    r = step(client, order, "退回", "cb-2", note="不属于本单位")
    assert r.status_code == 409 and error_field(r) == "status"
    assert step(client, order, "已处置", "cb-3", note="已恢复供水").status_code == 200
    r = step(client, order, "派遣", "cb-4")
    assert r.status_code == 409 and error_field(r) == "status"
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.HANDLED and case.state == State.HANDLED
    assert [(c.event_id, c.outcome, c.http_status) for c in calls(adapter)] == [
        ("cb-1", "applied", 200), ("cb-2", "refused", 409), ("cb-3", "applied", 200),
        ("cb-4", "refused", 409)]


def test_the_same_event_twice_acts_once(client: Client, adapter: Adapter,
                                        order: ExternalOrder) -> None:
    first = step(client, order, "派遣", "cb-7", note="已派单至供水所")
    again = step(client, order, "派遣", "cb-7", note="已派单至供水所")
    assert first.json() == {"result": "applied"}
    assert again.status_code == 200 and again.json() == {"result": "duplicate"}
    # the same id with another status is a clash on their side (a restarted sender counting
    # from 1 again), never silently swallowed as a duplicate nor applied
    clash = step(client, order, "已处置", "cb-7")
    assert clash.status_code == 409 and error_field(clash) == "event_id"
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.DISPATCHED and case.state == State.IN_PROGRESS
    assert case.events.filter(action="external_status").count() == 1
    assert case.events.filter(action="start").count() == 1
    assert [c.outcome for c in calls(adapter)] == ["applied", "duplicate", "refused"]


def test_the_same_status_under_a_new_event_is_unchanged(client: Client, adapter: Adapter,
                                                        order: ExternalOrder) -> None:
    assert step(client, order, "受理", "cb-1").json() == {"result": "applied"}
    assert step(client, order, "受理", "cb-2").json() == {"result": "unchanged"}
    assert refresh(order)[1].events.filter(action="external_status").count() == 1
    assert [c.outcome for c in calls(adapter)] == ["applied", "unchanged"]


def test_their_number_finds_the_order_too(client: Client, adapter: Adapter,
                                          order: ExternalOrder) -> None:
    from wangge.cases.actions.external import do_mark_sent

    do_mark_sent(order, "GD20261130000001")
    r = callback(client, status_body("GD20261130000001", "受理", "cb-1"))
    assert r.status_code == 200 and r.json() == {"result": "applied"}
    assert refresh(order)[0].state == ExternalOrder.State.ACCEPTED


# --- the mapping onto our loop -----------------------------------------------------------


def test_accepted_leaves_the_case_waiting_on_them(client: Client, adapter: Adapter,
                                                  order: ExternalOrder) -> None:
    assert step(client, order, "受理", "cb-1").status_code == 200
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.ACCEPTED
    assert case.state == State.DISPATCHED and case.department == adapter.system
    event = case.events.get(action="external_status")
    assert event.actor == adapter.system.service_user and event.data["status"] == "受理"


def test_dispatched_puts_the_case_in_progress_as_the_system(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    assert step(client, order, "派遣", "cb-1").status_code == 200
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.DISPATCHED and case.state == State.IN_PROGRESS
    moves = case.events.filter(action__in=["accept", "start"]).order_by("id")
    assert [e.action for e in moves] == ["accept", "start"]
    assert {e.actor for e in moves} == {adapter.system.service_user}


def test_handled_carries_their_note_and_the_grid_worker_verifies(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    assert step(client, order, "处置中", "cb-1").status_code == 200
    assert refresh(order)[1].state == State.IN_PROGRESS
    assert step(client, order, "已处置", "cb-2", note="已恢复供水").status_code == 200
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.HANDLED and order.last_note == "已恢复供水"
    assert case.state == State.HANDLED
    handled = case.events.get(action="handle")
    assert handled.note == "已恢复供水" and handled.actor == adapter.system.service_user
    # the grid worker checks on the spot, as after any department
    do_transition(case, "verify_pass", user("gridworker"))
    assert Case.objects.get(pk=case.pk).state == State.VERIFIED
    # their later 核查 and 结案 move the order only
    assert step(client, order, "核查", "cb-3").status_code == 200
    assert step(client, order, "结案", "cb-4").status_code == 200
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.CLOSED and case.state == State.VERIFIED


def test_closed_before_handled_catches_up_to_handled(client: Client, adapter: Adapter,
                                                     order: ExternalOrder) -> None:
    assert step(client, order, "结案", "cb-1", note="已办结").status_code == 200
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.CLOSED and case.state == State.HANDLED
    assert [e.action for e in case.events.filter(
        action__in=["accept", "start", "handle"]).order_by("id")] == ["accept", "start",
                                                                      "handle"]
    assert case.events.get(action="handle").note == "已办结"


def test_returned_goes_back_to_the_dispatcher_with_their_reason(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    assert step(client, order, "受理", "cb-1").status_code == 200
    r = step(client, order, "退回", "cb-2", note="非本热线受理范围")
    assert r.status_code == 200 and r.json() == {"result": "applied"}
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.RETURNED
    assert case.state == State.REGISTERED and case.department is None
    returned = case.events.get(action="return")
    assert returned.note == "非本热线受理范围" and returned.actor == adapter.system.service_user
    # the order is over: nothing more moves it
    r = step(client, order, "派遣", "cb-3")
    assert r.status_code == 409 and error_field(r) == "status"


def test_a_case_we_cancelled_stays_cancelled(client: Client, adapter: Adapter,
                                             order: ExternalOrder) -> None:
    do_transition(order.case, "cancel", user("dispatcher"), reason="重复上报")
    r = step(client, order, "已处置", "cb-1", note="已处理")
    assert r.status_code == 200 and r.json() == {"result": "applied"}
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.HANDLED
    assert case.state == State.CANCELLED
    assert not case.events.filter(action__in=["accept", "start", "handle"]).exists()
    assert case.events.filter(action="external_status").count() == 1


def test_a_refused_call_writes_no_timeline(client: Client, adapter: Adapter,
                                           order: ExternalOrder) -> None:
    before = CaseEvent.objects.filter(case=order.case).count()
    callback(client, status_body(order.our_no, "派遣", "cb-1"), secret="wrong")
    step(client, order, "办结", "cb-2")
    assert CaseEvent.objects.filter(case=order.case).count() == before


def test_a_racing_repeat_rolls_back_and_answers_duplicate(
        client: Client, adapter: Adapter, order: ExternalOrder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers take the same event at once: both pass the look-up, one commits first.
    The other's write fails on the log's unique constraint and is rolled back whole."""
    from wangge.integration.actions import inbound

    assert step(client, order, "派遣", "cb-1").json() == {"result": "applied"}
    real_first, looks = inbound._first, []

    def blind_first(*args: Any) -> Any:  # the first look-up ran before the other committed
        looks.append(args)
        return None if len(looks) == 1 else real_first(*args)

    monkeypatch.setattr(inbound, "_first", blind_first)
    r = step(client, order, "派遣", "cb-1")
    assert r.status_code == 200 and r.json() == {"result": "duplicate"}
    order, case = refresh(order)
    assert order.state == ExternalOrder.State.DISPATCHED and case.state == State.IN_PROGRESS
    assert case.events.filter(action="external_status").count() == 1
    assert case.events.filter(action="start").count() == 1
    assert [c.outcome for c in calls(adapter)] == ["applied", "duplicate"]


def test_a_call_back_overtaking_their_answer_finds_the_order_by_our_number(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    """Our send timed out after they took the order: their 受理 names their number, which we
    do not know yet, and ours as `source_no`."""
    body = status_body("GD2026000777", "受理", "cb-31")
    assert callback(client, body).status_code == 404  # their number alone: unknown
    body["source_no"] = order.our_no
    assert callback(client, body).json() == {"result": "applied"}
    order, _case = refresh(order)
    assert order.their_no == "GD2026000777" and order.state == ExternalOrder.State.ACCEPTED


def test_their_check_straight_after_dispatch_catches_up_to_handled(
        client: Client, adapter: Adapter, order: ExternalOrder) -> None:
    step(client, order, "派遣", "cb-41")
    assert step(client, order, "核查", "cb-42", note="已修复，核查中").json() == {
        "result": "applied"}
    _order, case = refresh(order)
    assert case.state == State.HANDLED
