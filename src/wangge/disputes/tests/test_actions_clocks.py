"""The stage clocks from StageClock and workcal's calendar, the sweep (warn, late,
idempotent) and a deadline left unknown when the calendar misses its year."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from wangge.core.models import OutboxMessage
from wangge.disputes import jobs
from wangge.disputes.actions import clocks
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.models import Dispute, Event, StageClock
from wangge.disputes.tests.conftest import dispute_payload
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
#: a Monday in a year the calendar covers
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SH)


def totals() -> tuple[int, int, int]:
    return (Event.objects.count(), OutboxMessage.objects.count(),
            Dispute.objects.filter(warned_at__isnull=False).count()
            + Dispute.objects.filter(breached_at__isnull=False).count())


@pytest.fixture
def running(place, staff) -> Dispute:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    clocks.start_stage(d, StageClock.Stage.MEDIATE, START)
    d.save()
    return d


def test_deadlines_come_from_the_stage_clock_and_the_calendar(running) -> None:  # type: ignore[no-untyped-def]
    cal = calendar.current()
    assert running.due_at == cal.add_working_days(START, 30)
    assert running.warn_at == cal.add_working_days(START, 24)  # warn_fraction 0.8
    StageClock.objects.filter(stage="mediate").update(working_days=10, warn_fraction=0.5)
    warn, due = clocks.deadlines("mediate", START)
    assert (warn, due) == (cal.add_working_days(START, 5), cal.add_working_days(START, 10))
    assert clocks.deadlines("no_such_stage", START) == (None, None)


def test_sweep_warns_then_marks_late_once(running) -> None:  # type: ignore[no-untyped-def]
    before_warn = running.warn_at - dt.timedelta(minutes=1)
    jobs.sweep(before_warn)
    assert not Event.objects.filter(dispute=running, kind__in=["warned", "breached"]).exists()

    at = running.warn_at + dt.timedelta(minutes=1)
    jobs.sweep(at)
    d = Dispute.objects.get(pk=running.pk)
    assert d.warned_at == at and d.breached_at is None
    assert Event.objects.filter(dispute=d, kind="warned").count() == 1
    msg = OutboxMessage.objects.get(topic="disputes.stage_warning", payload__number=d.number)
    assert msg.payload["stage"] == "mediate" and msg.payload["grid"] == d.grid.code
    before = totals()
    jobs.sweep(at)  # a second sweep at the same moment writes nothing
    assert totals() == before

    late = running.due_at + dt.timedelta(minutes=1)
    jobs.sweep(late)
    d.refresh_from_db()
    assert d.breached_at == late
    assert Event.objects.filter(dispute=d, kind="breached").count() == 1
    assert OutboxMessage.objects.filter(topic="disputes.stage_late",
                                        payload__number=d.number).count() == 1
    before = totals()
    result = jobs.sweep(late)
    assert totals() == before and result["disputes_late"] == 0


def test_a_late_dispute_not_yet_warned_is_marked_late_only(running) -> None:  # type: ignore[no-untyped-def]
    jobs.sweep(running.due_at + dt.timedelta(days=1))
    assert list(Event.objects.filter(dispute=running, kind__in=["warned", "breached"])
                .values_list("kind", flat=True)) == ["breached"]


def test_a_settled_dispute_has_no_running_clock(running, staff) -> None:  # type: ignore[no-untyped-def]
    from wangge.disputes.actions.mediation import do_withdraw

    do_withdraw(staff.grid_mediator, running.pk, reason="和解")
    jobs.sweep(running.due_at + dt.timedelta(days=1))
    assert not Event.objects.filter(dispute=running, kind__in=["warned", "breached"]).exists()


def test_a_missing_calendar_year_leaves_the_deadline_unknown(place, staff, monkeypatch
                                                             ) -> None:  # type: ignore[no-untyped-def]
    real = calendar.current()

    class Uncovered:
        def add_working_days(self, moment: dt.datetime, n: int) -> dt.datetime:
            raise CalendarNotCovered(moment.year + 1)

    monkeypatch.setattr(calendar, "current", lambda: Uncovered())
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))  # never fails
    assert (d.stage, d.due_at, d.warn_at) == ("accept", None, None)
    jobs.sweep(d.stage_started_at + dt.timedelta(days=60))  # nothing to warn, no failure
    assert Dispute.objects.get(pk=d.pk).due_at is None
    # the year entered: the next sweep fills the deadline in
    monkeypatch.setattr(calendar, "current", lambda: real)
    result = jobs.sweep(d.stage_started_at)
    d.refresh_from_db()
    assert d.due_at == real.add_working_days(d.stage_started_at, 3)
    assert result["disputes_filled"] >= 1


def test_the_sweep_is_a_worker_job() -> None:
    from django.conf import settings

    assert "wangge.disputes.jobs.sweep" in settings.WANGGE_WORKER_JOBS
