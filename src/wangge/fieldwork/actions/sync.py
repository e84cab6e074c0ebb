"""The sync engine: applies queued writes (envelopes) from the field app, one transaction
each, in the device's order, and answers each one.

Outcomes: `created` (with the record), `replayed` (the same key again: the first record,
nothing written), `conflict` (an edit against an outdated copy: the server's current copy
to show), `invalid` (fields named), `forbidden` (not the user's to write). An envelope
that fails does not stop the ones after it: a phone's queue keeps moving and shows the
failed write to the worker. The client key belongs to the engine (core.idempotency), not
to the kinds: a kind's `apply` only writes.

REST creates (POST /fieldwork/visits …) call apply_envelope too, so a retried POST and a
replayed envelope are one rule. A sync call (apply_batch) reads the user's known keys
once and commits once; see its docstring."""

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


def apply_envelope(user: AbstractBaseUser, env: Envelope,
                   known: dict[str, tuple[str, int]] | None = None) -> Outcome:
    """One envelope, in its own transaction (a savepoint when apply_batch holds one).
    `known`: the user's keys already on record, read once for a whole batch."""
    kind = KINDS.get(env.kind)
    if kind is None:
        return _invalid(env, ["kind"], f"unknown kind {env.kind!r}", "unknown_kind")
    if not env.client_key:
        return _invalid(env, ["client_key"], "required", "required")
    try:
        if known is None:
            earlier = idempotency.replayed(user, env.client_key, kind.object_type)
        else:
            earlier = _known(known, env.client_key, kind.object_type)
    except idempotency.KeyRefused as e:
        return _invalid(env, ["client_key"], str(e))
    if earlier is not None:
        return Outcome(env.client_key, "replayed", earlier, kind.answer(user, earlier))
    try:
        with transaction.atomic():
            # no second look inside: the key's unique constraint makes a concurrent
            # sync of the same envelope fail here and answer the first one below
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
        # a concurrent sync of the same envelope committed first
        earlier = idempotency.replayed(user, env.client_key, kind.object_type)
        if earlier is None:
            return _invalid(env, ["payload"], "conflicts with an existing record", "duplicate")
        return Outcome(env.client_key, "replayed", earlier, kind.answer(user, earlier))
    if known is not None:
        known[env.client_key] = (kind.object_type, new_id)
    return Outcome(env.client_key, "created", new_id, kind.answer(user, new_id))


def _known(known: dict[str, tuple[str, int]], key: str, object_type: str) -> int | None:
    """idempotency.replayed's answer, from the batch's one read."""
    if len(key) > idempotency.MAX_KEY_LENGTH:
        raise idempotency.KeyRefused(f"at most {idempotency.MAX_KEY_LENGTH} characters")
    if key not in known:
        return None
    if known[key][0] != object_type:
        raise idempotency.KeyRefused("this key was already used for another kind of record")
    return known[key][1]


def apply_batch(user: AbstractBaseUser, envelopes: Iterable[Envelope]) -> list[Outcome]:
    """Each envelope all or nothing, in order; one failure never stops the rest.

    The batch is one transaction and each envelope a savepoint inside it: the same
    all-or-nothing per envelope as a transaction each, with one commit (one disk flush)
    per call instead of one per envelope — most of a phone's sync time otherwise. If the
    commit itself fails, nothing of the call is kept and the phone's retry writes it all,
    answered the same way."""
    envelopes = list(envelopes)
    keys = [e.client_key for e in envelopes if e.client_key
            and len(e.client_key) <= idempotency.MAX_KEY_LENGTH]
    with transaction.atomic():
        known = idempotency.known_keys(user, keys)
        return [apply_envelope(user, env, known) for env in envelopes]


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
