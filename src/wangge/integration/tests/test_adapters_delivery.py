"""Orders and replies delivered through the real worker to a signed peer: sent and numbered,
refused before sending (confidential, unmapped), failed on a 4xx, retried on a 500, sent once
after a crash, failed when the attempts run out, replied on close."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from wangge.cases.actions.external import on_case_closed
from wangge.cases.models import CaseEvent, ExternalOrder
from wangge.core.models import AuditEntry
from wangge.integration.actions.external import do_resend_order, do_set_mapping
from wangge.integration.models import CategoryMapping, Delivery, OutboxMessage
from wangge.integration.tests.adapters_peer import (
    Peer,
    make_case,
    resident_report,
    running_peer,
    transfer,
    wire,
)
from wangge.integration.worker import Worker

pytestmark = pytest.mark.django_db

S = ExternalOrder.State
ORDERS, CASES = "/api/work-orders", "/api/cases"


@pytest.fixture(autouse=True)
def quick(settings: Any, tmp_path: Any) -> None:
    settings.WANGGE_OUTBOX_MAX_ATTEMPTS = 3
    settings.WANGGE_OUTBOX_BACKOFF_BASE_S = 10
    settings.WANGGE_OUTBOX_BACKOFF_MAX_S = 60
    settings.WANGGE_OUTBOX_LEASE_S = 30
    settings.WANGGE_WEBHOOK_TIMEOUT_S = 2
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def only_new_messages() -> None:
    """The demo city's own outbox rows are history here."""
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.DONE)


@pytest.fixture
def peer() -> Iterator[Peer]:
    with running_peer() as p:
        yield p


def cycle() -> None:
    Worker(job_paths=[]).cycle()


def make_due() -> None:
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def delivery_of(order: ExternalOrder, topic: str = "external.order") -> Delivery:
    return Delivery.objects.get(message__topic=topic, message__payload__order=order.pk)


def events(order: ExternalOrder, action: str) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=order.case, action=action))


def test_an_order_is_sent_signed_and_their_number_kept(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    order = transfer(make_case("1001"))
    cycle()
    [hit] = peer.hits(ORDERS)
    assert hit.signed and hit.json["order_no"] == order.our_no
    msg = OutboxMessage.objects.get(topic="external.order", payload__order=order.pk)
    assert hit.key == msg.idempotency_key
    order.refresh_from_db()
    assert order.state == S.SENT and order.their_no == "THEIRS-0001"
    assert order.sent_at is not None
    assert delivery_of(order).status == Delivery.Status.DELIVERED
    assert len(events(order, "transfer_sent")) == 1
    # the timeline's own messages (case.transfer_sent …) never reach an adapter: only
    # orders and replies do, so no system's dead-letter list fills with them
    cycle()
    adapter_topics = set(Delivery.objects.filter(subscription__name__startswith="adapter:")
                         .values_list("message__topic", flat=True))
    assert adapter_topics == {"external.order"}
    assert not Delivery.objects.filter(status=Delivery.Status.DEAD).exists()


def test_a_city_management_case_file_goes_to_its_own_path(peer: Peer) -> None:
    wire(peer, "city_management")
    order = transfer(make_case("0601", to="city_management"), "city_management")
    cycle()
    [hit] = peer.hits(CASES)
    assert hit.json["case_no"] == order.our_no and hit.json["sub_class"]["code"] == "0101"
    order.refresh_from_db()
    assert order.state == S.SENT and order.their_no == "THEIRS-0001"


def test_an_unmapped_category_fails_the_order_without_sending(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    CategoryMapping.objects.filter(adapter=adapter, category__code="0603").delete()
    order = transfer(make_case("0603", title="下水道堵塞"))
    cycle()
    assert peer.requests == []
    order.refresh_from_db()
    reason = "未配置分类映射：0603 排水设施堵塞"
    assert order.state == S.FAILED and order.last_note == reason
    d = delivery_of(order)
    assert d.status == Delivery.Status.DEAD and d.last_error == reason and d.attempts == 1
    [event] = events(order, "transfer_failed")
    assert event.note == reason

    # the dispatcher maps the class and resends: the same message goes out and is numbered
    do_set_mapping(adapter, order.case.category, their_code="010503", their_kind="求助",
                   their_name="城乡建设-市政设施-排水管网堵塞")
    do_resend_order(order, actor=order.case.reporter)
    cycle()
    [hit] = peer.hits(ORDERS)
    assert hit.json["category_code"] == "010503"
    order.refresh_from_db()
    assert order.state == S.SENT and order.their_no


def test_a_confidential_case_is_never_sent(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1201", title="可疑人员出没")
    CategoryMapping.objects.create(adapter=adapter, category=case.category, their_code="090101")
    order = transfer(case)
    cycle()
    assert peer.requests == []
    order.refresh_from_db()
    assert order.state == S.FAILED and order.last_note == "涉密事件不外转"
    assert delivery_of(order).status == Delivery.Status.DEAD


def test_a_client_error_fails_the_order_with_their_message(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    peer.script = [(400, {"error": {"field": "category_code", "message": "分类编码已停用"}})]
    order = transfer(make_case("1001"))
    cycle()
    assert len(peer.requests) == 1
    order.refresh_from_db()
    assert order.state == S.FAILED
    assert order.last_note == "HTTP 400: category_code: 分类编码已停用"
    d = delivery_of(order)
    assert d.status == Delivery.Status.DEAD and d.last_status_code == 400
    assert d.last_error == order.last_note


def test_a_server_error_is_retried_with_the_same_key_then_delivered(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    peer.script = [(500, {"error": {"message": "数据库维护中"}}), (503, None)]
    order = transfer(make_case("1001"))
    cycle()
    d = delivery_of(order)
    assert d.status == Delivery.Status.PENDING and "HTTP 500" in d.last_error
    order.refresh_from_db()
    assert order.state == S.PENDING  # not failed: they may take it later
    for _ in range(2):
        make_due()
        cycle()
    assert len(peer.requests) == 3 and len({r.key for r in peer.requests}) == 1
    d.refresh_from_db()
    order.refresh_from_db()
    assert d.status == Delivery.Status.DELIVERED and d.attempts == 3
    assert order.state == S.SENT


def test_an_answer_without_their_number_is_retried(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    peer.script = [(200, {"ok": True}), (200, b"<html>gateway</html>")]
    order = transfer(make_case("1001"))
    cycle()
    assert "order_no" in delivery_of(order).last_error
    make_due()
    cycle()
    make_due()
    cycle()
    order.refresh_from_db()
    assert order.state == S.SENT and len(peer.requests) == 3


def test_attempts_used_up_fail_the_order(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    peer.answer = lambda path, body: (502, None)
    order = transfer(make_case("1001"))
    for _ in range(3):
        make_due()
        cycle()
    d = delivery_of(order)
    assert d.status == Delivery.Status.DEAD and d.attempts == 3
    order.refresh_from_db()
    assert order.state == S.FAILED and order.last_note.startswith("重试次数已用尽：HTTP 502")
    assert len(events(order, "transfer_failed")) == 1


def test_a_disabled_adapter_holds_the_order_back(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    order = transfer(make_case("1001"))
    adapter.enabled = False  # the subscription stays: the order waits, it does not die
    adapter.save()
    cycle()
    assert peer.requests == []
    d = delivery_of(order)
    assert d.status == Delivery.Status.PENDING and d.last_error == "adapter disabled"
    adapter.enabled = True
    adapter.save()
    make_due()
    cycle()
    order.refresh_from_db()
    assert order.state == S.SENT and len(peer.requests) == 1


def test_a_crash_after_their_answer_sends_nothing_twice(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    order = transfer(make_case("1001"))
    cycle()
    # the worker died after recording the order sent, before the delivery: the lease ran
    # out and the row is due again
    d = delivery_of(order)
    Delivery.objects.filter(pk=d.pk).update(status=Delivery.Status.PENDING, delivered_at=None,
                                            next_attempt_at=timezone.now())
    cycle()
    assert len(peer.requests) == 1
    d.refresh_from_db()
    assert d.status == Delivery.Status.DELIVERED
    assert len(events(order, "transfer_sent")) == 1


def test_a_crash_before_their_answer_was_kept_gets_the_first_answer_again(peer: Peer) -> None:
    wire(peer, "hotline_12345")
    order = transfer(make_case("1001"))
    cycle()
    first = ExternalOrder.objects.get(pk=order.pk).their_no
    # as if their answer had been lost: the order is still pending, the row due again
    ExternalOrder.objects.filter(pk=order.pk).update(state=S.PENDING, their_no="")
    Delivery.objects.filter(pk=delivery_of(order).pk).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now())
    cycle()
    assert len(peer.requests) == 2 and peer.requests[0].key == peer.requests[1].key
    order.refresh_from_db()
    assert order.state == S.SENT and order.their_no == first  # their dedup: one order


def test_passing_the_phone_on_is_logged(peer: Peer) -> None:
    wire(peer, "hotline_12345", pass_phone=True)
    case = make_case("1001", channel="resident", reporter=None)
    resident_report(case)
    transfer(case)
    cycle()
    [hit] = peer.hits(ORDERS)
    assert hit.json["phone"] == "17090001234"
    entry = AuditEntry.objects.get(action="case.contact_passed", object_id=str(case.pk))
    assert entry.detail["system"] == "hotline_12345" and "pass_phone" in entry.detail["purpose"]


def test_the_reply_goes_out_when_a_case_they_sent_us_closes(peer: Peer) -> None:
    adapter = wire(peer, "hotline_12345")
    case = make_case("1001", to="water", state="closed")
    order = ExternalOrder.objects.create(
        case=case, system=adapter.system, direction=ExternalOrder.Direction.IN,
        our_no=case.register_no, their_no="GD2026000123", state=S.RECEIVED)
    case.events.create(action="handle", from_state="in_progress", to_state="handled",
                       note="已恢复供水")
    with transaction.atomic():
        on_case_closed(case)
    cycle()
    [hit] = peer.hits("/api/work-orders/GD2026000123/reply")
    assert hit.signed and hit.json["result"] == "已恢复供水"
    assert hit.json["source_no"] == case.register_no
    order.refresh_from_db()
    assert order.state == S.REPLIED
    assert delivery_of(order, "external.reply").status == Delivery.Status.DELIVERED


def test_an_order_whose_case_was_cancelled_meanwhile_is_never_sent(peer: Peer) -> None:
    """Cancelled before the worker came round: nothing leaves (not even masked contact),
    the order says why, and no dead letter waits for a resend that must not happen."""
    from wangge.cases.models import Case
    from wangge.integration.adapters.base import NOT_THEIRS_REASON

    wire(peer, "hotline_12345")
    order = transfer(make_case("1001"))
    Case.objects.filter(pk=order.case_id).update(state="cancelled")
    cycle()
    assert peer.requests == []
    order.refresh_from_db()
    assert order.state == S.FAILED and order.last_note == NOT_THEIRS_REASON
    assert delivery_of(order).status == Delivery.Status.DELIVERED
