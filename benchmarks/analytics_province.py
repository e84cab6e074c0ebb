"""Issue 16's speed target: the evaluation figures (考核指标) at province scale on
PostgreSQL, each read beside the same figures computed by GROUP BY over the raw rows in the
same run.

    .venv/bin/python benchmarks/analytics_province.py [--cases 10000000] [--grids 100000]
        [--day-cases 27000] [--repeat 30] [--skip rebuild,window,...] [--keep]

The data, in its own database (wangge_bench_analytics_<cases>): `wangge setup`, the demo's
classification, departments and duty list (`wangge demo load` without residents or cases),
--departments line departments in all, the province tree of benchmarks/province_fw.py
(a root, 14 cities, 1,400 towns, 28,000 communities, --grids basic grids, COPY-ed), and
--cases cases spread evenly over --days days ending the day before yesterday, plus
--day-cases cases created yesterday. Every case lives the closed loop, with its timeline
(cases_caseevent), handling clock (cases_caseclock, goal handled) and rating
(cases_rating), all generated inside PostgreSQL (INSERT … SELECT over generate_series,
FK triggers off, the tables' own non-unique indexes dropped first and rebuilt after, as
province_fw.load does):

    reported → registered (≈94 %; ≈4 % rejected, ≈2 % merged into another case)
      → dispatched to a department (≈5 % returned and dispatched to another)
      → accepted → in progress
      → handled (≈8 % after the clock's deadline: 7 working days ≈ 9.8 days from
        registration, 3 working days ≈ 4.2 days from dispatch for utility categories;
        a late general case gets reply_due at its deadline and reply before handling)
      (→ ≈6 % verify_fail → handled again) → verify_pass → closed
      (→ ≈30 % rated: a cases_rating row and an evaluate event)

Each step happens minutes to days after the one before, so the cases of the last days are
still open. The rows of yesterday (its new cases, and the steps older cases take that day)
are held back: after the full rebuild they are written as one day's changes, and the
worker's incremental run for that day is timed.

Measured (p50/p95 over --repeat, the baseline in the same run), see benchmarks/README.md:
the dashboard (cockpit) of the province, metrics by department for a year (figures vs
raw_figures, which must agree), the grid ranking (towns and basic grids; a month and a
year), the incremental run for one day, the full rebuild. Output: a table on stdout and
benchmarks/results/analytics_province-<date>[-<cases>].json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import RESULTS_DIR, pct
from intake import admin, cli
from province_fw import _copy_tree

TARGET_READ_P95_MS = 300.0
TARGET_DAY_S = 5.0
#: the tables the load writes below the ORM: their non-unique indexes are dropped first
BULK_TABLES = ("cases_case", "cases_caseevent", "cases_caseclock", "cases_rating",
               "territory_grid", "org_person", "org_roleassignment")
#: working days as natural days (5 of 7), for the clocks' deadlines
WD = 7 / 5
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: --proposed-indexes: what the facts' per-day reads need and the models do not declare
#: (without them each day's event, rating, clock and registration counts are sequential
#: scans of the whole tables); created by this benchmark only, proposed for the models
PROPOSED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS bench_event_action_at ON cases_caseevent (action, at)",
    "CREATE INDEX IF NOT EXISTS bench_rating_created ON cases_rating (created_at)",
    "CREATE INDEX IF NOT EXISTS bench_clock_breached ON cases_caseclock (breached_at) "
    "WHERE breached_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS bench_case_registered ON cases_case (registered_at)",
)


# ------------------------------------------------------------------------ the data


def _life_sql(n: int, day_cases: int) -> str:
    """One row per case with every moment of its life (NULL: that step never happens).
    Cases 1..n are spread evenly over [lo, cut) (in creation order, so ids follow time);
    n+1..n+day_cases over yesterday [cut, hi)."""
    # r: the random draws, taken once per case in a subquery (volatile: never inlined)
    draws = ", ".join(f"random() AS r{i}" for i in range(26))
    return f"""
    CREATE UNLOGGED TABLE bench_life AS
    WITH t AS (
      SELECT s, CASE WHEN s <= {n}
                THEN %(lo)s::timestamptz + (%(cut)s::timestamptz - %(lo)s::timestamptz)
                     * ((s - 1 + random()) / {max(n, 1)})
                ELSE %(cut)s::timestamptz + interval '1 day' * random() END AS t0, {draws}
      FROM generate_series(1, {n + day_cases}) s
    ), a AS (  -- the outcome, the category, who and where
      SELECT t.*, %(case0)s::bigint + s AS id,
             1 + (s::bigint * 7919) %% (SELECT count(*) FROM basic) AS k,
             1 + floor(r0 * %(ncat)s)::int AS cat,
             1 + floor(r1 * %(ndept)s)::int AS d1,
             1 + floor(r2 * %(ndept)s)::int AS d2,
             CASE WHEN r3 < 0.04 THEN 'reject' WHEN r3 < 0.06 THEN 'merge' ELSE 'register'
             END AS outcome,
             r4 < 0.05 AS returned, r5 < 0.08 AS late, r6 < 0.06 AS reworked,
             r7 < 0.30 AS rated, r8 < 0.002 AS confidential,
             CASE WHEN r9 < 0.55 THEN 'grid_worker' WHEN r9 < 0.75 THEN 'resident'
                  WHEN r9 < 0.85 THEN 'station' WHEN r9 < 0.95 THEN 'external'
                  ELSE 'walk_in' END AS channel,
             CASE WHEN r10 < 0.5 THEN 5 WHEN r10 < 0.8 THEN 4 WHEN r10 < 0.9 THEN 3
                  WHEN r10 < 0.96 THEN 2 ELSE 1 END AS level
      FROM t
    ), b AS (  -- registration and the first dispatch
      SELECT a.*, t0 + interval '5 min' + interval '4 hours' * r11 AS step1,
             (%(utility)s::bool[])[cat] AS utility
      FROM a
    ), c AS (
      SELECT b.*,
             CASE WHEN outcome = 'register' THEN step1 END AS reg,
             CASE WHEN outcome = 'reject' THEN step1 END AS rej,
             CASE WHEN outcome = 'merge' THEN step1 END AS mrg,
             CASE WHEN outcome = 'register'
                  THEN step1 + interval '5 min' + interval '2 hours' * r12 END AS disp1
      FROM b
    ), d AS (  -- a return and the second dispatch; the clock
      SELECT c.*,
             CASE WHEN returned THEN disp1 + interval '1 hour' + interval '23 hours' * r13
             END AS ret,
             CASE WHEN outcome = 'register' THEN
               CASE WHEN utility THEN disp1 ELSE reg END END AS clock_start,
             CASE WHEN utility THEN interval '1 day' * 3 * {WD}
                  ELSE interval '1 day' * 7 * {WD} END AS span
      FROM c
    ), e AS (
      SELECT d.*, ret + interval '10 min' + interval '4 hours' * r14 AS disp2,
             clock_start + span AS deadline
      FROM d
    ), f AS (
      SELECT e.*, coalesce(disp2, disp1) + interval '10 min' + interval '6 hours' * r15
             AS acc
      FROM e
    ), g AS (
      SELECT f.*, acc + interval '10 min' + interval '4 hours' * r16 AS sta,
             CASE WHEN late AND NOT utility THEN deadline + interval '10 min' END AS rdue
      FROM f
    ), h AS (
      SELECT g.*, rdue + interval '1 hour' + interval '2 days' * r17 AS rep
      FROM g
    ), i AS (  -- the first handling: on time or (late) after the deadline
      SELECT h.*, greatest(
               sta + interval '30 min', rep + interval '30 min',
               clock_start + span * CASE WHEN late THEN 1.02 + 0.8 * r18
                                         ELSE 0.05 + 0.9 * r19 END) AS h1
      FROM h
    ), j AS (
      SELECT i.*, CASE WHEN reworked THEN h1 + interval '1 hour' + interval '1 day' * r24
                  END AS vf
      FROM i
    ), k AS (
      SELECT j.*, vf + interval '2 hours' + interval '3 days' * r20 AS h2 FROM j
    ), l AS (
      SELECT k.*, coalesce(h2, h1) + interval '1 hour' + interval '1 day' * r21 AS vp FROM k
    ), m AS (
      SELECT l.*, vp + interval '10 min' + interval '1 day' * r22 AS cl FROM l
    )
    SELECT id, s, k, t0, cat, d1,
           CASE WHEN returned THEN d2 END AS d2, channel, confidential, outcome, level,
           reg, rej, mrg, disp1, ret, disp2, acc, sta, rdue, rep, h1, vf, h2, vp, cl,
           CASE WHEN rated THEN cl + interval '1 hour' + interval '3 days' * r23 END AS rate,
           CASE WHEN r25 < 0.6 THEN 'resident' ELSE 'followup' END AS via,
           clock_start, deadline, utility
    FROM m
    """


def _state_sql(c: str) -> str:
    """The case's state at the moment `c` (an SQL expression), from its life row `l`."""
    return f"""CASE
      WHEN l.outcome = 'reject' THEN CASE WHEN l.rej < {c} THEN 'rejected' ELSE 'reported' END
      WHEN l.outcome = 'merge' THEN CASE WHEN l.mrg < {c} THEN 'cancelled' ELSE 'reported' END
      WHEN l.rate < {c} THEN 'evaluated' WHEN l.cl < {c} THEN 'closed'
      WHEN l.vp < {c} THEN 'verified' WHEN l.h2 < {c} THEN 'handled'
      WHEN l.vf < {c} THEN 'in_progress' WHEN l.h1 < {c} THEN 'handled'
      WHEN l.rep < {c} THEN 'in_progress' WHEN l.rdue < {c} THEN 'reply_due'
      WHEN l.sta < {c} THEN 'in_progress' WHEN l.acc < {c} THEN 'accepted'
      WHEN l.disp2 < {c} THEN 'dispatched' WHEN l.ret < {c} THEN 'registered'
      WHEN l.disp1 < {c} THEN 'dispatched' WHEN l.reg < {c} THEN 'registered'
      ELSE 'reported' END"""


def _dept_sql(c: str) -> str:
    """The department holding the case at `c` (None before dispatch, and after a return
    until the next dispatch)."""
    return f"""CASE WHEN l.disp2 < {c} THEN (%(dept_ids)s::bigint[])[l.d2]
      WHEN l.ret < {c} THEN NULL
      WHEN l.disp1 < {c} THEN (%(dept_ids)s::bigint[])[l.d1] END"""


def _when(c: str, moment: str) -> str:
    return f"CASE WHEN {moment} < {c} THEN {moment} END"


def _insert_cases(where: str) -> str:
    c = "%(hi)s::timestamptz"
    return f"""
    INSERT INTO cases_case (id, register_no, title, description, channel, state, confidential,
      handling_level, rework_count, reopen_count, closeout_reason, satisfaction, created_at,
      registered_at, closed_at, department_id, merged_into_id, grid_id, category_id,
      followup_note, written_reply, follow_code, replied_at)
    SELECT l.id, 'PA' || l.s, '事件' || l.s, '', l.channel, {_state_sql(c)}, l.confidential,
      3, CASE WHEN l.vf < {c} THEN 1 ELSE 0 END, 0,
      CASE WHEN l.cl < {c} THEN '已办结' WHEN l.rej < {c} THEN '不予立案'
           WHEN l.mrg < {c} THEN '合并至 PA' || greatest(l.s - 1, 1) ELSE '' END,
      CASE WHEN l.rate < {c} THEN l.level END, l.t0, {_when(c, 'l.reg')},
      coalesce({_when(c, 'l.cl')}, {_when(c, 'l.rej')}, {_when(c, 'l.mrg')}),
      {_dept_sql(c)}, CASE WHEN l.mrg < {c} THEN l.id - 1 END, b.grid_id,
      (%(cat_ids)s::bigint[])[l.cat], '', CASE WHEN l.rep < {c} THEN '已书面答复' ELSE '' END,
      'pa' || l.s, {_when(c, 'l.rep')}
    FROM bench_life l JOIN basic b ON b.k = l.k WHERE {where}"""


def _update_cases() -> str:
    """Cases an earlier cut left behind: their state and columns as of %(hi)s."""
    c = "%(hi)s::timestamptz"
    touched = " OR ".join(f"l.{m} >= %(lo)s AND l.{m} < {c}" for m in (
        "reg", "rej", "mrg", "disp1", "ret", "disp2", "acc", "sta", "rdue", "rep", "h1", "vf",
        "h2", "vp", "cl", "rate"))
    return f"""
    UPDATE cases_case x SET state = {_state_sql(c)},
      rework_count = CASE WHEN l.vf < {c} THEN 1 ELSE 0 END,
      closeout_reason = CASE WHEN l.cl < {c} THEN '已办结' WHEN l.rej < {c} THEN '不予立案'
           WHEN l.mrg < {c} THEN '合并至 PA' || greatest(l.s - 1, 1) ELSE '' END,
      satisfaction = CASE WHEN l.rate < {c} THEN l.level END,
      registered_at = {_when(c, 'l.reg')},
      closed_at = coalesce({_when(c, 'l.cl')}, {_when(c, 'l.rej')}, {_when(c, 'l.mrg')}),
      department_id = {_dept_sql(c)}, merged_into_id = CASE WHEN l.mrg < {c} THEN l.id - 1 END,
      written_reply = CASE WHEN l.rep < {c} THEN '已书面答复' ELSE '' END,
      replied_at = {_when(c, 'l.rep')}
    FROM bench_life l WHERE x.id = l.id AND l.t0 < %(lo)s
      AND l.t0 >= %(lo)s::timestamptz - interval '60 days' AND ({touched})"""


def _insert_events() -> str:
    dispatch = ("jsonb_build_object('department', (%(dept_codes)s::text[])[{d}], 'rule', NULL,"
                " 'rule_text', '调度员指定 → ' || (%(dept_names)s::text[])[{d}])")
    back = "'{\"previous\": \"in_progress\"}'::jsonb"
    return f"""
    INSERT INTO cases_caseevent (case_id, at, action, from_state, to_state, note, data)
    SELECT l.id, e.at, e.action, e.fs, e.ts, e.note, e.data
    FROM bench_life l CROSS JOIN LATERAL (VALUES
      ('register', l.reg, 'reported', 'registered', '', '{{}}'::jsonb),
      ('reject', l.rej, 'reported', 'rejected', '不予立案', '{{}}'),
      ('merge', l.mrg, 'reported', 'cancelled', '合并至 PA' || greatest(l.s - 1, 1),
       jsonb_build_object('master', 'PA' || greatest(l.s - 1, 1))),
      ('dispatch', l.disp1, 'registered', 'dispatched', '', {dispatch.format(d='l.d1')}),
      ('return', l.ret, 'dispatched', 'registered', '非本部门职责', '{{}}'),
      ('dispatch', l.disp2, 'registered', 'dispatched', '', {dispatch.format(d='l.d2')}),
      ('accept', l.acc, 'dispatched', 'accepted', '', '{{}}'),
      ('start', l.sta, 'accepted', 'in_progress', '', '{{}}'),
      ('reply_due', l.rdue, 'in_progress', 'reply_due', '办理时限已到', {back}),
      ('reply', l.rep, 'reply_due', 'in_progress', '已书面答复', {back}),
      ('handle', l.h1, 'in_progress', 'handled', '已处置完毕', '{{}}'),
      ('verify_fail', l.vf, 'handled', 'in_progress', '核查未通过', '{{}}'),
      ('handle', l.h2, 'in_progress', 'handled', '已重新处置', '{{}}'),
      ('verify_pass', l.vp, 'handled', 'verified', '', '{{}}'),
      ('close', l.cl, 'verified', 'closed', '已办结', '{{}}'),
      ('evaluate', l.rate, 'closed', 'evaluated', '',
       jsonb_build_object('level', l.level, 'via', l.via, 'rating', %(rating0)s::bigint + l.s))
    ) e(action, at, fs, ts, note, data)
    WHERE l.t0 >= %(lo)s::timestamptz - interval '60 days' AND l.t0 < %(hi)s
      AND e.at >= %(lo)s AND e.at < %(hi)s"""


def _clock_columns(c: str) -> str:
    met = f"CASE WHEN l.h1 < {c} THEN l.h1 END"
    warn = "l.clock_start + (l.deadline - l.clock_start) * 0.8"
    return f"""CASE WHEN l.h1 < {c} THEN 'met' ELSE 'running' END, {met},
      CASE WHEN {warn} < least(l.h1, {c}) THEN {warn} END,
      CASE WHEN l.deadline < least(l.h1, {c}) THEN l.deadline + interval '1 min' END"""


def _insert_clocks(where: str) -> str:
    c = "%(hi)s::timestamptz"
    return f"""
    INSERT INTO cases_caseclock (case_id, policy, code, name, amount, unit, goal, on_breach,
      warn_fraction, started_at, deadline, warn_at, status, met_at, warned_at, breached_at)
    SELECT l.id, CASE WHEN l.utility THEN 'utility_24h_3wd' ELSE 'general_7wd' END, 'resolve',
      CASE WHEN l.utility THEN '修复' ELSE '办结' END, CASE WHEN l.utility THEN 3 ELSE 7 END,
      'working_days', 'handled', CASE WHEN l.utility THEN 'overdue' ELSE 'reply_due' END, 0.8,
      l.clock_start, l.deadline, l.clock_start + (l.deadline - l.clock_start) * 0.8,
      {_clock_columns(c)}
    FROM bench_life l WHERE l.clock_start < {c} AND {where}"""


def _update_clocks() -> str:
    c = "%(hi)s::timestamptz"
    return f"""
    UPDATE cases_caseclock k SET (status, met_at, warned_at, breached_at) = ({_clock_columns(c)})
    FROM bench_life l WHERE k.case_id = l.id AND l.clock_start < %(lo)s
      AND l.t0 >= %(lo)s::timestamptz - interval '60 days'
      AND (l.h1 >= %(lo)s AND l.h1 < {c} OR l.deadline >= %(lo)s AND l.deadline < {c}
           OR l.clock_start + (l.deadline - l.clock_start) * 0.8 >= %(lo)s
              AND l.clock_start + (l.deadline - l.clock_start) * 0.8 < {c})"""


def _insert_ratings() -> str:
    return """
    INSERT INTO cases_rating (id, case_id, level, comment, via, reopened, created_at)
    SELECT %(rating0)s::bigint + l.s, l.id, l.level, '', l.via, false, l.rate
    FROM bench_life l WHERE l.t0 >= %(lo)s::timestamptz - interval '60 days' AND l.t0 < %(hi)s
      AND l.rate >= %(lo)s AND l.rate < %(hi)s"""


def _squares(conn: psycopg.Connection) -> None:
    """An outline for each basic grid of the province (province_fw copies none): a square
    of 0.01° on a lattice, as WKB (big-endian, built in SQL), for the cockpit's map."""
    ring = " || ".join(f"float8send(x + {dx}) || float8send(y + {dy})" for dx, dy in (
        (0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01), (0, 0)))
    conn.execute(f"""
    UPDATE territory_grid g SET boundary = '\\x00000000030000000100000005'::bytea || {ring},
      min_lng = x, min_lat = y, max_lng = x + 0.01, max_lat = y + 0.01,
      label_lng = x + 0.005, label_lat = y + 0.005
    FROM (SELECT id, 110 + 0.01 * (k % 400) AS x, 25 + 0.01 * (k / 400) AS y
          FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM territory_grid
                WHERE level = 4 AND code LIKE 'P%') n) sq
    WHERE g.id = sq.id""")


def _departments(conn: psycopg.Connection, total: int) -> None:
    """Line departments up to `total` (the demo has about 22), serving the province."""
    have = conn.execute("SELECT count(*) FROM org_department WHERE kind = 'department'"
                        ).fetchone()[0]
    root = conn.execute("SELECT id FROM territory_grid WHERE code = 'P'").fetchone()[0]
    conn.execute("INSERT INTO org_department (code, name, kind, phone, address, grid_id) "
                 "SELECT 'bench-dept-' || i, '省直部门' || i, 'department', '', '', %s "
                 "FROM generate_series(1, %s) i", (root, max(0, total - have)))


def _params(conn: psycopg.Connection, args: argparse.Namespace, cut: dt.datetime
            ) -> dict[str, Any]:
    depts = conn.execute("SELECT id, code, name FROM org_department WHERE kind = 'department' "
                         "ORDER BY id").fetchall()
    cats = conn.execute("SELECT id, sla_policy = 'utility_24h_3wd' FROM cases_casecategory "
                        "WHERE parent_id IS NOT NULL ORDER BY id").fetchall()
    return {
        "lo": cut - dt.timedelta(days=args.days), "cut": cut, "hi": cut,
        "case0": conn.execute("SELECT coalesce(max(id), 0) FROM cases_case").fetchone()[0],
        "rating0": conn.execute("SELECT coalesce(max(id), 0) FROM cases_rating").fetchone()[0],
        "dept_ids": [d[0] for d in depts], "dept_codes": [d[1] for d in depts],
        "dept_names": [d[2] for d in depts], "ndept": len(depts),
        "cat_ids": [c[0] for c in cats], "utility": [c[1] for c in cats], "ncat": len(cats),
    }


def _timed(conn: psycopg.Connection, took: dict[str, float], name: str,
           statements: list[str], params: dict[str, Any] | None = None) -> None:
    t0 = time.perf_counter()
    rows = 0
    for s in statements:
        rows += max(0, conn.execute(s, params).rowcount)
    took[name] = round(time.perf_counter() - t0, 1)
    print(f"    {name}: {took[name]} s ({rows:,} rows)")


def load(conn: psycopg.Connection, args: argparse.Namespace, cut: dt.datetime
         ) -> tuple[dict[str, float], dict[str, Any]]:
    """The tree, the departments and every case's life up to `cut` (yesterday's midnight).
    Returns the seconds each step took and the generator's parameters."""
    took: dict[str, float] = {}
    conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET work_mem = '64MB'")
    conn.execute("SELECT setseed(0.2026)")
    dropped = common.drop_indexes(conn, BULK_TABLES)
    t0 = time.perf_counter()
    _copy_tree(conn, args.grids)
    _squares(conn)
    _departments(conn, args.departments)
    took["tree (COPY)"] = round(time.perf_counter() - t0, 1)
    print(f"    tree, workers and departments (COPY): {took['tree (COPY)']} s")
    p = _params(conn, args, cut)
    _timed(conn, took, "life plan", [_life_sql(args.cases, args.day_cases)], p)
    _timed(conn, took, "cases", [_insert_cases("l.t0 < %(hi)s")], p)
    _timed(conn, took, "events", [_insert_events()], p)
    _timed(conn, took, "clocks", [_insert_clocks("true")], p)
    _timed(conn, took, "ratings", [_insert_ratings()], p)
    conn.execute("SET session_replication_role = origin")
    common.rebuild_indexes(conn, dropped, took)
    for table in ("cases_case", "cases_caseevent", "cases_caseclock", "cases_rating"):
        conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), "
                             "(SELECT max(id) FROM {}))").format(
            sql.Literal(table), sql.Identifier(table)))
    _timed(conn, took, "analyze", [f"ANALYZE {t}" for t in BULK_TABLES])
    conn.execute("CREATE INDEX ON bench_life (t0)")
    return took, p


def advance(conn: psycopg.Connection, p: dict[str, Any], lo: dt.datetime, hi: dt.datetime,
            took: dict[str, float]) -> dict[str, int]:
    """Write what happened in [lo, hi) as the application would have: the new cases, the
    steps older cases took, their clocks and ratings (indexes and FK triggers on)."""
    q = p | {"lo": lo, "hi": hi}
    counts = {}
    t0 = time.perf_counter()
    with conn.transaction():
        counts["new cases"] = conn.execute(
            _insert_cases("l.t0 >= %(lo)s AND l.t0 < %(hi)s"), q).rowcount
        counts["older cases changed"] = conn.execute(_update_cases(), q).rowcount
        counts["events"] = conn.execute(_insert_events(), q).rowcount
        counts["new clocks"] = conn.execute(
            _insert_clocks("l.clock_start >= %(lo)s"), q).rowcount
        counts["clocks changed"] = conn.execute(_update_clocks(), q).rowcount
        counts["ratings"] = conn.execute(_insert_ratings(), q).rowcount
    for table in ("cases_case", "cases_caseevent", "cases_caseclock", "cases_rating"):
        conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), "
                             "(SELECT max(id) FROM {}))").format(
            sql.Literal(table), sql.Identifier(table)))
    took["write one day"] = round(time.perf_counter() - t0, 1)
    print(f"    one day written in {took['write one day']} s: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return counts


# ------------------------------------------------------------------------ the measures


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": pct(values, 0.5), "p95_ms": pct(values, 0.95), "n": len(values)}


def _raw_reads() -> Any:
    """A context in which every figure the pages read is computed by GROUP BY over the
    records (figures and the rankings' base_rows → raw_figures, the cockpit's headline →
    raw_headline): the baseline."""
    from contextlib import ExitStack
    from unittest import mock

    from wangge.analytics import figures as fig
    from wangge.analytics.headline import raw_headline

    def raw(scope: Any, q: Any) -> Any:
        q, paths = fig.resolve(scope, q)
        return fig.raw_figures(q, paths=paths, departments=scope.departments)

    def raw_head(user: Any, **kw: Any) -> Any:
        return raw_headline(user, **kw)

    stack = ExitStack()
    stack.enter_context(mock.patch.object(fig, "figures", raw))
    # the rankings sum the few columns their scheme needs straight from the rollups
    # (figures.base_rows); without them they fall back to `figures`, patched above
    stack.enter_context(mock.patch.object(fig, "_rolled_rows", lambda *a, **k: None))
    stack.enter_context(mock.patch("wangge.analytics.cockpit.headline", raw_head))
    return stack


def _timed_reads(fn: Callable[[], Any], repeat: int) -> list[float]:
    """`repeat` timed calls after a warm one; fewer when one call takes seconds (at least
    3, about a minute in all), so a slow read does not hold the run for an hour."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first > 2:
        repeat = max(3, min(repeat, int(60 / first)))
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _pair(name: str, ours: Callable[[], Any], repeat: int, base_repeat: int,
          check: Callable[[Any, Any], None] | None = None) -> dict[str, Any]:
    """Time `ours` and the same call with the raw reads, in the same run; `check` compares
    one result of each (it raises when they differ)."""
    a = ours()
    with _raw_reads():
        b = ours()
    if check is not None:
        check(a, b)
    row = {"ours": _stats(_timed_reads(ours, repeat))}
    with _raw_reads():
        row["baseline"] = _stats(_timed_reads(ours, base_repeat))
    o, r = row["ours"], row["baseline"]
    row["pass"] = o["p95_ms"] < TARGET_READ_P95_MS
    print(f"  {name:<36} ours p50 {o['p50_ms']:>8} p95 {o['p95_ms']:>8} ms (n {o['n']}) | "
          f"raw p50 {r['p50_ms']:>9} p95 {r['p95_ms']:>9} ms (n {r['n']}) | "
          f"{'PASS' if row['pass'] else 'FAIL'}")
    return row


def _linear_score() -> Any:
    """--score-fix: ranking.metric_points takes max()/min() of every peer's value for each
    peer, O(peers²) per count metric (100,000 basic grids: 10¹⁰ steps a call); this context
    computes each peer list's best once (what the proposed fix does), same points."""
    from unittest import mock

    from wangge.analytics import ranking

    original = ranking.metric_points
    best: dict[int, tuple[Any, float, float]] = {}

    def points(code: str, value: Any, peers: Any) -> float | None:
        hit = best.get(id(peers))
        if hit is None or hit[0] is not peers:
            hit = best[id(peers)] = (peers, max(peers, default=0.0), min(peers, default=0.0))
        return original(code, value, [hit[1], hit[2]])

    return mock.patch.object(ranking, "metric_points", points)


class Mismatch(AssertionError):
    pass


def _same(what: str) -> Callable[[Any, Any], None]:
    def check(a: Any, b: Any) -> None:
        if a != b:
            keys = sorted(set(a) | set(b), key=str) if isinstance(a, dict) else []
            diff = [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)][:5]
            raise Mismatch(f"{what}: the rollups and the raw rows disagree: {diff}")
    return check


def _same_ranking(what: str) -> Callable[[Any, Any], None]:
    def check(a: Any, b: Any) -> None:
        sa = [(r.key, r.rank, r.score, r.values) for r in a]
        sb = [(r.key, r.rank, r.score, r.values) for r in b]
        if sa != sb:
            diff = [(x, y) for x, y in zip(sa, sb, strict=False) if x != y][:3]
            raise Mismatch(f"{what}: rankings disagree ({len(sa)} vs {len(sb)} rows): {diff}")
    return check


def measure(args: argparse.Namespace, yesterday: dt.date) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from wangge.analytics import cockpit
    from wangge.analytics.access import Scope
    from wangge.analytics.figures import Query, figures, raw_figures
    from wangge.analytics.ranking import rank

    user, _ = get_user_model().objects.get_or_create(
        username="bench-superuser", defaults={"is_superuser": True, "is_staff": True})
    everything = Scope(None, None)
    year = (yesterday - dt.timedelta(days=364), yesterday)
    # the last whole calendar month up to yesterday
    last = yesterday if (yesterday + dt.timedelta(days=1)).day == 1 else (
        yesterday.replace(day=1) - dt.timedelta(days=1))
    month = (last.replace(day=1), last)
    rows: dict[str, Any] = {}
    R, B = args.repeat, args.baseline_repeat
    parts = set(filter(None, args.only.split(","))) or {"dashboard", "department", "ranking"}

    if "dashboard" in parts:
        from django.utils import timezone

        now = timezone.now()
        local = timezone.localtime(now, cockpit.SHANGHAI)
        today = local.date()
        first_day = today.replace(day=1)
        sections: dict[str, Callable[[], Any]] = {
            "headline": lambda: cockpit.headline_section(user, today),
            "flow": lambda: cockpit.flow_section(everything, local),
            "ticker": lambda: cockpit.ticker_section(everything),
            "rates": lambda: cockpit.rates_section(everything, first_day, today),
            "map": lambda: cockpit.map_section(everything, first_day, today, geometry=False),
            "rankings": lambda: cockpit.rankings_section(everything, first_day, today),
            "late": lambda: cockpit.late_section(everything, now),
        }
        for name, section in sections.items():
            rows[f"dashboard_{name}"] = _pair(f"  cockpit section {name}", section, R, B,
                                              None if name == "ticker" else _same(name))

        def dash() -> Any:
            out = cockpit.data(user, everything, now=now)
            return {k: v for k, v in out.items() if k not in ("as_of", "time")}
        first = dash()
        if first.get("unavailable"):
            print(f"  (cockpit sections unavailable: {first['unavailable']})")
        rows["dashboard"] = _pair("dashboard (cockpit.data, province)", dash, R, B,
                                  _same("dashboard"))
        rows["dashboard"]["unavailable"] = first.get("unavailable")
        if hasattr(cockpit, "LIVE"):  # what a refresh every few seconds recomputes
            rows["dashboard_live"] = _pair(
                f"dashboard, live parts {'+'.join(cockpit.LIVE)}",
                lambda: {k: v for k, v in cockpit.data(
                    user, everything, now=now, parts=cockpit.LIVE).items()
                    if k not in ("as_of", "time")}, R, B, _same("dashboard live"))
    if "department" in parts:
        q = Query(by="department", since=year[0], until=year[1])
        a, b = figures(everything, q), raw_figures(q)
        _same("metrics by department, a year")(a, b)
        row = {"ours": _stats(_timed_reads(lambda: figures(everything, q), R)),
               "baseline": _stats(_timed_reads(lambda: raw_figures(q), B)), "keys": len(a)}
        row["pass"] = row["ours"]["p95_ms"] < TARGET_READ_P95_MS
        o, r = row["ours"], row["baseline"]
        print(f"  {'metrics by department, a year':<34} ours p50 {o['p50_ms']:>8} p95 "
              f"{o['p95_ms']:>8} ms | raw p50 {r['p50_ms']:>9} p95 {r['p95_ms']:>9} ms | "
              f"{'PASS' if row['pass'] else 'FAIL'} ({len(a)} departments, equal)")
        rows["department_year"] = row
    if "ranking" in parts:
        if args.score_fix:
            stack = _linear_score()
            stack.start()
            print("  (rankings with --score-fix: each peer list's best computed once)")
        for level, what in ((2, "towns"), (4, "basic grids")):
            for span_name, (since, until) in (("month", month), ("year", year)):
                name = f"grid ranking, {what}, a {span_name}"
                rows[f"ranking_level{level}_{span_name}"] = _pair(
                    name, lambda since=since, until=until, level=level: rank(
                        everything, dim="grid", level=level, since=since, until=until),
                    R, B, _same_ranking(name))
    return rows


def rollups(conn: psycopg.Connection, args: argparse.Namespace, p: dict[str, Any],
            cut: dt.datetime, yesterday: dt.date, took: dict[str, float]) -> dict[str, Any]:
    """The full rebuild over the loaded rows (up to the day before yesterday), then
    yesterday's changes written and the worker's incremental run for that day timed."""
    from wangge.analytics.actions import do_rebuild, do_rollup
    from wangge.analytics.jobs import ROLLUP_DAYS
    from wangge.analytics.models import DailyTally, MetricTally

    out: dict[str, Any] = {}
    if "rebuild" not in args.skip:
        t0 = time.perf_counter()
        reports = do_rebuild(since=args.rebuild_since, progress=lambda r: print(
            f"      {r} (at {time.perf_counter() - t0:.0f} s)"))
        name = "full rebuild" if args.rebuild_since is None else (
            f"rebuild since {args.rebuild_since}")
        took[name] = round(time.perf_counter() - t0, 1)
        days = sum(r.days for r in reports)
        out["rebuild"] = {"days": days, "seconds": took[name],
                          "s_per_day": round(took[name] / max(days, 1), 2)}
        print(f"    {name} (do_rebuild): {took[name]} s, {days} days, "
              f"{out['rebuild']['s_per_day']} s a day")
    if conn.execute("SELECT count(*) FROM cases_case WHERE created_at >= %s",
                    (cut,)).fetchone()[0]:
        print("    yesterday's rows are there already (--reuse)")
    else:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS basic AS SELECT row_number() OVER "
                     "(ORDER BY id) AS k, id AS grid_id FROM territory_grid WHERE level = 4 "
                     "AND code LIKE 'P%'")
        out["day"] = advance(conn, p, cut, cut + dt.timedelta(days=1), took)
    t0 = time.perf_counter()
    do_rollup(yesterday, yesterday)
    took["incremental run, one day"] = round(time.perf_counter() - t0, 2)
    print(f"    incremental run for yesterday (do_rollup(day, day)): "
          f"{took['incremental run, one day']} s")
    if "window" not in args.skip:
        t0 = time.perf_counter()
        do_rollup(yesterday - dt.timedelta(days=ROLLUP_DAYS - 1), yesterday)
        name = f"the worker's window ({ROLLUP_DAYS} days)"
        took[name] = round(time.perf_counter() - t0, 1)
        print(f"    {name}: {took[name]} s")
    conn.execute("ANALYZE analytics_metrictally")
    conn.execute("ANALYZE analytics_dailytally")
    out["metric_tallies"] = MetricTally.objects.count()
    out["daily_tallies"] = DailyTally.objects.count()
    print(f"    {out['metric_tallies']:,} metric tallies, {out['daily_tallies']:,} daily tallies")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000_000, help="cases before yesterday")
    p.add_argument("--day-cases", type=int, default=27_000, help="cases created yesterday")
    p.add_argument("--days", type=int, default=729, help="days before yesterday with cases")
    p.add_argument("--grids", type=int, default=100_000, help="basic grids")
    p.add_argument("--departments", type=int, default=50, help="line departments in all")
    p.add_argument("--repeat", type=int, default=30, help="timed reads of ours")
    p.add_argument("--baseline-repeat", type=int, default=3,
                   help="timed reads of the raw GROUP BY baseline (slow)")
    p.add_argument("--only", default="", help="reads to time: dashboard,department,ranking")
    p.add_argument("--skip", default="", help="rebuild,window,measure")
    p.add_argument("--keep", action="store_true", help="keep the database")
    p.add_argument("--score-fix", action="store_true",
                   help="time the rankings with each peer list's best computed once "
                        "(ranking.metric_points is O(peers²); see the README)")
    p.add_argument("--rebuild-since", type=dt.date.fromisoformat, default=None,
                   help="rebuild from this day only (default: everything); the reads of "
                        "days before it come from the records")
    p.add_argument("--proposed-indexes", action="store_true",
                   help="create PROPOSED_INDEXES before the rollups (see the README)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="WANGGE_DATA_DIR (default: a new temporary one; --reuse needs the "
                        "one printed by the --keep run: it holds the data keys)")
    p.add_argument("--reuse", action="store_true",
                   help="a database kept by --keep: no load, the rollups and reads again")
    common.add_db_args(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = common.git_describe()
    db = f"wangge_bench_analytics_{args.cases}"
    print(f"wangge analytics at province scale on PostgreSQL: {args.cases:,} cases + "
          f"{args.day_cases:,} yesterday, {args.grids:,} basic grids\n{common.machine(git)}")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="wangge_bench_analytics_"))
    env = common.bench_env(data_dir, args.pg_dsn, db)
    os.environ.update(env | {"DJANGO_SETTINGS_MODULE": "wangge.settings"})
    conninfo = make_conninfo(args.pg_dsn, dbname=db)
    out: dict[str, Any] = {"benchmark": "analytics_province", "date": today, "git": git,
                           "loadavg_at_start": os.getloadavg()[0],
                           "args": {k: str(v) for k, v in vars(args).items()},
                           "targets": {"read_p95_ms": TARGET_READ_P95_MS,
                                       "incremental_day_s": TARGET_DAY_S}}
    status = 0
    try:
        if args.reuse:
            cli(env, "setup")  # migrations that landed since the load
        else:
            admin(args.pg_dsn, common.drop_database(db), common.create_database(db))
            cli(env, "setup")
            cli(env, "demo", "load", "--residents", "0", "--cases", "0", "--fieldwork-days",
                "0", "--no-external-systems")
        import django

        django.setup()
        from django.utils import timezone

        yesterday = timezone.localdate() - dt.timedelta(days=1)
        cut = dt.datetime.combine(yesterday, dt.time.min, SHANGHAI)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            if args.reuse:
                took, p = {}, json.loads(conn.execute(
                    "SELECT value FROM bench_params").fetchone()[0])
                p |= {k: dt.datetime.fromisoformat(p[k]) for k in ("lo", "cut", "hi")}
                if conn.execute("SELECT boundary = '' FROM territory_grid WHERE level = 4 "
                                "AND code LIKE 'P%' LIMIT 1").fetchone()[0]:
                    _squares(conn)  # a load from before the outlines
            else:
                print("-- load")
                took, p = load(conn, args, cut)
                conn.execute("CREATE TABLE bench_params (value text)")
                conn.execute("INSERT INTO bench_params VALUES (%s)",
                             (json.dumps(p, default=str),))
            out["load_s"] = took
            out["rows"] = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(t))).fetchone()[0] for t in BULK_TABLES[:4]}
            print("    rows: " + ", ".join(f"{k} {v:,}" for k, v in out["rows"].items()))
            if args.proposed_indexes:
                _timed(conn, took, "proposed indexes", list(PROPOSED_INDEXES))
                conn.execute("ANALYZE cases_caseevent")
            print("-- rollups")
            out["rollup"] = rollups(conn, args, p, cut, yesterday, took)
            out["rollup"]["incremental_pass"] = (
                took["incremental run, one day"] < TARGET_DAY_S)
            out["sizes_mb"] = {t: round(conn.execute(
                "SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] / 2**20) for t in (
                *BULK_TABLES[:4], "analytics_metrictally", "analytics_dailytally")}
            if "measure" not in args.skip:
                print(f"-- reads: ours over --repeat {args.repeat}, the raw GROUP BY over "
                      f"--baseline-repeat {args.baseline_repeat} (target p95 < "
                      f"{TARGET_READ_P95_MS:.0f} ms)")
                out["reads"] = measure(args, yesterday)
    except Mismatch as exc:
        out["error"] = str(exc)
        print(f"MISMATCH: {exc}")
        status = 1
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        common.close_django()
        common.clean_up(args.keep, args.pg_dsn, db, data_dir)
        path = args.output or RESULTS_DIR / f"analytics_province-{today}-{args.cases}.json"
        common.write_result(out, path, started)
    return status


if __name__ == "__main__":
    sys.exit(main())
