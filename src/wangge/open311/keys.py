"""The read shape of the keys page: every API token with the system it belongs to (the
external department whose service user holds it, else the user's name) and its state.
Never a secret: only the prefix is stored in the clear."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from wangge.integration.models import ApiToken
from wangge.org.models import Department


@dataclass(frozen=True)
class KeyRow:
    pk: int
    prefix: str
    system: str
    system_code: str
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    state: str  # active | revoked | expired
    state_label: str


def _system_tokens() -> QuerySet[ApiToken]:
    """The keys of systems (the service users of external departments): a person's own
    token (`wangge tokens create --user`) is theirs and never on this page."""
    return ApiToken.objects.filter(user_id__in=Department.objects.filter(
        kind=Department.Kind.EXTERNAL, service_user__isnull=False).values("service_user_id"))


def key_rows(now: dt.datetime | None = None) -> list[KeyRow]:
    now = now or timezone.now()
    tokens = list(_system_tokens().select_related("user").order_by("-created_at", "-id"))
    systems = {d.service_user_id: d for d in Department.objects.filter(
        kind=Department.Kind.EXTERNAL, service_user_id__in={t.user_id for t in tokens})}
    labels = {"active": _("有效"), "revoked": _("已吊销"), "expired": _("已过期")}
    rows = []
    for t in tokens:
        if t.revoked_at:
            state = "revoked"
        elif t.expires_at and t.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        dept = systems.get(t.user_id)
        rows.append(KeyRow(
            pk=t.pk, prefix=t.prefix, label=t.label, created_at=t.created_at,
            system=dept.name if dept else t.user.get_username(),
            system_code=dept.code if dept else "",
            last_used_at=t.last_used_at, expires_at=t.expires_at,
            state=state, state_label=labels[state]))
    return rows


def token(pk: int) -> ApiToken | None:
    return _system_tokens().filter(pk=pk).first()
