"""SLA sweep among a million open cases: `wangge.cases.jobs.sweep` on SQLite and PostgreSQL.

Run from the repository root::

    .venv/bin/python benchmarks/sweep.py [--db sqlite|postgres|both] [--cases 1000000]
                                         [--due 1000] [--rounds 3] [--keep]

django.setup() binds one database per process, so each database runs in a child process of
this script (``--one sqlite|postgres``, internal): a fresh data directory and, on
PostgreSQL, the database ``wangge_bench_sweep``; ``wangge setup`` and ``wangge demo load
--residents 0 --cases 0`` (the city, its staff, the duty list, the calendar and the SLA
policies; no cases); then --cases open cases on the 820 basic grids, one running SLA clock
each, written below the ORM with `wangge.core.bulk` (COPY on PostgreSQL, executemany on
SQLite). At the reference time T0, --due of those clocks are newly breached, --due are newly
due for a warning, and no other is due for anything. Then it times

* ``sweep(T0)`` handling those 2 × --due clocks, wall time, split into finding (``_claim``),
  handling (``do_clock_warnings`` / ``do_clock_breaches``, one call per batch) and
  commits, with the SQL statements counted (COPY goes around Django's cursor: not
  counted); --rounds rounds, the later ones on clocks made due again by an UPDATE;
* the idle ``sweep(T0)`` (nothing due): what finding among a million costs;
* as the baseline, the raw ``SELECT id FROM cases_caseclock WHERE status = 'running' AND
  breached_at IS NULL AND deadline <= T0`` using the partial index ``clock_breach_due``,
  and the same without an index (PostgreSQL: index and bitmap scans off; SQLite:
  ``NOT INDEXED``), with the plans.

Each round must write exactly --due breach and --due warning events, and the next sweep must
handle none. Target: the sweep under 1 s on PostgreSQL. When it is slower (``--profile
auto``), one more round runs under cProfile. A table goes to stdout and the figures to
``benchmarks/results/sweep-<date>.json``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import io
import json
import math
import os
import platform
import pstats
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB_NAME = "wangge_bench_sweep"
BIN = Path(sys.executable).parent
DBS = ("sqlite", "postgres")
TARGET_MS = 1000.0  # one sweep of the newly due clocks among 1M open cases, on PostgreSQL
CHUNK = 50_000  # cases per insert transaction
TICK = os.sysconf("SC_CLK_TCK")
#: open states and their shares; clocks that start on dispatch never have a registered case
STATES = {"registered": 0.2, "dispatched": 0.2, "accepted": 0.2, "in_progress": 0.4}
LINE = ["registered", "dispatched", "accepted", "in_progress", "handled"]
LEVELS = ((3, 0.85), (2, 0.12), (0, 0.03))  # handling level: workstation, sub-center, center
#: the due clocks' times lie this many seconds before T0 (newly due: within the last hour)
DUE_WINDOW_S = (60, 3000)
#: no other clock is due for a warning before T0 + this
MARGIN = dt.timedelta(hours=1)


# --------------------------------------------------------------------------- helpers


def log(prefix: str, text: str) -> None:
    print(f"[{prefix}] {text}", flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def median_ms(seconds: Sequence[float]) -> float:
    return ms(statistics.median(seconds)) if seconds else math.nan


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine_info() -> dict[str, Any]:
    cpu = mem = ""
    with suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    with suppress(OSError, StopIteration, ValueError):
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        mem = f"{kib / 2**20:.1f} GiB"
    git = ""
    with suppress(OSError, subprocess.SubprocessError):
        root = Path(__file__).resolve().parent.parent
        git = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "git": git,
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version()}


def database_url(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    i = {k: quote(str(v), safe="") for k, v in conninfo_to_dict(dsn).items() if v}
    auth = i.get("user", "postgres") + (f":{i['password']}" if "password" in i else "")
    return f"postgresql://{auth}@{i.get('host', '127.0.0.1')}:{i.get('port', 5432)}/{dbname}"


def pg_admin(dsn: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]  # our own constant SQL


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "wangge"), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wangge {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def process_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a process on this machine (the PostgreSQL backend)."""
    if pid is None:
        return None
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / TICK


def sql_label(statement: str) -> str:
    """'INSERT cases_caseevent', 'SELECT cases_case FOR UPDATE', 'SAVEPOINT' …"""
    m = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', statement)
    return (f"{statement.split(None, 1)[0].upper()} {m.group(1) if m else ''}"
            f"{' FOR UPDATE' if 'FOR UPDATE' in statement else ''}").strip()


def plan_head(plan: str) -> str:
    """The plan's scans and joins in a few words: 'Nested Loop; Index Scan using … ; …'."""
    nodes = []
    for line in plan.splitlines():
        text = re.sub(r"\s+\(cost=.*|\s+\(actual .*", "", line.strip().lstrip("->").strip())
        if re.search(r"Scan|SCAN|SEARCH|Join|Nested Loop|Parallel", text) and ":" not in text:
            nodes.append(text)
    return "; ".join(nodes) or (plan.splitlines()[0].strip() if plan else "")


# --------------------------------------------------------------------------- child: load


def _columns(model: Any, given: list[str]) -> tuple[list[str], list[Any]]:
    """id, the given columns, then any other concrete field with its default (so a column
    added to the model later does not break the load)."""
    from django.db import connection
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rest = [f for f in model._meta.concrete_fields
            if f.attname not in given and not f.primary_key]
    defaults = [now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_db_prep_save(f.get_default(), connection) for f in rest]
    return ["id", *given, *(f.attname for f in rest)], defaults


def _datetime_adapter() -> Callable[[dt.datetime | None], Any]:
    """Aware UTC datetimes → what the backend stores (SQLite: naive UTC text, formatted
    directly: millions of values)."""
    from django.db import connection

    general = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or connection.timezone_name != "UTC":
        return general

    def sqlite(value: dt.datetime | None) -> Any:
        if value is None or value.tzinfo is not dt.UTC:
            return general(value)
        return value.isoformat(" ")[:-6]

    return sqlite


CASE_FIELDS = ["register_no", "category_id", "grid_id", "lng", "lat", "title", "description",
               "channel", "reporter_id", "state", "confidential", "department_id",
               "external_system_id", "routed_by_id", "handling_level", "rework_count",
               "closeout_reason", "satisfaction", "followup_note", "written_reply",
               "replied_at", "created_at", "registered_at", "closed_at"]
CLOCK_FIELDS = ["case_id", "policy", "code", "name", "amount", "unit", "goal", "on_breach",
                "warn_fraction", "status", "started_at", "deadline", "warn_at",
                "calendar_missing", "paused_at", "met_at", "warned_at", "breached_at"]


def nominal(amount: float, unit: str) -> dt.timedelta:
    """A clock's length in calendar time, roughly (5 working days a week, 8 office hours)."""
    days = {"working_days": amount * 7 / 5, "natural_days": amount,
            "hours": amount / 24, "working_hours": amount / 8 * 7 / 5}[unit]
    return dt.timedelta(days=days)


class CaseMaker:
    """Generates the open cases and their clocks as database-ready tuples."""

    def __init__(self, t0: dt.datetime, n: int, due: int, seed: int) -> None:
        from django.conf import settings

        from wangge.cases.models import CaseCategory
        from wangge.demo.caseload import casegen_inputs
        from wangge.integration.models import ExternalSystem
        from wangge.org.models import Department
        from wangge.territory.models import Grid, Level
        from wangge.workcal import calendar as workcal
        from wangge.workcal.policies import clocks_for

        self.t0, self.n, self.due = t0, n, due
        self.rng = random.Random(seed)
        self.grids, _categories, self.route, _staff = casegen_inputs()
        self.grid_ids = dict(Grid.objects.filter(level=Level.BASIC).values_list("code", "id"))
        self.departments = dict(Department.objects.values_list("code", "id"))
        self.systems = dict(ExternalSystem.objects.values_list("code", "id"))
        self.categories = list(CaseCategory.objects.filter(parent__isnull=False)
                               .exclude(sla_policy="").order_by("code")
                               .values_list("id", "code", "name", "confidential", "sla_policy"))
        self.specs = {p: clocks_for(p) for p in {c[4] for c in self.categories}}
        self.calendar = workcal.current()
        self.prefix, self.year = settings.WANGGE_CASE_PREFIX, t0.astimezone(
            self.calendar_tz()).year
        self.when = _datetime_adapter()
        self.stats: Counter[str] = Counter()

    @staticmethod
    def calendar_tz() -> dt.tzinfo:
        from wangge.workcal.deadlines import SHANGHAI

        return SHANGHAI

    def deadline(self, start: dt.datetime, amount: float, unit: str) -> dt.datetime:
        from wangge.workcal.deadlines import CalendarNotCovered

        try:
            return self.calendar.deadline(start, amount, unit).astimezone(dt.UTC)
        except CalendarNotCovered:
            self.stats["deadline_without_calendar"] += 1
            return start + nominal(amount, unit)

    def clock_times(self, i: int, spec: Any) -> tuple[dt.datetime, ...]:
        """(started_at, deadline, warn_at, warned_at or None) of case i's clock."""
        rng, t0, length = self.rng, self.t0, nominal(spec.amount, spec.unit)
        if i < self.due:  # newly breached: warned long ago, the deadline just passed
            deadline = t0 - dt.timedelta(seconds=rng.uniform(*DUE_WINDOW_S))
            start = deadline - length
            warn = start + (deadline - start) * spec.warn_fraction
            return start, deadline, warn, warn
        if i < 2 * self.due:  # newly due for a warning, the deadline still ahead
            warn = t0 - dt.timedelta(seconds=rng.uniform(*DUE_WINDOW_S))
            start = warn - length * spec.warn_fraction
            return start, start + length, warn, None
        back = length * 0.6  # started a while ago: deadlines over the next days and weeks
        for _ in range(6):
            start = t0 - back * rng.random()
            deadline = self.deadline(start, spec.amount, spec.unit)
            warn = start + (deadline - start) * spec.warn_fraction
            if warn > t0 + MARGIN:
                return start, deadline, warn, None
            back /= 2
        self.stats["clock_started_just_now"] += 1
        start = t0 - dt.timedelta(minutes=1)
        deadline = max(self.deadline(start, spec.amount, spec.unit), t0 + 2 * MARGIN)
        warn = max(start + (deadline - start) * spec.warn_fraction, t0 + MARGIN)
        return start, deadline, warn, None

    def rows(self, start: int, stop: int, case_ids: list[int], clock_ids: list[int],
             case_rest: list[Any], clock_rest: list[Any]
             ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, when = self.rng, self.when
        states, weights = list(STATES), list(STATES.values())
        levels, level_weights = [lv for lv, _ in LEVELS], [w for _, w in LEVELS]
        cases, clocks = [], []
        for k, i in enumerate(range(start, stop)):
            cat_id, cat_code, cat_name, confidential, policy = rng.choice(self.categories)
            grid = rng.choice(self.grids)
            specs = self.specs[policy]
            on_register = [s for s in specs if s.starts_on == "register"]
            if on_register:
                state = rng.choices(states, weights)[0]
                spec = on_register[0]
            else:  # the clocks start on dispatch: the case is dispatched at least
                state = rng.choices(states[1:], weights[1:])[0]
                running = [s for s in specs if s.starts_on == "dispatch"
                           and LINE.index(s.goal) > LINE.index(state)]
                spec = rng.choice(running)
            started, deadline, warn_at, warned_at = self.clock_times(i, spec)
            if spec.starts_on == "register":
                registered = started
            else:
                registered = started - dt.timedelta(seconds=rng.uniform(300, 7200))
            created = registered - dt.timedelta(seconds=rng.uniform(60, 3600))
            target = self.route(cat_code, grid.code)
            channel = "grid_worker" if grid.worker and rng.random() < 0.6 else rng.choice(
                ("station", "resident", "walk_in"))
            cases.append((
                case_ids[k], f"{self.prefix}-{self.year}-{i + 1:07d}", cat_id,
                self.grid_ids[grid.code], grid.label[0], grid.label[1],
                f"{cat_name}（{grid.village}）", "", channel,
                grid.worker if channel == "grid_worker" else None, state, confidential,
                self.departments.get(target.department or "") if target else None,
                self.systems.get(target.system or "") if target else None,
                target.rule if target else None, rng.choices(levels, level_weights)[0], 0, "",
                None, "", "", None, when(created), when(registered), None, *case_rest))
            clocks.append((
                clock_ids[k], case_ids[k], policy, spec.code, spec.name, spec.amount,
                spec.unit, spec.goal, spec.on_breach, spec.warn_fraction, "running",
                when(started), when(deadline), when(warn_at), None, None, None,
                when(warned_at), None, *clock_rest))
            self.stats[f"{policy}/{spec.code}/{state}"] += 1
        return cases, clocks


def load_cases(args: argparse.Namespace, t0: dt.datetime, prefix: str
               ) -> tuple[dict[str, Any], list[int]]:
    """--cases open cases and their clocks; returns the figures and the clock ids in case
    order (clock i belongs to case i; cases 0 … 2·due−1 hold the due clocks)."""
    from django.db import connection, transaction

    from wangge.cases.models import Case, CaseClock, RegisterCounter
    from wangge.core.bulk import allocate_ids, insert_rows

    t_start = time.perf_counter()
    maker = CaseMaker(t0, args.cases, args.due, args.seed)
    case_cols, case_rest = _columns(Case, CASE_FIELDS)
    clock_cols, clock_rest = _columns(CaseClock, CLOCK_FIELDS)
    ids: list[int] = []
    gen_s = insert_s = alloc_s = 0.0
    log(prefix, f"inserting {args.cases:,} open cases with a running clock each "
                f"({'COPY' if connection.vendor == 'postgresql' else 'executemany'}, "
                f"{CHUNK:,} per transaction) …")
    next_report = 0.0
    for start in range(0, args.cases, CHUNK):
        stop = min(start + CHUNK, args.cases)
        with transaction.atomic():
            t = time.perf_counter()
            case_ids = allocate_ids(Case, stop - start)
            clock_ids = allocate_ids(CaseClock, stop - start)
            alloc_s += time.perf_counter() - t
            t = time.perf_counter()
            cases, clocks = maker.rows(start, stop, case_ids, clock_ids, case_rest, clock_rest)
            t2 = time.perf_counter()
            insert_rows(Case, case_cols, cases)
            insert_rows(CaseClock, clock_cols, clocks)
            gen_s, insert_s = gen_s + t2 - t, insert_s + time.perf_counter() - t2
        ids.extend(clock_ids)
        if stop / args.cases >= next_report or stop == args.cases:
            log(prefix, f"  {stop:>9,} cases  {time.perf_counter() - t_start:6.1f} s")
            next_report += 0.2
    RegisterCounter.objects.update_or_create(year=maker.year, defaults={"last": args.cases})
    total = time.perf_counter() - t_start
    out = {"seconds": round(total, 1), "generate_s": round(gen_s, 1),
           "insert_s": round(insert_s, 1), "allocate_ids_s": round(alloc_s, 1),
           "cases_per_s": round(args.cases / total),
           "mix": dict(sorted(maker.stats.items()))}
    log(prefix, f"loaded in {total:.1f} s (generating rows {gen_s:.1f} s, inserting "
                f"{insert_s:.1f} s, allocate_ids {alloc_s:.1f} s, the rest commits): "
                f"{out['cases_per_s']:,} cases + clocks per second")
    return out, ids


def analyze(prefix: str) -> float:
    """PostgreSQL: VACUUM ANALYZE the two big tables, so the planner knows them and
    autovacuum does not wake up during the timings. SQLite: nothing (as deployed)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    t = time.perf_counter()
    with connection.cursor() as cur:
        for table in ("cases_case", "cases_caseclock"):
            cur.execute(f"VACUUM ANALYZE {table}")
    secs = time.perf_counter() - t
    log(prefix, f"VACUUM ANALYZE cases_case, cases_caseclock: {secs:.1f} s")
    return secs


def db_info() -> dict[str, Any]:
    import sqlite3

    from django.db import connection

    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SELECT version(), pg_database_size(current_database()), "
                      "pg_total_relation_size('cases_caseclock'), "
                      "pg_relation_size('clock_breach_due'), pg_relation_size('clock_warn_due')")
            version, size, clocks, breach_idx, warn_idx = c.fetchone()
            c.execute("SHOW shared_buffers")
            return {"server": version.split(" on ")[0], "size_mib": round(size / 2**20, 1),
                    "caseclock_total_mib": round(clocks / 2**20, 1),
                    "clock_breach_due_kib": round(breach_idx / 1024),
                    "clock_warn_due_kib": round(warn_idx / 1024),
                    "shared_buffers": c.fetchone()[0]}
        c.execute("PRAGMA page_count")
        pages = c.fetchone()[0]
        c.execute("PRAGMA page_size")
        size = pages * c.fetchone()[0]
        c.execute("PRAGMA journal_mode")
        return {"server": f"SQLite {sqlite3.sqlite_version}", "size_mib": round(size / 2**20, 1),
                "journal_mode": c.fetchone()[0]}


# --------------------------------------------------------------------------- child: timing


class Probe:
    """Splits a sweep by wrapping what `sla.sweep` calls by name: `_claim` (find), the two
    handlers (handle), `_fill_missing_deadlines` (fill) and the commits; and counts and times
    every SQL statement (a Django execute wrapper). The overhead is a few µs per call."""

    def __init__(self) -> None:
        self.reset()
        self.captured: dict[str, tuple[str, Any]] = {}

    def reset(self) -> None:
        self.phase, self.kind = "other", "warning"
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.query_s: defaultdict[str, float] = defaultdict(float)
        self.statements: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.statement_s: defaultdict[str, defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float))

    def _run(self, phase: str, fn: Callable[..., Any], *args: Any) -> Any:
        before, self.phase = self.phase, phase
        t = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.seconds[phase] += time.perf_counter() - t
            self.calls[phase] += 1
            self.phase = before

    def _execute(self, execute: Callable[..., Any], sql: str, params: Any, many: bool,
                 context: Any) -> Any:
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            secs, label = time.perf_counter() - t, sql_label(sql)
            self.queries[self.phase] += 1
            self.query_s[self.phase] += secs
            self.statements[self.phase][label] += 1
            self.statement_s[self.phase][label] += secs
            self.captured.setdefault(self.phase, (sql, params))

    @contextmanager
    def installed(self) -> Iterator[None]:
        from django.db import connections

        from wangge.cases import actions
        from wangge.cases import jobs as sla

        claim, fill = sla._claim, sla._fill_missing_deadlines
        warn, breach = actions.do_clock_warnings, actions.do_clock_breaches
        wrapper = connections["default"]
        commit = wrapper.commit

        def claim_(due: str, done: str, now: dt.datetime) -> Any:
            self.kind = "warning" if due == "warn_at" else "breach"
            return self._run(f"find_{self.kind}", claim, due, done, now)

        with ExitStack() as stack:
            for target, name, new in (
                    (sla, "_claim", claim_),
                    (sla, "_fill_missing_deadlines", lambda: self._run("fill", fill)),
                    (actions, "do_clock_warnings",
                     lambda c, now: self._run("handle_warning", warn, c, now)),
                    (actions, "do_clock_breaches",
                     lambda c, now, **kw: self._run(
                         "handle_breach", functools.partial(breach, **kw), c, now)),
                    (wrapper, "commit", lambda: self._run(f"commit_{self.kind}", commit))):
                stack.enter_context(mock.patch.object(target, name, new))
            stack.enter_context(wrapper.execute_wrapper(self._execute))
            yield


def timed_sweep(probe: Probe, now: dt.datetime, backend_pid: int | None) -> dict[str, Any]:
    """One instrumented sweep: wall, phases, statements, CPU of this process and the
    PostgreSQL backend."""
    from wangge.cases import jobs as sla

    probe.reset()
    cpu0, pg0 = time.process_time(), process_cpu_s(backend_pid)
    with probe.installed():
        t = time.perf_counter()
        report = sla.sweep(now)
        wall = time.perf_counter() - t
    cpu, pg1 = time.process_time() - cpu0, process_cpu_s(backend_pid)
    phases = {k: ms(v) for k, v in sorted(probe.seconds.items())}
    phases["other"] = ms(wall - sum(probe.seconds.values()))
    out: dict[str, Any] = {
        "warned": report.warned, "breached": report.breached, "wall_ms": ms(wall),
        "phases_ms": phases, "calls": dict(probe.calls),
        "queries": dict(probe.queries), "query_ms": {k: ms(v) for k, v in probe.query_s.items()},
        "python_cpu_ms": ms(cpu),
        "pg_backend_cpu_ms": None if pg0 is None or pg1 is None else ms(pg1 - pg0),
        "statements": {p: {label: [n, ms(probe.statement_s[p][label])]
                           for label, n in c.most_common()}
                       for p, c in probe.statements.items()},
    }
    handled = report.warned + report.breached
    out["per_clock_ms"] = round(wall * 1000 / handled, 3) if handled else None
    for kind, n in (("warning", report.warned), ("breach", report.breached)):
        if n:
            out[f"per_{kind}_ms"] = round(probe.seconds[f"handle_{kind}"] * 1000 / n, 3)
            out[f"statements_per_{kind}"] = round(probe.queries[f"handle_{kind}"] / n, 2)
    out["breach_part_ms"] = ms(sum(probe.seconds[f"{p}_breach"]
                                   for p in ("find", "handle", "commit")))
    return out


def rearm(breach_ids: Sequence[int], warn_ids: Sequence[int], t0: dt.datetime,
          rng: random.Random) -> None:
    """Make more clocks newly due at T0: these deadlines and warning times just passed."""
    from django.db import connection, transaction

    adapt = connection.ops.adapt_datetimefield_value
    breach_rows, warn_rows = [], []
    for pk in breach_ids:
        deadline = t0 - dt.timedelta(seconds=rng.uniform(*DUE_WINDOW_S))
        warned = adapt(deadline - dt.timedelta(days=2))
        breach_rows.append((adapt(deadline), warned, warned, pk))
    for pk in warn_ids:
        warn_rows.append((adapt(t0 - dt.timedelta(seconds=rng.uniform(*DUE_WINDOW_S))), pk))
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany("UPDATE cases_caseclock SET deadline = %s, warn_at = %s, warned_at = %s "
                        "WHERE id = %s", breach_rows)
        cur.executemany("UPDATE cases_caseclock SET warn_at = %s WHERE id = %s", warn_rows)


RAW_FIND = ("SELECT id FROM cases_caseclock{hint} WHERE status = 'running' "
            "AND breached_at IS NULL AND deadline <= %s")


def explain(sql: str, params: Any, analyze: bool = True) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"EXPLAIN ({'ANALYZE, BUFFERS' if analyze else 'COSTS'}) {sql}", params)
            return "\n".join(r[0] for r in cur.fetchall())
        cur.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(r[-1] for r in cur.fetchall())


def execution_ms(plan: str) -> float | None:
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else None


def raw_find(t0: dt.datetime, repeat: int, prefix: str) -> dict[str, Any]:
    """The baseline: the bare SELECT of the newly breached, with the partial index and
    without any index."""
    from django.db import connection, transaction

    pg = connection.vendor == "postgresql"
    param = [connection.ops.adapt_datetimefield_value(t0)]
    out: dict[str, Any] = {}

    def run(sql: str) -> tuple[float, int]:
        with connection.cursor() as cur:
            t = time.perf_counter()
            cur.execute(sql, param)
            rows = cur.fetchall()
            return time.perf_counter() - t, len(rows)

    indexed = RAW_FIND.format(hint="")
    times = [run(indexed) for _ in range(repeat)]
    out["index"] = {"median_ms": median_ms([s for s, _ in times]),
                    "min_ms": ms(min(s for s, _ in times)), "rows": times[0][1],
                    "plan": explain(indexed, param)}
    if pg:
        with transaction.atomic(), connection.cursor() as cur:
            for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                cur.execute(f"SET LOCAL {setting} = off")
            seq = RAW_FIND.format(hint="")
            times = [run(seq) for _ in range(repeat)]
            plan = explain(seq, param)
    else:
        seq = RAW_FIND.format(hint=" NOT INDEXED")
        times = [run(seq) for _ in range(repeat)]
        plan = explain(seq, param)
    out["no_index"] = {"median_ms": median_ms([s for s, _ in times]),
                       "min_ms": ms(min(s for s, _ in times)), "rows": times[0][1], "plan": plan}
    out["index_speedup"] = round(out["no_index"]["median_ms"] / max(out["index"]["median_ms"],
                                                                     1e-3), 1)
    for name, label in (("index", "with clock_breach_due"), ("no_index", "without an index")):
        r = out[name]
        log(prefix, f"raw find {label}: median {r['median_ms']} ms (min {r['min_ms']}), "
                    f"{r['rows']:,} rows; plan:")
        for line in r["plan"].splitlines():
            log(prefix, f"    {line}")
    return out


def sweep_plans(probe: Probe, idle_now: dt.datetime, t0: dt.datetime, prefix: str
                ) -> dict[str, Any]:
    """The plans of the statements the sweep itself sends: each claim (at T0, so it finds
    the due clocks) and the look-up of clocks waiting for a calendar year."""
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    idle, now = adapt(idle_now), adapt(t0)
    out: dict[str, Any] = {}
    for phase in ("find_warning", "find_breach", "fill"):
        if phase not in probe.captured:
            continue
        sql, params = probe.captured[phase]
        params = [now if p == idle else p for p in params or ()]
        plan = explain(sql, params)
        out[phase] = {"sql": sql, "plan": plan, "execution_ms": execution_ms(plan)}
        log(prefix, f"plan of the sweep's {phase} statement (at T0):")
        for line in plan.splitlines():
            log(prefix, f"    {line}")
    return out


def round_trip_us(n: int = 2000) -> float:
    """`SELECT 1` through Django's cursor: the least any statement of the sweep costs."""
    from django.db import connection

    with connection.cursor() as cur:
        for i in range(n + 200):
            if i == 200:
                t = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchone()
    return round((time.perf_counter() - t) / n * 1e6, 1)


def event_counts() -> dict[str, int]:
    from django.db.models import Count

    from wangge.cases.models import CaseEvent, Supervision
    from wangge.core.models import OutboxMessage

    counts = dict(CaseEvent.objects.values_list("action").annotate(n=Count("id")))
    return {**{k: counts.get(k, 0) for k in ("sla_warning", "sla_breach", "escalate",
                                              "supervise", "reply_due")},
            "supervisions": Supervision.objects.count(), "outbox": OutboxMessage.objects.count()}


def profile_round(t0: dt.datetime, prefix: str, top: int = 25) -> dict[str, Any]:
    """One sweep under cProfile: the functions by own time and by cumulative time."""
    from wangge.cases import jobs as sla

    profiler = cProfile.Profile()
    t = time.perf_counter()
    profiler.enable()
    report = sla.sweep(t0)
    profiler.disable()
    wall = time.perf_counter() - t
    stats = pstats.Stats(profiler)
    rows: dict[str, list[dict[str, Any]]] = {}
    for key in ("tottime", "cumtime"):
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(top)
        log(prefix, f"cProfile of one sweep ({report.warned} warnings, {report.breached} "
                    f"breaches; {wall * 1000:.0f} ms under the profiler), by {key}:")
        lines = text.getvalue().splitlines()
        head = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        for line in lines[head:]:
            if line.strip():
                log(prefix, f"    {line}")
        entries = sorted(stats.stats.items(),  # type: ignore[attr-defined]
                         key=lambda kv: kv[1][2 if key == "tottime" else 3], reverse=True)
        rows[key] = [{"function": f"{Path(f).name}:{line}({name})", "ncalls": nc,
                      "tottime_ms": ms(tt), "cumtime_ms": ms(ct)}
                     for (f, line, name), (_cc, nc, tt, ct, _callers) in entries[:top]]
    return {"wall_ms_profiled": ms(wall), "warned": report.warned,
            "breached": report.breached, **rows}


def run_child(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    from django.db import connection

    from wangge.cases import jobs as sla
    from wangge.workcal import calendar as workcal

    out: dict[str, Any] = {}
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out["t0"] = t0.isoformat()
    out["load"], clock_ids = load_cases(args, t0, prefix)
    out["analyze_s"] = round(analyze(prefix), 1)
    out["db"] = db_info()
    log(prefix, f"database: {out['db']}")
    backend_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend_pid = cur.fetchone()[0]

    # the first sweep after the load: nothing is due an hour before T0
    probe = Probe()
    idle_now = t0 - dt.timedelta(hours=1)
    first = timed_sweep(probe, idle_now, backend_pid)
    out["idle_first"] = first
    log(prefix, f"first sweep after the load (nothing due, T0 − 1 h): {first['wall_ms']} ms "
                f"{first['phases_ms']}")
    t = time.perf_counter()
    workcal.current()  # built during the load; a call reads the version stamp
    out["calendar_current_ms"] = ms(time.perf_counter() - t)
    out["raw"] = raw_find(t0, args.raw_repeat, prefix)
    out["round_trip_us"] = round_trip_us()
    log(prefix, f"SELECT 1 through Django's cursor: {out['round_trip_us']} µs per statement")
    out["plans"] = sweep_plans(probe, idle_now, t0, prefix)

    rng = random.Random(args.seed + 1)
    rounds, checks = [], []
    before = event_counts()
    for r in range(args.rounds):
        if r:  # cases 2·due·r … 2·due·(r+1)−1: untouched so far
            lo = 2 * args.due * r
            rearm(clock_ids[lo:lo + args.due], clock_ids[lo + args.due:lo + 2 * args.due], t0,
                  rng)
        res = timed_sweep(probe, t0, backend_pid)
        after = event_counts()
        res["rows_added"] = {k: after[k] - before[k] for k in after}
        before = after
        check = timed_sweep(Probe(), t0, backend_pid)
        res["next_sweep"] = {"warned": check["warned"], "breached": check["breached"],
                             "wall_ms": check["wall_ms"]}
        res["correct"] = (res["warned"] == res["breached"] == args.due
                          and res["rows_added"]["sla_breach"] == args.due
                          and res["rows_added"]["sla_warning"] == args.due
                          and res["rows_added"]["supervisions"] == args.due
                          and check["warned"] == check["breached"] == 0)
        rounds.append(res)
        checks.append(check["wall_ms"])
        p = res["phases_ms"]
        log(prefix, f"round {r + 1}: sweep(T0) {res['wall_ms']:.0f} ms for {res['warned']} "
                    f"warnings + {res['breached']} breaches ({res['per_clock_ms']} ms/clock); "
                    f"find {p.get('find_warning', 0) + p.get('find_breach', 0):.1f} ms, handle "
                    f"{p.get('handle_warning', 0):.0f} + {p.get('handle_breach', 0):.0f} ms, "
                    f"commits {p.get('commit_warning', 0) + p.get('commit_breach', 0):.1f} ms, "
                    f"fill {p.get('fill', 0):.1f} ms; statements/warning "
                    f"{res.get('statements_per_warning')}, /breach "
                    f"{res.get('statements_per_breach')}; next sweep {check['warned']}/"
                    f"{check['breached']} in {check['wall_ms']} ms; "
                    f"{'OK' if res['correct'] else 'WRONG'} {res['rows_added']}")
    out["rounds"] = rounds
    for phase in ("find_warning", "handle_warning", "find_breach", "handle_breach"):
        stmts = rounds[0]["statements"].get(phase, {})
        log(prefix, f"round 1, {phase}: " + ", ".join(f"{n} × {label} {secs:.1f} ms"
                                                     for label, (n, secs) in stmts.items()))
    walls = [r["wall_ms"] for r in rounds]
    out["sweep_ms"] = statistics.median(walls)
    out["breach_part_ms"] = statistics.median(r["breach_part_ms"] for r in rounds)
    out["correct"] = all(r["correct"] for r in rounds)

    idle = [timed_sweep(probe, t0, backend_pid) for _ in range(args.idle)]
    out["idle"] = {"median_ms": statistics.median(i["wall_ms"] for i in idle),
                   "min_ms": min(i["wall_ms"] for i in idle),
                   "max_ms": max(i["wall_ms"] for i in idle),
                   "runs_ms": [i["wall_ms"] for i in idle],
                   "phases_ms": {k: statistics.median(i["phases_ms"].get(k, 0.0) for i in idle)
                                 for k in idle[0]["phases_ms"]},
                   "after_round_ms": checks,
                   "handled": sum(i["warned"] + i["breached"] for i in idle)}
    out["correct"] = out["correct"] and out["idle"]["handled"] == 0
    log(prefix, f"idle sweep(T0), nothing due, ×{args.idle}: median {out['idle']['median_ms']} "
                f"ms (min {out['idle']['min_ms']}, max {out['idle']['max_ms']}); median phases "
                f"{out['idle']['phases_ms']}")

    slow = out["sweep_ms"] >= TARGET_MS
    if args.profile == "always" or (args.profile == "auto" and slow):
        lo = 2 * args.due * args.rounds
        rearm(clock_ids[lo:lo + args.due], clock_ids[lo + args.due:lo + 2 * args.due], t0, rng)
        out["profile"] = profile_round(t0, prefix)
        sla.sweep(t0)  # nothing left
    return out


def child_main(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    prefix = args.one
    out: dict[str, Any] = {"db": args.one, "pid": os.getpid()}
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_sweep_"))
    pg = args.one == "postgres"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    if pg:
        env["WANGGE_DATABASE_URL"] = database_url(args.pg_dsn, DB_NAME)
    drop = f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'
    started = time.perf_counter()
    try:
        if pg:
            pg_admin(args.pg_dsn, drop, f'CREATE DATABASE "{DB_NAME}"')
            log(prefix, f"created database {DB_NAME}")
        t = time.perf_counter()
        cli(env, "setup")
        cli(env, "demo", "load", "--residents", "0", "--cases", "0")
        out["setup_s"] = round(time.perf_counter() - t, 1)
        log(prefix, f"wangge setup + demo load --residents 0 --cases 0: {out['setup_s']} s "
                    f"(data dir {data_dir})")
        for key in [k for k in os.environ if k.startswith(("WANGGE_", "DJANGO_"))]:
            del os.environ[key]
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "wangge.settings"
        import django

        django.setup()
        out.update(run_child(args, prefix))
    except BaseException as exc:  # report, clean up, and still write what we have
        out["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        with suppress(Exception):
            from django.db import connections

            connections.close_all()
        if args.keep:
            log(prefix, f"kept data dir {data_dir}" + (f" and database {DB_NAME}" if pg else ""))
        else:
            if pg:
                try:
                    pg_admin(args.pg_dsn, drop)
                    log(prefix, f"dropped database {DB_NAME}")
                except Exception as exc:
                    log(prefix, f"could not drop database {DB_NAME}: {exc}")
            shutil.rmtree(data_dir, ignore_errors=True)
        out["seconds"] = round(time.perf_counter() - started, 1)
        out["peak_rss_mib"] = peak_rss_mib()
        Path(args.result_file).write_text(json.dumps(out, default=str, ensure_ascii=False))
    return 1 if "error" in out else 0


# --------------------------------------------------------------------------- parent


def pg_reachable(dsn: str) -> str | None:
    try:
        pg_admin(dsn, "SELECT 1")
    except Exception as exc:
        return f"cannot connect to PostgreSQL ({dsn}): {exc}"
    return None


def spawn(args: argparse.Namespace, db: str, tmp: Path,
          running: dict[str, subprocess.Popen[bytes] | None]) -> dict[str, Any]:
    result_file = tmp / f"{db}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", db,
           "--result-file", str(result_file), "--cases", str(args.cases), "--due", str(args.due),
           "--rounds", str(args.rounds), "--idle", str(args.idle),
           "--raw-repeat", str(args.raw_repeat), "--profile", args.profile,
           "--seed", str(args.seed), "--pg-dsn", args.pg_dsn, *(["--keep"] if args.keep else [])]
    print(f"\n{'-' * 100}\n{db}\n{'-' * 100}", flush=True)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    running["proc"] = proc
    rc = proc.wait()
    running["proc"] = None
    try:
        out = json.loads(result_file.read_text())
    except (OSError, ValueError):
        out = {"db": db, "error": f"child exited {rc} without a result"}
    out["wall_s"] = round(time.perf_counter() - t, 1)
    out["exit_code"] = rc
    return out


def print_table(results: dict[str, dict[str, Any]], args: argparse.Namespace
                ) -> dict[str, str]:
    dbs = list(results)
    width, col = 50, 22
    verdicts: dict[str, str] = {}
    print(f"\n{'=' * 100}\nSLA sweep among {args.cases:,} open cases: {args.due:,} newly "
          f"breached + {args.due:,} newly due for a warning, {args.rounds} round(s)\n{'=' * 100}")
    print(f"{'':<{width}}" + "".join(f"{d:>{col}}" for d in dbs) + f"{'target':>16}")

    def row(label: str, cells: list[Any], target: str = "") -> None:
        print(f"{label:<{width}}" + "".join(f"{'—' if c is None else c!s:>{col}}"
                                            for c in cells) + f"{target:>16}")

    def get(db: str, *path: str) -> Any:
        cur: Any = results[db]
        for p in path:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(p)
        return cur

    def phase(db: str, name: str) -> float | None:
        rounds = get(db, "rounds") or []
        vals = [r["phases_ms"].get(name, 0.0) for r in rounds]
        return round(statistics.median(vals), 1) if vals else None

    for db in dbs:
        if err := get(db, "error"):
            print(f"  {db}: ERROR {err}")
    row("open cases (one running clock each)", [f"{args.cases:,}" for _ in dbs])
    row("newly due: breaches + warnings", [f"{args.due:,} + {args.due:,}" for _ in dbs])
    row("set-up: wangge setup + demo load (s)", [get(db, "setup_s") for db in dbs])
    row("load: generate + insert cases, clocks (s)", [get(db, "load", "seconds") for db in dbs])
    row("  of which inserting (s)", [get(db, "load", "insert_s") for db in dbs])
    row("VACUUM ANALYZE (s)", [get(db, "analyze_s") if db == "postgres" else "—" for db in dbs])
    row("database size (MiB)", [get(db, "db", "size_mib") for db in dbs])
    cells = []
    for db in dbs:
        v = get(db, "sweep_ms")
        ok = None if v is None or db != "postgres" else v < TARGET_MS
        if ok is not None:
            verdicts[f"{db}/sweep"] = "PASS" if ok else "FAIL"
        cells.append(None if v is None else f"{v:,.0f}" + ("" if ok is None else
                                                            f" {'PASS' if ok else 'FAIL'}"))
    row("sweep(T0), median of rounds (ms)", cells, f"< {TARGET_MS:,.0f} (PG)")
    row("  rounds (ms)", [" / ".join(f"{r['wall_ms']:.0f}" for r in get(db, "rounds") or [])
                          for db in dbs])
    row("  SQL statements", [sum(r[0]["queries"].values()) if (r := get(db, "rounds"))
                             else None for db in dbs])
    row("  SELECT 1 round trip (µs)", [get(db, "round_trip_us") for db in dbs])
    row("  statements × round trip: the floor (ms)",
        [round(n * rtt / 1000) if (r := get(db, "rounds")) and (
            rtt := get(db, "round_trip_us")) and (n := sum(r[0]["queries"].values())) else None
         for db in dbs])
    row("  per clock handled (ms)", [round(v / (2 * args.due), 2) if (v := get(db, "sweep_ms"))
                                     else None for db in dbs])
    row("  find: _claim, warnings + breaches (ms)",
        [None if phase(db, "find_warning") is None else
         round((phase(db, "find_warning") or 0) + (phase(db, "find_breach") or 0), 1)
         for db in dbs])
    row("  handle warnings (ms)", [phase(db, "handle_warning") for db in dbs])
    row("  handle breaches (ms)", [phase(db, "handle_breach") for db in dbs])
    row("  handling time in SQL execute() (ms)",
        [round(sum(v for k, v in r[0]["query_ms"].items() if k.startswith("handle")), 1)
         if (r := get(db, "rounds")) else None for db in dbs])
    row("  commits (ms)", [None if phase(db, "commit_warning") is None else
                           round((phase(db, "commit_warning") or 0)
                                 + (phase(db, "commit_breach") or 0), 1) for db in dbs])
    row("  _fill_missing_deadlines (ms)", [phase(db, "fill") for db in dbs])
    row("  per warning: ms, SQL statements",
        [f"{r[0].get('per_warning_ms')} ms, {r[0].get('statements_per_warning')}"
         if (r := get(db, "rounds")) else None for db in dbs])
    row("  per breach: ms, SQL statements",
        [f"{r[0].get('per_breach_ms')} ms, {r[0].get('statements_per_breach')}"
         if (r := get(db, "rounds")) else None for db in dbs])
    row("  CPU: Python / PostgreSQL backend (ms)",
        [f"{r[0]['python_cpu_ms']:.0f} / " + (f"{r[0]['pg_backend_cpu_ms']:.0f}"
                                              if r[0]["pg_backend_cpu_ms"] is not None else "—")
         if (r := get(db, "rounds")) else None for db in dbs])
    cells = []
    for db in dbs:
        v = get(db, "breach_part_ms")
        ok = None if v is None or db != "postgres" else v < TARGET_MS
        if ok is not None:
            verdicts[f"{db}/breaches_only"] = "PASS" if ok else "FAIL"
        cells.append(None if v is None else f"{v:,.0f}" + ("" if ok is None else
                                                            f" {'PASS' if ok else 'FAIL'}"))
    row("breaches alone: find + handle + commit (ms)", cells, f"< {TARGET_MS:,.0f} (PG)")
    row("idle sweep(T0), nothing due, median (ms)", [get(db, "idle", "median_ms") for db in dbs])
    row("  of which _fill_missing_deadlines (ms)",
        [get(db, "idle", "phases_ms", "fill") for db in dbs])
    row("  of which the two claims (ms)",
        [None if (p := get(db, "idle", "phases_ms")) is None else
         round(p.get("find_warning", 0) + p.get("find_breach", 0), 2) for db in dbs])
    row("  first sweep after the load (ms)", [get(db, "idle_first", "wall_ms") for db in dbs])
    row("raw find, partial index (ms, median)", [get(db, "raw", "index", "median_ms")
                                                  for db in dbs])
    row("  rows found", [get(db, "raw", "index", "rows") for db in dbs])
    row("raw find, no index (ms, median)", [get(db, "raw", "no_index", "median_ms")
                                             for db in dbs])
    row("  what the index buys (×)", [get(db, "raw", "index_speedup") for db in dbs])
    row("claim statement at T0, server time (ms)",
        [get(db, "plans", "find_breach", "execution_ms") for db in dbs])
    correct = []
    for db in dbs:
        c = get(db, "correct")
        if c is not None:
            verdicts[f"{db}/correct"] = "PASS" if c else "FAIL"
        correct.append(None if c is None else ("yes" if c else "NO"))
    row("correct: K + K events, next sweep 0", correct)
    for db in dbs:
        print(f"\n{db} plans:")
        for label, path in (("raw, index", ("raw", "index", "plan")),
                            ("raw, no index", ("raw", "no_index", "plan")),
                            ("claim (ORM)", ("plans", "find_breach", "plan")),
                            ("fill (ORM)", ("plans", "fill", "plan"))):
            print(f"  {label:<14} {plan_head(get(db, *path) or '')}")
    return verdicts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--cases", type=int, default=1_000_000, help="open cases, a clock each")
    p.add_argument("--due", type=int, default=1_000,
                   help="newly breached clocks, and as many newly due for a warning")
    p.add_argument("--rounds", type=int, default=3,
                   help="timed sweeps of the due clocks (later rounds: clocks made due again)")
    p.add_argument("--idle", type=int, default=5, help="timed idle sweeps")
    p.add_argument("--raw-repeat", type=int, default=5, help="runs of each raw query")
    p.add_argument("--profile", choices=["auto", "always", "never"], default="auto",
                   help="one more round under cProfile (auto: when the sweep takes ≥ 1 s)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--keep", action="store_true", help="keep the database and the data dir")
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
                   help="maintenance connection (env WANGGE_BENCH_PG_DSN)")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    p.add_argument("--one", choices=DBS, help=argparse.SUPPRESS)
    p.add_argument("--result-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.due, args.rounds, args.idle, args.raw_repeat) < 1:
        p.error("--due, --rounds, --idle and --raw-repeat must be at least 1")
    need = 2 * args.due * (args.rounds + (args.profile != "never"))
    if args.cases < need:
        p.error(f"--cases must be at least 2 × --due × (--rounds + 1 for the profile) = {need:,}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        return child_main(args)
    running: dict[str, subprocess.Popen[bytes] | None] = {"proc": None}

    def on_term(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    started, today = time.perf_counter(), dt.date.today().isoformat()
    machine = machine_info()
    print(f"{'=' * 100}\nwangge SLA sweep benchmark\n{'=' * 100}")
    print(f"machine: {machine['cpus']} CPUs, {machine['memory']}, {machine['cpu']}; load "
          f"average {' '.join(map(str, machine['loadavg_at_start']))}; git {machine['git']}")
    dbs = list(DBS) if args.db == "both" else [args.db]
    skipped: dict[str, str] = {}
    if "postgres" in dbs and (why := pg_reachable(args.pg_dsn)):
        print(f"PostgreSQL: skipped — {why}")
        skipped["postgres"] = why
        dbs.remove("postgres")
    results: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="wangge_bench_sweep_results_"))
    try:
        for db in dbs:
            results[db] = spawn(args, db, tmp, running)
    finally:
        proc = running["proc"]
        if proc is not None and proc.poll() is None:
            proc.terminate()  # the child drops its database on SIGTERM
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    verdicts = print_table(results, args)
    total = time.perf_counter() - started
    print(f"\nverdicts: {', '.join(f'{k} {v}' for k, v in verdicts.items()) or '—'}"
          f"\ntotal time {total:.0f} s")
    out = {"benchmark": "sweep", "date": today, "machine": machine,
           "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    if k not in ("one", "result_file")},
           "target_ms": TARGET_MS, "verdicts": verdicts, "skipped": skipped,
           "results": results, "total_s": round(total, 1)}
    path = args.output or RESULTS_DIR / f"sweep-{today}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    failed = any("error" in r for r in results.values()) or "FAIL" in verdicts.values()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
