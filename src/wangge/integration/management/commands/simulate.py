"""`wangge simulate hotline-12345|city-management --port P`: a simulated peer system, a real
HTTP server speaking docs/external-systems.md (docs/simulators.md)."""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wangge.integration.actions.external import adapter_secret
from wangge.integration.models import Adapter
from wangge.integration.simulators import KINDS, Config, Faults, Simulator
from wangge.integration.simulators.kinds import parse_steps


def _share(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(value)
    return number


def _seconds(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = ("Run a simulated 12345 hotline or 数字城管 system: takes our orders, moves them on a "
            "schedule and sends signed status call-backs; faults and a /_sim/ control API.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("--port", type=int, required=True, help="0: any free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--secret", default="",
                            help="the shared signing secret (default: the adapter's, read from "
                                 "our database by --system)")
        parser.add_argument("--system", default="",
                            help="our code of the system (default: the kind's, e.g. "
                                 "hotline_12345)")
        parser.add_argument("--callback-url", default="",
                            help="our base for this system (default WANGGE_PUBLIC_URL + "
                                 "/integration/systems/<code>); call-backs go to …/callbacks")
        parser.add_argument("--steps", default=None,
                            help='"受理:1,派遣:2,处置中:3,已处置:5": seconds after receipt '
                                 '("none": only /_sim/advance moves an order)')
        parser.add_argument("--return-codes", default="",
                            help="their category codes answered 受理 then 退回, comma-separated")
        parser.add_argument("--slow", type=_seconds, default=0.0,
                            help="hold every answer back this many seconds")
        parser.add_argument("--fail-rate", type=_share, default=0.0,
                            help="answer this share of requests with 500 (seeded by --seed)")
        parser.add_argument("--seed", type=int, default=12345)
        parser.add_argument("--down-for", type=_seconds, default=0.0,
                            help="be down for this many seconds from the start")
        parser.add_argument("--down-style", choices=("503", "reset"), default="503",
                            help="a down system answers 503, or drops the connection (reset)")
        parser.add_argument("--duplicate-callbacks", action="store_true",
                            help="send every call-back twice with the same event_id")
        parser.add_argument("--state", default=None,
                            help="a sqlite3 file: orders and answered keys survive a restart")
        parser.add_argument("--send-orders", type=int, default=0,
                            help="12345: send us this many orders at start")
        parser.add_argument("--order-fields", default="",
                            help="12345: JSON object of work-order keys for the orders it "
                                 'sends, e.g. \'{"grid_code": "…", "category_code": "1001"}\'')
        parser.add_argument("--callback-attempts", type=int, default=12)
        parser.add_argument("--backoff", type=_seconds, default=0.5,
                            help="the first wait before a call-back is retried (doubles)")

    def handle(self, *args: Any, **opts: Any) -> None:
        kind = KINDS[opts["kind"]]
        code = opts["system"] or kind.code
        try:
            steps = parse_steps(kind.default_steps if opts["steps"] is None else opts["steps"])
            order_fields = json.loads(opts["order_fields"]) if opts["order_fields"] else {}
        except ValueError as e:
            raise CommandError(str(e)) from e
        if not isinstance(order_fields, dict):
            raise CommandError("--order-fields: a JSON object")
        if opts["send_orders"] and not kind.two_way:
            raise CommandError(f"{kind.title} sends no orders (--send-orders)")
        config = Config(
            kind=kind, secret=opts["secret"] or self._secret(code),
            callback_url=(opts["callback_url"]
                          or f"{settings.PUBLIC_URL}/integration/systems/{code}").rstrip("/"),
            steps=steps,
            return_codes=frozenset(c.strip() for c in opts["return_codes"].split(",")
                                   if c.strip()),
            faults=Faults(slow=opts["slow"], fail_rate=opts["fail_rate"],
                          down_until=time.time() + opts["down_for"] if opts["down_for"] else 0,
                          down_style=opts["down_style"],
                          duplicate_callbacks=opts["duplicate_callbacks"]),
            seed=opts["seed"], state_file=opts["state"], attempts=opts["callback_attempts"],
            backoff_s=opts["backoff"], order_fields=order_fields,
        )
        simulator = Simulator(config, out=sys.stdout)
        url = simulator.start(opts["host"], opts["port"])
        simulator.log(f"listening on {url} ({kind.title}); call-backs to {config.callback_url}"
                      f"/callbacks; steps {steps or 'none'}")
        if opts["send_orders"]:
            numbers = simulator.send_orders(opts["send_orders"])
            simulator.log(f"sending {len(numbers)} orders to {config.callback_url}/work-orders")

        def stop(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            simulator.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
            simulator.log("stopped")

    def _secret(self, code: str) -> str:
        adapter = Adapter.objects.filter(system__code=code).first()
        if adapter is None or not adapter.secret_enc:
            raise CommandError(f"no adapter with a secret for system {code!r} in this database; "
                               f"pass --secret (or --system)")
        return adapter_secret(adapter)
