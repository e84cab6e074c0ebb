"""Periodic jobs: the callables named in WANGGE_WORKER_JOBS, run every `--sweep-every`
seconds by one worker at a time.

A job is a dotted path to a callable taking no argument, or one argument `now` (the run's
time, aware UTC). It must be idempotent: a worker killed in the middle of a run leaves the
run claimed but unfinished, and the next interval's run does the work again. Its return
value (a count, a dict …) is logged and shown on the outbox page.

Two locks keep several workers apart: the claim (a conditional UPDATE of the job's `JobRun`
row: at most one run per interval, on every database) and, on PostgreSQL, an advisory lock
held for the run (no second run starts while a slow one is still going).
"""

from __future__ import annotations

import inspect
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from wangge.integration.actions import do_claim_job_run, do_finish_job_run
from wangge.integration.locking import job_lock
from wangge.integration.models import JobRun

log = logging.getLogger("wangge.worker")


@dataclass
class Job:
    path: str
    func: Callable[..., Any]
    takes_now: bool
    #: monotonic time before which this worker need not ask the database again
    next_check: float = field(default=0.0)

    def __call__(self, now: datetime) -> Any:
        return self.func(now=now) if self.takes_now else self.func()


def load(paths: list[str]) -> list[Job]:
    """Import every job now: a typo or a missing module stops the worker at start-up with
    the path and the reason, instead of failing a minute later in the log."""
    jobs = []
    for path in paths:
        try:
            func = import_string(path)
        except ImportError as e:
            raise ImproperlyConfigured(f"WANGGE_WORKER_JOBS: cannot import {path!r}: {e}") from e
        if not callable(func):
            raise ImproperlyConfigured(f"WANGGE_WORKER_JOBS: {path!r} is not callable")
        jobs.append(Job(path, func, _takes_now(path, func)))
    return jobs


def _takes_now(path: str, func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # some builtins have no signature: call them bare
        return False
    required = [p for p in params.values() if p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if "now" in params:
        if any(p.name != "now" for p in required):
            raise ImproperlyConfigured(f"WANGGE_WORKER_JOBS: {path!r} needs more than `now`")
        return True
    if required:
        raise ImproperlyConfigured(
            f"WANGGE_WORKER_JOBS: {path!r} must take no argument or only `now`")
    return False


def run_due(jobs: list[Job], worker: str, every: float) -> int:
    """Run each job whose interval has passed and that no other worker has claimed."""
    ran = 0
    for job in jobs:
        if time.monotonic() < job.next_check:
            continue
        ran += _run_one(job, worker, every)
    return ran


def _run_one(job: Job, worker: str, every: float) -> int:
    row, _ = JobRun.objects.get_or_create(name=job.path)
    with job_lock(row.pk) as free:
        if free and do_claim_job_run(row, worker, every=timedelta(seconds=every)):
            _execute(job, row)
            ran = 1
        else:
            ran = 0
    # ask again when the interval claimed (by us or another worker) is over
    row.refresh_from_db(fields=["last_started_at"])
    wait = every
    if row.last_started_at is not None:
        elapsed = (timezone.now() - row.last_started_at).total_seconds()
        wait = min(every, max(0.0, every - elapsed))
    job.next_check = time.monotonic() + wait
    return ran


def _execute(job: Job, row: JobRun) -> None:
    started = time.monotonic()
    log.info("job %s: starting", job.path)
    try:
        result = job(timezone.now())
    except Exception as e:
        # a failing job must not stop deliveries or the other jobs: log, record, go on
        log.exception("job %s failed", job.path)
        do_finish_job_run(row, ok=False, error="".join(
            traceback.format_exception_only(type(e), e)).strip())
        return
    text = "" if result is None else str(result)
    do_finish_job_run(row, ok=True, result=text)
    log.info("job %s: done in %.2fs %s", job.path, time.monotonic() - started, text)
