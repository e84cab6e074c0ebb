"""SLA policies as the clock engine reads them: clock definitions (ClockSpec) and their
deadlines from a moment."""

from __future__ import annotations

import datetime as dt

from wangge.workcal import calendar
from wangge.workcal.deadlines import WorkCalendar
from wangge.workcal.models import SlaClock, SlaPolicy
from wangge.workcal.specs import ClockSpec


class UnknownPolicy(LookupError):
    """No (active) SLA policy has this code."""

    def __init__(self, code: str, why: str = "no SLA policy has this code"):
        self.code = code
        super().__init__(f"SLA policy {code!r}: {why}")


def clocks_for(policy_code: str, *, include_inactive: bool = False) -> list[ClockSpec]:
    """The clocks of the policy, in order. An unknown or switched-off policy raises
    UnknownPolicy (a category naming a policy that does not exist is a data error, not
    "no deadline")."""
    policy = SlaPolicy.objects.filter(code=policy_code).first()
    if policy is None:
        raise UnknownPolicy(policy_code)
    if not policy.active and not include_inactive:
        raise UnknownPolicy(policy_code, "the policy is switched off")
    return [c.spec() for c in SlaClock.objects.filter(policy=policy).order_by("order", "id")]


def deadlines(
    policy_code: str, moment: dt.datetime, *, cal: WorkCalendar | None = None,
) -> list[tuple[ClockSpec, dt.datetime]]:
    """Each clock's deadline if it started at `moment` (aware), in Asia/Shanghai. Raises
    CalendarNotCovered when a working-day clock needs a year the calendar lacks."""
    cal = cal or calendar.current()
    return [(spec, cal.deadline(moment, spec.amount, spec.unit))
            for spec in clocks_for(policy_code)]
