"""Retried creates: a phone on a bad network sends the same report twice; the second send
must return the first record, never make another.

A key belongs to one user and names one record of one kind. The pattern for a create
(registry.actions.create_or_replay, cases.actions.intake.report_or_replay):

1. `replayed()` before the work, to answer a plain retry cheaply;
2. inside the create's transaction, `replayed()` again (on SQLite the transaction holds the
   write lock, so this sees whatever a concurrent request committed) and `remember()` the
   new record;
3. on IntegrityError (PostgreSQL: a concurrent request with the same key committed first,
   or made the same natural key), roll back and call `replayed()` once more: a replay
   answers the first record, anything else is the caller's conflict to name."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from wangge.core.models import IdempotencyKey

#: IdempotencyKey.key's length
MAX_KEY_LENGTH = 64


class KeyRefused(Exception):
    """The client key cannot stand for this create: too long, or used before by this user
    for a different kind of record. Callers answer it as bad input naming `field`."""

    field = "client_key"


def replayed(user: AbstractBaseUser, key: str | None, object_type: str) -> int | None:
    """The id created earlier by this user under this key, if any. Another user's key is
    never seen (keys are per user); the same key used for another kind raises KeyRefused
    rather than answering a record of the wrong kind."""
    if not key or not user.is_authenticated:
        return None
    if len(key) > MAX_KEY_LENGTH:
        raise KeyRefused(f"at most {MAX_KEY_LENGTH} characters")
    row = IdempotencyKey.objects.filter(user=user, key=key).values_list(
        "object_type", "object_id").first()
    if row is None:
        return None
    if row[0] != object_type:
        raise KeyRefused("this key was already used for another kind of record")
    return row[1]


def known_keys(user: AbstractBaseUser, keys: list[str]) -> dict[str, tuple[str, int]]:
    """key → (object_type, id) for those of `keys` this user has used: one read for a batch
    of creates (a phone's sync) instead of one per create."""
    if not keys or not user.is_authenticated:
        return {}
    found: dict[str, tuple[str, int]] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        rows = IdempotencyKey.objects.filter(user=user, key__in=keys[start:start + 500])
        for key, object_type, object_id in rows.values_list("key", "object_type", "object_id"):
            found[key] = (object_type, object_id)
    return found


def remember(user: AbstractBaseUser, key: str | None, object_type: str, object_id: int) -> None:
    """Call inside the create's transaction: a concurrent duplicate then fails on the unique
    constraint and rolls back instead of creating a second record."""
    if key and user.is_authenticated:
        IdempotencyKey.objects.create(user=user, key=key, object_type=object_type,
                                      object_id=object_id)
