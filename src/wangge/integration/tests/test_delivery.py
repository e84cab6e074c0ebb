"""Outbox delivery: fan-out by subscription, webhooks signed and keyed, retries with
backoff, dead letters, leases that lapse, and messages nobody wants."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from wangge.core import crypto
from wangge.integration import actions, backoff, delivery, outbox, senders
from wangge.integration.models import Delivery, OutboxMessage, Subscription
from wangge.integration.tests.receiver import Receiver, running_receiver

pytestmark = pytest.mark.django_db

WORKER = "test-worker"


@pytest.fixture(autouse=True)
def quick(settings: Any) -> None:
    settings.WANGGE_OUTBOX_MAX_ATTEMPTS = 4
    settings.WANGGE_OUTBOX_BACKOFF_BASE_S = 10
    settings.WANGGE_OUTBOX_BACKOFF_MAX_S = 60
    settings.WANGGE_OUTBOX_LEASE_S = 30
    settings.WANGGE_WEBHOOK_TIMEOUT_S = 2


@pytest.fixture(autouse=True)
def only_new_messages() -> None:
    """The demo city's own outbox rows are history here: route them out of the way."""
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.DONE)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver("s3cret") as r:
        yield r


def hook(receiver: Receiver, topic: str = "case.*", name: str = "hook") -> Subscription:
    return actions.do_save_subscription(name=name, topic=topic, kind="webhook",
                                        url=receiver.url, secret=receiver.secret)


def enqueue(topic: str, **payload: Any) -> OutboxMessage:
    with transaction.atomic():
        return outbox.enqueue(topic, payload)


def cycle() -> delivery.Tally:
    """What one worker cycle does, with everything due now."""
    tally = delivery.Tally()
    tally.routed = delivery.route(10)
    while delivery.deliver_due(WORKER, batch=10, stopping=lambda: False, tally=tally):
        pass
    return tally


def make_due() -> None:
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_webhook_is_signed_and_carries_the_message(receiver: Receiver) -> None:
    hook(receiver)
    msg = enqueue("case.created", register_no="LL-2026-000001", state="registered")
    tally = cycle()
    assert tally.delivered == 1
    [hit] = receiver.hits
    assert hit.signed and hit.key == msg.idempotency_key and hit.topic == "case.created"
    assert hit.json == {"id": msg.pk, "key": msg.idempotency_key, "topic": "case.created",
                        "payload": {"register_no": "LL-2026-000001", "state": "registered"},
                        "created_at": msg.created_at.isoformat()}
    assert abs(int(hit.timestamp) - timezone.now().timestamp()) < 60
    d = Delivery.objects.get(message=msg)
    assert d.status == Delivery.Status.DELIVERED and d.attempts == 1
    assert d.last_status_code == 200 and d.delivered_at is not None


def test_a_wrong_secret_does_not_verify(receiver: Receiver) -> None:
    sub = hook(receiver)
    actions.do_save_subscription(name=sub.name, topic=sub.topic, kind="webhook",
                                 url=sub.url, secret="another", instance=sub)
    enqueue("case.created")
    cycle()
    assert not receiver.hits[0].signed


def test_retries_keep_the_key_and_the_exact_body(receiver: Receiver) -> None:
    hook(receiver)
    receiver.script = [500, 503]
    msg = enqueue("case.dispatched", register_no="LL-2026-000002")
    assert cycle().retried == 1
    d = Delivery.objects.get(message=msg)
    assert d.status == Delivery.Status.PENDING and d.attempts == 1
    assert "HTTP 500" in d.last_error and d.last_status_code == 500
    assert d.next_attempt_at > timezone.now() + timedelta(seconds=4)  # backoff, not now
    assert cycle().retried == 0  # not due yet: nothing sent
    for _ in range(2):
        make_due()
        cycle()
    assert [h.key for h in receiver.hits] == [msg.idempotency_key] * 3
    assert len({h.body for h in receiver.hits}) == 1 and all(h.signed for h in receiver.hits)
    d.refresh_from_db()
    assert d.status == Delivery.Status.DELIVERED and d.attempts == 3 and d.last_error == ""


def test_dead_letter_after_max_attempts(receiver: Receiver) -> None:
    hook(receiver)
    receiver.default_status = 502
    msg = enqueue("case.closed")
    for _ in range(4):
        make_due()
        cycle()
    d = Delivery.objects.get(message=msg)
    assert d.status == Delivery.Status.DEAD and d.attempts == 4 and "502" in d.last_error
    make_due()  # a dead row is never claimed again
    cycle()
    assert len(receiver.hits) == 4


@pytest.mark.parametrize(("code", "dead"), [(400, True), (404, True), (410, True),
                                            (302, True), (307, True),
                                            (408, False), (429, False), (503, False)])
def test_client_errors_and_redirects_are_permanent_except_timeouts_and_throttling(
    receiver: Receiver, code: int, dead: bool
) -> None:
    hook(receiver)
    receiver.script = [code]
    if 300 <= code < 400:  # a redirect back to itself: followed, it would look delivered
        receiver.headers = {"Location": receiver.url}
    msg = enqueue("case.created")
    cycle()
    d = Delivery.objects.get(message=msg)
    assert d.attempts == 1 and len(receiver.hits) == 1
    assert d.status == (Delivery.Status.DEAD if dead else Delivery.Status.PENDING)


def test_retry_after_is_honoured(receiver: Receiver) -> None:
    hook(receiver)
    receiver.script = [429]
    receiver.headers = {"Retry-After": "50"}
    msg = enqueue("case.created")
    cycle()
    d = Delivery.objects.get(message=msg)
    assert d.next_attempt_at >= timezone.now() + timedelta(seconds=45)


def test_timeouts_and_refused_connections_are_retried(receiver: Receiver, settings: Any) -> None:
    settings.WANGGE_WEBHOOK_TIMEOUT_S = 0.2
    hook(receiver)
    receiver.delay_s = 0.5
    actions.do_save_subscription(name="nobody", topic="case.*", kind="webhook",
                                 url="http://127.0.0.1:9/hook", secret="x")
    msg = enqueue("case.created")
    assert cycle().retried == 2
    errors = " | ".join(Delivery.objects.filter(message=msg).values_list("last_error", flat=True))
    assert "refused" in errors.lower() and "timed out" in errors.lower()


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    assert [backoff.nominal_delay(n) for n in range(1, 7)] == [10, 20, 40, 60, 60, 60]
    rng = random.Random(7)
    for n in range(1, 10):
        d = backoff.delay(n, rng=rng)
        assert backoff.nominal_delay(n) * 0.5 <= d <= backoff.nominal_delay(n)
    assert backoff.delay(10_000) <= 60  # no overflow however many attempts
    assert backoff.delay(1, retry_after=45, rng=rng) >= 45
    assert backoff.delay(1, retry_after=10_000) == 60


def test_fan_out_one_delivery_per_matching_subscription(receiver: Receiver) -> None:
    hook(receiver, "case.*", "cases")
    hook(receiver, "case.created", "created only")
    hook(receiver, "*", "everything")
    actions.do_save_subscription(name="log", topic="org.*", kind="log")
    off = hook(receiver, "*", "switched off")
    actions.do_set_subscription_active(off, False)
    created = enqueue("case.created")
    closed = enqueue("case.closed")
    org = enqueue("org.role_assigned")
    cycle()

    def names(m: OutboxMessage) -> set[str]:
        return set(Delivery.objects.filter(message=m).values_list("subscription__name",
                                                                  flat=True))
    assert names(created) == {"cases", "created only", "everything"}
    assert names(closed) == {"cases", "everything"}
    assert names(org) == {"everything", "log"}
    assert not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()
    assert OutboxMessage.objects.get(pk=org.pk).status == OutboxMessage.Status.ROUTED


def test_a_message_nobody_subscribes_to_is_done() -> None:
    msg = enqueue("registry.changed", kind="resident", id=1)
    assert delivery.route(10) == 1
    msg.refresh_from_db()
    assert msg.status == OutboxMessage.Status.DONE and msg.routed_at is not None
    assert not msg.deliveries.exists()


def test_fan_out_repeated_after_a_crash_creates_nothing_twice(receiver: Receiver) -> None:
    sub = hook(receiver)
    msg = enqueue("case.created")
    Delivery.objects.create(message=msg, subscription=sub, next_attempt_at=timezone.now())
    # as if the worker died after inserting, before the message was marked: it is still
    # pending, and routing it again must not add a second row for the same target
    assert actions.do_route_pending(limit=10).messages == 1
    assert Delivery.objects.filter(message=msg).count() == 1


def test_a_lapsed_lease_makes_the_row_due_again_and_the_old_worker_cannot_clobber_it(
    receiver: Receiver,
) -> None:
    hook(receiver)
    msg = enqueue("case.created")
    delivery.route(10)
    [claimed] = actions.do_claim_deliveries("dead-worker", limit=5)
    assert actions.do_claim_deliveries("other", limit=5) == []  # leased: not due
    later = timezone.now() + timedelta(seconds=31)
    [again] = actions.do_claim_deliveries("other", limit=5, now=later)
    assert again.pk == claimed.pk and again.attempts == 2
    # the first worker wakes up with a failure: the row is no longer its own
    failure = senders.Outcome(ok=False, error="boom")
    assert actions.do_record_outcome(claimed, "dead-worker", failure) is None
    again.refresh_from_db()
    assert again.leased_by == "other" and again.last_error == ""
    assert actions.do_record_outcome(again, "other", senders.Outcome(ok=True)) == "delivered"
    assert Delivery.objects.get(message=msg).status == Delivery.Status.DELIVERED


def test_a_stopping_worker_gives_back_what_it_did_not_send(receiver: Receiver) -> None:
    hook(receiver)
    for i in range(3):
        enqueue("case.created", n=i)
    delivery.route(10)
    tally = delivery.Tally()
    sent: list[int] = []

    def stop_after_one() -> bool:
        sent.append(1)
        return len(sent) > 1

    assert delivery.deliver_due(WORKER, batch=10, stopping=stop_after_one, tally=tally) == 3
    assert tally.delivered == 1 and tally.released == 2
    back = Delivery.objects.filter(status=Delivery.Status.PENDING)
    assert back.count() == 2
    assert all(d.attempts == 0 and d.leased_until is None and d.next_attempt_at <= timezone.now()
               for d in back)


def test_log_sender_writes_one_structured_line(caplog: pytest.LogCaptureFixture) -> None:
    actions.do_save_subscription(name="log", topic="*", kind="log")
    msg = enqueue("territory.grids_changed", codes=["430281"])
    with caplog.at_level("INFO", logger="wangge.outbox"):
        cycle()
    [line] = [r.getMessage() for r in caplog.records if r.name == "wangge.outbox"]
    data = json.loads(line.removeprefix("outbox "))
    assert data["key"] == msg.idempotency_key and data["payload"] == {"codes": ["430281"]}


def test_a_broken_sender_is_retried_not_fatal(settings: Any) -> None:
    settings.WANGGE_OUTBOX_SENDERS = {**settings.WANGGE_OUTBOX_SENDERS,
                                      "broken": "wangge.integration.tests.test_delivery.Broken"}
    actions.do_save_subscription(name="broken", topic="*", kind="broken")
    msg = enqueue("case.created")
    assert cycle().retried == 1
    assert "RuntimeError: sender bug" in Delivery.objects.get(message=msg).last_error


class Broken:
    def send(self, message: OutboxMessage, subscription: Subscription) -> senders.Outcome:
        raise RuntimeError("sender bug")


def test_webhook_subscriptions_need_a_url_and_a_secret_and_keep_it_sealed() -> None:
    with pytest.raises(actions.SubscriptionError) as e:
        actions.do_save_subscription(name="x", topic="*", kind="webhook", secret="s")
    assert e.value.field == "url"
    with pytest.raises(actions.SubscriptionError) as e:
        actions.do_save_subscription(name="x", topic="*", kind="webhook",
                                     url="http://example.org/")
    assert e.value.field == "secret"
    with pytest.raises(actions.SubscriptionError) as e:
        actions.do_save_subscription(name="x", topic="*", kind="webhook", url="ftp://h/",
                                     secret="s")
    assert e.value.field == "url"
    with pytest.raises(actions.SubscriptionError) as e:
        actions.do_save_subscription(name="x", topic="*", kind="carrier-pigeon")
    assert e.value.field == "kind"
    sub = actions.do_save_subscription(name="x", topic="*", kind="webhook",
                                       url="https://example.org/hook", secret="hush")
    assert b"hush" not in bytes(sub.secret_enc) and crypto.open_sealed(sub.secret_enc) == "hush"
    # changed without a new secret: the old one stays
    actions.do_save_subscription(name="x", topic="case.*", kind="webhook",
                                 url="https://example.org/hook", instance=sub)
    sub.refresh_from_db()
    assert crypto.open_sealed(sub.secret_enc) == "hush"
