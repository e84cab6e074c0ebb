"""The working-day clocks of pre-review (the item's `prereview_days`) and of proxy stages
(`StageClock`, data), and their sweep by the worker (services.jobs): a warning before the
deadline, a breach after it, escalation of a breached pre-review to the department and the
center.

The sweep is idempotent: each application or proxy request is warned once and breached once
per clock (a resubmission or a new proxy stage starts a new clock and clears the marks), so
a second sweep at the same moment changes nothing. Escalation is an outbox message
(`services.prereview_escalated`, naming the department and the center) plus the inbox's
"超期" section: the cases' in-app notifications are tied to a case, and borrowing them for
an application would reach into cases' internals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from wangge.core import audit, outbox
from wangge.services.models import (
    Application,
    ApplicationEvent,
    ItemVersion,
    ProxyEvent,
    ProxyRequest,
    StageClock,
)
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered

#: the stage name of the pre-review clock in StageClock (only its warn_hours is read: the
#: working days are the item's own)
PREREVIEW_STAGE = "prereview"
#: warn this many working hours ahead when no StageClock row says otherwise
DEFAULT_WARN_HOURS = 4
#: a warning is at most this far ahead in natural time (a long holiday between): the SQL
#: pre-filter before the working-hour arithmetic in Python
WARN_HORIZON = dt.timedelta(days=14)
#: proxy states whose clock no longer runs
PROXY_DONE = (ProxyRequest.State.DELIVERED, ProxyRequest.State.RATED,
              ProxyRequest.State.REJECTED, ProxyRequest.State.CANCELLED)


def prereview_deadline(version: ItemVersion, start: dt.datetime) -> dt.datetime:
    return calendar.current().add_working_days(start, max(1, version.prereview_days))


def stage_deadline(stage: str, start: dt.datetime) -> dt.datetime | None:
    """The deadline of a proxy stage entered at `start`; None where the stage has no clock."""
    clock = StageClock.objects.filter(stage=stage).first()
    if clock is None:
        return None
    return calendar.current().add_working_days(start, clock.working_days)


def _warn_hours() -> dict[str, int]:
    return dict(StageClock.objects.values_list("stage", "warn_hours"))


def _due_soon(now: dt.datetime, due: dt.datetime, hours: int) -> bool:
    """Whether fewer than `hours` office hours remain before `due`."""
    if hours <= 0:
        return False
    try:
        return calendar.current().add_working_hours(now, hours) >= due
    except CalendarNotCovered:  # the calendar year is missing: natural hours, not nothing
        return now + dt.timedelta(hours=hours) >= due


def _application_facts(a: Application) -> dict[str, Any]:
    return {"no": a.no, "item_code": a.item.code, "item_name": a.item.name,
            "department": a.department.code, "department_name": a.department.name,
            "grid": a.grid.code if a.grid_id else None, "round": a.round,
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "due_at": a.due_at.isoformat() if a.due_at else None}


def _sweep_applications(now: dt.datetime, warn: dict[str, int]) -> dict[str, int]:
    submitted = Application.objects.filter(state=Application.State.SUBMITTED,
                                           due_at__isnull=False, breached_at__isnull=True)
    related = ("item", "department", "grid")
    breached = list(submitted.filter(due_at__lte=now).select_related(*related)
                    .select_for_update(of=("self",)).order_by("due_at"))
    hours = warn.get(PREREVIEW_STAGE, DEFAULT_WARN_HOURS)
    soon = [a for a in submitted.filter(due_at__gt=now, due_at__lte=now + WARN_HORIZON,
                                        warned_at__isnull=True).select_related(*related)
            if _due_soon(now, a.due_at, hours)]  # type: ignore[arg-type]
    messages: list[tuple[str, dict[str, Any]]] = []
    events: list[ApplicationEvent] = []
    for a in soon:
        messages.append(("services.prereview_warning", _application_facts(a)))
        events.append(ApplicationEvent(application=a, action="clock_warning",
                                       from_state=a.state, to_state=a.state,
                                       data={"due_at": a.due_at.isoformat()}))  # type: ignore[union-attr]
    for a in breached:
        facts = _application_facts(a)
        messages.append(("services.prereview_breached", facts))
        messages.append(("services.prereview_escalated",
                         {**facts, "escalate_to": [a.department.code, "center"]}))
        events.append(ApplicationEvent(application=a, action="escalated", from_state=a.state,
                                       to_state=a.state, note="预审超期，已督办",
                                       data={"due_at": facts["due_at"]}))
        audit.record("services.application.escalated", actor=None,
                     object_type="services.application", object_id=a.pk, no=a.no,
                     department=a.department.code, due_at=facts["due_at"])
    if soon:
        Application.objects.filter(pk__in=[a.pk for a in soon],
                                   warned_at__isnull=True).update(warned_at=now)
    if breached:
        Application.objects.filter(pk__in=[a.pk for a in breached],
                                   breached_at__isnull=True).update(breached_at=now,
                                                                    escalated_at=now)
    ApplicationEvent.objects.bulk_create(events)
    if messages:
        outbox.enqueue_many(messages)
    return {"prereview_warned": len(soon), "prereview_breached": len(breached),
            "prereview_escalated": len(breached)}


def _proxy_facts(p: ProxyRequest) -> dict[str, Any]:
    return {"no": p.no, "state": p.state, "item_code": p.item.code, "item_name": p.item.name,
            "grid": p.grid.code, "worker_id": p.worker_id,
            "stage_due_at": p.stage_due_at.isoformat() if p.stage_due_at else None}


def _sweep_proxies(now: dt.datetime, warn: dict[str, int]) -> dict[str, int]:
    running = (ProxyRequest.objects.exclude(state__in=PROXY_DONE)
               .filter(stage_due_at__isnull=False, breached_at__isnull=True))
    breached = list(running.filter(stage_due_at__lte=now).select_related("item", "grid")
                    .select_for_update(of=("self",)))
    soon = [p for p in running.filter(stage_due_at__gt=now, stage_due_at__lte=now + WARN_HORIZON,
                                      warned_at__isnull=True).select_related("item", "grid")
            if _due_soon(now, p.stage_due_at,  # type: ignore[arg-type]
                         warn.get(p.state, DEFAULT_WARN_HOURS))]
    messages: list[tuple[str, dict[str, Any]]] = []
    events: list[ProxyEvent] = []
    for topic, rows, action in (("services.proxy_stage_warning", soon, "clock_warning"),
                                ("services.proxy_stage_breached", breached, "clock_breach")):
        for p in rows:
            messages.append((topic, _proxy_facts(p)))
            events.append(ProxyEvent(proxy=p, action=action, from_state=p.state,
                                     to_state=p.state,
                                     data={"stage_due_at": _proxy_facts(p)["stage_due_at"]}))
    for p in breached:
        audit.record("services.proxy.stage_breached", actor=None, object_type="services.proxy",
                     object_id=p.pk, no=p.no, state=p.state)
    if soon:
        ProxyRequest.objects.filter(pk__in=[p.pk for p in soon],
                                    warned_at__isnull=True).update(warned_at=now)
    if breached:
        ProxyRequest.objects.filter(pk__in=[p.pk for p in breached],
                                    breached_at__isnull=True).update(breached_at=now)
    ProxyEvent.objects.bulk_create(events)
    if messages:
        outbox.enqueue_many(messages)
    return {"proxy_warned": len(soon), "proxy_breached": len(breached)}


def sweep_clocks(now: dt.datetime) -> dict[str, object]:
    """Warn, breach and escalate what is due at `now` (tests pass a frozen `now`)."""
    warn = _warn_hours()
    with transaction.atomic():
        counts: dict[str, object] = {**_sweep_applications(now, warn),
                                     **_sweep_proxies(now, warn)}
    return counts
