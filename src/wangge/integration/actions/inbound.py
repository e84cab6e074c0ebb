"""What an external system's call to us writes (docs/external-systems.md, "Inbound"): a
status call-back applied to its order, an order for on-site work received as a case, each
logged as an `InboundCall` in the same transaction as what it did.

The same call-back twice acts once: the first `applied`/`unchanged` log row of an event id
is unique (`inbound_call_once`), so a second call — also one racing the first on another
worker — either sees that row and answers `duplicate`, or fails on the constraint, rolls
its change back and answers `duplicate` all the same. An order is deduplicated on its number
by `cases.actions.external.do_receive_order`.

Refusals are the caller's to log (`external.do_record_inbound`, outcome `refused`): the
interface knows the HTTP status it answers with."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from wangge.cases.actions import external as case_external
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import ExternalOrder
from wangge.integration.actions.external import do_record_inbound
from wangge.integration.inbound_forms import Callback, InboundRefused, WorkOrder
from wangge.integration.models import Adapter, CategoryMapping, InboundCall
from wangge.territory.models import Grid

Outcome = InboundCall.Outcome
Kind = InboundCall.Kind
#: intake names the point's fields; on the wire it is one `location`
WIRE_FIELD = {"lat": "location", "lng": "location"}


def _first(adapter: Adapter, kind: str, event_id: str) -> InboundCall | None:
    return InboundCall.objects.filter(
        adapter=adapter, kind=kind, event_id=event_id,
        outcome__in=[Outcome.APPLIED, Outcome.UNCHANGED]).first()


def _check_same_call(first: InboundCall, call: Callback) -> None:
    """A repeated event id must repeat the call: one naming another order or status is a
    clash on their side (a restarted sender counting again), not a duplicate to swallow."""
    if (first.order_no, first.status) != (call.order_no, call.status):
        raise InboundRefused(409, "event_id", f"event {call.event_id} was {first.status} of "
                                              f"{first.order_no}, not {call.status} of "
                                              f"{call.order_no}")


def do_inbound_callback(adapter: Adapter, call: Callback, *, body: str = "") -> str:
    """Apply one status call-back; answers "applied", "unchanged" or "duplicate". Raises
    InboundRefused: 404 (order_no) for an order of another system or none, 409 (status)
    for an impossible step, 400 for a field our loop refuses."""
    log = {"kind": Kind.CALLBACK, "event_id": call.event_id, "order_no": call.order_no,
           "status": call.status, "body": body}
    if (first := _first(adapter, Kind.CALLBACK, call.event_id)) is not None:
        _check_same_call(first, call)
        do_record_inbound(adapter, outcome=Outcome.DUPLICATE, http_status=200, **log)
        return Outcome.DUPLICATE
    order = case_external.find_order(adapter.system, call.order_no) or (
        case_external.find_order(adapter.system, call.source_no) if call.source_no else None)
    if order is None:
        raise InboundRefused(404, "order_no", f"no order {call.order_no} of "
                                              f"{adapter.system.code}")
    their_no = call.order_no if call.order_no not in (order.our_no, order.their_no) else ""
    try:
        with transaction.atomic():
            result = case_external.do_external_status(order, call.status, note=call.note,
                                                      their_no=their_no)
            do_record_inbound(adapter, outcome=result.result, http_status=200,
                              reason=f"occurred_at {call.occurred_at.isoformat()}", **log)
    except IntegrityError:
        # the same event id applied by a concurrent call: ours rolled back
        if (first := _first(adapter, Kind.CALLBACK, call.event_id)) is None:
            raise
        _check_same_call(first, call)
        do_record_inbound(adapter, outcome=Outcome.DUPLICATE, http_status=200, **log)
        return Outcome.DUPLICATE
    except IllegalTransition as e:
        raise InboundRefused(409, "status", str(e)) from None
    except PermissionDenied as e:  # the loop refused the system's service user this step
        raise InboundRefused(409, "status", str(e) or "not the system's move") from None
    except CaseError as e:
        raise InboundRefused(400, WIRE_FIELD.get(e.field, e.field), str(e)) from None
    return result.result


@dataclass(frozen=True)
class ReceivedOrder:
    source_no: str
    created: bool


def _received(adapter: Adapter, order_no: str) -> ExternalOrder | None:
    return ExternalOrder.objects.select_related("case").filter(
        system=adapter.system, their_no=order_no, direction=ExternalOrder.Direction.IN).first()


def _category(adapter: Adapter, order: WorkOrder) -> str:
    if order.category_code:
        mapped = CategoryMapping.objects.filter(
            adapter=adapter, their_code=order.category_code).select_related(
            "category").order_by("category__code")
        codes = [m.category.code for m in mapped]
        if order.category in codes:  # several of ours share their code: theirs picks one
            return order.category
        if codes:
            return codes[0]
        if not order.category:
            raise InboundRefused(400, "category_code", f"{order.category_code} is not in the "
                                                       "category mapping")
    return order.category


def _point(order: WorkOrder) -> tuple[float, float]:
    if order.lng is not None and order.lat is not None:
        return order.lng, order.lat
    grid = Grid.objects.filter(code=order.grid_code).only("label_lng", "label_lat").first()
    if grid is None:
        raise InboundRefused(400, "grid_code", f"no grid {order.grid_code}")
    return grid.label_lng, grid.label_lat


def do_inbound_work_order(adapter: Adapter, order: WorkOrder, *, body: str = "",
                          ) -> ReceivedOrder:
    """Receive an order for on-site work as a case (channel `external`, reported by the
    system's service user, in the basic grid of its point); the same order number again
    answers the first case. Raises InboundRefused (400) naming the field."""
    if adapter.kind != Adapter.Kind.HOTLINE_12345:  # only 12345 sends orders and takes replies
        raise InboundRefused(404, "system", f"{adapter.system.code} sends us no orders")
    log = {"kind": Kind.ORDER, "event_id": order.order_no, "order_no": order.order_no,
           "body": body}
    if (earlier := _received(adapter, order.order_no)) is not None:
        do_record_inbound(adapter, outcome=Outcome.DUPLICATE, http_status=200, **log)
        return ReceivedOrder(earlier.case.register_no, False)
    category = _category(adapter, order)
    lng, lat = _point(order)
    data: dict[str, object] = {"category": category, "title": order.title,
                               "description": order.content, "lng": lng, "lat": lat}
    try:
        with transaction.atomic():
            received = case_external.do_receive_order(
                adapter.system, their_no=order.order_no, data=data,
                deadline=order.deadline)
            do_record_inbound(adapter, outcome=Outcome.APPLIED if received.created
                              else Outcome.DUPLICATE,
                              http_status=201 if received.created else 200,
                              reason=f"case {received.case.register_no}", **log)
    except IntegrityError:
        # the same order number taken by a concurrent call: answer its case
        if (earlier := _received(adapter, order.order_no)) is None:
            if ExternalOrder.objects.filter(system=adapter.system,
                                            their_no=order.order_no).exists():
                raise InboundRefused(409, "order_no", f"{order.order_no} is already the "
                                     "number of an order we sent this system") from None
            raise
        do_record_inbound(adapter, outcome=Outcome.DUPLICATE, http_status=200, **log)
        return ReceivedOrder(earlier.case.register_no, False)
    except CaseError as e:
        raise InboundRefused(400, WIRE_FIELD.get(e.field, e.field), str(e)) from None
    return ReceivedOrder(received.case.register_no, received.created)
