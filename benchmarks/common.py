"""What the PostgreSQL benchmarks share: the run's header line, the environment of the
`wangge` commands they start, the database's set-up and clean-up, the non-unique indexes
dropped before a bulk load and rebuilt after, percentiles and the result JSON.

Each benchmark stays a script of its own (`.venv/bin/python benchmarks/<name>.py`); they
find this module as a sibling (the folder is put on sys.path, as for `intake`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg
from intake import DEFAULT_DSN, admin, database_url
from psycopg import sql

RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: one dropped index: (table, name, its CREATE INDEX statement)
DroppedIndex = tuple[str, str, str]


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, rounded to 0.1 (nearest rank, no interpolation)."""
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1) if s else 0.0


def git_describe() -> str:
    """The checkout the figures were measured on (`git describe --always --dirty`)."""
    return subprocess.run(["git", "-C", str(RESULTS_DIR.parent.parent), "describe", "--always",
                           "--dirty"], capture_output=True, text=True).stdout.strip()


def machine(git: str) -> str:
    """The header's second line: what else ran beside the benchmark matters to its figures."""
    return f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; git {git}"


def add_db_args(p: argparse.ArgumentParser) -> None:
    """--pg-dsn and --output, the same in every PostgreSQL benchmark."""
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
                   help="maintenance connection (env WANGGE_BENCH_PG_DSN)")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")


def bench_env(data_dir: Path, pg_dsn: str, db: str) -> dict[str, str]:
    """The environment of the `wangge` commands: this process's without any WANGGE_/DJANGO_
    setting of the caller's (a developer's own database must never be the one dropped),
    plus the benchmark's data dir and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    return env | {"WANGGE_DATA_DIR": str(data_dir),
                  "WANGGE_DATABASE_URL": database_url(pg_dsn, db)}


def drop_database(db: str) -> sql.Composed:
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))


def create_database(db: str) -> sql.Composed:
    return sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db))


def close_django() -> None:
    """Django's connections, closed so that DROP DATABASE does not wait on them."""
    with suppress(Exception):
        from django.db import connections

        connections.close_all()


def clean_up(keep: bool, pg_dsn: str, db: str, data_dir: Path) -> None:
    """Drops the database and the data dir, or says where they are (--keep)."""
    if keep:
        print(f"kept database {db} and data dir {data_dir}")
        return
    with suppress(Exception):
        admin(pg_dsn, drop_database(db))
    shutil.rmtree(data_dir, ignore_errors=True)


def write_result(out: dict[str, Any], path: Path, started: float, *,
                 loadavg_at_end: bool = False) -> None:
    """Adds the run's total seconds (and the load average now) and writes out as JSON."""
    out["total_s"] = round(time.perf_counter() - started, 1)
    if loadavg_at_end:
        out["loadavg_at_end"] = os.getloadavg()[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False) + "\n")
    print(f"wrote {path} (total {out['total_s']} s)")


def _indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                        "indexdef NOT LIKE '%%UNIQUE%%'", (table,)).fetchall()


def drop_indexes(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[DroppedIndex]:
    """Drops the tables' non-unique indexes (a bulk INSERT is far faster without them);
    returns them for rebuild_indexes. Unique ones stay: they are the constraints."""
    dropped = [(t, name, d) for t in tables for name, d in _indexes(conn, t)]
    for _t, name, _d in dropped:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return dropped


def rebuild_indexes(conn: psycopg.Connection, dropped: list[DroppedIndex],
                    took: dict[str, float]) -> None:
    """Creates what drop_indexes dropped; the seconds go to took["indexes"]."""
    t0 = time.perf_counter()
    for _t, _name, definition in dropped:
        conn.execute(definition)
    took["indexes"] = round(time.perf_counter() - t0, 1)
    print(f"    {len(dropped)} indexes rebuilt: {took['indexes']} s")
