"""SLA clocks for the demo's open cases, as the loop would have started them: from
registration or dispatch per the category's policy, met where the history reached the
clock's goal, paused while suspended. Warnings and breaches are left to the worker: its
first sweep after `make demo` handles the overdue ones through the real actions (escalation,
yellow card, written reply, notifications), so the SLA board and the notifications show a
living city rather than a hand-made picture."""

from __future__ import annotations

from collections.abc import Sequence

from wangge.cases.actions.clocks import LINE, set_deadline
from wangge.cases.models import CaseCategory, CaseClock
from wangge.cases.workflow import FINAL, State
from wangge.demo.casegen import CaseSpec
from wangge.workcal import calendar as workcal
from wangge.workcal.policies import clocks_for


def open_case_clocks(specs: Sequence[CaseSpec], case_ids: Sequence[int]) -> list[CaseClock]:
    """The clocks of the generated cases that are still open (unsaved rows)."""
    policy_of = dict(CaseCategory.objects.values_list("code", "sla_policy"))
    specs_of = {p: clocks_for(p) for p in set(policy_of.values()) if p}
    calendar = workcal.current()
    clocks = []
    for pk, case in zip(case_ids, specs, strict=True):
        policy = policy_of.get(case.category, "")
        if not policy or case.state in FINAL or case.state == State.REPORTED:
            continue
        for spec in specs_of[policy]:
            starts = [e.at for e in case.events if e.action == spec.starts_on]
            if not starts:
                continue  # e.g. a utility case not yet dispatched
            clock = CaseClock(case_id=pk, policy=policy, code=spec.code, name=spec.name,
                              amount=spec.amount, unit=spec.unit, goal=spec.goal,
                              on_breach=spec.on_breach, warn_fraction=spec.warn_fraction,
                              started_at=starts[0])
            set_deadline(clock, calendar)
            goal = LINE.index(spec.goal)
            met = [e.at for e in case.events if e.at >= clock.started_at
                   and e.to_state in LINE and LINE.index(e.to_state) >= goal]
            if met:
                clock.status, clock.met_at = CaseClock.Status.MET, met[0]
            elif case.state == State.SUSPENDED:
                clock.status = CaseClock.Status.PAUSED
                clock.paused_at = [e.at for e in case.events if e.action == "suspend"][-1]
            clocks.append(clock)
    return clocks
