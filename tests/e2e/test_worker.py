"""The worker as a real process (`wangge worker`) on its own data dir and database:

- killed with SIGKILL at random moments under a stream of changes, restarted, drained: every
  message reaches the webhook at least once with its key, a receiver deduplicating by
  Idempotency-Key sees each exactly once, and no delivery row is lost;
- on PostgreSQL, two workers draining one backlog together: no message sent twice, and a
  periodic job run by one of them at a time, once per interval.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BIN, _database_url, _drop_database, make_env
from wangge.integration.tests.receiver import Receiver, running_receiver

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = os.environ.get("WANGGE_DATABASE_URL", "").startswith("postgres")

#: enqueue N messages from another process, a few per transaction, while the worker runs
PRODUCER = """
import os, random, time, django
django.setup()
from django.db import transaction
from wangge.integration import outbox
n, pause = int(os.environ["N"]), float(os.environ["PAUSE"])
rng, i = random.Random(int(os.environ["SEED"])), 0
while i < n:
    with transaction.atomic():
        for _ in range(min(rng.randint(1, 3), n - i)):
            outbox.enqueue("e2e.tick", {"i": i}, key=f"e2e-{i:04d}")
            i += 1
    time.sleep(rng.uniform(0, pause))
"""

#: the deliveries as the database has them: status counts and who delivered
STATE = """
import json, django
django.setup()
from django.db.models import Count
from wangge.integration.models import Delivery, OutboxMessage
print(json.dumps({
    "deliveries": dict(Delivery.objects.values_list("status").annotate(n=Count("id"))),
    "messages": dict(OutboxMessage.objects.filter(topic="e2e.tick").values_list("status")
                     .annotate(n=Count("id"))),
    "by_worker": dict(Delivery.objects.filter(status="delivered").values_list("leased_by")
                      .annotate(n=Count("id"))),
    "attempts": dict(Delivery.objects.values_list("message__idempotency_key", "attempts")),
}))
"""


@dataclass
class Site:
    """One data dir and database, set up with the CLI, and a webhook subscription to a
    receiver in this test process."""

    env: dict[str, str]
    logs: Path
    receiver: Receiver

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "wangge"), *args], env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def python(self, code: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(BIN / "python"), "-c", code], text=True,
                                env={**self.env, "DJANGO_SETTINGS_MODULE": "wangge.settings",
                                     **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def state(self) -> dict[str, Any]:
        proc = self.python(STATE)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        return json.loads(out)

    def worker(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (the child keeps it)
        try:
            return subprocess.Popen([str(BIN / "wangge"), "worker", "--interval", "0.05",
                                     *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Site]]:
    made: list[str | None] = []

    def make(receiver: Receiver, **settings: str) -> Site:
        db_url = _database_url(f"worker_{request.node.name[5:20]}")
        made.append(db_url)
        env = make_env(tmp_path / "data", db_url)
        env.update(settings, PYTHONPATH=str(ROOT))
        logs = tmp_path / "logs"
        logs.mkdir()
        s = Site(env=env, logs=logs, receiver=receiver)
        s.cli("manage", "migrate", "-v", "0")  # the schema is all a worker needs
        s.cli("subscriptions", "add", "--name", "e2e-hook", "--topic", "e2e.*", "--kind",
              "webhook", "--url", receiver.url, "--secret", receiver.secret)
        return s

    yield make
    for url in made:
        _drop_database(url)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=15)


def test_kill_9_at_random_moments_loses_nothing(site: Callable[..., Site]) -> None:
    n, rng = 240, random.Random(20261125)
    with running_receiver("kill-test-secret", delay_s=0.02, fail_rate=0.1) as receiver:
        s = site(receiver, WANGGE_OUTBOX_LEASE_S="1.5", WANGGE_WEBHOOK_TIMEOUT_S="0.4",
                 WANGGE_OUTBOX_BACKOFF_BASE_S="0.1", WANGGE_OUTBOX_BACKOFF_MAX_S="0.5",
                 WANGGE_OUTBOX_MAX_ATTEMPTS="30", WANGGE_OUTBOX_BATCH="5")
        producer = s.python(PRODUCER, N=str(n), PAUSE="0.05", SEED="1")
        kills = 0
        while producer.poll() is None or kills < 6:
            worker = s.worker(f"killed-{kills}")
            # kill it while it works: once it has sent something (start-up time varies with
            # the machine's load), at a random moment within its next few sends
            before = len(receiver.hits)
            wait_for(lambda b=before: len(receiver.hits) > b or len(receiver.processed()) == n,
                     30, "the worker to start sending")
            time.sleep(rng.uniform(0, 0.3))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            kills += 1
        assert producer.wait(timeout=60) == 0, producer.stderr.read() if producer.stderr else ""

        last = s.worker("last")
        wait_for(lambda: len(receiver.processed()) == n, 45, f"{n} keys at the receiver")
        wait_for(lambda: s.state()["deliveries"] == {"delivered": n}, 15,
                 "every delivery row marked delivered")
        assert stop(last) == 0
        assert "stopped" in s.log("last")

    expected = {f"e2e-{i:04d}" for i in range(n)}
    assert set(receiver.processed()) == expected  # each exactly once after deduplication
    assert all(h.signed for h in receiver.hits)
    bodies: dict[str, set[bytes]] = {}
    for h in receiver.hits:
        bodies.setdefault(h.key, set()).add(h.body)
    assert all(len(b) == 1 for b in bodies.values())  # a retry sends the very same body
    state = s.state()
    assert state["messages"] == {"routed": n}
    assert set(state["attempts"]) == expected  # one row per message, none lost
    # Attempts are counted when a row is claimed: more attempts than hits means a worker was
    # killed holding the row, and another took it over when the lease ran out.
    hits = receiver.keys
    unsent = sum(max(0, a - hits[k]) for k, a in state["attempts"].items())
    resent = len(receiver.hits) - n - receiver.failed
    print(f"{kills} kills; taken over after the lease ran out: {unsent} rows claimed but not "
          f"yet sent, {resent} delivered but not yet noted (so sent twice); "
          f"{receiver.failed} answered 500 and retried")
    assert unsent + resent > 0, "no kill landed while a worker held leased rows"


@pytest.mark.skipif(not ON_POSTGRES, reason="several workers need PostgreSQL (SKIP LOCKED, "
                    "advisory locks); on SQLite one worker runs: set WANGGE_DATABASE_URL")
def test_two_workers_share_a_backlog_and_a_periodic_job_on_postgresql(
    site: Callable[..., Site], tmp_path: Path
) -> None:
    n, every = 400, 1.0
    job_log = tmp_path / "job-runs.txt"
    with running_receiver("two-workers", delay_s=0.005) as receiver:
        s = site(receiver, WANGGE_OUTBOX_LEASE_S="30", WANGGE_OUTBOX_BATCH="5",
                 WANGGE_WORKER_JOBS="tests.e2e.worker_jobs.quick,tests.e2e.worker_jobs.slow",
                 WANGGE_E2E_JOB_LOG=str(job_log))
        producer = s.python(PRODUCER, N=str(n), PAUSE="0", SEED="2")
        assert producer.wait(timeout=60) == 0  # the backlog, before any worker is up
        workers = [s.worker(f"w{i}", "--sweep-every", str(every)) for i in (1, 2)]
        wait_for(lambda: len(receiver.processed()) == n, 30, f"{n} keys at the receiver")
        # Workers starting in the middle of an interval ask for the job at once: only the
        # claim in the database (not their own timers) keeps them from running it again.
        late = []
        for k in range(3):  # staggered, so they ask at different points of an interval
            late.append(s.worker(f"late{k}", "--sweep-every", str(every)))
            time.sleep(0.3)
        wait_for(lambda: all("started" in s.log(f"late{k}") for k in range(3)), 20,
                 "the late workers up")
        time.sleep(1.5 * every)
        assert [stop(w) for w in late] == [0, 0, 0]
        assert [stop(w) for w in workers] == [0, 0]

    assert set(receiver.keys.values()) == {1}, "a message was delivered twice"
    state = s.state()
    assert state["deliveries"] == {"delivered": n}
    assert len(state["by_worker"]) == 2, f"one worker did all the work: {state['by_worker']}"
    lines = [line.split() for line in job_log.read_text().splitlines()]
    for job, least in (("quick", 5), ("slow", 3)):
        runs = sorted((float(start), float(end)) for name, start, end, _ in lines if name == job)
        assert len(runs) >= least, f"{job} ran {len(runs)} times"
        for (start, end), (next_start, _) in itertools.pairwise(runs):
            assert next_start >= end, f"two runs of {job} overlapped"
            assert next_start - start >= every - 0.05, f"{job} ran twice in one interval"
    pids = {pid for *_, pid in lines}
    print(f"delivered by {state['by_worker']}; {len(lines)} job runs by {len(pids)} processes")
