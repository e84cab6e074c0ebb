"""Every write to tokens and external systems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from wangge.core import audit
from wangge.integration import tokens
from wangge.integration.models import ApiToken, ExternalSystem

#: how stale last_used_at may get: enough to tell which tokens are alive
TOUCH_EVERY = timedelta(minutes=1)

User = get_user_model()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def do_create_token(
    user: AbstractBaseUser, *, label: str = "", actor: AbstractBaseUser | None = None
) -> IssuedToken:
    secret, prefix, digest = tokens.new_secret()
    token = ApiToken.objects.create(user=user, label=label, prefix=prefix, digest=digest)
    audit.record(
        "token.create", actor=actor, object_type="api_token", object_id=prefix,
        user=user.get_username(), label=label,
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def do_revoke_token(token: ApiToken, *, actor: AbstractBaseUser | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoke", actor=actor, object_type="api_token", object_id=token.prefix)
    return token


@transaction.atomic
def do_ensure_external_system(
    code: str, *, name: str = "", actor: AbstractBaseUser | None = None
) -> ExternalSystem:
    """The external system with this code, created with its service user if new."""
    system = ExternalSystem.objects.filter(code=code).first()
    if system is not None:
        return system
    user = User.objects.create(username=f"system:{code}")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    system = ExternalSystem.objects.create(code=code, name=name or code, service_user=user)
    audit.record("external_system.create", actor=actor, object_type="external_system",
                 object_id=code)
    return system


def do_touch_token(token: ApiToken) -> None:
    """Note that a token was used; at most once a minute, so reads don't all become writes."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
