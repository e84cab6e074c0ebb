"""`wangge subscriptions add|list|activate|deactivate`: where outbox messages go."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wangge.integration import senders
from wangge.integration.actions import (
    SubscriptionError,
    do_save_subscription,
    do_set_subscription_active,
)
from wangge.integration.models import Subscription
from wangge.org.models import Department


class Command(BaseCommand):
    help = "Add, list, switch on and off the subscriptions that route outbox messages."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="a new subscription")
        add.add_argument("--name", required=True)
        add.add_argument("--topic", required=True,
                         help="exact topic (case.created) or pattern (case.*, *)")
        add.add_argument("--kind", required=True, choices=senders.kinds())
        add.add_argument("--url", default="", help="the webhook's URL")
        add.add_argument("--secret", default=None,
                         help="webhook signing secret (default: generated, printed once)")
        add.add_argument("--system", default=None, help="external system code it serves")
        add.add_argument("--if-missing", action="store_true",
                         help="do nothing if a subscription with this name exists")
        sub.add_parser("list", help="list subscriptions (never their secrets)")
        for action in ("activate", "deactivate"):
            sub.add_parser(action, help=f"{action} a subscription").add_argument("name")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _add(self, opts: dict[str, Any]) -> None:
        if opts["if_missing"] and Subscription.objects.filter(name=opts["name"]).exists():
            self.stdout.write(f"subscription {opts['name']!r} exists")
            return
        system = None
        if opts["system"] and (system := Department.objects.filter(
                code=opts["system"], kind=Department.Kind.EXTERNAL).first()) is None:
            raise CommandError(f"--system: no external system {opts['system']!r}")
        secret = opts["secret"]
        generated = opts["kind"] == "webhook" and not secret
        if generated:
            secret = secrets.token_urlsafe(32)
        try:
            sub = do_save_subscription(name=opts["name"], topic=opts["topic"],
                                       kind=opts["kind"], url=opts["url"], secret=secret,
                                       external_system=system)
        except SubscriptionError as e:
            raise CommandError(f"--{e.field}: {e}") from e
        self.stdout.write(f"subscription {sub.pk} {sub.name!r}: {sub.topic} → {sub.kind}")
        if generated:
            self.stderr.write("signing secret (shown once; give it to the receiver):")
            self.stdout.write(secret)

    def _list(self, opts: dict[str, Any]) -> None:
        for s in Subscription.objects.select_related("external_system").order_by("name"):
            state = "active" if s.active else "inactive"
            system = s.external_system.code if s.external_system else "-"
            self.stdout.write(f"{s.name}\t{s.topic}\t{s.kind}\t{s.url or '-'}\t{system}\t"
                              f"{state}\tsecret {'set' if s.secret_enc else 'none'}")

    def _activate(self, opts: dict[str, Any]) -> None:
        self._switch(opts["name"], True)

    def _deactivate(self, opts: dict[str, Any]) -> None:
        self._switch(opts["name"], False)

    def _switch(self, name: str, active: bool) -> None:
        sub = Subscription.objects.filter(name=name).first()
        if sub is None:
            raise CommandError(f"no subscription named {name!r}")
        do_set_subscription_active(sub, active)
        self.stdout.write(f"{name}: {'active' if active else 'inactive'}")
