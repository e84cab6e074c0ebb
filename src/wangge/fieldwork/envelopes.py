"""The kinds of queued writes the field app may send (DESIGN: the field app in outline).

A queued write is an envelope: client key, kind, payload, the version of the record it was
made against (edits), device time. Each actions module registers the kinds it applies;
the sync engine (fieldwork.actions.sync) applies each envelope in its own transaction, in
the device's order, remembers the client key (core.idempotency) and answers created /
replayed / conflict / invalid. A kind only says how to apply and how to describe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Envelope:
    client_key: str
    kind: str
    payload: dict[str, Any]
    #: the version of the record an edit was made against (None for a create)
    base_version: str | None = None
    device_time: dt.datetime | None = None


#: apply(user, envelope) -> id of the record written. Runs inside the engine's transaction;
#: raises FieldworkError (invalid, naming the field), Conflict (outdated copy) or
#: PermissionDenied / Http404 (not yours).
Apply = Callable[[AbstractBaseUser, Envelope], int]
#: answer(user, id) -> the record as the phone should now hold it (same on a replay)
Answer = Callable[[AbstractBaseUser, int], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str          # e.g. "visit.create"
    object_type: str   # what the client key names, e.g. "fieldwork.visit"
    apply: Apply
    answer: Answer


KINDS: dict[str, Kind] = {}


def register(name: str, object_type: str, *, answer: Answer) -> Callable[[Apply], Apply]:
    """Decorator for an apply function: `@register("visit.create", "fieldwork.visit",
    answer=visit_answer)`."""
    def wrap(apply: Apply) -> Apply:
        if name in KINDS and KINDS[name].apply is not apply:
            raise RuntimeError(f"envelope kind {name} registered twice")
        KINDS[name] = Kind(name, object_type, apply, answer)
        return apply
    return wrap
