"""矛盾纠纷排查: a basic grid's return for its period (ScreeningRule: month or week).

`do_record_screening(user, p)` with payload p:
  grid_id (optional: the worker's own grid), screened_at (ISO moment, default now),
  mediator_id (optional Person with a mediator role over the grid), nil (bool),
  note, items: [dispute payloads as in records.do_record_dispute, without grid/source].
Rules: nil with items, or neither nil nor items → DisputeError naming "items"; a second
return for the same grid and period → DisputeError("grid", ..., "already_screened");
each item becomes a Dispute (source=screening). A high-risk item alerts the workstation
and the sub-center at once (in-app notifications to their staff + outbox
"disputes.high_risk").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from wangge.disputes.models import Screening
from wangge.territory.models import Grid


def period_of(grid: Grid, day: dt.date) -> tuple[str, dt.date]:
    """(period, period_start) of `day` under the deepest ScreeningRule above `grid`."""
    raise NotImplementedError


def do_record_screening(user: AbstractBaseUser, p: dict[str, Any]) -> Screening:
    raise NotImplementedError
