"""`wangge tokens create|revoke|list`: API bearer tokens for people and external systems."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wangge.integration.actions import do_create_token, do_revoke_token
from wangge.integration.models import ApiToken
from wangge.integration.tokens import TOKEN_PREFIX, expiry
from wangge.org.actions import RoleError, do_ensure_external_department


class Command(BaseCommand):
    help = "Create, revoke and list API tokens."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new token as the last line")
        who = create.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="user name the token acts as")
        who.add_argument("--system", help="external system code: its department of kind "
                         "external (created, serving the city, if new)")
        create.add_argument("--label", default="")
        create.add_argument("--expires", help="lifetime (90d, 12h) or last day (2027-03-31); "
                            "default: until revoked")
        revoke = sub.add_parser("revoke", help="end a token")
        revoke.add_argument("token", help="the token itself or its prefix")
        sub.add_parser("list", help="list tokens (never their secrets)")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _create(self, opts: dict[str, Any]) -> None:
        if opts["system"]:
            try:
                user = do_ensure_external_department(opts["system"]).service_user
            except RoleError as e:
                raise CommandError(f"--system: {e}") from e
        else:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {opts['user']!r}")
        expires_at = None
        if opts["expires"]:
            try:
                expires_at = expiry(opts["expires"], timezone.now())
            except ValueError as exc:
                raise CommandError(f"--expires: {exc}") from None
            if expires_at <= timezone.now():
                raise CommandError(f"--expires: {opts['expires']} lies in the past")
        issued = do_create_token(user, label=opts["label"], expires_at=expires_at)
        until = (f", expires {timezone.localtime(expires_at):%Y-%m-%d %H:%M}" if expires_at
                 else "")
        self.stderr.write(f"token {issued.token.prefix} for {user.get_username()}{until} "
                          "(shown once; keep it secret):")
        self.stdout.write(issued.secret)

    def _revoke(self, opts: dict[str, Any]) -> None:
        given = opts["token"]
        prefix = given.removeprefix(TOKEN_PREFIX).split("_")[0]
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix!r}")
        do_revoke_token(token)
        self.stdout.write(f"revoked {prefix}")

    def _list(self, opts: dict[str, Any]) -> None:
        now = timezone.now()
        for t in ApiToken.objects.select_related("user").order_by("created_at"):
            if t.revoked_at:
                state = "revoked"
            elif t.expires_at and t.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            used = t.last_used_at.isoformat() if t.last_used_at else "never"
            expires = (f"expires {timezone.localtime(t.expires_at):%Y-%m-%d %H:%M}"
                       if t.expires_at else "no expiry")
            self.stdout.write(f"{t.prefix}\t{t.user.get_username()}\t{state}\t{expires}\t"
                              f"last used {used}\t{t.label}")
