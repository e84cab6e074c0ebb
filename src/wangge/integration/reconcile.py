"""Reconciliation: a periodic worker job comparing our external orders with each system's
own view (its status query), and keeping that view on the orders for the console's drift
list (`queries.drift_q`).

Per enabled adapter whose option `status_query` is not false, at most once per its
`reconcile_every_s` (default 600 s). When it last ran is read from the data itself: the
latest `checked_at` of the system's orders (written by every successful comparison). That
needs no new column, survives restarts, is the same for every worker on every machine, and
is exactly "when did we last hear their view"; the job's `JobRun` row is one per job (all
systems together), so it cannot say it per system. A system that cannot be reached leaves
`checked_at` as it was, and is asked again at the next run of the job.

Compared: the system's outbound orders that carry their number and are open on our side
(not pending, failed or returned, and the case not final), plus those closed on their side
in the last CLOSED_DAYS days (to catch "we closed, they did not" and late reopenings).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Max, Q

from wangge.cases.actions.external import STATUS_WORDS, do_record_reconciliation
from wangge.cases.models import ExternalOrder
from wangge.cases.workflow import FINAL
from wangge.integration.adapters import base
from wangge.integration.models import Adapter
from wangge.integration.queries import drift_q

log = logging.getLogger("wangge.integration.reconcile")

#: orders closed on their side stay compared this long
CLOSED_DAYS = 30
#: the default of the adapter option `reconcile_every_s`
DEFAULT_EVERY_S = 600
#: their answer for a number they do not know
UNKNOWN = "unknown"

S = ExternalOrder.State


def orders_to_compare(adapter: Adapter, now: datetime) -> dict[str, int]:
    """Their number → our order's pk, for the orders reconciliation asks this system about."""
    open_here = ~Q(state__in=[S.PENDING, S.FAILED, S.RETURNED]) & ~Q(case__state__in=FINAL)
    closed_lately = Q(state=S.CLOSED, exchanged_at__gte=now - timedelta(days=CLOSED_DAYS))
    rows = (ExternalOrder.objects.filter(system_id=adapter.system_id,
                                         direction=ExternalOrder.Direction.OUT)
            .exclude(their_no="").filter(open_here | closed_lately)
            .values_list("their_no", "pk"))
    return dict(rows)


def is_due(adapter: Adapter, now: datetime) -> bool:
    every = adapter.option("reconcile_every_s", DEFAULT_EVERY_S)
    every_s = float(every) if isinstance(every, int | float) else DEFAULT_EVERY_S
    last = ExternalOrder.objects.filter(system_id=adapter.system_id).aggregate(
        m=Max("checked_at"))["m"]
    return last is None or (now - last).total_seconds() >= every_s


def _their_state(word: str) -> str | None:
    if word == UNKNOWN:
        return UNKNOWN
    return STATUS_WORDS.get(word)


def reconcile(now: datetime) -> dict[str, int | str]:
    """Ask every due system about our orders; record what they say. Returns, per system
    code, how many orders were compared (or "unreachable" / "not due"), and "drift": how
    many of the compared orders differ from our state."""
    result: dict[str, int | str] = {}
    drift = 0
    adapters = Adapter.objects.filter(enabled=True).select_related("system").order_by("pk")
    for adapter in adapters:
        code = adapter.system.code
        if adapter.option("status_query", True) is False:
            continue
        if not is_due(adapter, now):
            result[code] = "not due"
            continue
        wanted = orders_to_compare(adapter, now)
        if not wanted:
            result[code] = 0
            continue
        try:
            answers = base.query_status(adapter, list(wanted))
        except base.Unreachable as e:
            log.warning("reconcile %s: unreachable: %s", code, e)
            result[code] = "unreachable"
            continue
        seen: dict[int, str] = {}
        for number, word in answers.items():
            state = _their_state(word)
            pk = wanted.get(number)
            if pk is None:
                continue
            if state is None:
                log.warning("reconcile %s: order %s: unknown status word %r", code, number,
                            word)
                continue
            seen[pk] = state
        do_record_reconciliation(seen, now=now)
        drift += ExternalOrder.objects.filter(drift_q(), pk__in=list(seen)).count()
        result[code] = len(seen)
    result["drift"] = drift
    return result
