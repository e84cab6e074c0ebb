"""The grid worker's day at speed, on PostgreSQL (issue 12, Speed), each figure beside its
baseline:

    .venv/bin/python benchmarks/fieldwork.py [--phones 200] [--per-phone 25]
        [--visits 10000000] [--grids 100000] [--skip sync,offline,province]

(a) sync: one phone posts 1,000 queued writes (visits, opinions, distributions) to
    `wangge serve` in batches of 500, then replays them (nothing new may appear); then
    --phones phones (one login and token each) sync --per-phone writes at once from as many
    threads: throughput and p50/p99 per sync call. Baseline: the same rows written by
    psycopg INSERTs, one transaction per write.
(b) offline: a grid made to hold ~2,000 residents / ~560 households (whole buildings moved
    into the demo worker's grid), GET /api/v1/fieldwork/offline: raw and gzip size, time.
(c) province: --grids basic grids (with their towns and communities) and --visits visits,
    a check-in per worker today, COPY-ed below the ORM with the models' indexes rebuilt
    after; the headline counters (analytics.headline) and the attendance board
    (fieldwork.queries.attendance) for a worker, a community, a town, a city and the
    province: p50/p95 beside a direct COUNT(*) / SUM over the same rows.

Everything lives in the database `wangge_bench_fw`, dropped at the end (--keep keeps it).
Figures go to stdout and to benchmarks/results/fieldwork-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import RESULTS_DIR, pct
from intake import admin, cli, start_server, stop_server  # a sibling benchmark's helpers

DB_NAME = os.environ.get("WANGGE_BENCH_FW_DB", "wangge_bench_fw")
TARGET_ONE_PHONE_S = 5.0
TARGET_OFFLINE_GZIP_KB = 300
TARGET_P95_MS = 200.0
BATCH = 500  # the sync endpoint's limit per call


# ------------------------------------------------------------------ (a) sync


def phone_envelopes(phone: dict[str, Any], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """n queued writes of a worker: visits, opinions and distributions, as the app sends."""
    now = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    out = []
    for i in range(n):
        at = (now - dt.timedelta(minutes=n - i)).isoformat()
        kind = ("visit.create", "opinion.create", "distribution.create")[i % 3]
        if kind == "visit.create":
            payload = {"visited_at": at, "kind": phone["visit_kind"], "people_met": 2,
                       "household_id": rng.choice(phone["households"]), "needs": "无",
                       "help_given": "讲解政策"}
        elif kind == "opinion.create":
            payload = {"collected_at": at, "topic": phone["topic"], "source": "resident",
                       "content": "居民建议增设路灯"}
        else:
            payload = {"day": now.date().isoformat(), "material": phone["material"],
                       "count": 3, "household_id": rng.choice(phone["households"])}
        out.append({"client_key": uuid.uuid4().hex, "kind": kind, "payload": payload,
                    "device_time": at})
    return out


def post_sync(conn: http.client.HTTPConnection, token: str, envelopes: list[dict[str, Any]],
              last: bool = True) -> tuple[int, dict[str, int], float]:
    """One sync call. Like the app, only the last call of a queue asks for the offline
    data's version (working it out reads the worker's whole grid)."""
    t0 = time.perf_counter()
    path = "/api/v1/fieldwork/sync" + ("" if last else "?version=false")
    conn.request("POST", path, body=json.dumps({"envelopes": envelopes}),
                 headers={"Authorization": f"Bearer {token}",
                          "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    took = time.perf_counter() - t0
    statuses: dict[str, int] = {}
    if resp.status == 200:
        for o in json.loads(body)["outcomes"]:
            statuses[o["status"]] = statuses.get(o["status"], 0) + 1
    return resp.status, statuses, took


def sync_all(port: int, token: str, envelopes: list[dict[str, Any]]
             ) -> tuple[float, dict[str, int], list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    total: dict[str, int] = {}
    calls = []
    t0 = time.perf_counter()
    for i in range(0, len(envelopes), BATCH):
        status, statuses, took = post_sync(conn, token, envelopes[i:i + BATCH],
                                           last=i + BATCH >= len(envelopes))
        calls.append(took * 1000)
        for k, v in statuses.items():
            total[k] = total.get(k, 0) + v
        if status != 200:
            total[f"http_{status}"] = total.get(f"http_{status}", 0) + 1
    conn.close()
    return time.perf_counter() - t0, total, calls


def prepare_phones(n: int) -> list[dict[str, Any]]:
    """A login and a token for n grid workers (the demo gives only `gridworker` one), and
    what their envelopes refer to."""
    from django.contrib.auth.hashers import make_password

    from wangge.fieldwork.models import Material, OpinionTopic, VisitKind
    from wangge.integration.actions import do_create_token
    from wangge.org.actions import do_give_login
    from wangge.org.models import Role, RoleAssignment
    from wangge.registry.models import Household

    password = make_password(uuid.uuid4().hex)
    rows = (RoleAssignment.objects.filter(role=Role.GRID_WORKER, ended_on__isnull=True)
            .select_related("person").order_by("grid__code")[:n])
    kind = VisitKind.objects.order_by("order").first().code
    topic = OpinionTopic.objects.order_by("order").first().code
    material = Material.objects.order_by("code").first().code
    phones = []
    for r in rows:
        user = r.person.user or do_give_login(r.person, f"bench-{r.person_id}",
                                              password_hash=password)
        households = list(Household.objects.filter(grid_id=r.grid_id)
                          .values_list("pk", flat=True)[:200])
        if households:
            phones.append({"token": do_create_token(user, label="bench").secret,
                           "grid": r.grid_id, "households": households, "visit_kind": kind,
                           "topic": topic, "material": material})
    return phones


def bench_sync(args: argparse.Namespace, env: dict[str, str], conninfo: str,
               data_dir: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    phones = prepare_phones(args.phones)
    proc, port = start_server(env, args.workers, data_dir / "server.log")
    out: dict[str, Any] = {"workers": args.workers}
    try:
        warm = phone_envelopes(phones[0], 30, rng)
        sync_all(port, phones[0]["token"], warm)
        one = phone_envelopes(phones[0], args.one_phone, rng)
        took, statuses, calls = sync_all(port, phones[0]["token"], one)
        again, replayed, _ = sync_all(port, phones[0]["token"], one)
        out["one_phone"] = {"writes": len(one), "seconds": round(took, 2),
                            "per_s": round(len(one) / took, 1), "outcomes": statuses,
                            "calls_ms": [round(c) for c in calls],
                            "replay_seconds": round(again, 2), "replay_outcomes": replayed}
        print(f"  one phone: {len(one)} writes in {took:.2f} s ({statuses}); replay "
              f"{again:.2f} s ({replayed})  target < {TARGET_ONE_PHONE_S} s")
        batches = [phone_envelopes(p, args.per_phone, rng) for p in phones]
        latencies: list[float] = []
        results: list[dict[str, int]] = []
        lock = threading.Lock()
        gate = threading.Barrier(len(phones) + 1)

        def phone(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            gate.wait()
            try:
                status, statuses, took = post_sync(conn, phones[i]["token"], batches[i])
            except (OSError, http.client.HTTPException) as exc:
                status, statuses, took = 0, {type(exc).__name__: 1}, 0.0
            with lock:
                latencies.append(took * 1000)
                results.append(statuses if status == 200 else {f"http_{status}": 1})
            conn.close()

        threads = [threading.Thread(target=phone, args=(i,)) for i in range(len(phones))]
        for t in threads:
            t.start()
        gate.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        merged: dict[str, int] = {}
        for r in results:
            for k, v in r.items():
                merged[k] = merged.get(k, 0) + v
        writes = len(phones) * args.per_phone
        out["many_phones"] = {"phones": len(phones), "writes": writes,
                              "seconds": round(wall, 2), "writes_per_s": round(writes / wall, 1),
                              "p50_ms": pct(latencies, 0.5), "p99_ms": pct(latencies, 0.99),
                              "max_ms": round(max(latencies), 1), "outcomes": merged}
        print(f"  {len(phones)} phones × {args.per_phone}: {writes / wall:.0f} writes/s, "
              f"sync call p50 {pct(latencies, 0.5)} ms, p99 {pct(latencies, 0.99)} ms "
              f"({merged})")
    finally:
        stop_server(proc)
    out["raw_insert"] = raw_inserts(conninfo, args.one_phone)
    print(f"  baseline psycopg: {out['raw_insert']['per_s']} visit rows/s (one transaction "
          "each)")
    return out


def raw_inserts(conninfo: str, n: int) -> dict[str, Any]:
    """The floor: one INSERT of a visit row per transaction, copied from the last one."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'fieldwork_visit' AND column_name <> 'id' ORDER BY ordinal_position").fetchall()]
        names = sql.SQL(", ").join(map(sql.Identifier, cols))
        copy_last = sql.SQL("INSERT INTO fieldwork_visit ({c}) SELECT {c} FROM fieldwork_visit "
                            "ORDER BY id DESC LIMIT 1").format(c=names)
        t0 = time.perf_counter()
        for _ in range(n):
            with conn.transaction():
                conn.execute(copy_last)
        took = time.perf_counter() - t0
    return {"rows": n, "seconds": round(took, 2), "per_s": round(n / took, 1)}


# ------------------------------------------------------------------ (b) offline data


def bench_offline(args: argparse.Namespace, env: dict[str, str], conninfo: str,
                  data_dir: Path) -> dict[str, Any]:
    """Whole buildings of other urban grids move into gridworker's grid until it holds
    ~2,000 residents (a throw-away database: plain UPDATEs)."""
    with psycopg.connect(conninfo) as conn:
        grid = conn.execute("SELECT g.id FROM territory_grid g JOIN org_roleassignment r ON "
                            "r.grid_id = g.id JOIN org_person p ON p.id = r.person_id JOIN "
                            "auth_user u ON u.id = p.user_id WHERE u.username = 'gridworker'"
                            ).fetchone()[0]  # type: ignore[index]
        per_building = conn.execute(
            "SELECT h.building_id, count(r.id) FROM registry_resident r JOIN registry_house h "
            "ON h.id = r.house_id WHERE r.grid_id <> %s GROUP BY h.building_id ORDER BY "
            "count(r.id) DESC", (grid,)).fetchall()
        moved, residents = [], conn.execute(
            "SELECT count(*) FROM registry_resident WHERE grid_id = %s", (grid,)).fetchone()[0]
        for building, n in per_building:
            if residents >= args.offline_residents:
                break
            moved.append(building)
            residents += n
        conn.execute("UPDATE registry_building SET grid_id = %s WHERE id = ANY(%s)",
                     (grid, moved))
        conn.execute("UPDATE registry_house SET grid_id = %s WHERE building_id = ANY(%s)",
                     (grid, moved))
        for table in ("registry_household", "registry_resident"):
            conn.execute(sql.SQL("UPDATE {} SET grid_id = %s WHERE house_id IN (SELECT id FROM "
                                 "registry_house WHERE building_id = ANY(%s))").format(
                sql.Identifier(table)), (grid, moved))
        conn.execute("UPDATE registry_specialgroup s SET grid_id = r.grid_id FROM "
                     "registry_resident r WHERE r.id = s.resident_id")
        sizes = conn.execute(
            "SELECT (SELECT count(*) FROM registry_resident WHERE grid_id = %(g)s), "
            "(SELECT count(*) FROM registry_household WHERE grid_id = %(g)s), "
            "(SELECT count(*) FROM registry_building WHERE grid_id = %(g)s)", {"g": grid}
        ).fetchone()
    token = cli(env, "tokens", "create", "--user", "gridworker").strip().splitlines()[-1]
    proc, port = start_server(env, args.workers, data_dir / "server-offline.log")
    times, raw_size, gz_size = [], 0, 0
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(args.offline_repeat + 1):
            t0 = time.perf_counter()
            conn.request("GET", "/api/v1/fieldwork/offline", headers={
                "Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            body = resp.read()
            if i:  # the first builds today's plan
                times.append((time.perf_counter() - t0) * 1000)
            assert resp.status == 200, body[:300]
            gz_size = len(body)
            raw_size = len(gzip.decompress(body)) if resp.getheader(
                "Content-Encoding") == "gzip" else len(body)
    finally:
        stop_server(proc)
    out = {"residents": sizes[0], "households": sizes[1], "buildings": sizes[2],
           "raw_kb": round(raw_size / 1024, 1), "gzip_kb": round(gz_size / 1024, 1),
           "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95)}
    print(f"  offline data of a grid with {sizes[0]} residents / {sizes[1]} households: "
          f"{out['raw_kb']} KB raw, {out['gzip_kb']} KB gzip (target < "
          f"{TARGET_OFFLINE_GZIP_KB}), p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms")
    return out


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--phones", type=int, default=200)
    p.add_argument("--per-phone", type=int, default=25, help="writes per phone, at once")
    p.add_argument("--one-phone", type=int, default=1000, help="writes of the single phone")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--offline-residents", type=int, default=2000)
    p.add_argument("--offline-repeat", type=int, default=20)
    p.add_argument("--grids", type=int, default=100_000, help="province: basic grids")
    p.add_argument("--visits", type=int, default=10_000_000, help="province: visits")
    p.add_argument("--repeat", type=int, default=40, help="province: runs per query")
    p.add_argument("--skip", default="", help="comma list of sync,offline,province")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--keep", action="store_true", help="keep the database")
    common.add_db_args(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = common.git_describe()
    print(f"wangge fieldwork on PostgreSQL\n{common.machine(git)}")
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_fw_"))
    env = common.bench_env(data_dir, args.pg_dsn, DB_NAME)
    os.environ.update(env | {"DJANGO_SETTINGS_MODULE": "wangge.settings"})
    conninfo = make_conninfo(args.pg_dsn, dbname=DB_NAME)
    out: dict[str, Any] = {"benchmark": "fieldwork", "date": today, "git": git,
                           "loadavg_at_start": os.getloadavg()[0],
                           "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        admin(args.pg_dsn, common.drop_database(DB_NAME), common.create_database(DB_NAME))
        cli(env, "setup")
        t0 = time.perf_counter()
        cli(env, "demo", "load", "--cases", "2000", "--fieldwork-days", "7")
        print(f"demo city loaded in {time.perf_counter() - t0:.0f} s")
        import django

        django.setup()
        if "sync" not in skip:
            print("-- (a) sync over HTTP (wangge serve)")
            out["sync"] = bench_sync(args, env, conninfo, data_dir)
        if "offline" not in skip:
            print("-- (b) offline data")
            out["offline"] = bench_offline(args, env, conninfo, data_dir)
        if "province" not in skip:
            from province_fw import bench_province

            print(f"-- (c) province: {args.grids:,} grids, {args.visits:,} visits")
            out["province"] = bench_province(args, conninfo)
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        common.close_django()
        common.clean_up(args.keep, args.pg_dsn, DB_NAME, data_dir)
        common.write_result(out, args.output or RESULTS_DIR / f"fieldwork-{today}.json", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
