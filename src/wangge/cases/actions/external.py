"""Transfers to and from external systems (12345, 数字城管) as the case sees them: the order
opened when a case is dispatched to a system, what the other side says about it, and the
orders a system sends us for on-site work.

The integration app does the talking (formats, signatures, HTTP) and calls these; nothing
here knows a wire format. A call-back's status is one of `STATUS_WORDS` (the words both
systems use) and moves the order forward only: an earlier status than the order's is an
impossible step (IllegalTransition → 409), the same status again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wangge.cases.actions.common import record_event
from wangge.cases.actions.intake import report_or_replay
from wangge.cases.errors import CaseError, IllegalTransition
from wangge.cases.models import Case, ExternalOrder
from wangge.cases.workflow import FINAL, State
from wangge.core import outbox
from wangge.org.models import Department

S = ExternalOrder.State

#: the status words of a call-back (both systems use them) → the order's state
STATUS_WORDS: dict[str, str] = {
    "受理": S.ACCEPTED, "派遣": S.DISPATCHED, "处置中": S.IN_PROGRESS, "已处置": S.HANDLED,
    "核查": S.CHECKING, "结案": S.CLOSED, "退回": S.RETURNED,
}
#: how far along an outbound order is; a call-back never moves it back
RANK: dict[str, int] = {
    S.PENDING: 0, S.FAILED: 0, S.SENT: 1, S.ACCEPTED: 2, S.DISPATCHED: 3, S.IN_PROGRESS: 4,
    S.HANDLED: 5, S.CHECKING: 6, S.CLOSED: 7,
}
#: their 退回 is possible only before they have dispatched it
RETURNABLE = frozenset({S.PENDING, S.FAILED, S.SENT, S.ACCEPTED})
#: the loop steps that bring a case, in the external system's hands, to where they say
#: their handling is: 派遣/处置中 → in progress, 已处置/结案 → handled (our grid worker
#: then verifies on the spot, as for any department)
CATCH_UP: dict[str, list[tuple[str, str]]] = {
    # target order state → [(case state it applies in, loop action)] in order
    S.DISPATCHED: [(State.DISPATCHED, "accept"), (State.ACCEPTED, "start")],
    S.IN_PROGRESS: [(State.DISPATCHED, "accept"), (State.ACCEPTED, "start")],
    S.HANDLED: [(State.DISPATCHED, "accept"), (State.ACCEPTED, "start"),
                (State.IN_PROGRESS, "handle")],
    # their own check of their handling: handled on their side whatever came before
    S.CHECKING: [(State.DISPATCHED, "accept"), (State.ACCEPTED, "start"),
                 (State.IN_PROGRESS, "handle")],
    S.CLOSED: [(State.DISPATCHED, "accept"), (State.ACCEPTED, "start"),
               (State.IN_PROGRESS, "handle")],
}


def open_transfer(case: Case, system: Department) -> ExternalOrder:
    """Inside the dispatch's transaction: a new outbound order and the outbox row that makes
    the integration app send it (`external.order`, whose payload names the system, so only
    that system's adapter gets it)."""
    earlier = ExternalOrder.objects.filter(system=system, case=case).count()
    our_no = case.register_no if not earlier else f"{case.register_no}-{earlier + 1}"
    order = ExternalOrder.objects.create(case=case, system=system, our_no=our_no)
    outbox.enqueue("external.order", {
        "register_no": case.register_no, "order": order.pk, "system": system.code,
        "our_no": our_no,
    })
    return order


def do_mark_sent(order: ExternalOrder, their_no: str, *, note: str = "") -> ExternalOrder:
    """The other side took the order and answered with its number. A repeated answer (a
    resend after a lost reply) changes nothing."""
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related("case").get(
            pk=order.pk)
        if order.state not in (S.PENDING, S.FAILED):
            if their_no and not order.their_no:
                # a call-back (by our number) overtook their answer: keep the state it
                # set, but learn their number, or their later call-backs find no order
                order.their_no = their_no
                order.save(update_fields=["their_no"])
                record_event(order.case, None, "transfer_sent", order.case.state, note,
                             system=order.system.code, our_no=order.our_no,
                             their_no=their_no)
            return order
        now = timezone.now()
        order.their_no, order.state = their_no, S.SENT
        order.sent_at = order.exchanged_at = now
        order.last_note = note
        order.save()
        record_event(order.case, None, "transfer_sent", order.case.state, note,
                     system=order.system.code, our_no=order.our_no, their_no=their_no)
    return order


def do_mark_failed(order: ExternalOrder, reason: str) -> ExternalOrder:
    """The send failed for good (an unmapped category, a 4xx, attempts used up): the
    dispatcher sees it on the case and the system's console page, fixes it and resends."""
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related("case").get(
            pk=order.pk)
        if order.state not in (S.PENDING, S.FAILED):
            return order
        order.state, order.exchanged_at, order.last_note = S.FAILED, timezone.now(), reason
        order.save()
        record_event(order.case, None, "transfer_failed", order.case.state, reason[:500],
                     system=order.system.code, our_no=order.our_no)
    return order


def do_mark_resend(order: ExternalOrder, actor: AbstractBaseUser) -> ExternalOrder:
    """The dispatcher resends a failed order (after fixing the mapping): pending again. The
    integration app puts its delivery back in the queue in the same transaction."""
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related("case").get(
            pk=order.pk)
        if order.state != S.FAILED:
            raise IllegalTransition(f"only a failed order is resent (this one is {order.state})")
        if not in_their_hands(order):
            raise IllegalTransition(f"order {order.our_no}: the case was cancelled, closed or "
                                    "dispatched elsewhere; it is not resent")
        order.state, order.last_note = S.PENDING, ""
        order.save(update_fields=["state", "last_note"])
        record_event(order.case, actor, "transfer_resend", order.case.state,
                     system=order.system.code, our_no=order.our_no)
    return order


def find_order(system: Department, number: str) -> ExternalOrder | None:
    """An order of this system by their number or ours (a call-back may come before their
    answer to our send was recorded)."""
    orders = ExternalOrder.objects.select_related("case", "system")
    return (orders.filter(system=system, their_no=number).first() if number else None) or \
        orders.filter(system=system, our_no=number).first()


@dataclass(frozen=True)
class StatusResult:
    order: ExternalOrder
    #: "applied" (the order moved), "unchanged" (the same status again)
    result: str


def do_external_status(order: ExternalOrder, status: str, *, note: str = "",
                       their_no: str = "", actor: AbstractBaseUser | None = None,
                       ) -> StatusResult:
    """A status call-back from the system (`status` one of STATUS_WORDS), applied to the
    order and mapped onto our loop, acting as the system's service user: 派遣/处置中 → the
    case is in progress, 已处置/结案 → handled (our grid worker verifies on the spot), 退回 →
    back to the dispatcher with their reason. The case moves only while it is still in the
    system's hands (dispatched to it and open)."""
    target = STATUS_WORDS.get(status)
    if target is None:
        raise CaseError("status", f"unknown status {status!r}; one of {', '.join(STATUS_WORDS)}")
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related(
            "case", "system").get(pk=order.pk)
        if order.direction != ExternalOrder.Direction.OUT:
            raise IllegalTransition("an order they sent us takes no status call-back")
        if order.state == S.RETURNED:
            raise IllegalTransition(f"order {order.our_no} was returned (退回); it is over")
        if target == order.state:
            return StatusResult(order, "unchanged")
        if target == S.RETURNED:
            if order.state not in RETURNABLE:
                raise IllegalTransition(f"cannot return order {order.our_no}: it is already "
                                        f"{order.get_state_display()}")
        elif RANK[target] < RANK[order.state]:
            raise IllegalTransition(f"order {order.our_no} is already "
                                    f"{order.get_state_display()}, not back to {status}")
        before = order.state
        now = timezone.now()
        order.state, order.exchanged_at = target, now
        order.last_note = note
        if their_no and not order.their_no:
            order.their_no = their_no
        if order.sent_at is None:
            order.sent_at = now
        order.save()
        case = order.case
        service_user = actor or order.system.service_user
        record_event(case, service_user, "external_status", case.state, note,
                     system=order.system.code, status=status, our_no=order.our_no,
                     from_order_state=before)
        latest = ExternalOrder.objects.filter(
            case=case, system=order.system, direction=ExternalOrder.Direction.OUT).latest("pk")
        # an earlier order's late news (their 结案 of the order a failed check replaced)
        # never moves the case: only the order now in their hands does
        in_their_hands = latest.pk == order.pk and case.department_id == order.system_id \
            and case.state not in (State.CLOSED, State.EVALUATED, State.CANCELLED,
                                   State.REJECTED)
        if in_their_hands:
            _move_case(case, target, note, service_user)
    return StatusResult(order, "applied")


#: the case states in which it is still the system's to do (a 退回 or a recall takes it back)
WITH_THEM = frozenset({State.DISPATCHED, State.ACCEPTED, State.IN_PROGRESS})


def _send_back(case: Case, actor: AbstractBaseUser | None, reason: str) -> None:
    """The case leaves the system's hands for the dispatcher (registered, no department),
    from wherever it was with them: their 退回 (of a first order, or of the new order after a
    failed check, when the case is in progress), or the dispatcher's recall. Recorded as the
    loop's `return`, with the reason."""
    from wangge.cases.actions import clocks

    case = Case.objects.select_for_update().get(pk=case.pk)
    before = case.state
    case.state, case.department = State.REGISTERED, None
    case.save(update_fields=["state", "department"])
    clocks.on_transition(case, "return", timezone.now())
    record_event(case, actor, "return", before, reason)


def _move_case(case: Case, target: str, note: str, actor: AbstractBaseUser) -> None:
    # the import is here: loop imports this module (a dispatch opens the transfer)
    from wangge.cases.actions.loop import do_transition

    if target == S.RETURNED:
        if case.state in WITH_THEM:
            _send_back(case, actor, note or "外部系统退回")
        return
    for state, action in CATCH_UP.get(target, []):
        case.refresh_from_db(fields=["state"])
        if case.state == state:
            fields = {"feedback": note or "外部系统已处置"} if action == "handle" else {}
            do_transition(case, action, actor, **fields)


def in_their_hands(order: ExternalOrder) -> bool:
    """Whether the order is the one the case now waits on: the case's latest order to this
    system, the case dispatched to the system and still open. A cancelled or re-routed
    case's order is never sent (nor resent)."""
    case = Case.objects.only("state", "department_id").get(pk=order.case_id)
    latest = ExternalOrder.objects.filter(
        case_id=order.case_id, system_id=order.system_id,
        direction=ExternalOrder.Direction.OUT).order_by("-pk").values_list("pk", flat=True)[0]
    return latest == order.pk and case.department_id == order.system_id \
        and case.state not in FINAL


def on_case_resumed(case: Case) -> None:
    """Inside a resume (or a written reply) of a case in a system's hands: what the system
    said while the case was suspended is applied now (their 派遣 … 已处置 moved only the
    order then), so the case does not wait on news it already has."""
    if case.department_id is None or not case.department.is_external:
        return
    order = ExternalOrder.objects.filter(case=case, system_id=case.department_id,
                                         direction=ExternalOrder.Direction.OUT).last()
    if order is not None and (order.state in CATCH_UP or order.state == S.RETURNED):
        _move_case(case, order.state, order.last_note, order.system.service_user)


def do_recall(order: ExternalOrder, actor: AbstractBaseUser, *, reason: str) -> Case:
    """收回: the dispatcher takes back a case whose order could not be sent (failed: a
    confidential kind, a mapping nobody can give, the system refusing it), to dispatch it
    elsewhere. Only while the order is the one the case waits on."""
    from django.core.exceptions import PermissionDenied

    from wangge.cases import access
    from wangge.cases.workflow import Actor

    if not reason.strip():
        raise CaseError("reason", "required")
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related("case").get(
            pk=order.pk)
        case = order.case
        if Actor.DISPATCH not in access.actor_kinds(actor, case):
            raise PermissionDenied("only dispatchers recall a case from an external system")
        if order.state != S.FAILED or not in_their_hands(order) or case.state not in WITH_THEM:
            raise IllegalTransition(f"order {order.our_no} is not a failed order the case "
                                    "waits on; nothing to recall")
        _send_back(case, actor, reason.strip())
        case.refresh_from_db()
    return case


# --- orders a system sends us (12345 → the grid, for on-site work) -------------------------


@dataclass(frozen=True)
class Received:
    order: ExternalOrder
    case: Case
    created: bool


def do_receive_order(system: Department, *, their_no: str, data: dict[str, object],
                     deadline: dt.datetime | None = None) -> Received:
    """An order from the system for on-site work (e.g. verify a complaint in a grid): a case
    in our loop on channel `external`, reported by the system's service user, located by its
    coordinates. The same order number twice → the first case (their retry)."""
    if not their_no:
        raise CaseError("order_no", "required")
    earlier = ExternalOrder.objects.select_related("case").filter(
        system=system, their_no=their_no, direction=ExternalOrder.Direction.IN).first()
    if earlier is not None:
        return Received(earlier, earlier.case, False)
    user = system.service_user
    if user is None:
        raise CaseError("system", f"{system.code} has no service user")
    with transaction.atomic():
        reported = report_or_replay(data, user, channel=Case.Channel.EXTERNAL,
                                    client_key=f"order:{their_no}"[:64])
        case = reported.case
        order, created = ExternalOrder.objects.get_or_create(
            system=system, their_no=their_no, direction=ExternalOrder.Direction.IN,
            defaults={"case": case, "our_no": case.register_no, "state": S.RECEIVED,
                      "sent_at": timezone.now(), "exchanged_at": timezone.now(),
                      "last_note": f"deadline {deadline.isoformat()}" if deadline else ""})
        if created:
            record_event(case, user, "external_received", case.state,
                         system=system.code, their_no=their_no)
    return Received(order, case, created)


def on_case_closed(case: Case) -> None:
    """Inside the close's transaction: the reply to every order a system sent us for this
    case (`external.reply`, for that system's adapter)."""
    for order in ExternalOrder.objects.filter(case=case, direction=ExternalOrder.Direction.IN,
                                              state=S.RECEIVED).select_related("system"):
        outbox.enqueue("external.reply", {
            "register_no": case.register_no, "order": order.pk, "system": order.system.code,
            "their_no": order.their_no,
        })


def do_mark_replied(order: ExternalOrder, *, note: str = "") -> ExternalOrder:
    """Our handling result reached the system that sent the order."""
    with transaction.atomic():
        order = ExternalOrder.objects.select_for_update().select_related("case").get(
            pk=order.pk)
        if order.state == S.REPLIED:
            return order
        order.state, order.exchanged_at, order.last_note = S.REPLIED, timezone.now(), note
        order.save(update_fields=["state", "exchanged_at", "last_note"])
        record_event(order.case, None, "external_replied", order.case.state, note,
                     system=order.system.code, their_no=order.their_no)
    return order


def do_record_reconciliation(seen: dict[int, str], *, now: dt.datetime | None = None) -> int:
    """What a system's status query answered (order pk → their state, or "unknown"): kept on
    the orders for the console's drift list. No timeline entry: it is an observation, not a
    change of the case."""
    now = now or timezone.now()
    by_state: dict[str, list[int]] = {}
    for pk, state in seen.items():
        by_state.setdefault(state, []).append(pk)
    for state, pks in by_state.items():
        ExternalOrder.objects.filter(pk__in=pks).update(their_state=state, checked_at=now)
    return len(seen)
