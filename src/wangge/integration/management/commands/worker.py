"""`wangge worker`: the long-running background process (docs/worker.md)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from wangge.integration.worker import Worker

LEVELS = {0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG, 3: logging.DEBUG}


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Run periodic jobs and deliver outbox messages until stopped (SIGTERM / Ctrl-C)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true",
                            help="run one cycle (due jobs, fan-out, due deliveries) and exit")
        parser.add_argument("--interval", type=_positive, default=1.0,
                            help="seconds between delivery polls when idle (default 1)")
        parser.add_argument("--sweep-every", type=_positive, default=60.0,
                            help="seconds between runs of each periodic job (default 60)")
        parser.add_argument("--batch", type=int, default=None,
                            help="deliveries claimed at a time (default WANGGE_OUTBOX_BATCH)")

    def handle(self, *args: Any, **opts: Any) -> None:
        with _logging_to_stderr(LEVELS.get(opts["verbosity"], logging.INFO)):
            try:
                worker = Worker(interval=opts["interval"], sweep_every=opts["sweep_every"],
                                batch=opts["batch"])
            except (ImproperlyConfigured, ImportError, LookupError) as e:
                raise CommandError(str(e)) from e
            with worker.signal_handlers():
                worker.run(once=opts["once"])


@contextmanager
def _logging_to_stderr(level: int) -> Iterator[None]:
    """Timestamped lines from every `wangge.*` logger (the jobs' too), whatever level the
    settings give the root logger; put back as it was afterwards (call_command in tests)."""
    logger = logging.getLogger("wangge")
    saved = (logger.handlers, logger.level, logger.propagate)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s[%(process)d] %(message)s"))
    logger.handlers, logger.level, logger.propagate = [handler], level, False
    try:
        yield
    finally:
        logger.handlers, logger.level, logger.propagate = saved
