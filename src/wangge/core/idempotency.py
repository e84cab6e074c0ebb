"""Retried creates: a phone on a bad network sends the same report twice; the second send
must return the first record, never make another."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from wangge.core.models import IdempotencyKey


def replayed(user: AbstractBaseUser, key: str | None, object_type: str) -> int | None:
    """The id created earlier under this key, if any."""
    if not key:
        return None
    row = IdempotencyKey.objects.filter(user=user, key=key, object_type=object_type).first()
    return row.object_id if row else None


def remember(user: AbstractBaseUser, key: str | None, object_type: str, object_id: int) -> None:
    """Call inside the create's transaction: a concurrent duplicate then fails on the unique
    constraint and rolls back instead of creating a second record."""
    if key:
        IdempotencyKey.objects.create(user=user, key=key, object_type=object_type,
                                      object_id=object_id)
