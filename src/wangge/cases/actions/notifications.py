"""提醒: notifications to the people responsible for a case, and reading them."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wangge.cases.errors import CaseError
from wangge.cases.models import Case, Notification


def do_notify(case: Case, users: Sequence[AbstractBaseUser], *, kind: str, note: str,
              source: str) -> int:
    """提醒: tell these people of their case. `source` is the outbox message's idempotency
    key, and the first delivery of a message that tells anyone settles it: a message
    delivered again (the worker died before recording the send) adds nobody. Returns how
    many were told."""
    if kind not in Notification.Kind.values:
        raise CaseError("kind", f"must be one of {', '.join(Notification.Kind.values)}")
    with transaction.atomic():
        if Notification.objects.filter(source=source).exists():
            return 0
        Notification.objects.bulk_create(
            [Notification(user_id=u.pk, case=case, kind=kind, note=note[:200], source=source)
             for u in users], ignore_conflicts=True)  # (two workers racing past the check)
        return Notification.objects.filter(source=source).count()


def do_mark_notifications_read(user: AbstractBaseUser, pks: Sequence[int] | None = None) -> int:
    """Mark the user's own notifications read: these, or all of them. Returns how many."""
    unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if pks is not None:
        unread = unread.filter(pk__in=pks)
    return unread.update(read_at=timezone.now())

