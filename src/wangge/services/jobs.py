"""Periodic work of the services app, run by `wangge worker` (WANGGE_WORKER_JOBS): the
working-day clocks of pre-review and of proxy stages (warnings, breaches, escalation).
The clocks slice implements services.actions.clocks.sweep."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def sweep(now: dt.datetime | None = None) -> dict[str, object]:
    from wangge.services.actions.clocks import sweep_clocks

    return sweep_clocks(now or timezone.now())
