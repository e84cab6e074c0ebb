"""What every disputes action shares: reading the dispute for a change (scope, permission,
row lock), the timeline event, the facts an outbox message carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from wangge.core import audit, outbox
from wangge.disputes import access
from wangge.disputes.errors import DisputeError, IllegalMove
from wangge.disputes.models import Assignment, Dispute, Event
from wangge.fieldwork.access import worker_grid
from wangge.fieldwork.actions import records_input as read
from wangge.fieldwork.errors import FieldworkError
from wangge.org.models import Person
from wangge.territory.models import Grid, Level


@contextmanager
def named(prefix: str = "") -> Iterator[None]:
    """Payload readers (fieldwork's records_input) raise FieldworkError: answer them as
    DisputeError naming the same field (under `prefix`)."""
    try:
        yield
    except DisputeError as e:
        if prefix:
            raise DisputeError(f"{prefix}{e.field}", e.msg, e.code) from None
        raise
    except FieldworkError as e:
        raise DisputeError(f"{prefix}{e.field}", e.msg, e.code) from None


def dispute_id(p: dict[str, Any], field: str = "dispute_id") -> int:
    with named():
        return read.integer(p, field, low=1, high=2**63 - 1)


def for_change(user: AbstractBaseUser, pk: int, *, may: str = "mediate") -> Dispute:
    """The dispute, locked for the change: Http404 when the user may not see it,
    PermissionDenied when they see it but may not do this (`may`: mediate / follow_up)."""
    access.access_dispute(user, pk)  # 404 first: "not yours" and "no such" alike
    d = (Dispute.objects.select_for_update(of=("self",))
         .select_related("kind", "grid", "handling_grid", "mediator").get(pk=pk))
    allowed = access.can_follow_up if may == "follow_up" else access.can_mediate
    if not allowed(user, d):
        raise PermissionDenied("you may not mediate this dispute")
    return d


def basic_grid(user: AbstractBaseUser, p: dict[str, Any], *, own_by_default: bool = False
               ) -> Grid:
    """The basic grid `grid_id` names (without it, when `own_by_default`, the grid the user
    works): DisputeError naming grid_id when there is none or it is not basic,
    PermissionDenied when the user may not record in it."""
    if p.get("grid_id") is None and own_by_default:
        grid = worker_grid(user)
        if grid is None:
            raise DisputeError("grid_id", "required (you work no grid of your own)",
                               "required")
    else:
        with named():
            pk = read.integer(p, "grid_id", low=1, high=2**63 - 1)
        grid = Grid.objects.filter(pk=pk).first()
        if grid is None:
            raise DisputeError("grid_id", "no such grid", "not_found")
    if grid.level != Level.BASIC:
        raise DisputeError("grid_id", "must be a basic grid (level 4)", "not_basic")
    if not access.can_record(user, grid):
        raise PermissionDenied("you do not record in this grid")
    return grid


def require_state(d: Dispute, states: tuple[str, ...], step: str) -> None:
    if d.state not in states:
        raise IllegalMove(d.state, step)


def reason(text: Any, field: str = "reason", *, max_length: int = 2000) -> str:
    with named():
        return read.text({field: text}, field, required=True, max_length=max_length)


def person_of(user: AbstractBaseUser) -> Person:
    found = access.person(user)
    if found is None:
        raise PermissionDenied("only a person on the staff does this")
    return found


def add_event(d: Dispute, kind: str, actor: AbstractBaseUser | None, *, note: str = "",
              at: dt.datetime | None = None, **data: Any) -> Event:
    return Event.objects.create(dispute=d, kind=kind, at=at or timezone.now(), actor=actor,
                                note=note, data=data)


def end_assignment(d: Dispute, at: dt.datetime) -> None:
    Assignment.objects.filter(dispute=d, ended_at__isnull=True).update(ended_at=at)


def facts(d: Dispute) -> dict[str, Any]:
    """What a receiver of an outbox message needs: no parties' personal data."""
    return {
        "dispute_id": d.pk, "number": d.number,
        # a sensitive dispute's kind (家庭暴力) is not told to every receiver
        "kind": "" if d.sensitive else d.kind.code,
        "kind_name": "" if d.sensitive else d.kind.name,
        "grid": d.grid.code, "grid_name": d.grid.name, "risk": d.risk, "state": d.state,
        "level": d.level, "handling_grid": d.handling_grid.code,
        "mediator_id": d.mediator_id, "sensitive": d.sensitive,
        "subject": "" if d.sensitive else d.subject,
        "amount": str(d.amount) if d.amount is not None else None,
        "reported_at": d.reported_at.isoformat(),
        "stage": d.stage, "due_at": d.due_at.isoformat() if d.due_at else None,
    }


def announce(topic: str, d: Dispute, actor: AbstractBaseUser | None, **extra: Any) -> None:
    """The audit entry and the outbox row of a change to `d`."""
    audit.record(topic, actor=actor, object_type="disputes.dispute", object_id=d.pk,
                 number=d.number, state=d.state, **{k: v for k, v in extra.items()
                                                     if not isinstance(v, dict | list)})
    outbox.enqueue(topic, {**facts(d), **extra})


__all__ = ["DisputeError", "IllegalMove", "add_event", "announce", "basic_grid", "dispute_id",
           "end_assignment", "facts", "for_change", "named", "person_of", "reason",
           "require_state"]
