"""Periodic work of the disputes app, run by `wangge worker` (WANGGE_WORKER_JOBS): the
stage clocks (accept, mediate, follow-up) — a warning at the clock's warn_fraction, the
stage marked late at its deadline, deadlines filled in once a missing calendar year is
entered. Idempotent: a second sweep at the same moment writes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def sweep(now: dt.datetime | None = None) -> dict[str, object]:
    from wangge.disputes.actions.clocks import sweep_clocks

    return sweep_clocks(now or timezone.now())
