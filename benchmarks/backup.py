"""Backup and restore of the demo city: `wangge backup` and `wangge restore` timed on SQLite
and PostgreSQL through the real CLI.

Run from the repository root::

    .venv/bin/python benchmarks/backup.py [--db sqlite|postgres|both] [--rounds 3]
                                          [--residents 20000] [--cases 24000] [--keep]

For each database: a fresh data directory (and, on PostgreSQL, the database
``wangge_bench_backup_src``), ``wangge setup`` and ``wangge demo load`` (by default the
default demo: 20,000 residents, 24,000 cases); then --rounds times ``wangge backup -o
FILE`` and ``wangge restore FILE`` into another fresh data directory and empty database
(``wangge_bench_backup_dst``), wall time of the whole command (process start included, as an
operator sees it). The restore verifies the counts itself. A table goes to stdout and the
figures to ``benchmarks/results/backup-<date>.json``. PostgreSQL: env WANGGE_BENCH_PG_URL
(default ``postgresql://postgres@127.0.0.1:5432/postgres``, the maintenance database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

BIN = Path(sys.executable).parent / "wangge"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _pg(admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlparse(admin_url)._replace(path=f"/{name}").geturl()


def _drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(data_dir: Path, db_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    if db_url:
        env["WANGGE_DATABASE_URL"] = db_url
    return env


def _run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"wangge {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started


def _raw_dump(db: str, src_dir: Path, src_url: str | None, out: Path) -> float:
    """The baseline: the bare database copy the archive is built around, with nothing else
    (no keys, media, manifest or checks) — SQLite's online backup API, or pg_dump -Fc."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    if db == "sqlite":
        import sqlite3

        source = sqlite3.connect(src_dir / "wangge.sqlite3")
        target = sqlite3.connect(out)
        with target:
            source.backup(target)
        source.close()
        target.close()
    else:
        subprocess.run(["pg_dump", "--format=custom", "-f", str(out), str(src_url)],
                       check=True, capture_output=True)
    return time.perf_counter() - started


def bench(db: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    admin = os.environ.get("WANGGE_BENCH_PG_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
    src_dir, archive = tmp / f"{db}-src", tmp / f"{db}-backup.zip"
    src_url = _pg(admin, "wangge_bench_backup_src") if db == "postgres" else None
    src = _env(src_dir, src_url)
    print(f"[{db}] setup + demo load …", file=sys.stderr, flush=True)
    load = _run(["setup"], src) + _run(
        ["demo", "load", "--residents", str(args.residents), "--cases", str(args.cases)], src)
    backups, restores, raws = [], [], []
    try:
        for i in range(args.rounds):
            archive.unlink(missing_ok=True)
            raws.append(_raw_dump(db, src_dir, src_url, tmp / f"{db}-raw.dump"))
            backups.append(_run(["backup", "-o", str(archive)], src))
            dst_dir = tmp / f"{db}-dst-{i}"
            dst_url = _pg(admin, "wangge_bench_backup_dst") if db == "postgres" else None
            restores.append(_run(["restore", str(archive)], _env(dst_dir, dst_url)))
            print(f"[{db}] round {i + 1}: backup {backups[-1]:.1f} s, "
                  f"restore {restores[-1]:.1f} s", file=sys.stderr, flush=True)
            if not args.keep:
                shutil.rmtree(dst_dir, ignore_errors=True)
        size = archive.stat().st_size
    finally:
        if db == "postgres" and not args.keep:
            _drop(admin, "wangge_bench_backup_src")
            _drop(admin, "wangge_bench_backup_dst")
    return {"setup_and_demo_load_s": round(load, 1),
            "backup_s": [round(x, 2) for x in backups],
            "restore_s": [round(x, 2) for x in restores],
            "backup_median_s": round(statistics.median(backups), 2),
            "raw_dump_s": [round(x, 2) for x in raws],
            "raw_dump_median_s": round(statistics.median(raws), 2),
            "restore_median_s": round(statistics.median(restores), 2),
            "archive_mb": round(size / 1e6, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--residents", type=int, default=20_000)
    p.add_argument("--cases", type=int, default=24_000)
    p.add_argument("--keep", action="store_true", help="keep the data dirs and databases")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    args = p.parse_args()
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    tmp = Path(tempfile.mkdtemp(prefix="wangge_bench_backup_"))
    results = {}
    try:
        for db in dbs:
            results[db] = bench(db, args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"demo: {args.residents} residents, {args.cases} cases; {args.rounds} rounds; "
          "wall seconds of the whole command")
    print(f"{'database':<10} {'command':<32} {'median s':>9}  all")
    for db, r in results.items():
        print(f"{db:<10} {'wangge backup -o FILE.zip':<32} {r['backup_median_s']:>9.2f}  "
              f"{r['backup_s']}  ({r['archive_mb']} MB)")
        print(f"{db:<10} {'wangge restore FILE.zip':<32} {r['restore_median_s']:>9.2f}  "
              f"{r['restore_s']}")
        raw = "sqlite3 backup API (baseline)" if db == "sqlite" else "pg_dump -Fc (baseline)"
        print(f"{db:<10} {raw:<32} {r['raw_dump_median_s']:>9.2f}  {r['raw_dump_s']}")
    out = args.output or RESULTS_DIR / f"backup-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps({
        "benchmark": "backup", "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "demo": {"residents": args.residents, "cases": args.cases}, "rounds": args.rounds,
        "results": results}, indent=2))
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
