"""The demo's open cases carry the SLA clocks the loop would have started, so the worker's
first sweep gives the SLA board and the notifications something real to show."""

from __future__ import annotations

import pytest

from wangge.cases import jobs
from wangge.cases.models import Case, CaseClock, CaseEvent
from wangge.cases.workflow import FINAL

pytestmark = pytest.mark.django_db


def test_open_demo_cases_have_the_clocks_the_loop_would_have_started() -> None:
    clocks = list(CaseClock.objects.select_related("case", "case__category"))
    assert len(clocks) > 20
    assert not [c for c in clocks if c.case.state in FINAL and c.status == "running"]
    for clock in clocks:
        case = clock.case
        assert clock.policy == case.category.sla_policy
        trigger = "dispatch" if clock.policy == "utility_24h_3wd" else "register"
        assert CaseEvent.objects.filter(case=case, action=trigger, at=clock.started_at).exists()
        assert clock.deadline is None or clock.deadline > clock.started_at
        if clock.status == "met":
            assert clock.met_at is not None and clock.met_at >= clock.started_at
        if case.state == "suspended" and clock.status != "met":
            assert clock.status == "paused" and clock.paused_at is not None


def test_the_first_sweep_after_loading_warns_and_breaches_the_overdue_ones() -> None:
    before = CaseEvent.objects.filter(action="sla_breach").count()
    report = jobs.sweep()
    assert report.breached >= 1
    assert CaseEvent.objects.filter(action="sla_breach").count() == before + report.breached
    assert jobs.sweep().breached == 0  # once
    late = Case.objects.filter(clocks__breached_at__isnull=False).distinct()
    assert all(c.supervisions.exists() for c in late)
