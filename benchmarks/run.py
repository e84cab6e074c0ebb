"""Point → basic-grid lookup benchmark: `wangge.territory.index.PointIndex` against PostGIS.

Run from the repository root (``make bench`` does the same)::

    .venv/bin/python benchmarks/run.py [--scale liling|province|both] [--points N]

For each scale it generates the synthetic city (`wangge.demo.citygen.generate_city`), builds
a `PointIndex` over the basic grids (level 4) and measures

* index build time;
* batch throughput of ``locate_many`` over N uniform random points in the territory's
  bounding box (best of 3);
* single-lookup latency of ``locate`` (p50/p99);
* the same on PostGIS in a throw-away database ``wangge_bench_<pid>``: one ``ST_Contains``
  join over a subset of the points (query time only), and prepared single-point SELECTs
  from Python (client-side, including the loopback round-trip, plus the server-side
  EXPLAIN ANALYZE execution time);
* a correctness cross-check of our answers against PostGIS's on a sample.

A readable table goes to stdout and the figures to
``benchmarks/results/point_lookup-<date>.json``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from wangge.demo.citygen import GridSpec, generate_city
from wangge.territory import index as index_module
from wangge.territory.index import OUTSIDE, PointIndex

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TARGET_BATCH_PPS = 1_000_000  # at Liling scale
TARGET_SPEEDUP = 20.0  # ours / PostGIS, batch
BASIC_LEVEL = 4


# --------------------------------------------------------------------------- helpers


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def percentiles_us(ns: np.ndarray) -> dict[str, float]:
    us = ns / 1000.0
    p50, p90, p99 = np.percentile(us, [50, 90, 99])
    return {
        "p50_us": round(float(p50), 2),
        "p90_us": round(float(p90), 2),
        "p99_us": round(float(p99), 2),
        "mean_us": round(float(us.mean()), 2),
        "n": len(us),
    }


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def fmt_rate(pps: float) -> str:
    if pps >= 1e6:
        return f"{pps / 1e6:,.2f} M pts/s"
    return f"{pps / 1e3:,.1f} k pts/s"


def status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def random_points(
    rng: np.random.Generator, bounds: tuple[float, float, float, float], n: int
) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = bounds
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


class Report:
    """Collects the printed lines (so the table reads top to bottom as the run goes)."""

    def __init__(self) -> None:
        self.width = 44

    def title(self, text: str) -> None:
        print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)

    def section(self, text: str) -> None:
        print(f"\n-- {text}", flush=True)

    def row(self, label: str, value: str, note: str = "") -> None:
        line = f"  {label:<{self.width}} {value}"
        if note:
            line += f"   {note}"
        print(line, flush=True)

    def text(self, text: str) -> None:
        print(f"  {text}", flush=True)


# --------------------------------------------------------------------------- ours


@dataclass
class OursResult:
    build_s: float
    raster: dict[str, Any]
    batch: dict[str, Any]
    single: dict[str, Any]


def raster_info(idx: PointIndex) -> dict[str, Any]:
    """Shape of the index's raster (reads PointIndex internals; empty if they change)."""
    table = getattr(idx, "table", None)
    mixed_code = getattr(index_module, "_MIXED", None)
    if table is None or mixed_code is None:
        return {}
    return {
        "nx": int(idx.nx),
        "ny": int(idx.ny),
        "cells": len(table),
        "cells_per_polygon": round(len(table) / max(1, idx.size), 1),
        "boundary_cell_share": round(float(np.mean(table == mixed_code)), 4),
        "outside_cell_share": round(float(np.mean(table == OUTSIDE)), 4),
        "table_mib": round(table.nbytes / 2**20, 2),
    }


def exact_path_mask(idx: PointIndex, lng: np.ndarray, lat: np.ndarray) -> np.ndarray | None:
    """Which points fall in a boundary cell and so take the STRtree + exact-test path."""
    mixed_code = getattr(index_module, "_MIXED", None)
    if mixed_code is None or not hasattr(idx, "table"):
        return None
    minx, miny, maxx, maxy = idx.bounds
    inside = (lng >= minx) & (lng < maxx) & (lat >= miny) & (lat < maxy)
    cx = np.clip(((lng - minx) / idx.dx).astype(np.int64), 0, idx.nx - 1)
    cy = np.clip(((lat - miny) / idx.dy).astype(np.int64), 0, idx.ny - 1)
    return inside & (idx.table[cy * idx.nx + cx] == mixed_code)


def bench_ours(
    geoms: list[shapely.Geometry],
    batch_pts: tuple[np.ndarray, np.ndarray],
    single_pts: tuple[np.ndarray, np.ndarray],
    report: Report,
) -> tuple[PointIndex, OursResult]:
    report.section("PointIndex (pure Shapely/NumPy, single thread)")
    gc.collect()
    idx, build_s = timed(lambda: PointIndex(geoms))
    raster = raster_info(idx)
    note = ""
    if raster:
        note = (
            f"raster {raster['nx']}×{raster['ny']} = {raster['cells']:,} cells "
            f"({raster['cells_per_polygon']}/polygon), "
            f"{raster['boundary_cell_share']:.1%} boundary cells"
        )
    report.row("index build", f"{build_s:8.2f} s", note)

    lng, lat = batch_pts
    n = len(lng)
    runs: list[float] = []
    answers = np.empty(0, dtype=np.int32)
    for _ in range(3):
        answers, secs = timed(lambda: idx.locate_many(lng, lat))
        runs.append(secs)
    best = min(runs)
    pps = n / best
    inside_share = float(np.mean(answers != OUTSIDE))
    mask = exact_path_mask(idx, lng, lat)
    exact_share = float(mask.mean()) if mask is not None else None
    batch = {
        "points": n,
        "runs_s": [round(r, 4) for r in runs],
        "best_s": round(best, 4),
        "points_per_s": round(pps),
        "inside_share": round(inside_share, 4),
        "exact_path_share": None if exact_share is None else round(exact_share, 4),
    }
    report.row(
        f"batch locate_many ({n:,} pts, best of 3)",
        f"{fmt_rate(pps):>16}",
        "runs " + " / ".join(f"{r:.3f}s" for r in runs),
    )
    extra = f", {exact_share:.1%} took the exact (STRtree) path" if exact_share is not None else ""
    report.row("  points inside the territory", f"{inside_share:16.1%}", extra.lstrip(", "))

    slng, slat = single_pts
    xs, ys = slng.tolist(), slat.tolist()
    for i in range(min(1000, len(xs))):  # warm-up
        idx.locate(xs[i], ys[i])
    ns = np.empty(len(xs), dtype=np.int64)
    clock = time.perf_counter_ns
    locate = idx.locate
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        t0 = clock()
        locate(x, y)
        ns[i] = clock() - t0
    single = percentiles_us(ns)
    report.row(
        f"single locate ({len(xs):,} pts)",
        f"p50 {single['p50_us']:7.1f} µs   p99 {single['p99_us']:7.1f} µs",
        f"mean {single['mean_us']:.1f} µs",
    )
    smask = exact_path_mask(idx, slng, slat)
    if smask is not None and smask.any() and (~smask).any():
        single["raster_path"] = percentiles_us(ns[~smask])
        single["exact_path"] = percentiles_us(ns[smask])
        r, e = single["raster_path"], single["exact_path"]
        report.row(
            f"  answered from the raster ({r['n']:,})",
            f"p50 {r['p50_us']:7.1f} µs   p99 {r['p99_us']:7.1f} µs",
        )
        report.row(
            f"  boundary cell → exact path ({e['n']:,})",
            f"p50 {e['p50_us']:7.1f} µs   p99 {e['p99_us']:7.1f} µs",
        )
    return idx, OursResult(build_s, raster, batch, single)


# --------------------------------------------------------------------------- PostGIS


class PostGISUnavailable(Exception):
    pass


def postgis_available(conn: Any) -> bool:
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    return row is not None


def ensure_postgis(dsn: str) -> str:
    """Make sure the server can CREATE EXTENSION postgis; install the Debian package when it
    is missing and we can (root + apt-get). Returns a note; raises PostGISUnavailable."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a project dependency
        raise PostGISUnavailable(f"psycopg is not importable: {exc}") from exc
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            if postgis_available(conn):
                return "PostGIS already installed"
            major = conn.info.server_version // 10000
    except psycopg.Error as exc:
        raise PostGISUnavailable(f"cannot connect to PostgreSQL ({dsn}): {exc}") from exc
    package = f"postgresql-{major}-postgis-3"
    if os.geteuid() != 0:
        raise PostGISUnavailable(f"PostGIS is missing and we are not root to install {package}")
    if shutil.which("apt-get") is None:
        raise PostGISUnavailable(f"PostGIS is missing and there is no apt-get for {package}")
    print(f"  PostGIS missing: installing {package} with apt-get …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", package]
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PostGISUnavailable(f"apt-get install {package} failed: {' | '.join(tail)}")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        if not postgis_available(conn):
            raise PostGISUnavailable(
                f"installed {package} but the server does not list postgis "
                "(is PostgreSQL on another host?)"
            )
    return f"installed {package} with apt-get"


@contextmanager
def bench_database(dsn: str) -> Iterator[Any]:
    """A fresh database wangge_bench_<pid> with PostGIS, dropped on the way out."""
    import psycopg
    from psycopg import sql

    name = f"wangge_bench_{os.getpid()}"
    admin = psycopg.connect(dsn, autocommit=True)
    conn = None
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conninfo = psycopg.conninfo.make_conninfo(dsn, dbname=name)
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute("CREATE EXTENSION postgis")
        yield conn
    finally:
        if conn is not None:
            with suppress(Exception):
                conn.close()
        with suppress(Exception):
            admin.execute(drop)
            print(f"  dropped database {name}", flush=True)
        admin.close()


@dataclass
class PostGISResult:
    versions: dict[str, str]
    load: dict[str, float] = field(default_factory=dict)
    batch: dict[str, Any] = field(default_factory=dict)
    single: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)


def load_grids(conn: Any, codes: list[str], geoms: list[shapely.Geometry]) -> None:
    conn.execute("DROP TABLE IF EXISTS grids, grids_raw")
    conn.execute("CREATE UNLOGGED TABLE grids_raw (id int4, code text, wkb bytea)")
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    with (
        conn.cursor() as cur,
        cur.copy("COPY grids_raw (id, code, wkb) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", "text", "bytea"])
        for i, (code, blob) in enumerate(zip(codes, wkb, strict=True)):
            copy.write_row((i, code, blob))
    conn.execute(
        "CREATE UNLOGGED TABLE grids AS SELECT id, code, "
        "ST_Multi(ST_GeomFromWKB(wkb, 4326))::geometry(MultiPolygon, 4326) AS geom "
        "FROM grids_raw"
    )
    conn.execute("DROP TABLE grids_raw")
    conn.execute("ALTER TABLE grids ADD PRIMARY KEY (id)")
    conn.execute("CREATE INDEX grids_geom_gist ON grids USING gist (geom)")
    conn.execute("ANALYZE grids")


def load_points(conn: Any, table: str, lng: np.ndarray, lat: np.ndarray) -> None:
    """COPY the points (exact float8 values) and build a geometry(Point, 4326) table."""
    conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_raw")
    conn.execute(f"CREATE UNLOGGED TABLE {table}_raw (id int4, lng float8, lat float8)")
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY {table}_raw (id, lng, lat) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", "float8", "float8"])
        for row in zip(range(len(lng)), lng.tolist(), lat.tolist(), strict=True):
            copy.write_row(row)
    conn.execute(
        f"CREATE UNLOGGED TABLE {table} AS SELECT id, "
        "ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geometry(Point, 4326) AS geom "
        f"FROM {table}_raw ORDER BY id"
    )
    conn.execute(f"DROP TABLE {table}_raw")
    conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
    conn.execute(f"ANALYZE {table}")


BATCH_SQL = "SELECT count(*) FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)"
SINGLE_SQL = (
    "SELECT code FROM grids WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
)
PREPARE_SQL = (
    "PREPARE lookup(float8, float8) AS SELECT code FROM grids "
    "WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))"
)


def plan_summary(plan: dict[str, Any]) -> str:
    """'Aggregate > Gather(2 workers) > Nested Loop > Index Scan on grids_geom_gist' etc."""
    parts: list[str] = []
    node: dict[str, Any] | None = plan
    while node is not None:
        label = node["Node Type"]
        if "Index Name" in node:
            label += f" using {node['Index Name']}"
        elif "Relation Name" in node:
            label += f" on {node['Relation Name']}"
        if "Workers Planned" in node:
            workers = node["Workers Planned"]
            label += f"({workers} worker{'s' if workers != 1 else ''})"
        kids = node.get("Plans", [])
        inner = [k for k in kids if "Index Name" in k]
        if inner:
            label += f" [inner: {inner[0]['Node Type']} using {inner[0]['Index Name']}]"
        parts.append(label)
        node = kids[0] if kids else None
    return " > ".join(parts)


def bench_postgis(
    conn: Any,
    codes: list[str],
    geoms: list[shapely.Geometry],
    batch_pts: tuple[np.ndarray, np.ndarray],
    single_pts: tuple[np.ndarray, np.ndarray],
    explain_n: int,
    report: Report,
) -> PostGISResult:
    versions = {
        "postgresql": conn.execute("SHOW server_version").fetchone()[0].split()[0],
        "postgis": conn.execute("SELECT postgis_lib_version()").fetchone()[0],
        "geos": conn.execute("SELECT postgis_geos_version()").fetchone()[0],
        "max_parallel_workers_per_gather": conn.execute(
            "SHOW max_parallel_workers_per_gather"
        ).fetchone()[0],
    }
    res = PostGISResult(versions)
    report.section(
        f"PostGIS {versions['postgis']} on PostgreSQL {versions['postgresql']} "
        f"(GEOS {versions['geos']}), loopback TCP, psycopg {_psycopg_version()}"
    )
    _, secs = timed(lambda: load_grids(conn, codes, geoms))
    res.load["grids_s"] = round(secs, 2)
    report.row(
        f"load {len(geoms):,} grids",
        f"{secs:8.2f} s",
        "COPY → geometry(MultiPolygon,4326), GiST index, ANALYZE",
    )
    lng, lat = batch_pts
    _, secs = timed(lambda: load_points(conn, "pts", lng, lat))
    res.load["points_s"] = round(secs, 2)
    report.row(
        f"load {len(lng):,} points", f"{secs:8.2f} s", "COPY → geometry(Point,4326), ANALYZE"
    )

    plan = conn.execute(f"EXPLAIN (FORMAT JSON) {BATCH_SQL}").fetchone()[0][0]["Plan"]
    runs: list[float] = []
    matched = 0
    for _ in range(3):
        (matched,), secs = timed(lambda: conn.execute(BATCH_SQL).fetchone())
        runs.append(secs)
    best = min(runs)
    res.batch = {
        "points": len(lng),
        "matched": int(matched),
        "predicate": "ST_Contains(g.geom, p.geom)",
        "sql": BATCH_SQL,
        "plan": plan_summary(plan),
        "runs_s": [round(r, 4) for r in runs],
        "best_s": round(best, 4),
        "points_per_s": round(len(lng) / best),
    }
    report.row(
        f"batch join ST_Contains ({len(lng):,} pts, best of 3)",
        f"{fmt_rate(len(lng) / best):>16}",
        "query time only; runs " + " / ".join(f"{r:.3f}s" for r in runs),
    )
    report.text(f"  plan: {res.batch['plan']}")
    report.text(f"  matched {matched:,} points ({matched / len(lng):.1%} inside)")

    # PointIndex is single-threaded; show PostGIS without parallel workers too (for info).
    conn.execute("SET max_parallel_workers_per_gather = 0")
    serial: list[float] = []
    for _ in range(2):
        _, secs = timed(lambda: conn.execute(BATCH_SQL).fetchone())
        serial.append(secs)
    conn.execute("RESET max_parallel_workers_per_gather")
    res.batch["serial_runs_s"] = [round(r, 4) for r in serial]
    res.batch["serial_points_per_s"] = round(len(lng) / min(serial))
    report.row(
        "  same join, no parallel workers (best of 2)",
        f"{fmt_rate(len(lng) / min(serial)):>16}",
        "max_parallel_workers_per_gather = 0, for info",
    )

    slng, slat = single_pts
    xs, ys = slng.tolist(), slat.tolist()
    with conn.cursor() as cur:
        for i in range(min(200, len(xs))):  # warm-up (and let psycopg prepare the statement)
            cur.execute(SINGLE_SQL, (xs[i], ys[i]), prepare=True)
            cur.fetchall()
        ns = np.empty(len(xs), dtype=np.int64)
        clock = time.perf_counter_ns
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            t0 = clock()
            cur.execute(SINGLE_SQL, (x, y), prepare=True)
            cur.fetchall()
            ns[i] = clock() - t0
    res.single = percentiles_us(ns)
    res.single["note"] = "client-side, psycopg prepared statement, includes loopback round-trip"
    report.row(
        f"single prepared SELECT ({len(xs):,} pts)",
        f"p50 {res.single['p50_us']:7.1f} µs   p99 {res.single['p99_us']:7.1f} µs",
        "client-side incl. loopback round-trip",
    )

    # Server-side cost: EXPLAIN ANALYZE of the same prepared statement.
    conn.execute("DEALLOCATE ALL")
    conn.execute(PREPARE_SQL)
    exec_us: list[float] = []
    plan_us: list[float] = []
    first_plan = ""
    for x, y in zip(xs[:explain_n], ys[:explain_n], strict=True):
        out = conn.execute(
            f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE lookup({x!r}, {y!r})"
        ).fetchone()[0][0]
        exec_us.append(out["Execution Time"] * 1000)
        plan_us.append(out.get("Planning Time", 0.0) * 1000)
        if not first_plan:
            first_plan = plan_summary(out["Plan"])
    conn.execute("DEALLOCATE lookup")
    ex = np.asarray(exec_us)
    res.server = {
        "explain_queries": len(ex),
        "execution_p50_us": round(float(np.percentile(ex, 50)), 2),
        "execution_p99_us": round(float(np.percentile(ex, 99)), 2),
        "planning_p50_us": round(float(np.percentile(plan_us, 50)), 2),
        "plan": first_plan,
        "first_execution_us": round(exec_us[0], 2),
    }
    srv = res.server
    report.row(
        f"  server-side EXPLAIN ANALYZE ({len(ex)} EXECUTEs)",
        f"p50 {srv['execution_p50_us']:7.1f} µs   p99 {srv['execution_p99_us']:7.1f} µs",
        f"execution time; planning p50 {res.server['planning_p50_us']:.1f} µs; "
        f"first query {res.server['first_execution_us']:.1f} µs",
    )
    report.text(f"  plan: {first_plan}")
    return res


def _psycopg_version() -> str:
    import psycopg

    return psycopg.__version__


def cross_check(
    conn: Any,
    idx: PointIndex,
    codes: list[str],
    geoms: list[shapely.Geometry],
    batch_pts: tuple[np.ndarray, np.ndarray],
    n_check: int,
    n_edge: int,
    rng: np.random.Generator,
    report: Report,
) -> dict[str, Any]:
    """Our answer vs PostGIS's ST_Contains answer (by code) on the first n_check points of the
    pts table, then a probe of polygon vertices (points exactly on shared edges)."""
    lng, lat = batch_pts[0][:n_check], batch_pts[1][:n_check]
    ours = idx.locate_many(lng, lat)
    theirs: dict[int, list[str]] = {}
    rows = conn.execute(
        "SELECT p.id, g.code FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom) "
        "WHERE p.id < %s",
        (n_check,),
    ).fetchall()
    for pid, code in rows:
        theirs.setdefault(pid, []).append(code)
    agree = on_edge = other = multi = 0
    examples: list[dict[str, Any]] = []
    garr = np.asarray(geoms, dtype=object)
    for i in range(n_check):
        mine = codes[ours[i]] if ours[i] != OUTSIDE else None
        pg = theirs.get(i, [])
        multi += len(pg) > 1
        if (mine is None and not pg) or (mine is not None and pg == [mine]):
            agree += 1
            continue
        cand = idx.tree.query(shapely.Point(lng[i], lat[i]))
        touches = bool(np.any(shapely.intersects_xy(shapely.boundary(garr[cand]), lng[i], lat[i])))
        if touches:
            on_edge += 1
        else:
            other += 1
        if len(examples) < 10:
            examples.append(
                {
                    "id": i,
                    "lng": float(lng[i]),
                    "lat": float(lat[i]),
                    "ours": mine,
                    "postgis": pg,
                    "on_edge": touches,
                }
            )
    check = {
        "points": n_check,
        "agree": agree,
        "disagree_on_edge": on_edge,
        "disagree_other": other,
        "postgis_multiple_matches": multi,
        "examples": examples,
    }
    report.row(
        f"cross-check ours vs PostGIS ({n_check:,} pts)",
        f"{agree:,} / {n_check:,} agree",
        f"{on_edge} differ on a shared edge, {other} differ elsewhere ({status(other == 0)})",
    )

    # Edge probe: vertices of random basic grids lie exactly on shared edges. PostGIS's
    # ST_Contains excludes the boundary (no match); PointIndex answers one of the polygons
    # the point touches. Check that its answer is one of PostGIS's ST_Intersects matches.
    pick = rng.choice(len(geoms), size=min(n_edge, len(geoms)), replace=False)
    verts = []
    for gi in pick:
        ring = np.asarray(garr[gi].exterior.coords)[:-1]
        verts.append(ring[rng.integers(len(ring))])
    v = np.asarray(verts)
    load_points(conn, "edge_pts", v[:, 0], v[:, 1])
    rows = conn.execute(
        "SELECT e.id, count(*) FILTER (WHERE ST_Contains(g.geom, e.geom)), "
        "array_agg(g.code) FILTER (WHERE g.code IS NOT NULL) "
        "FROM edge_pts e LEFT JOIN grids g ON ST_Intersects(g.geom, e.geom) GROUP BY e.id"
    ).fetchall()
    ours_v = idx.locate_many(v[:, 0], v[:, 1])
    contains_hits = sum(1 for _, c, _ in rows if c)
    consistent = sum(
        1
        for pid, _, inter in rows
        if ours_v[pid] != OUTSIDE and codes[ours_v[pid]] in (inter or [])
    )
    shared = sum(1 for _, _, inter in rows if inter and len(inter) > 1)
    conn.execute("DROP TABLE edge_pts")
    check["edge_probe"] = {
        "points": len(v),
        "shared_by_2plus_grids": shared,
        "postgis_st_contains_matches": contains_hits,
        "ours_assigned": int(np.sum(ours_v != OUTSIDE)),
        "ours_within_st_intersects_matches": consistent,
    }
    report.row(
        f"edge probe ({len(v):,} polygon vertices)",
        f"ours assigns {int(np.sum(ours_v != OUTSIDE)):,}, "
        f"{consistent:,} to a grid PostGIS ST_Intersects also returns",
        f"{shared:,} vertices shared by ≥2 grids; ST_Contains matches {contains_hits:,} "
        "(boundary excluded)",
    )
    return check


# --------------------------------------------------------------------------- driver


def run_scale(
    scale: str, args: argparse.Namespace, pg_state: dict[str, Any], report: Report
) -> dict[str, Any]:
    label = {"liling": "Liling (醴陵市)", "province": "province (湖南省)"}[scale]
    report.title(f"scale: {label}")
    specs, gen_s = timed(lambda: generate_city(seed=args.seed, scale=scale))
    basic: list[GridSpec] = [s for s in specs if s.level == BASIC_LEVEL]
    del specs
    codes = [s.code for s in basic]
    geoms = [s.geometry for s in basic]
    del basic
    total_bounds = tuple(float(b) for b in shapely.total_bounds(np.asarray(geoms, dtype=object)))
    report.row("generate_city", f"{gen_s:8.2f} s", f"{len(geoms):,} basic grids (level 4)")
    minx, miny, maxx, maxy = total_bounds
    report.text(f"  bbox lng {minx:.4f}..{maxx:.4f}  lat {miny:.4f}..{maxy:.4f}")

    rng = np.random.default_rng(args.point_seed)
    batch_pts = random_points(rng, total_bounds, args.points)
    single_pts = random_points(rng, total_bounds, args.single)

    idx, ours = bench_ours(geoms, batch_pts, single_pts, report)
    out: dict[str, Any] = {
        "basic_grids": len(geoms),
        "generate_s": round(gen_s, 2),
        "bbox": total_bounds,
        "ours": {
            "build_s": round(ours.build_s, 3),
            "raster": ours.raster,
            "batch": ours.batch,
            "single": ours.single,
        },
    }

    pg: PostGISResult | None = None
    conn = pg_state.get("conn")
    if conn is None:
        report.section(f"PostGIS: skipped — {pg_state.get('reason', 'not available')}")
        out["postgis"] = {"skipped": pg_state.get("reason", "not available")}
    else:
        n_pg = min(args.pg_points, args.points)
        pg_batch = (batch_pts[0][:n_pg], batch_pts[1][:n_pg])
        pg_single = (single_pts[0][: args.pg_single], single_pts[1][: args.pg_single])
        pg = bench_postgis(conn, codes, geoms, pg_batch, pg_single, args.explain, report)
        out["postgis"] = {
            "versions": pg.versions,
            "load": pg.load,
            "batch": pg.batch,
            "single": pg.single,
            "server": pg.server,
        }

    report.section("ours vs PostGIS")
    scale_target = scale == "liling"
    report.row(
        "batch throughput, ours",
        f"{fmt_rate(ours.batch['points_per_s']):>16}",
        f"target ≥ {TARGET_BATCH_PPS / 1e6:.0f} M pts/s at Liling scale: "
        + (
            status(ours.batch["points_per_s"] >= TARGET_BATCH_PPS)
            if scale_target
            else f"({status(ours.batch['points_per_s'] >= TARGET_BATCH_PPS)} here, for info)"
        ),
    )
    comparison: dict[str, Any] = {}
    if pg is not None:
        speed_batch = ours.batch["points_per_s"] / pg.batch["points_per_s"]
        speed_p50 = pg.single["p50_us"] / ours.single["p50_us"]
        speed_p99 = pg.single["p99_us"] / ours.single["p99_us"]
        speed_server = pg.server["execution_p50_us"] / ours.single["p50_us"]
        comparison = {
            "batch_speedup": round(speed_batch, 2),
            "single_p50_speedup_vs_client": round(speed_p50, 2),
            "single_p99_speedup_vs_client": round(speed_p99, 2),
            "single_p50_speedup_vs_server_execution": round(speed_server, 2),
            "batch_target_met": speed_batch >= TARGET_SPEEDUP,
            "batch_speedup_vs_serial_postgis": round(
                ours.batch["points_per_s"] / pg.batch["serial_points_per_s"], 2
            ),
        }
        report.row(
            "batch throughput, PostGIS",
            f"{fmt_rate(pg.batch['points_per_s']):>16}",
        )
        report.row(
            "batch ratio ours / PostGIS",
            f"{speed_batch:15.1f}×",
            f"target ≥ {TARGET_SPEEDUP:.0f}×: {status(speed_batch >= TARGET_SPEEDUP)}   "
            f"(vs PostGIS without parallel workers: "
            f"{comparison['batch_speedup_vs_serial_postgis']:.1f}×)",
        )
        report.row(
            "single p50 ratio PostGIS / ours",
            f"{speed_p50:15.1f}×",
            f"p99 {speed_p99:.1f}×; vs server-side execution only {speed_server:.1f}×",
        )
        report.section("correctness")
        n_check = min(args.check, n_pg)
        out["cross_check"] = cross_check(
            conn,
            idx,
            codes,
            geoms,
            batch_pts,
            n_check,
            args.edge_probe,
            np.random.default_rng(args.point_seed + 1),
            report,
        )
        conn.execute("DROP TABLE IF EXISTS pts, grids")
    out["comparison"] = comparison
    out["peak_rss_mib"] = peak_rss_mib()
    report.row("peak RSS of this process so far", f"{out['peak_rss_mib']:8.0f} MiB")
    del idx, geoms, batch_pts
    gc.collect()
    return out


def machine_info() -> dict[str, Any]:
    cpu = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=["liling", "province", "both"], default="both")
    p.add_argument("--points", type=int, default=1_000_000, help="batch points (ours)")
    p.add_argument("--single", type=int, default=20_000, help="single lookups (ours)")
    p.add_argument("--pg-points", type=int, default=200_000, help="batch points (PostGIS)")
    p.add_argument("--pg-single", type=int, default=2_000, help="single lookups (PostGIS)")
    p.add_argument("--explain", type=int, default=200, help="EXPLAIN ANALYZE queries")
    p.add_argument("--check", type=int, default=20_000, help="cross-check sample size")
    p.add_argument("--edge-probe", type=int, default=1_000, help="polygon vertices to probe")
    p.add_argument("--seed", type=int, default=2026, help="generate_city seed")
    p.add_argument("--point-seed", type=int, default=1, help="random points seed")
    p.add_argument(
        "--pg-dsn",
        default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
        help="maintenance connection (env WANGGE_BENCH_PG_DSN)",
    )
    p.add_argument("--no-postgis", action="store_true", help="skip the PostGIS side")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Turn SIGTERM into SystemExit so the bench database is still dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report()
    started = time.perf_counter()
    machine = machine_info()
    report.title("wangge point → basic grid lookup benchmark")
    report.row("machine", f"{machine['cpus']} CPUs, {machine['memory']}", machine["cpu"])
    report.row("load average at start", " ".join(map(str, machine["loadavg_at_start"])))
    report.row(
        "versions",
        f"Python {machine['python']}, NumPy {machine['numpy']}, "
        f"Shapely {machine['shapely']} (GEOS {machine['geos']})",
    )
    scales = ["liling", "province"] if args.scale == "both" else [args.scale]

    results: dict[str, Any] = {
        "benchmark": "point_lookup",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine,
        "params": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k != "pg_dsn"
        },
        "targets": {
            "batch_points_per_s_liling": TARGET_BATCH_PPS,
            "batch_speedup_vs_postgis": TARGET_SPEEDUP,
        },
        "scales": {},
    }

    pg_state: dict[str, Any] = {}
    if args.no_postgis:
        pg_state["reason"] = "--no-postgis given"
    else:
        try:
            pg_state["note"] = ensure_postgis(args.pg_dsn)
        except PostGISUnavailable as exc:
            pg_state["reason"] = str(exc)
    results["postgis_setup"] = pg_state.get("note") or f"skipped: {pg_state.get('reason')}"
    report.row("PostGIS", results["postgis_setup"])

    with ExitStack() as stack:
        if "reason" not in pg_state:
            try:
                pg_state["conn"] = stack.enter_context(bench_database(args.pg_dsn))
            except Exception as exc:  # the database is dropped again by bench_database
                pg_state["reason"] = f"could not set up the bench database: {exc}"
        for scale in scales:
            results["scales"][scale] = run_scale(scale, args, pg_state, report)

    total = time.perf_counter() - started
    results["total_s"] = round(total, 1)
    print_summary(results, report)
    out = args.output or RESULTS_DIR / f"point_lookup-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}   total {total:.1f} s", flush=True)
    return 0


def print_summary(results: dict[str, Any], report: Report) -> None:
    report.title("summary")
    head = f"  {'scale':<10}{'grids':>9}{'build s':>9}{'ours batch':>16}{'PostGIS batch':>16}"
    head += f"{'ratio':>8}{'ours p50/p99 µs':>18}{'PG p50/p99 µs':>18}{'agree':>16}"
    print(head)
    for scale, r in results["scales"].items():
        o = r["ours"]
        pg = r.get("postgis", {})
        pgb = fmt_rate(pg["batch"]["points_per_s"]) if "batch" in pg else "skipped"
        ratio = f"{r['comparison']['batch_speedup']:.1f}×" if r.get("comparison") else "-"
        pgs = (
            f"{pg['single']['p50_us']:.0f}/{pg['single']['p99_us']:.0f}" if "single" in pg else "-"
        )
        cc = r.get("cross_check")
        agree = f"{cc['agree']:,}/{cc['points']:,}" if cc else "-"
        print(
            f"  {scale:<10}{r['basic_grids']:>9,}{o['build_s']:>9.2f}"
            f"{fmt_rate(o['batch']['points_per_s']):>16}{pgb:>16}{ratio:>8}"
            f"{o['single']['p50_us']:>10.1f}/{o['single']['p99_us']:<7.1f}{pgs:>18}{agree:>16}"
        )
    print(
        "  (PostGIS single = client-side psycopg prepared SELECT over loopback TCP; "
        "ratio = ours/PostGIS batch points/s)"
    )


if __name__ == "__main__":
    sys.exit(main())
