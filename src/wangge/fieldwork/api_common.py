"""What the fieldwork routers share: a REST create is an envelope through the sync engine
(so a retried POST and a replayed envelope are one rule), and the engine's outcome becomes
the HTTP answer every create gives."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Schema, Status

from wangge.fieldwork.actions.sync import Outcome, apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.errors import Conflict


def body_loc(loc: list[str | int]) -> list[str | int]:
    """["payload", "photo_hashes", "0"] → ["body", "photo_hashes", 0]: the shape a schema
    error has (list positions as numbers)."""
    rest = loc[1:] if loc[:1] == ["payload"] else loc
    return ["body", *(int(p) if isinstance(p, str) and p.isdigit() else p for p in rest)]


def answer(outcome: Outcome) -> Status:
    """201 created, 200 replayed, 403, 404, 409 conflict, 422 naming the body's field."""
    if outcome.status in ("created", "replayed"):
        return Status(201 if outcome.status == "created" else 200, outcome.record)
    if outcome.status == "forbidden":
        return Status(403, {"detail": outcome.errors[0]["msg"]})
    if outcome.status == "not_found":
        raise Http404("no such record")
    if outcome.status == "conflict":
        raise Conflict(outcome.errors[0]["msg"], outcome.current or {})
    return Status(422, {"detail": [{**e, "loc": body_loc(e["loc"])} for e in outcome.errors]})


def send(request: HttpRequest, kind: str, body: Schema, **extra: Any) -> Status:
    """The body as envelope `kind` (JSON mode: what a phone's envelope carries, ISO
    strings); its `client_key`, or a fresh one when the caller sent none."""
    payload = {**body.model_dump(mode="json", exclude={"client_key"}, exclude_none=True),
               **extra}
    key = getattr(body, "client_key", None) or uuid.uuid4().hex
    return answer(apply_envelope(request.auth, Envelope(key, kind, payload)))
