"""Periodic jobs for the worker's end-to-end tests (named in WANGGE_WORKER_JOBS): each
records when it ran and in which process, and takes a while, so two runs at once show.

`quick` is shorter than the test's interval: only the claim in the database stops a second
run in the same interval. `slow` outlasts the interval: the next interval's claim succeeds
while it still runs, and only the lock held for the run keeps a second copy from starting.
"""

from __future__ import annotations

import os
import time
from datetime import datetime


def _record(name: str, seconds: float) -> str:
    started = time.time()
    time.sleep(seconds)
    line = f"{name} {started:.6f} {time.time():.6f} {os.getpid()}\n"
    # one short O_APPEND write per run: lines from two processes never interleave
    with open(os.environ["WANGGE_E2E_JOB_LOG"], "a") as fh:
        fh.write(line)
    return "recorded"


def quick(now: datetime) -> str:
    return _record("quick", 0.2)


def slow() -> str:
    return _record("slow", 1.3)
