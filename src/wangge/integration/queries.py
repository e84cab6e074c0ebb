"""What the outbox console shows: counts, lag, the dead-letter queue, subscriptions, jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.cases.models import ExternalOrder
from wangge.cases.workflow import FINAL
from wangge.core.models import OutboxMessage
from wangge.integration.models import (
    Adapter,
    CategoryMapping,
    Delivery,
    InboundCall,
    JobRun,
    Subscription,
)
from wangge.org.models import Department

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


# --- the external systems' console (/console/systems/) ------------------------------------

#: how many recent inbound calls a system's page lists
INBOUND_SHOWN = 50
#: orders a system page lists (open ones first)
ORDERS_SHOWN = 200


def drift_q() -> Q:
    """Orders whose state as reconciliation last saw it on their side differs from ours:
    their_state set and not our state, and seen no earlier than our last exchange (a
    call-back that came after the check is newer than what the check saw)."""
    return (~Q(their_state="") & ~Q(their_state=F("state"))
            & (Q(exchanged_at__isnull=True) | Q(checked_at__gte=F("exchanged_at"))))


def drift_label(order: ExternalOrder) -> str:
    """What a drift means, in the dispatcher's words."""
    S = ExternalOrder.State
    theirs = order.their_state
    if theirs == "unknown":
        return _("对方无此单")
    if theirs == S.CLOSED:
        return _("对方已结案，我方未收到")
    if order.state == S.CLOSED:
        return _("我方已结案，对方未结案（对方：%(theirs)s）") % {
            "theirs": _state_word(theirs)}
    if theirs == S.RETURNED:
        return _("对方已退回，我方未收到")
    return _("对方：%(theirs)s，我方：%(ours)s") % {
        "theirs": _state_word(theirs), "ours": order.get_state_display()}


def _state_word(state: str) -> str:
    return str(dict(ExternalOrder.State.choices).get(state, state))


def external_systems() -> QuerySet[Department]:
    return Department.objects.filter(kind=Department.Kind.EXTERNAL).order_by("code")


def _open_orders() -> Q:
    S = ExternalOrder.State
    return ~Q(state__in=[S.CLOSED, S.RETURNED, S.REPLIED]) & ~Q(case__state__in=FINAL)


@dataclass(frozen=True)
class SystemRow:
    system: Department
    adapter: Adapter | None
    #: open orders by state (a state's Chinese name → count)
    open_by_state: list[tuple[str, int]]
    dead: int
    drift: int
    last_exchange: datetime | None
    last_inbound: datetime | None


def system_rows() -> list[SystemRow]:
    """One row per external system: its adapter, its open orders by state, dead letters,
    drift, and the last exchange either way."""
    systems = list(external_systems().select_related("adapter"))
    labels = dict(ExternalOrder.State.choices)
    by_state: dict[int, list[tuple[str, int]]] = {}
    for system_id, state, n in (ExternalOrder.objects.filter(_open_orders())
                                .values_list("system_id", "state").annotate(n=Count("id"))
                                .order_by("system_id", "state")):
        by_state.setdefault(system_id, []).append((str(labels.get(state, state)), n))
    drift = dict(ExternalOrder.objects.filter(drift_q()).values_list("system_id")
                 .annotate(n=Count("id")).order_by())
    last = dict(ExternalOrder.objects.values_list("system_id")
                .annotate(m=Max("exchanged_at")).order_by())
    dead = dict(Delivery.objects.filter(status=Delivery.Status.DEAD,
                                        subscription__external_system__isnull=False)
                .values_list("subscription__external_system_id").annotate(n=Count("id"))
                .order_by())
    inbound = dict(InboundCall.objects.values_list("adapter__system_id")
                   .annotate(m=Max("received_at")).order_by())
    rows = []
    for system in systems:
        adapter = getattr(system, "adapter", None)
        rows.append(SystemRow(system=system, adapter=adapter,
                              open_by_state=by_state.get(system.pk, []),
                              dead=dead.get(system.pk, 0), drift=drift.get(system.pk, 0),
                              last_exchange=last.get(system.pk),
                              last_inbound=inbound.get(system.pk)))
    return rows


def system_orders(system: Department) -> QuerySet[ExternalOrder]:
    """A system's open orders (ours out and theirs in), the failed ones first."""
    return (ExternalOrder.objects.filter(_open_orders(), system=system)
            .select_related("case")
            .order_by(_failed_first(), "-created_at", "-id")[:ORDERS_SHOWN])


def _failed_first() -> Case:
    return Case(When(state=ExternalOrder.State.FAILED, then=Value(0)), default=Value(1),
                output_field=IntegerField())


def system_drift(system: Department) -> list[tuple[ExternalOrder, str]]:
    orders = (ExternalOrder.objects.filter(drift_q(), system=system).select_related("case")
              .order_by("-checked_at", "-id")[:ORDERS_SHOWN])
    return [(o, drift_label(o)) for o in orders]


@dataclass(frozen=True)
class DeadLetter:
    delivery: Delivery
    order: ExternalOrder | None


def system_dead_letters(system: Department) -> list[DeadLetter]:
    """The dead deliveries of the system's subscriptions, each with the order it carried."""
    dead = list(Delivery.objects.filter(status=Delivery.Status.DEAD,
                                        subscription__external_system=system)
                .select_related("message", "subscription")
                .order_by("-last_attempt_at", "-id")[:DEAD_LETTERS_SHOWN])
    pks = {d.message.payload.get("order") for d in dead
           if isinstance(d.message.payload, dict)}
    orders = ExternalOrder.objects.select_related("case").in_bulk(
        [pk for pk in pks if isinstance(pk, int)])
    return [DeadLetter(d, orders.get(d.message.payload.get("order"))
                       if isinstance(d.message.payload, dict) else None) for d in dead]


def inbound_calls(adapter: Adapter | None) -> QuerySet[InboundCall]:
    if adapter is None:
        return InboundCall.objects.none()
    return adapter.inbound_calls.order_by("-received_at", "-id")[:INBOUND_SHOWN]


def mappings(adapter: Adapter | None) -> QuerySet[CategoryMapping]:
    if adapter is None:
        return CategoryMapping.objects.none()
    return adapter.mappings.select_related("category").order_by("category__code")
