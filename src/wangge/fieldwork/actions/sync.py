"""The sync engine: applies queued writes (envelopes) from the field app, one transaction
each, in the device's order, and answers each one.

Outcomes: `created` (with the record), `replayed` (the same key again: the first record,
nothing written), `conflict` (an edit against an outdated copy: the server's current copy
to show), `invalid` (fields named), `forbidden` (not the user's to write). An envelope
that fails does not stop the ones after it: a phone's queue keeps moving and shows the
failed write to the worker. The client key belongs to the engine (core.idempotency), not
to the kinds: a kind's `apply` only writes.

REST creates (POST /fieldwork/visits …) call apply_envelope too, so a retried POST and a
replayed envelope are one rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from wangge.core import idempotency
from wangge.fieldwork.envelopes import KINDS, Envelope
from wangge.fieldwork.errors import Conflict, FieldworkError

Status = Literal["created", "replayed", "conflict", "invalid", "forbidden", "not_found"]


@dataclass
class Outcome:
    client_key: str
    status: Status
    id: int | None = None
    record: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    current: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("created", "replayed")


def _invalid(env: Envelope, loc: list[str | int], msg: str, code: str = "invalid") -> Outcome:
    return Outcome(env.client_key, "invalid", errors=[{"loc": loc, "msg": msg, "code": code}])


def apply_envelope(user: AbstractBaseUser, env: Envelope) -> Outcome:
    kind = KINDS.get(env.kind)
    if kind is None:
        return _invalid(env, ["kind"], f"unknown kind {env.kind!r}", "unknown_kind")
    if not env.client_key:
        return _invalid(env, ["client_key"], "required", "required")
    try:
        earlier = idempotency.replayed(user, env.client_key, kind.object_type)
    except idempotency.KeyRefused as e:
        return _invalid(env, ["client_key"], str(e))
    if earlier is not None:
        return Outcome(env.client_key, "replayed", earlier, kind.answer(user, earlier))
    try:
        with transaction.atomic():
            # again inside the transaction: on SQLite it holds the write lock, so this sees
            # whatever a concurrent sync of the same queue committed
            earlier = idempotency.replayed(user, env.client_key, kind.object_type)
            if earlier is None:
                new_id = kind.apply(user, env)
                idempotency.remember(user, env.client_key, kind.object_type, new_id)
    except FieldworkError as e:
        return _invalid(env, ["payload", *e.field.split(".")], e.msg, e.code)
    except Conflict as e:
        return Outcome(env.client_key, "conflict", errors=[
            {"loc": ["base_version"], "msg": e.msg, "code": "conflict"}], current=e.current)
    except PermissionDenied as e:
        return Outcome(env.client_key, "forbidden", errors=[
            {"loc": ["payload"], "msg": str(e) or "forbidden", "code": "forbidden"}])
    except Http404:
        return Outcome(env.client_key, "not_found", errors=[
            {"loc": ["payload"], "msg": "no such record", "code": "not_found"}])
    except IntegrityError:
        # a concurrent sync of the same envelope committed first (PostgreSQL)
        earlier = idempotency.replayed(user, env.client_key, kind.object_type)
        if earlier is None:
            return _invalid(env, ["payload"], "conflicts with an existing record", "duplicate")
    if earlier is not None:
        return Outcome(env.client_key, "replayed", earlier, kind.answer(user, earlier))
    return Outcome(env.client_key, "created", new_id, kind.answer(user, new_id))


def apply_batch(user: AbstractBaseUser, envelopes: Iterable[Envelope]) -> list[Outcome]:
    """Each envelope in its own transaction, in order; one failure never stops the rest."""
    return [apply_envelope(user, env) for env in envelopes]


def resolve_key(user: AbstractBaseUser, key: str, object_type: str, field: str) -> int:
    """The id of a record this user created earlier under `key` (an envelope that refers to
    a record made offline, e.g. patrol points → the patrol.start envelope's key)."""
    try:
        found = idempotency.replayed(user, key, object_type)
    except idempotency.KeyRefused as e:
        raise FieldworkError(field, str(e)) from None
    if found is None:
        raise FieldworkError(field, "no record was created under this key (sync it first)",
                             "unknown_key")
    return found
