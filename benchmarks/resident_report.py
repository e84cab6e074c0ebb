"""A resident's report with a photo (the /report/ form POST) on PostgreSQL at 16 concurrent
clients, beside the floor: the same clients on GET /healthz and on the empty form.

    .venv/bin/python benchmarks/resident_report.py [--reports 2000] [--clients 16]
        [--workers 2] [--photo-kb 200] [--keep] [--pg-dsn DSN] [--output PATH]

A fresh database `wangge_bench_report` gets the demo city; `wangge serve` (gunicorn, as the
e2e tests start it) runs with the abuse limits off (WANGGE_RESIDENT_CHALLENGE_AFTER,
_PER_ADDRESS_HOUR and _PER_PHONE_DAY = 0: all clients share one address). Each client is
a browser: a `requests` session that GETs the form (CSRF cookie, a fresh client key) and
POSTs it as multipart with a ~200 KB JPEG, anonymous, at a point inside a basic grid. Only
the POST is timed for the report figures. Afterwards the database must hold exactly one
case, one resident report and one photo per report sent. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import requests
import shapely
from PIL import Image
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import RESULTS_DIR
from intake import admin, cli, cpu_seconds, start_server, stop_server

DB_NAME = "wangge_bench_report"
LIMITS_OFF = {"WANGGE_RESIDENT_CHALLENGE_AFTER": "0", "WANGGE_RESIDENT_PER_ADDRESS_HOUR": "0",
              "WANGGE_RESIDENT_PER_PHONE_DAY": "0"}
TICK = os.sysconf("SC_CLK_TCK")
_INPUT = re.compile(r'<input[^>]*name="(csrfmiddlewaretoken|client_key)"[^>]*>')
_VALUE = re.compile(r'value="([^"]*)"')


def jpeg(kb: int, seed: int) -> bytes:
    """A JPEG of about `kb` KB: smooth noise (a photo-like size per pixel), 1024 px wide."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((1024, 768), Image.Resampling.BICUBIC)
    noise = rng.integers(-12, 13, (768, 1024, 3))
    arr = np.clip(np.asarray(img, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    lo, hi, best = 10, 95, b""
    while lo <= hi:  # the quality that comes closest to the size from below
        q = (lo + hi) // 2
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=q)
        if buf.tell() <= kb * 1024:
            best, lo = buf.getvalue(), q + 1
        else:
            hi = q - 1
    return best


def points(conninfo: str, n: int, seed: int) -> list[tuple[float, float]]:
    """Points inside random basic grids, ~100 m around their label points."""
    rng = random.Random(seed)
    with psycopg.connect(conninfo) as conn:
        grids = conn.execute("SELECT label_lng, label_lat, boundary FROM territory_grid "
                             "WHERE level = 4 ORDER BY id").fetchall()
    shapes = shapely.from_wkb([bytes(g[2]) for g in grids])
    out = []
    for _ in range(n):
        g = rng.randrange(len(grids))
        lng, lat = grids[g][0], grids[g][1]
        for _ in range(10):
            x, y = lng + rng.gauss(0, 0.001), lat + rng.gauss(0, 0.0009)
            if shapely.contains_xy(shapes[g], x, y):
                lng, lat = x, y
                break
        out.append((round(lng, 6), round(lat, 6)))
    return out


def db_backends_cpu(dbname: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `dbname` (its process title
    names it): this benchmark's database work alone, whatever else the machine's PostgreSQL
    serves (intake.cpu_seconds counts every postgres process)."""
    out = {}
    for d in Path("/proc").iterdir():
        with suppress(OSError, ValueError, IndexError):
            if f" {dbname} ".encode() not in (d / "cmdline").read_bytes():
                continue
            raw = (d / "stat").read_text()
            out[int(d.name)] = sum(map(int, raw[raw.rindex(")") + 2:].split()[11:13])) / TICK
    return out


class DbCpu(threading.Thread):
    """Samples the database's backends every 0.2 s during a run: a backend closed during it
    (CONN_MAX_AGE is 60 s) keeps its last sample, so at most 0.2 s of its work is lost."""

    def __init__(self, dbname: str) -> None:
        super().__init__(daemon=True)
        self.dbname, self.first, self.last = dbname, db_backends_cpu(dbname), {}
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.last |= db_backends_cpu(self.dbname)

    def stop(self) -> float:
        self.done.set()
        self.join()
        self.last |= db_backends_cpu(self.dbname)
        return sum(v - self.first.get(pid, 0.0) for pid, v in self.last.items())


def form_fields(html: str) -> dict[str, str]:
    found = {}
    for tag in _INPUT.finditer(html):
        value = _VALUE.search(tag[0])
        found[tag[1]] = value[1] if value else ""
    return found


class Load:
    """`clients` threads, each with its own session, share `n` jobs; `job(session, i)`
    returns (status label, ms of the timed request)."""

    def __init__(self, n: int, clients: int,
                 job: Callable[[requests.Session, int], tuple[str, float]],
                 server_pid: int | None = None) -> None:
        self.ms, self.status = np.zeros(n), [""] * n
        jobs, ready = iter(range(n)), threading.Barrier(clients + 1)

        def thread() -> None:
            with requests.Session() as session:
                ready.wait()
                for i in jobs:  # one shared iterator: each job goes to one thread
                    try:
                        self.status[i], self.ms[i] = job(session, i)
                    except requests.RequestException as e:
                        self.status[i] = type(e).__name__

        threads = [threading.Thread(target=thread, daemon=True) for _ in range(clients)]
        for t in threads:
            t.start()
        ready.wait()
        db, cpu0, t0 = DbCpu(DB_NAME), cpu_seconds(server_pid), time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        cpu = {k: v - cpu0[k] for k, v in cpu_seconds(server_pid).items()}
        cpu["db"] = db.stop()
        good = np.array([s == "ok" for s in self.status])
        ms = self.ms[good] if good.any() else np.zeros(1)
        ok = int(good.sum())
        self.result: dict[str, Any] = {
            "ok": ok, "errors": dict(Counter(s for s in self.status if s != "ok")),
            "elapsed_s": round(elapsed, 2), "per_s": round(ok / elapsed, 1),
            **{f"p{q}_ms": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)},
            "max_ms": round(float(ms.max()), 1),
            **{f"{k}_cpu_ms_per_request": round(cpu[k] * 1000 / max(ok, 1), 2)
               for k in ("server", "db", "postgres", "client")}}


def timed(session: requests.Session, method: str, url: str, **kw: Any) -> tuple[Any, float]:
    t = time.perf_counter_ns()
    r = session.request(method, url, allow_redirects=False, timeout=60, **kw)
    return r, (time.perf_counter_ns() - t) / 1e6


def report_job(base: str, code: str, spots: list[tuple[float, float]], photos: list[bytes],
               offers: list[int], keys: list[str]) -> Callable[..., tuple[str, float]]:
    def job(session: requests.Session, i: int) -> tuple[str, float]:
        page = session.get(f"{base}/report/", timeout=60)  # a fresh client key, the cookie
        if page.status_code != 200:
            return f"form {page.status_code}", 0.0
        fields = form_fields(page.text)
        lng, lat = spots[i]
        data = {**fields, "public_category": code, "where": "point", "lng": str(lng),
                "lat": str(lat), "contact_mode": "anonymous",
                "description": f"基准测试：单元门口的下水道堵了，污水流到路上（#{i}）"}
        files = [("photos", (f"IMG_{i:05d}.jpg", photos[i % len(photos)], "image/jpeg"))]
        r, ms = timed(session, "POST", f"{base}/report/", data=data, files=files)
        if r.status_code == 200 and "new_anyway" in r.text:  # the nearby offer: mine anyway
            offers.append(i)
            r, ms2 = timed(session, "POST", f"{base}/report/", files=files,
                           data={**data, "new_anyway": "on"})
            ms += ms2
        keys.append(fields.get("client_key", ""))
        ok = r.status_code in (302, 303) and r.headers.get("Location", "").endswith("/done/")
        return "ok" if ok else f"{r.status_code}", ms

    return job


def get_job(base: str, path: str) -> Callable[..., tuple[str, float]]:
    def job(session: requests.Session, i: int) -> tuple[str, float]:
        r, ms = timed(session, "GET", f"{base}{path}")
        return "ok" if r.status_code == 200 else str(r.status_code), ms

    return job


def counts(conninfo: str, since: dt.datetime) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM cases_case WHERE channel = 'resident' AND "
            "created_at >= %(t)s), (SELECT count(*) FROM cases_residentreport WHERE "
            "created_at >= %(t)s), (SELECT count(*) FROM cases_casephoto WHERE uploaded_at >= "
            "%(t)s), (SELECT count(DISTINCT client_key) FROM cases_residentreport WHERE "
            "created_at >= %(t)s)", {"t": since}).fetchone()
    assert row is not None
    return dict(zip(("cases", "resident_reports", "photos", "client_keys"), row, strict=True))


def run_all(args: argparse.Namespace, env: dict[str, str], data_dir: Path,
            out: dict[str, Any]) -> None:
    conninfo = make_conninfo(args.pg_dsn, dbname=DB_NAME)
    t = time.perf_counter()
    cli(env, "setup")
    cli(env, "demo", "load", "--residents", str(args.residents), "--fieldwork-days", "0")
    out["setup_s"] = round(time.perf_counter() - t, 1)
    with psycopg.connect(conninfo) as conn:
        code = conn.execute("SELECT code FROM cases_publiccategory WHERE active ORDER BY "
                            "\"order\", code LIMIT 1").fetchone()
    if code is None:
        raise RuntimeError("no resident-facing category (do_seed_public_categories missing?)")
    photos = [jpeg(args.photo_kb, s) for s in range(args.clients)]
    out["photo_bytes"] = [len(p) for p in photos]
    spots = points(conninfo, args.reports + args.warmup, args.seed)
    print(f"set up in {out['setup_s']} s; category {code[0]}; photos "
          f"{min(out['photo_bytes']) // 1024}–{max(out['photo_bytes']) // 1024} KB")
    server_env = env | LIMITS_OFF
    proc, port = start_server(server_env, args.workers, data_dir / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        offers: list[int] = []
        keys: list[str] = []
        Load(args.warmup, args.clients, report_job(base, code[0], spots[args.reports:],
                                                   photos, [], []))
        runs = {}
        for name, path in (("GET /healthz", "/healthz"), ("GET /report/ (empty form)",
                                                          "/report/")):
            runs[name] = Load(args.baseline, args.clients, get_job(base, path), proc.pid).result
            print(f"  {name}: {runs[name]['per_s']}/s, p99 {runs[name]['p99_ms']} ms")
        since = dt.datetime.now(dt.UTC)
        runs["POST /report/ with a photo"] = Load(args.reports, args.clients, report_job(
            base, code[0], spots, photos, offers, keys), proc.pid).result
    finally:
        stop_server(proc)
    main_run = runs["POST /report/ with a photo"]
    main_run["offers_then_sent_anyway"] = len(offers)
    main_run["stored"] = stored = counts(conninfo, since)
    main_run["sent"] = args.reports
    main_run["client_keys_sent"] = len(set(keys))
    out["runs"] = runs
    print(f"\n{'=' * 100}\n{'':<30}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'errors':>8}  CPU ms/request: gunicorn, PostgreSQL (this db)")
    for name, r in runs.items():
        print(f"{name:<30}{r['per_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}"
              f"{r['max_ms']:>9}{sum(r['errors'].values()):>8}"
              f"{r['server_cpu_ms_per_request']:>12}{r['db_cpu_ms_per_request']:>8}")
    print(f"\nsent {args.reports} reports ({len(offers)} after the nearby offer); stored: "
          f"{stored}")
    out["verdict"] = {
        "no errors": not main_run["errors"],
        "one case, report and photo per report sent": all(
            v == args.reports for v in stored.values())}
    print("verdict: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}"
                                  for k, v in out["verdict"].items()))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=2000, help="timed reports")
    p.add_argument("--warmup", type=int, default=100, help="untimed reports first")
    p.add_argument("--baseline", type=int, default=3000, help="requests per baseline run")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--workers", type=int, default=int(os.environ.get("WANGGE_WEB_WORKERS", 2)),
                   help="gunicorn workers (default: wangge serve's and the e2e tests', 2)")
    p.add_argument("--photo-kb", type=int, default=200)
    p.add_argument("--residents", type=int, default=20_000, help="demo residents")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the database and the data dir")
    common.add_db_args(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = common.git_describe()
    print(f"wangge resident report POST with a photo, {args.clients} clients (PostgreSQL)\n"
          f"{common.machine(git)}")
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_report_"))
    env = common.bench_env(data_dir, args.pg_dsn, DB_NAME)
    out: dict[str, Any] = {"benchmark": "resident_report", "date": today, "git": git,
                           "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0],
                           "limits_env": LIMITS_OFF,
                           "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        admin(args.pg_dsn, common.drop_database(DB_NAME), common.create_database(DB_NAME))
        run_all(args, env, data_dir, out)
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        common.clean_up(args.keep, args.pg_dsn, DB_NAME, data_dir)
        path = args.output or RESULTS_DIR / f"resident_report-{today}.json"
        common.write_result(out, path, started, loadavg_at_end=True)
    return 0 if all(out.get("verdict", {"run": False}).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
