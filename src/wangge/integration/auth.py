"""Bearer-token authentication for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from wangge.integration import tokens
from wangge.integration.actions import do_touch_token
from wangge.integration.models import ApiToken


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[override]
        if not token.startswith(tokens.TOKEN_PREFIX):
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
                    digest=tokens.digest(token), revoked_at__isnull=True)
            .first()
        )
        if row is None or not row.user.is_active:
            return None
        do_touch_token(row)
        request.user = row.user
        return row.user


#: every API endpoint accepts a bearer token or a console session (with CSRF for writes)
API_AUTH = [BearerToken(), SessionAuth()]


def docs_require_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document and docs page need a session or a bearer token, like the API."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and BearerToken().authenticate(request, token.strip()):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped
