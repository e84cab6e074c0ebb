"""Bearer-token authentication for the API."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from wangge.integration import tokens
from wangge.integration.models import ApiToken

# Writing last_used_at on every call would turn every read into a write; once a minute is
# enough to tell which tokens are alive.
_TOUCH_EVERY = timedelta(minutes=1)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[override]
        if not token.startswith(tokens.TOKEN_PREFIX):
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(digest=tokens.digest(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


#: every API endpoint accepts a bearer token or a console session (with CSRF for writes)
API_AUTH = [BearerToken(), SessionAuth()]
