"""Plain values, no Django: ClockSpec, one SLA clock's definition as a case keeps it when
the clock starts, and DayRow, one day of an official schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DayRow:
    date: dt.date
    is_workday: bool
    name: str

    @property
    def kind(self) -> str:
        return "makeup" if self.is_workday else "holiday"


@dataclass(frozen=True, slots=True)
class ClockSpec:
    code: str  # e.g. "resolve", "on_site"
    name: str  # e.g. "办结"
    amount: float
    unit: str  # deadlines.Unit: working_days | hours | natural_days | working_hours
    starts_on: str  # "register" | "dispatch"
    goal: str  # the case state that meets it: accepted | in_progress | handled | closed
    warn_fraction: float  # warn when this fraction of the time has elapsed
    on_breach: str = "overdue"  # "overdue" | "reply_due" (a written reply is owed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, for the snapshot stored on a case."""
        return asdict(self)
