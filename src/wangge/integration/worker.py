"""The worker process behind `wangge worker`: periodic jobs, fan-out, delivery, in a loop.

Everything it knows lives in the database, so it holds no state worth saving: SIGKILL at any
point loses nothing (a transaction either committed or did not; a lease runs out), and
SIGTERM / SIGINT let it finish the item in hand, give back what it had claimed, and exit.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from django.conf import settings
from django.db import close_old_connections, connection

from wangge.integration import delivery, jobs, locking, senders

log = logging.getLogger("wangge.worker")

#: the longest round between two log lines while a backlog drains
CYCLE_S = 5.0
#: pause after an unexpected error (the database restarting …) before the next cycle
ERROR_PAUSE_S = 5.0


def new_worker_id() -> str:
    """Unique per process: host, pid and a random tag (pids are reused after restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Worker:
    def __init__(self, *, interval: float = 1.0, sweep_every: float = 60.0,
                 batch: int | None = None, job_paths: list[str] | None = None) -> None:
        self.id = new_worker_id()
        self.interval = interval
        self.sweep_every = sweep_every
        self.batch = batch or settings.WANGGE_OUTBOX_BATCH
        # fail fast: every job and sender must import before the first cycle
        self.jobs = jobs.load(settings.WANGGE_WORKER_JOBS if job_paths is None else job_paths)
        senders.check_senders()
        delivery.check_settings()
        self._stop = threading.Event()

    # -- signals ----------------------------------------------------------------------------

    @contextmanager
    def signal_handlers(self) -> Iterator[None]:
        """SIGTERM and SIGINT ask for a graceful stop while the worker runs."""
        saved = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s received: finishing the current item, then exiting (again to force)",
                 signal.Signals(signum).name)
        self._stop.set()
        signal.signal(signum, signal.SIG_DFL)

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ---------------------------------------------------------------------------

    def cycle(self) -> delivery.Tally:
        """One round: due jobs, fan-out, one batch of deliveries; again while batches come
        back full, for at most a few seconds (then the loop logs what it did)."""
        tally = delivery.Tally()
        # Drop a connection the database has closed or that is past CONN_MAX_AGE. Never
        # inside a transaction: only tests run a cycle inside one, and closing would end it.
        if not connection.in_atomic_block:
            close_old_connections()
        started = time.monotonic()
        while not self.stopping:
            # between batches too: a long backlog must not hold up an SLA sweep
            jobs.run_due(self.jobs, self.id, self.sweep_every)
            tally.routed += delivery.route(self.batch)
            claimed = delivery.deliver_due(self.id, batch=self.batch,
                                           stopping=lambda: self.stopping, tally=tally)
            if claimed < self.batch or time.monotonic() - started > CYCLE_S:
                break
        return tally

    def run(self, *, once: bool = False) -> None:
        self._announce()
        while not self.stopping:
            try:
                tally = self.cycle()
            except Exception:
                # the database went away, a bug in a query: log it, reconnect, go on
                log.exception("worker cycle failed; retrying in %.0fs", ERROR_PAUSE_S)
                connection.close()
                if once:
                    raise
                self._stop.wait(ERROR_PAUSE_S)
                continue
            if tally.busy:
                log.info("cycle: %d routed, %d delivered, %d to retry, %d dead",
                         tally.routed, tally.delivered, tally.retried, tally.dead)
            if once:
                break
            if not tally.busy:
                self._stop.wait(self.interval)
        log.info("worker %s stopped", self.id)

    def _announce(self) -> None:
        vendor = connection.vendor
        log.info("worker %s started on %s: poll every %ss, jobs every %ss: %s", self.id,
                 vendor, self.interval, self.sweep_every,
                 ", ".join(j.path for j in self.jobs) or "none")
        if not locking.several_workers_safe():
            log.info("%s: run a single worker (several workers need PostgreSQL)", vendor)
