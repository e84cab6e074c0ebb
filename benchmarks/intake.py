"""Case intake over HTTP on PostgreSQL, beside the raw rate of inserting the same rows.

    .venv/bin/python benchmarks/intake.py [--cases 6000] [--clients 32] [--workers 2]

`wangge serve` on a fresh database takes POST /api/v1/cases/ from --clients keep-alive threads;
then psycopg writes the same rows from as many connections. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB_NAME = "wangge_bench_intake"
BIN = Path(sys.executable).parent
TARGET_RATE, TARGET_P99_MS = 300.0, 100.0
TABLES = {"cases": "cases_case", "idempotency": "core_idempotencykey",
          "outbox": "integration_outboxmessage", "events": "cases_caseevent"}
TICK = os.sysconf("SC_CLK_TCK")
COUNT_QUERIES = """
import json, os, django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
for body in json.loads(os.environ["BODIES"]):  # the first builds this process's point index
    with CaptureQueriesContext(connection) as ctx:
        r = Client().post("/api/v1/cases/", body, content_type="application/json",
                          HTTP_AUTHORIZATION="Bearer " + os.environ["TOKEN"])
print(json.dumps([q["sql"] for q in ctx.captured_queries] if r.status_code == 201 else []))
"""


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "wangge"), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wangge {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def admin(dsn: str, *statements: sql.Composable) -> None:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def database_url(dsn: str, dbname: str) -> str:
    i = {k: quote(str(v), safe="") for k, v in conninfo_to_dict(dsn).items() if v}
    auth = i.get("user", "postgres") + (f":{i['password']}" if "password" in i else "")
    return f"postgresql://{auth}@{i.get('host', '127.0.0.1')}:{i.get('port', 5432)}/{dbname}"


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the gunicorn tree, PostgreSQL, this process and the machine."""
    procs: dict[int, tuple[int, str, float]] = {}
    for d in Path("/proc").iterdir():
        with suppress(OSError, ValueError, IndexError):
            raw = (d / "stat").read_text()
            rest = raw[raw.rindex(")") + 2:].split()
            # own and reaped children's time: an exited backend counts in the postmaster's
            procs[int(d.name)] = (int(rest[1]), raw[raw.index("(") + 1:raw.rindex(")")],
                                  sum(map(int, rest[11:15])) / TICK)
    tree = {server_pid} if server_pid else set()
    for _ in range(3):
        tree |= {pid for pid, (ppid, _, _) in procs.items() if ppid in tree}
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return {"server": sum(procs[p][2] for p in tree if p in procs),
            "postgres": sum(c for _, comm, c in procs.values() if comm.startswith("postgres")),
            "client": sum(os.times()[:2]), "machine": (sum(f) - f[3] - f[4]) / TICK}


class Run:
    """`clients` threads share the jobs; each thread's worker maps a job index to a status.
    With `rate`, job i is due at i/rate s (open loop) and its latency counts from then."""

    def __init__(self, n: int, clients: int, start: Callable[[], Callable[[int], str]],
                 conninfo: str, server_pid: int | None = None, rate: float = 0) -> None:
        self.lat, self.status = np.zeros(n, dtype=np.int64), [""] * n
        jobs, ready, t_start = iter(range(n)), threading.Barrier(clients + 1), [0]

        def thread() -> None:
            do = start()
            ready.wait()
            for i in jobs:  # one shared iterator: each job goes to one thread
                due = t_start[0] + int(i * 1e9 / rate) if rate else time.perf_counter_ns()
                time.sleep(max(0.0, (due - time.perf_counter_ns()) / 1e9))
                self.status[i] = do(i)
                self.lat[i] = time.perf_counter_ns() - due

        threads = [threading.Thread(target=thread, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        before, t_start[0] = count_rows(conninfo), time.perf_counter_ns() + 10**7
        ready.wait()
        cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        cpu = {k: v - cpu0[k] for k, v in cpu_seconds(server_pid).items()}
        good = np.array([s in ("201", "ok") for s in self.status])
        ok, ms = int(good.sum()), (self.lat[good] if good.any() else self.lat[:1]) / 1e6
        grown = {k: v - before[k] for k, v in count_rows(conninfo).items()}
        self.result: dict[str, Any] = {
            "ok": ok, "errors": dict(Counter(s for s in self.status if s not in ("201", "ok"))),
            "elapsed_s": round(elapsed, 2), "per_s": round(ok / elapsed, 1),
            **{f"p{q}_ms": round(float(np.percentile(ms, q)), 1) for q in (50, 90, 99)},
            "max_ms": round(float(ms.max()), 1), "rows_added": grown,
            "verified": all(v == ok for v in grown.values()),
            **{f"{k}_ms_per_case": round(cpu[k] * 1000 / max(ok, 1), 2)
               for k in ("server", "postgres", "client")},
            "other_cores": round((cpu["machine"] - cpu["server"] - cpu["postgres"]
                                  - cpu["client"]) / elapsed, 2)}


def http_worker(port: int, token: str, bodies: list[bytes], opened: list[int]
                ) -> Callable[[int], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def do(i: int) -> str:
        try:
            if conn.sock is None:
                opened.append(1)  # gunicorn's gthread worker keeps connections alive
            conn.request("POST", "/api/v1/cases/", body=bodies[i], headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.will_close:
                conn.close()
            return str(resp.status)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # the next request reconnects
            return type(exc).__name__

    return do


def raw_worker(conninfo: str, rows: dict[str, dict[str, Any]], jobs: list[dict[str, Any]],
               year: int, prefix: str, opened: list[Any]) -> Callable[[int], str]:
    """One connection; per case the writes Django makes, with the values Django wrote."""
    conn = psycopg.connect(conninfo, autocommit=True)
    opened.append(conn)  # closed after the run: an exited backend's CPU is counted late
    stmts = {t: sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(TABLES[t]), sql.SQL(", ").join(map(sql.Identifier, rows[t])),
        sql.SQL(", ").join(sql.Placeholder() * len(rows[t]))) for t in rows}

    def ins(table: str, **values: Any) -> Any:
        vals = [Jsonb(v) if isinstance(v, dict) else v for v in (rows[table] | values).values()]
        return conn.execute(stmts[table], vals, prepare=True).fetchone()[0]  # type: ignore

    def do(i: int) -> str:
        job, now = jobs[i], dt.datetime.now(dt.UTC)
        try:
            with conn.transaction():
                last = conn.execute("UPDATE cases_registercounter SET last = last + 1 WHERE "
                                    "year = %s RETURNING last", (year,)).fetchone()[0]  # type: ignore
                no = f"{prefix}-{year}-{last:06d}"
                pk = ins("cases", register_no=no, created_at=now, grid_id=job["grid_id"],
                         category_id=job["category_id"], lng=job["lng"], lat=job["lat"],
                         title=job["title"], duplicate_of_id=None)
                ins("idempotency", key=job["client_key"], object_id=pk, created_at=now)
                ins("outbox", payload={"register_no": no, "state": "reported"},
                    idempotency_key=os.urandom(16).hex(), created_at=now)
                ins("events", case_id=pk, at=now)
            return "ok"
        except psycopg.Error as exc:
            return type(exc).__name__

    return do


def count_rows(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return {k: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(t))).fetchone()[0] for k, t in TABLES.items()}  # type: ignore


def make_jobs(conninfo: str, n: int, seed: int, run: str) -> list[dict[str, Any]]:
    """Basic grids' label points jittered by ~100 m (kept inside the grid); non-confidential
    small classes. Same category within 50 m: a possible duplicate (rare, by design)."""
    rng = random.Random(seed)
    with psycopg.connect(conninfo) as conn:
        grids = conn.execute("SELECT id, label_lng, label_lat, boundary FROM territory_grid "
                             "WHERE level = 4 ORDER BY id").fetchall()
        cats = conn.execute("SELECT id, code FROM cases_casecategory "
                            "WHERE parent_id IS NOT NULL AND NOT confidential").fetchall()
    shapes = shapely.from_wkb([bytes(g[3]) for g in grids])
    jobs = []
    for i in range(n):
        g = rng.randrange(len(grids))
        lng, lat = grids[g][1], grids[g][2]
        for _ in range(5):
            x, y = lng + rng.gauss(0, 0.001), lat + rng.gauss(0, 0.0009)
            if shapely.contains_xy(shapes[g], x, y):
                lng, lat = x, y
                break
        cat = rng.choice(cats)
        jobs.append({"category": cat[1], "title": f"基准测试 {run} #{i}", "lng": lng, "lat": lat,
                     "client_key": f"bench-{run}-{i}", "grid_id": grids[g][0],
                     "category_id": cat[0]})
    return jobs


def body(job: dict[str, Any]) -> bytes:
    keys = ("category", "title", "lng", "lat", "client_key")
    return json.dumps({k: job[k] for k in keys}, ensure_ascii=False).encode()


def sql_label(statement: str) -> str:
    m = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', statement)
    return (f"{statement.split(None, 1)[0].upper()} {m.group(1) if m else ''}"
            f"{' FOR UPDATE' if 'FOR UPDATE' in statement else ''}").strip()


def start_server(env: dict[str, str], workers: int, log_path: Path) -> tuple[Any, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(BIN / "wangge"), "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", str(workers), "--no-collectstatic"],
                            env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        with suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                                       timeout=2):
            return proc, port
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"server did not start:\n{log_path.read_text()[-2000:]}")


def stop_server(proc: Any) -> None:
    with suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def bench_http(args: argparse.Namespace, env: dict[str, str], conninfo: str, token: str,
               workers: int, data_dir: Path, since: dt.datetime) -> dict[str, Any]:
    # comparable runs: delete what earlier runs wrote (the demo's year of cases stays)
    admin(conninfo, *(sql.SQL("DELETE FROM {} WHERE {} >= {}").format(
        sql.Identifier(TABLES[t]), sql.Identifier(col), sql.Literal(since)) for t, col in (
        ("events", "at"), ("idempotency", "created_at"), ("outbox", "created_at"),
        ("cases", "created_at"))))
    proc, port = start_server(env, workers, data_dir / f"server-{workers}w.log")
    try:
        warm = [body(j) for j in make_jobs(conninfo, args.warmup, workers, f"warm{workers}")]
        Run(len(warm), args.clients, lambda: http_worker(port, token, warm, []), conninfo)
        bodies = [body(j) for j in make_jobs(conninfo, args.cases, args.seed + workers,
                                             f"w{workers}")]
        opened: list[int] = []
        out = {"workers": workers, **Run(len(bodies), args.clients, lambda: http_worker(
            port, token, bodies, opened), conninfo, proc.pid, args.rate).result,
               "connections": len(opened)}
        with psycopg.connect(conninfo) as conn:
            out["duplicates"] = conn.execute("SELECT count(*) FROM cases_case WHERE created_at >= "
                                             "%s AND duplicate_of_id IS NOT NULL", (since,)
                                             ).fetchone()[0]  # type: ignore
        print(f"  {workers} workers: {out['per_s']} cases/s, p50 {out['p50_ms']} ms, "
              f"p99 {out['p99_ms']} ms, {sum(out['errors'].values())} errors")
        return out
    finally:
        stop_server(proc)


def bench_raw(args: argparse.Namespace, conninfo: str) -> dict[str, Any]:
    """Template rows: the last case the server wrote, as it wrote them; new values per case."""
    rows: dict[str, dict[str, Any]] = {}
    with psycopg.connect(conninfo) as conn:
        case = conn.execute("SELECT max(id) FROM cases_case").fetchone()[0]  # type: ignore
        where = {"cases": "id = %s", "events": "case_id = %s", "idempotency": "object_id = %s",
                 "outbox": "payload->>'register_no' = "
                           "(SELECT register_no FROM cases_case WHERE id = %s)"}
        for t, cond in where.items():
            cur = conn.execute(sql.SQL(f"SELECT * FROM {{}} WHERE {cond}").format(  # type: ignore
                sql.Identifier(TABLES[t])), (case,))
            row = cur.fetchone()
            assert row is not None, f"no {t} row of case {case} to copy"
            rows[t] = {d.name: v for d, v in zip(cur.description or [], row, strict=True)
                       if d.name != "id"}
        year = conn.execute("SELECT max(year) FROM cases_registercounter").fetchone()[0]  # type: ignore
    prefix = rows["cases"]["register_no"].rsplit("-", 2)[0]
    jobs, opened = make_jobs(conninfo, args.raw_cases, args.seed, "raw"), []
    run = Run(len(jobs), args.clients,
              lambda: raw_worker(conninfo, rows, jobs, year, prefix, opened), conninfo)
    for conn in opened:
        conn.close()
    return {"workers": "raw", **run.result}


ROWS = {"per_s": "cases/s", "p50_ms": "p50 (ms)", "p90_ms": "p90 (ms)", "p99_ms": "p99 (ms)",
        "max_ms": "max (ms)", "ok": "created (201)", "n_errors": "errors (not 201)",
        "verified": "4 tables grew by created", "connections": "HTTP connections opened",
        "duplicates": "flagged possible duplicates",
        "server_ms_per_case": "CPU ms/case gunicorn", "postgres_ms_per_case": "CPU ms/case "
        "PostgreSQL", "client_ms_per_case": "CPU ms/case client", "other_cores": "other, cores"}


def print_table(runs: list[dict[str, Any]]) -> None:
    targets = {"per_s": f"≥ {TARGET_RATE:g}", "p99_ms": f"< {TARGET_P99_MS:g}"}
    heads = [f"HTTP {r['workers']}w" if r["workers"] != "raw" else "raw psycopg" for r in runs]
    print(f"\n{'=' * 100}\n{'':<28}" + "".join(f"{h:>14}" for h in heads) + f"{'target':>10}")
    for r in runs:
        r["n_errors"] = sum(r["errors"].values())
    for key, label in ROWS.items():
        print(f"{label:<28}" + "".join(f"{r.get(key, '—')!s:>14}" for r in runs)
              + f"{targets.get(key, ''):>10}")
    for r in runs:
        if r.pop("n_errors"):
            print(f"  errors ({r['workers']}): {r['errors']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=6000, help="timed creates per server run")
    p.add_argument("--raw-cases", type=int, default=None, help="raw cases (default: --cases)")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients/connections")
    p.add_argument("--workers", type=int, default=int(os.environ.get("WANGGE_WEB_WORKERS", 2)),
                   help="gunicorn workers of the main run (default: wangge serve's, 2)")
    p.add_argument("--sweep-workers", default="", help="also run these, e.g. 2,3,4")
    p.add_argument("--rate", type=float, default=0, help="open loop: offered cases/s over all "
                   "clients, latency from each request's due time (default 0: closed loop)")
    p.add_argument("--warmup", type=int, default=300, help="untimed creates per server run")
    p.add_argument("--residents", type=int, default=0, help="demo residents to load")
    p.add_argument("--demo-cases", type=int, default=None, help="demo history (demo default)")
    p.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                   help="ALTER DATABASE (the bench database only) SET NAME = VALUE")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the database and the data dir")
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
                   help="maintenance connection (env WANGGE_BENCH_PG_DSN)")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    args = p.parse_args(argv)
    args.raw_cases = args.cases if args.raw_cases is None else args.raw_cases
    return args


def run_all(args: argparse.Namespace, env: dict[str, str], data_dir: Path,
            out: dict[str, Any]) -> None:
    conninfo = make_conninfo(args.pg_dsn, dbname=DB_NAME)
    admin(args.pg_dsn, *(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
        sql.Identifier(DB_NAME), sql.Identifier(n), sql.Literal(v))
        for n, _, v in (setting.partition("=") for setting in args.pg_setting)))
    cli(env, "setup")
    cli(env, "demo", "load", "--residents", str(args.residents),
        *(["--cases", str(args.demo_cases)] if args.demo_cases is not None else []))
    token = cli(env, "tokens", "create", "--user", "gridworker").strip().splitlines()[-1]
    with psycopg.connect(conninfo) as conn:
        out["pg"] = dict(conn.execute(  # type: ignore
            "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', "
            "'fsync', 'commit_delay', 'shared_buffers', 'server_version')").fetchall())
    print(f"set up {DB_NAME} (data dir {data_dir}); PostgreSQL {out['pg']}")
    qenv = env | {"TOKEN": token, "BODIES": json.dumps(  # two places: no duplicate
                      [body(j).decode() for j in make_jobs(conninfo, 2, 0, "queries")]),
                  "DJANGO_SETTINGS_MODULE": "wangge.settings"}
    done = subprocess.run([sys.executable, "-c", COUNT_QUERIES], env=qenv, capture_output=True,
                          text=True)
    out["queries_per_create"] = [sql_label(q) for q in json.loads(
        (done.stdout.strip().splitlines() or ["[]"])[-1])]
    print(f"SQL statements per create (one POST, in process): {len(out['queries_per_create'])}"
          + "".join(f"\n  {n} × {q}" for q, n in Counter(out["queries_per_create"]).items()))
    print(f"\n-- HTTP: {args.cases:,} creates from {args.clients} client threads (http.client, "
          f"keep-alive), {f'offered at {args.rate:g}/s' if args.rate else 'back to back'}, "
          f"after {args.warmup} warm-up creates; earlier runs' rows deleted first")
    sweep = sorted({args.workers, *(int(w) for w in args.sweep_workers.split(",") if w)})
    since = dt.datetime.now(dt.UTC)
    out["http"] = [bench_http(args, env, conninfo, token, w, data_dir, since) for w in sweep]
    print(f"-- raw psycopg: {args.raw_cases:,} cases from {args.clients} connections")
    out["raw"] = bench_raw(args, conninfo)
    print_table([*out["http"], out["raw"]])
    main_run = next(r for r in out["http"] if r["workers"] == args.workers)
    out["ratio_http_to_raw"] = round(main_run["per_s"] / max(out["raw"]["per_s"], 1e-9), 3)
    out["verdict"] = {"rate": main_run["per_s"] >= TARGET_RATE,
                      "p99": main_run["p99_ms"] < TARGET_P99_MS,
                      "no errors, rows verified": not main_run["errors"] and main_run["verified"]}
    print(f"\nHTTP ({args.workers} workers) ÷ raw psycopg: {out['ratio_http_to_raw']:.3f}\n"
          "verdict: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}"
                                  for k, v in out["verdict"].items()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = subprocess.run(["git", "-C", str(RESULTS_DIR.parent.parent), "describe", "--always",
                          "--dirty"], capture_output=True, text=True).stdout.strip()
    print(f"wangge case intake over HTTP (PostgreSQL) vs raw psycopg\nmachine: {os.cpu_count()} "
          f"CPUs, load average {os.getloadavg()[0]:.2f}; git {git}")
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_intake_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    env |= {"WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_DATABASE_URL": database_url(args.pg_dsn, DB_NAME)}
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
    out: dict[str, Any] = {"benchmark": "intake", "date": today, "git": git,
                           "loadavg_at_start": os.getloadavg()[0],
                           "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        admin(args.pg_dsn, drop, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
        run_all(args, env, data_dir, out)
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if args.keep:
            print(f"kept database {DB_NAME} and data dir {data_dir}")
        else:
            with suppress(Exception):
                admin(args.pg_dsn, drop)
            shutil.rmtree(data_dir, ignore_errors=True)
        out["total_s"] = round(time.perf_counter() - started, 1)
        path = args.output or RESULTS_DIR / f"intake-{today}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False) + "\n")
        print(f"wrote {path} (total {out['total_s']} s)")
    return 0 if all(out.get("verdict", {"run": False}).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
