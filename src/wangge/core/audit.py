"""The one helper actions use to append to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from wangge.core.models import AuditEntry


def record(
    action: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    object_type: str,
    object_id: str | int = "",
    **detail: Any,
) -> AuditEntry:
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        action=action,
        actor=user,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
    )
