"""What every case write shares: the timeline entry with its outbox row, one at a time or a
batch at a time, and the escalation ladder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from wangge.cases.models import Case, CaseEvent
from wangge.core import outbox
from wangge.core.bulk import db_datetime, db_json, insert_rows

#: 逐级上报: the level a case goes to when its level cannot solve it
LEVEL_ABOVE = {Case.Level.WORKSTATION: Case.Level.SUBCENTER,
               Case.Level.SUBCENTER: Case.Level.CENTER}


def record_event(case: Case, actor: AbstractBaseUser | None, action: str, from_state: str,
                 note: str = "", **data: Any) -> CaseEvent:
    """One timeline entry and its outbox row, inside the caller's transaction."""
    outbox.enqueue(f"case.{action}", {"register_no": case.register_no, "state": case.state})
    return CaseEvent.objects.create(
        case=case, actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, from_state=from_state, to_state=case.state, note=note, data=data,
    )


@dataclass
class Entry:
    """A timeline entry the sweep writes in bulk with the rest of its batch."""

    case: Case
    action: str
    from_state: str
    #: taken when the entry is made: the batch may change the case's state afterwards
    to_state: str
    #: the handling level responsible once this step is done
    level: int
    note: str
    data: dict[str, Any]


def record_entries(entries: list[Entry]) -> None:
    """The timeline entries and their outbox rows of a batch, one statement each (COPY on
    PostgreSQL): one INSERT per entry was most of a sweep's time.

    Their outbox messages also carry the level and the note, so that the notification
    sender tells the people responsible as of this step, whenever it is delivered. The
    notes here are the sweep's own words, never text a user typed."""
    when = db_datetime(timezone.now())
    insert_rows(CaseEvent, ["case", "at", "action", "from_state", "to_state", "note", "data"], (
        (e.case.pk, when, e.action, e.from_state, e.to_state, e.note, db_json(e.data))
        for e in entries))
    outbox.enqueue_many([(f"case.{e.action}", {
        "register_no": e.case.register_no, "state": e.to_state, "level": e.level,
        "note": e.note}) for e in entries])
