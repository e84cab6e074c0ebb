"""矛盾纠纷排查: a basic grid's return for its period (ScreeningRule: month or week).

`do_record_screening(user, p)` with payload p:
  grid_id (optional: the worker's own grid), screened_at (ISO moment, default now),
  mediator_id (optional Person with a mediator role over the grid), nil (bool),
  note, items: [dispute payloads as in records.do_record_dispute, without grid/source].
Rules: nil with items, or neither nil nor items → DisputeError naming "items"; a second
return for the same grid and period → DisputeError("grid", ..., "already_screened");
each item becomes a Dispute (source=screening); an item's error names "items.<i>.<field>".
A high-risk item alerts the workstation and the sub-center at once: an `Alert` row for
each body (their staff see it in `access.visible_alerts`) and an outbox
"disputes.high_risk" with the facts, in the same transaction (records.raise_alerts).

`do_see_alert(user, alert_id)`: one of the body's staff has seen the alert (first look
counts; later looks change nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.disputes import access, queries
from wangge.disputes.actions.common import basic_grid
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.errors import DisputeError
from wangge.disputes.models import Alert, Risk, Screening
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.errors import FieldworkError
from wangge.org.models import Person
from wangge.territory.models import Grid

#: tensions one return may list
MAX_ITEMS = 50


def period_of(grid: Grid, day: dt.date) -> tuple[str, dt.date]:
    """(period, period_start) of `day` under the deepest ScreeningRule above `grid`."""
    period = queries.rule_periods({grid.pk: grid.path})[grid.pk]
    return period, queries.period_start(period, day)


def _mediator(p: dict[str, Any], grid: Grid) -> Person | None:
    pk = read.optional_id(p, "mediator_id")
    if pk is None:
        return None
    found = access.mediator_candidates(grid).filter(pk=pk).first()
    if found is None:
        raise DisputeError("mediator_id", "not a mediator of this grid or above it",
                           "not_mediator")
    return found


def do_record_screening(user: AbstractBaseUser, p: dict[str, Any]) -> Screening:
    if not isinstance(p, dict):
        raise DisputeError("payload", "must be an object", "type")
    person = access.person(user)
    if person is None:
        raise PermissionDenied("only a person on the staff screens a grid")
    try:
        grid = basic_grid(user, p, own_by_default=True)
        screened_at = (read.moment(p, "screened_at") if p.get("screened_at") is not None
                       else timezone.now())
        mediator = _mediator(p, grid)
        nil = p.get("nil", False)
        if not isinstance(nil, bool):
            raise DisputeError("nil", "must be true or false", "type")
        note = read.text(p, "note")
        items = read.items(p, "items", most=MAX_ITEMS)
    except DisputeError:
        raise
    except FieldworkError as e:
        raise DisputeError(e.field, e.msg, e.code) from None
    if nil and items:
        raise DisputeError("items", "a nil return lists no disputes", "nil_with_items")
    if not nil and not items:
        raise DisputeError("items", "list the disputes found, or file a nil return",
                           "required")
    period, start = period_of(grid, timezone.localdate(screened_at))
    # a return filed late (a phone offline over the month's end) still counts for the last
    # period; an older one would rewrite a coverage that was already reported upwards
    _, current = period_of(grid, timezone.localdate())
    _, previous = period_of(grid, current - dt.timedelta(days=1))
    if start < previous:
        raise DisputeError("screened_at", "a return is filed for this period or the last one",
                           "too_old")
    if Screening.objects.filter(grid=grid, period_start=start).exists():
        raise DisputeError("grid", "this grid has already screened this period",
                           "already_screened")
    with transaction.atomic():
        try:
            with transaction.atomic():
                s = Screening.objects.create(
                    grid=grid, period=period, period_start=start, screened_at=screened_at,
                    screened_by=person, mediator=mediator, nil=nil, note=note,
                    recorded_by=user)
        except IntegrityError:  # the same grid's return sent at once by two phones
            raise DisputeError("grid", "this grid has already screened this period",
                               "already_screened") from None
        disputes = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise DisputeError(f"items.{i}", "must be an object", "type")
            body = {k: v for k, v in item.items() if k not in ("grid_id", "source")}
            try:
                disputes.append(do_record_dispute(user, body, screening=s))
            except FieldworkError as e:
                raise DisputeError(f"items.{i}.{e.field}", e.msg, e.code) from None
        high = [d.number for d in disputes if d.risk == Risk.HIGH]
        audit.record("disputes.screened", actor=user, object_type="disputes.screening",
                     object_id=s.pk, grid=grid.code, period_start=start.isoformat(), nil=nil,
                     disputes=len(disputes), high_risk=len(high))
        outbox.enqueue("disputes.screened", {
            "screening_id": s.pk, "grid": grid.code, "grid_name": grid.name,
            "period": period, "period_start": start.isoformat(),
            "screened_at": screened_at.isoformat(), "screened_by": person.pk,
            "mediator_id": mediator.pk if mediator else None, "nil": nil,
            "disputes": [d.number for d in disputes], "high_risk": high})
    return s


def do_see_alert(user: AbstractBaseUser, alert_id: int) -> Alert:
    with transaction.atomic():
        alert = access.access_alert(user, alert_id)
        if alert.seen_at is not None:
            return alert
        now = timezone.now()
        Alert.objects.filter(pk=alert.pk, seen_at__isnull=True).update(seen_at=now,
                                                                        seen_by=user)
        alert.refresh_from_db()
        audit.record("disputes.alert_seen", actor=user, object_type="disputes.alert",
                     object_id=alert.pk, dispute=alert.dispute_id, grid=alert.grid_id)
        outbox.enqueue("disputes.alert_seen", {
            "alert_id": alert.pk, "dispute_id": alert.dispute_id, "grid_id": alert.grid_id,
            "seen_at": now.isoformat(), "seen_by": user.pk})
    return alert
