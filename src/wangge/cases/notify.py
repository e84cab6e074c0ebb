"""The in-app notification sender: an outbox message about a case's SLA clock becomes a
notification to each person responsible for the case (`access.responsible_users`).

It is an outbox sender like the log and webhook ones (kind `responsible`, seeded as the
subscription `responsible-people` on `case.sla_*`), so it runs in the worker with the same
retries and dead letters, and the sweep itself stays a few set-wise statements.

Who is told follows the case as the message describes it (its state and handling level at
that step), not as it is when the message happens to be delivered: a delivery retried an hour
later tells the same people. A message delivered twice tells nobody twice."""

from __future__ import annotations

from wangge.cases import access, actions
from wangge.cases.models import Case, Notification
from wangge.core.models import OutboxMessage
from wangge.integration.models import Subscription
from wangge.integration.senders import Outcome

KINDS = {f"case.{kind}": kind for kind in Notification.Kind.values}
#: the other clock messages the subscription's pattern matches: nobody needs telling
QUIET = frozenset({"case.sla_deadline"})


class ResponsibleSender:
    def send(self, message: OutboxMessage, subscription: Subscription) -> Outcome:
        if message.topic in QUIET:
            return Outcome(ok=True)
        kind = KINDS.get(message.topic)
        if kind is None:
            return Outcome(ok=False, permanent=True, error=f"{message.topic} is not one of "
                           f"the topics this sender notifies of ({', '.join(KINDS)})")
        payload = message.payload
        no = payload.get("register_no", "")
        case = Case.objects.select_related("grid").filter(register_no=no).first()
        if case is None:
            return Outcome(ok=False, permanent=True, error=f"no case {no!r}")
        users = access.responsible_users(case, breach=kind == Notification.Kind.SLA_BREACH,
                                         state=payload.get("state"), level=payload.get("level"))
        actions.do_notify(case, users, kind=kind, note=str(payload.get("note", "")),
                          source=message.idempotency_key)
        return Outcome(ok=True)
