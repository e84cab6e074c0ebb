"""The SLA sweep in real processes: killed with SIGKILL half-way it loses nothing and repeats
nothing; two sweeping at once on PostgreSQL never act twice on a clock."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, _database_url, _drop_database, make_env

ON_POSTGRES = os.environ.get("WANGGE_DATABASE_URL", "").startswith("postgres")
CASES = 200

#: report and register CASES general cases, then make every clock overdue
MAKE = """
import django, datetime as dt
django.setup()
from django.contrib.auth import get_user_model
from wangge.cases import actions
from wangge.cases.models import CaseClock
from wangge.territory.models import Grid
users = get_user_model().objects
worker, dispatcher = users.get(username="gridworker"), users.get(username="dispatcher")
grid = Grid.objects.get(name="胜利社区第1网格")
import os
for i in range(int(os.environ["CASES"])):
    case = actions.do_report({"category": "0101", "title": f"sweep {i}",
                              "lng": grid.label_lng + 0.0009 * (i % 3),
                              "lat": grid.label_lat}, worker, channel="grid_worker")
    actions.do_transition(case, "register", dispatcher)
past = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
CaseClock.objects.update(deadline=past, warn_at=past)
"""

#: small batches (a batch is one transaction), so a kill can land between two of them and
#: two sweeps interleave
SWEEP = """
import django
django.setup()
from wangge.cases import jobs
jobs.BATCH = 10
print(jobs.sweep())
"""

COUNT = """
import django, json
django.setup()
from django.db.models import Count
from wangge.cases.models import CaseClock, CaseEvent, Supervision
per_case = lambda action: sorted(set(CaseEvent.objects.filter(action=action).values("case")
    .annotate(n=Count("id")).values_list("n", flat=True)))
print(json.dumps({
    "breached": CaseClock.objects.filter(breached_at__isnull=False).count(),
    "breach_events": per_case("sla_breach"), "warning_events": per_case("sla_warning"),
    "escalations": per_case("escalate"), "reply_due": per_case("reply_due"),
    "supervisions": sorted(set(Supervision.objects.values("case").annotate(n=Count("id"))
                               .values_list("n", flat=True))),
    "cases_breached": CaseEvent.objects.filter(action="sla_breach").values("case")
    .distinct().count(),
}))
"""


class Site:
    def __init__(self, env: dict[str, str]):
        self.env = env

    def handled(self) -> int:
        """Sweep events so far, read straight from the database while a sweep runs."""
        sql = ("SELECT count(*) FROM cases_caseevent "
               "WHERE action IN ('sla_warning', 'sla_breach')")
        url = self.env.get("WANGGE_DATABASE_URL")
        if url:
            import psycopg

            with psycopg.connect(url.replace("postgresql://", "postgres://")) as conn:
                return conn.execute(sql).fetchone()[0]  # type: ignore[index]
        import sqlite3

        with sqlite3.connect(Path(self.env["WANGGE_DATA_DIR"]) / "wangge.sqlite3") as conn:
            return conn.execute(sql).fetchone()[0]

    def run(self, code: str) -> str:
        done = subprocess.run([str(BIN / "python"), "-c", code], env=self.env, text=True,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def start(self, code: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(BIN / "python"), "-c", code], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    db_url = _database_url(f"sweep_{request.node.name[5:18]}")
    env = make_env(tmp_path / "data", db_url)
    env.update(DJANGO_SETTINGS_MODULE="wangge.settings", CASES=str(CASES))
    for args in (["manage", "migrate", "-v", "0"],
                 ["demo", "load", "--residents", "0", "--cases", "0"]):
        done = subprocess.run([str(BIN / "wangge"), *args], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    s = Site(env)
    s.run(MAKE)
    yield s
    _drop_database(db_url)


def exactly_once(counts: dict[str, object]) -> None:
    """Every clock warned once and breached once; per case one escalation, one automatic
    supervision and one move to reply_due (the demo without cases has no other clocks)."""
    assert counts["breached"] == counts["cases_breached"] == CASES
    for what in ("breach_events", "warning_events", "escalations", "supervisions",
                 "reply_due"):
        assert counts[what] == [1], (what, counts)


def test_a_sweep_killed_half_way_loses_nothing_and_repeats_nothing(site: Site) -> None:
    rng = random.Random(7)
    landed = []
    for _ in range(3):
        before = site.handled()
        sweep = site.start(SWEEP)
        deadline = time.monotonic() + 60
        while site.handled() == before and sweep.poll() is None:  # wait until it works
            assert time.monotonic() < deadline, "the sweep never started"
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.2))
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(timeout=30)
        landed.append(before < site.handled() < 2 * CASES)
    assert any(landed), "no kill landed while the sweep was half-way"
    site.run(SWEEP)
    site.run(SWEEP)  # nothing left: a second full sweep changes nothing
    counts = json.loads(site.run(COUNT))
    exactly_once(counts)


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent sweeps need PostgreSQL (SKIP LOCKED); "
                    "SQLite runs one worker: set WANGGE_DATABASE_URL")
def test_two_sweeps_at_once_never_act_twice_on_postgresql(site: Site) -> None:
    sweeps = [site.start(SWEEP) for _ in range(2)]
    outputs = [s.communicate(timeout=300)[0] for s in sweeps]
    assert all(s.returncode == 0 for s in sweeps)
    counts = json.loads(site.run(COUNT))
    exactly_once(counts)
    breached = [int(o.split("breached=")[1].rstrip(")\n")) for o in outputs]
    assert sum(breached) == counts["breached"]  # split between them, none twice
