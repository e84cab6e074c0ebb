"""In-app notifications from outbox messages: a message about a case's SLA clock becomes a
notification to each person responsible for the case (`access.responsible_users`).

The outbox sender that calls this (kind `responsible`, seeded as the subscription
`responsible-people` on `case.sla_*`) is integration's `ResponsibleSender`: it runs in the
worker with the same retries and dead letters as the others, the sweep itself stays a few
set-wise statements, and cases need not know how messages are delivered.

Who is told follows the case as the message describes it (its state and handling level at
that step), not as it is when the message happens to be delivered: a delivery retried an hour
later tells the same people. A message delivered twice tells nobody twice."""

from __future__ import annotations

from typing import Any

from wangge.cases import access, actions
from wangge.cases.models import Case, Notification

KINDS = {f"case.{kind}": kind for kind in Notification.Kind.values}
#: the other clock messages the subscription's pattern matches: nobody needs telling
QUIET = frozenset({"case.sla_deadline"})


class Undeliverable(ValueError):
    """This message can never become a notification (retrying cannot help)."""


def notify_responsible(topic: str, payload: dict[str, Any], *, source: str) -> None:
    """Notify the people responsible for the case in `payload` of the clock event `topic`;
    `source` (the message's idempotency key) makes a second delivery tell nobody again."""
    if topic in QUIET:
        return
    kind = KINDS.get(topic)
    if kind is None:
        raise Undeliverable(f"{topic} is not one of the topics this sender notifies of "
                            f"({', '.join(KINDS)})")
    no = payload.get("register_no", "")
    case = Case.objects.select_related("grid", "department").filter(register_no=no).first()
    if case is None:
        raise Undeliverable(f"no case {no!r}")
    users = access.responsible_users(case, breach=kind == Notification.Kind.SLA_BREACH,
                                     state=payload.get("state"), level=payload.get("level"))
    actions.do_notify(case, users, kind=kind, note=str(payload.get("note", "")), source=source)
