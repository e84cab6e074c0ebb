"""Periodic jobs: loaded (or refused) at start-up, run once per interval whichever worker
asks, a failure recorded without stopping the worker; and the worker command itself."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from wangge.integration import actions, jobs, outbox
from wangge.integration.models import Delivery, JobRun, OutboxMessage
from wangge.integration.tests.receiver import running_receiver

pytestmark = pytest.mark.django_db

HERE = "wangge.integration.tests.test_jobs"
CALLS: list[datetime | None] = []


def job_without_args() -> int:
    CALLS.append(None)
    return 3


def job_with_now(now: datetime) -> dict[str, int]:
    CALLS.append(now)
    return {"escalated": 0}


def failing_job() -> None:
    raise ValueError("sweep hit a bad row")


def job_with_two_args(now: datetime, other: int) -> None:
    pass


@pytest.fixture(autouse=True)
def clear_calls() -> None:
    CALLS.clear()


def test_jobs_take_nothing_or_now() -> None:
    plain, timed = jobs.load([f"{HERE}.job_without_args", f"{HERE}.job_with_now"])
    assert not plain.takes_now and timed.takes_now
    assert jobs.run_due([plain, timed], "w1", every=60) == 2
    assert CALLS[0] is None and isinstance(CALLS[1], datetime)
    row = JobRun.objects.get(name=f"{HERE}.job_with_now")
    assert row.last_ok and row.last_result == "{'escalated': 0}" and row.runs == 1


@pytest.mark.parametrize(("path", "reason"), [
    ("wangge.cases.nothing_here.sweep", "cannot import"),
    (f"{HERE}.no_such_function", "cannot import"),
    (f"{HERE}.HERE", "not callable"),
    (f"{HERE}.job_with_two_args", "more than `now`"),
])
def test_a_bad_job_stops_the_worker_at_start_up(path: str, reason: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=reason):
        jobs.load([path])


def test_a_job_runs_once_per_interval_whichever_worker_asks() -> None:
    [job] = jobs.load([f"{HERE}.job_without_args"])
    [other] = jobs.load([f"{HERE}.job_without_args"])  # a second worker's copy
    assert jobs.run_due([job], "w1", every=60) == 1
    assert jobs.run_due([other], "w2", every=60) == 0  # same interval: taken
    assert jobs.run_due([job], "w1", every=60) == 0  # and not due for w1 either
    assert len(CALLS) == 1
    # the next interval: whoever asks first runs it
    JobRun.objects.update(last_started_at=timezone.now() - timedelta(seconds=61))
    other.next_check = 0
    assert jobs.run_due([other], "w2", every=60) == 1
    assert JobRun.objects.get().last_worker == "w2" and JobRun.objects.get().runs == 2


def test_the_claim_is_one_winner_among_many() -> None:
    row = JobRun.objects.create(name="x")
    wins = [actions.do_claim_job_run(row, f"w{i}", every=timedelta(seconds=60))
            for i in range(5)]
    assert wins == [True, False, False, False, False]


def test_a_failing_job_is_recorded_and_the_others_still_run() -> None:
    loaded = jobs.load([f"{HERE}.failing_job", f"{HERE}.job_without_args"])
    assert jobs.run_due(loaded, "w1", every=60) == 2
    failed = JobRun.objects.get(name=f"{HERE}.failing_job")
    assert failed.last_ok is False and "sweep hit a bad row" in failed.last_error
    assert CALLS == [None]


def test_worker_command_refuses_a_missing_job(settings: Any) -> None:
    settings.WANGGE_WORKER_JOBS = ["wangge.cases.jobs.not_written_yet"]
    with pytest.raises(CommandError, match=r"WANGGE_WORKER_JOBS.*not_written_yet"):
        call_command("worker", "--once", stderr=io.StringIO())


def test_worker_command_refuses_a_lease_shorter_than_a_send(settings: Any) -> None:
    settings.WANGGE_OUTBOX_LEASE_S = 5
    settings.WANGGE_WEBHOOK_TIMEOUT_S = 10
    with pytest.raises(CommandError, match="WANGGE_OUTBOX_LEASE_S"):
        call_command("worker", "--once", stderr=io.StringIO())


def test_worker_once_runs_jobs_routes_and_delivers(settings: Any) -> None:
    settings.WANGGE_WORKER_JOBS = [f"{HERE}.job_with_now"]
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.DONE)
    with running_receiver("k") as receiver:
        actions.do_save_subscription(name="h", topic="case.*", kind="webhook",
                                     url=receiver.url, secret="k")
        with transaction.atomic():
            for i in range(25):  # more than one batch
                outbox.enqueue("case.created", {"n": i})
        call_command("worker", "--once", "--batch", "7", stderr=io.StringIO())
        assert len(receiver.processed()) == 25 and all(h.signed for h in receiver.hits)
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 25
    assert len(CALLS) == 1


def test_subscriptions_cli_generates_a_secret_once_and_lists_without_it() -> None:
    out = io.StringIO()
    call_command("subscriptions", "add", "--name", "cm", "--topic", "case.*", "--kind",
                 "webhook", "--url", "https://cm.example.org/in", stdout=out,
                 stderr=io.StringIO())
    secret = out.getvalue().strip().splitlines()[-1]
    assert len(secret) > 30
    listing = io.StringIO()
    call_command("subscriptions", "list", stdout=listing)
    assert "cm\tcase.*\twebhook" in listing.getvalue() and secret not in listing.getvalue()
    call_command("subscriptions", "deactivate", "cm", stdout=io.StringIO())
    again = io.StringIO()
    call_command("subscriptions", "add", "--name", "cm", "--topic", "*", "--kind", "log",
                 "--if-missing", stdout=again)
    assert "exists" in again.getvalue()
    with pytest.raises(CommandError, match="--url"):
        call_command("subscriptions", "add", "--name", "bad", "--topic", "*", "--kind",
                     "webhook", stdout=io.StringIO(), stderr=io.StringIO())
