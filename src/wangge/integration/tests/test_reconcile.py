"""Reconciliation: the worker asks each system about the orders still open on our side (and
those closed there lately), keeps their answer on the orders, and the console shows the
drift. At most once per `reconcile_every_s` per system; a system that does not answer is
skipped and asked again next time, the others are still compared."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from wangge.cases.actions import external as case_external
from wangge.cases.models import Case, ExternalOrder
from wangge.integration.actions.external import do_save_adapter
from wangge.integration.adapters import base
from wangge.integration.models import Adapter
from wangge.integration.reconcile import reconcile
from wangge.integration.tests.adapters_peer import running_peer
from wangge.integration.tests.inbound_support import SECRET, make_adapter, transferred

pytestmark = pytest.mark.django_db

S = ExternalOrder.State


class FakeQuery:
    """query_status as the system would answer: their number → status word."""

    def __init__(self, answers: dict[str, str] | None = None,
                 down: set[str] | None = None) -> None:
        self.answers = answers or {}
        self.down = down or set()
        self.asked: list[tuple[str, list[str]]] = []

    def __call__(self, adapter: Adapter, numbers: list[str]) -> dict[str, str]:
        self.asked.append((adapter.system.code, sorted(numbers)))
        if adapter.system.code in self.down:
            raise base.Unreachable("connection refused")
        return {n: self.answers.get(n, "unknown") for n in numbers}

    def numbers(self) -> list[str]:
        return [n for _, ns in self.asked for n in ns]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeQuery:
    query = FakeQuery()
    monkeypatch.setattr(base, "query_status", query)
    return query


@pytest.fixture
def adapter() -> Adapter:
    return make_adapter()


def sent(their_no: str) -> ExternalOrder:
    return case_external.do_mark_sent(transferred(), their_no)


def later(seconds: float = 1) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def test_open_orders_are_compared_and_their_state_kept(adapter: Adapter,
                                                       fake: FakeQuery) -> None:
    same = sent("GD-1")
    closed_there = sent("GD-2")
    fake.answers = {"GD-1": "受理", "GD-2": "结案"}
    case_external.do_external_status(same, "受理")
    out = reconcile(later())
    assert out == {"hotline_12345": 2, "drift": 1}
    same.refresh_from_db()
    closed_there.refresh_from_db()
    assert (same.their_state, closed_there.their_state) == (S.ACCEPTED, S.CLOSED)
    assert same.checked_at is not None
    assert closed_there.state == S.SENT  # an observation, not a change of our order


def test_only_orders_worth_asking_about_are_asked(adapter: Adapter, fake: FakeQuery) -> None:
    pending = transferred()  # not sent: no number of theirs
    failed = case_external.do_mark_failed(transferred(), "400 unknown code")
    returned = sent("GD-RET")
    case_external.do_external_status(returned, "退回", note="不属于受理范围")
    final = sent("GD-FINAL")
    Case.objects.filter(pk=final.case_id).update(state="closed")
    closed_lately = sent("GD-CLOSED-NEW")
    case_external.do_external_status(closed_lately, "结案")
    closed_long_ago = sent("GD-CLOSED-OLD")
    case_external.do_external_status(closed_long_ago, "结案")
    Case.objects.filter(pk=closed_long_ago.case_id).update(state="closed")
    ExternalOrder.objects.filter(pk=closed_long_ago.pk).update(
        exchanged_at=timezone.now() - timedelta(days=40))
    open_one = sent("GD-OPEN")
    reconcile(later())
    assert fake.numbers() == ["GD-CLOSED-NEW", "GD-OPEN"]
    for order in (pending, failed, returned, final, closed_long_ago):
        order.refresh_from_db()
        assert order.their_state == "" and order.checked_at is None
    open_one.refresh_from_db()
    assert open_one.their_state == "unknown"  # they do not know it: 对方无此单


def test_at_most_once_per_interval_per_system(adapter: Adapter, fake: FakeQuery) -> None:
    sent("GD-1")
    first = later()
    assert reconcile(first)["hotline_12345"] == 1
    assert reconcile(first + timedelta(seconds=60)) == {"hotline_12345": "not due", "drift": 0}
    assert len(fake.asked) == 1
    assert reconcile(first + timedelta(seconds=601))["hotline_12345"] == 1
    assert len(fake.asked) == 2


def test_the_interval_is_the_adapters_option(adapter: Adapter, fake: FakeQuery) -> None:
    do_save_adapter(system=adapter.system, kind=adapter.kind, endpoint=adapter.endpoint,
                    options={"reconcile_every_s": 30})
    sent("GD-1")
    first = later()
    reconcile(first)
    assert reconcile(first + timedelta(seconds=31))["hotline_12345"] == 1
    assert len(fake.asked) == 2


def test_systems_without_a_status_query_or_disabled_are_not_asked(fake: FakeQuery) -> None:
    hotline = make_adapter()
    do_save_adapter(system=hotline.system, kind=hotline.kind, endpoint=hotline.endpoint,
                    options={"status_query": False})
    sent("GD-1")
    city = make_adapter("city_management", enabled=False)
    assert city.kind == "city_management"
    assert reconcile(later()) == {"drift": 0}
    assert fake.asked == []


def test_an_unreachable_system_is_skipped_and_asked_next_time(fake: FakeQuery) -> None:
    make_adapter()
    make_adapter("city_management")
    hotline_order = sent("GD-1")
    city_order = case_external.do_mark_sent(transferred("city_management"), "AJ-1")
    fake.down = {"hotline_12345"}
    fake.answers = {"AJ-1": "处置中"}
    out = reconcile(later())
    assert out == {"hotline_12345": "unreachable", "city_management": 1, "drift": 1}
    hotline_order.refresh_from_db()
    city_order.refresh_from_db()
    assert hotline_order.checked_at is None and city_order.their_state == S.IN_PROGRESS
    fake.down = set()
    out = reconcile(later(5))  # the hotline is due still, 数字城管 was asked 4 s ago
    assert out["hotline_12345"] == 1 and out["city_management"] == "not due"


def test_a_status_word_we_do_not_know_is_not_recorded(adapter: Adapter,
                                                      fake: FakeQuery) -> None:
    order = sent("GD-1")
    fake.answers = {"GD-1": "挂起"}
    assert reconcile(later())["hotline_12345"] == 0
    order.refresh_from_db()
    assert order.their_state == ""


def test_against_a_real_http_peer_and_the_console_shows_the_drift(login_as: Any) -> None:
    """The real query_status over HTTP (signed), the answer kept, the drift on the page."""
    with running_peer(SECRET) as peer:
        adapter = make_adapter()
        do_save_adapter(system=adapter.system, kind=adapter.kind, endpoint=peer.url)
        closed_there = sent("GD-H1")
        missing = sent("GD-H2")

        def answer(path: str, body: Any) -> tuple[int, Any]:
            assert path == "/api/work-orders/status"
            known = [n for n in body["numbers"] if n == "GD-H1"]
            return 200, {"orders": [{"number": n, "status": "结案",
                                     "updated_at": "2026-11-30T10:12:00+08:00"} for n in known],
                         "unknown": [n for n in body["numbers"] if n not in known]}

        peer.answer = answer
        out = reconcile(later())
        assert [r.signed for r in peer.requests] == [True]
    assert out == {"hotline_12345": 2, "drift": 2}
    closed_there.refresh_from_db()
    missing.refresh_from_db()
    assert (closed_there.their_state, missing.their_state) == (S.CLOSED, "unknown")
    page = login_as("dispatcher").get("/console/systems/hotline_12345/").content.decode()
    assert "对方已结案，我方未收到" in page and "对方无此单" in page


def test_a_peer_that_answers_500_is_unreachable(adapter: Adapter) -> None:
    with running_peer(SECRET) as peer:
        do_save_adapter(system=adapter.system, kind=adapter.kind, endpoint=peer.url)
        order = sent("GD-1")
        peer.answer = lambda path, body: (500, {"error": {"field": "", "message": "down"}})
        assert reconcile(later())["hotline_12345"] == "unreachable"
    order.refresh_from_db()
    assert order.checked_at is None

