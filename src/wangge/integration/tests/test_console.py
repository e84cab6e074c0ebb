"""The outbox console: who may open it, what it shows, retrying dead letters (audited)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from wangge.core.models import AuditEntry
from wangge.integration import actions, outbox
from wangge.integration.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

URL = "/console/outbox/"
LoginAs = Callable[[str], Client]


def dead_delivery(sub: Subscription, error: str = "HTTP 500 Internal Server Error") -> Delivery:
    with transaction.atomic():
        msg = outbox.enqueue("case.created", {"register_no": "LL-2026-000009"})
    return Delivery.objects.create(
        message=msg, subscription=sub, status=Delivery.Status.DEAD, attempts=8,
        next_attempt_at=timezone.now(), last_attempt_at=timezone.now(), last_error=error)


@pytest.fixture
def sub() -> Subscription:
    return actions.do_save_subscription(name="city-hook", topic="case.*", kind="webhook",
                                        url="https://receiver.example.org/hook",
                                        secret="very-secret-value")


@pytest.mark.parametrize(("login", "status"), [
    ("center_admin", 200), ("admin", 200), ("dispatcher", 403),
    ("leader", 403), ("gridworker", 403), ("subcenter", 403), ("department", 403),
])
def test_only_center_admins_open_the_page(
    login_as: LoginAs, login: str, status: int
) -> None:
    assert login_as(login).get(URL).status_code == status


def test_signed_out_is_sent_to_login_and_cannot_retry(sub: Subscription) -> None:
    d = dead_delivery(sub)
    assert Client().get(URL).status_code == 302
    assert Client().post(f"{URL}deliveries/{d.pk}/retry/").status_code == 302
    d.refresh_from_db()
    assert d.status == Delivery.Status.DEAD


def test_nav_link_only_for_those_let_in(login_as: LoginAs) -> None:
    assert URL in login_as("center_admin").get("/").content.decode()
    assert URL not in login_as("dispatcher").get("/").content.decode()
    assert URL not in login_as("gridworker").get("/").content.decode()


def test_page_shows_counts_dead_letters_and_subscriptions_never_the_secret(
    login_as: LoginAs, sub: Subscription
) -> None:
    dead_delivery(sub, error="HTTP 410 Gone: endpoint retired")
    html = login_as("center_admin").get(URL).content.decode()
    assert "endpoint retired" in html and "city-hook" in html and "case.*" in html
    assert 'id="deliveries-dead">1<' in html
    assert "very-secret-value" not in html


def test_retry_one_dead_delivery_is_audited(login_as: LoginAs, sub: Subscription) -> None:
    d = dead_delivery(sub)
    client = login_as("center_admin")
    r = client.post(f"{URL}deliveries/{d.pk}/retry/", follow=True)
    assert r.status_code == 200
    d.refresh_from_db()
    assert d.status == Delivery.Status.PENDING and d.attempts == 0
    assert d.next_attempt_at <= timezone.now() + timedelta(seconds=1)
    entry = AuditEntry.objects.get(action="outbox.retry", object_id=str(d.pk))
    assert entry.actor.username == "center_admin" and entry.detail["attempts"] == 8
    # a second retry of the same row: not dead any more, nothing happens, no audit entry
    client.post(f"{URL}deliveries/{d.pk}/retry/")
    assert AuditEntry.objects.filter(action="outbox.retry", object_id=str(d.pk)).count() == 1


def test_retry_all_dead(login_as: LoginAs, sub: Subscription) -> None:
    dead = [dead_delivery(sub) for _ in range(3)]
    client = login_as("center_admin")
    client.post(f"{URL}retry-dead/")
    assert not Delivery.objects.filter(pk__in=[d.pk for d in dead],
                                       status=Delivery.Status.DEAD).exists()
    entry = AuditEntry.objects.get(action="outbox.retry_all")
    assert entry.detail["count"] == 3 and entry.actor.username == "center_admin"


def test_others_cannot_retry(login_as: LoginAs, sub: Subscription) -> None:
    d = dead_delivery(sub)
    assert login_as("leader").post(f"{URL}deliveries/{d.pk}/retry/").status_code == 403
    assert login_as("dispatcher").post(f"{URL}deliveries/{d.pk}/retry/").status_code == 403
    assert login_as("gridworker").post(f"{URL}retry-dead/").status_code == 403
    d.refresh_from_db()
    assert d.status == Delivery.Status.DEAD


def test_retry_needs_post(login_as: LoginAs, sub: Subscription) -> None:
    d = dead_delivery(sub)
    assert login_as("center_admin").get(f"{URL}deliveries/{d.pk}/retry/").status_code == 405
