"""What the outbox console shows: counts, lag, the dead-letter queue, subscriptions, jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from wangge.core.models import OutboxMessage
from wangge.integration.models import Delivery, JobRun, Subscription

DEAD_LETTERS_SHOWN = 100


@dataclass(frozen=True)
class Overview:
    messages: dict[str, int]
    deliveries: dict[str, int]
    in_flight: int
    waiting_retry: int
    oldest_unrouted: datetime | None
    oldest_due: datetime | None


def overview(now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    messages = {s: 0 for s in OutboxMessage.Status.values}
    messages.update(OutboxMessage.objects.values_list("status").annotate(n=Count("id"))
                    .order_by())
    deliveries = {s: 0 for s in Delivery.Status.values}
    deliveries.update(Delivery.objects.values_list("status").annotate(n=Count("id"))
                      .order_by())
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING)
    flags = pending.aggregate(
        in_flight=Count("id", filter=Q(leased_until__gt=now)),
        waiting_retry=Count("id", filter=Q(attempts__gt=0, next_attempt_at__gt=now)
                            & ~Q(leased_until__gt=now)),
        oldest_due=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now)),
    )
    oldest_unrouted = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING).aggregate(m=Min("created_at"))["m"]
    return Overview(messages=messages, deliveries=deliveries, in_flight=flags["in_flight"],
                    waiting_retry=flags["waiting_retry"], oldest_unrouted=oldest_unrouted,
                    oldest_due=flags["oldest_due"])


def dead_letters() -> QuerySet[Delivery]:
    return (Delivery.objects.filter(status=Delivery.Status.DEAD)
            .select_related("message", "subscription")
            .order_by("-last_attempt_at", "-id")[:DEAD_LETTERS_SHOWN])


def subscriptions() -> list[Any]:
    return list(Subscription.objects.select_related("external_system").annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        dead=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DEAD)),
    ).order_by("-active", "name"))


def job_runs() -> QuerySet[JobRun]:
    return JobRun.objects.order_by("name")
