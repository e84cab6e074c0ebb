"""Registry benchmark: bulk resident import throughput and lookup latency by ID number.

Run from the repository root::

    .venv/bin/python benchmarks/registry.py [--db sqlite|postgres|both] [--rows N]
                                            [--lookup-residents M]

Two parts, each on SQLite and/or PostgreSQL, each in a fresh data directory and a fresh
database (PostgreSQL: ``wangge_bench_reg_<pid>``, dropped at the end, also on errors):

* **import**: the demo city with `--base-residents` residents (for its buildings and
  houses), then a CSV of `--rows` NEW residents (area code 430211, new households) living
  in existing houses, imported with `wangge.registry.importer.import_file` (validation,
  AES-GCM sealing, keyed hashes, one history row each) and timed end to end, with a phase
  breakdown; then the same file again (idempotent: nothing created, all unchanged). The
  baseline in the same run writes the same, already sealed rows into a plain table with
  PostgreSQL ``COPY`` (psycopg 3 ``cursor.copy()``) or SQLite ``executemany``.
* **lookup**: the demo city with `--lookup-residents` residents (default 1,000,000), then
  lookups of random existing ID numbers through `wangge.registry.queries.search_residents`
  (hash + query + fetch the row, as the API does), the plain ORM query by hash, and misses.

django.setup() binds one database per process, so every (database, part) runs as a child
process of this script (``--one sqlite|postgres --part import|lookup``); the parent prints
one combined table and writes ``benchmarks/results/registry-<date>.json``. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import json
import os
import platform
import pstats
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
TARGET_IMPORT_RPS = 20_000
TARGET_LOOKUP_P50_MS = 5.0
#: imported residents get this area code (the demo register uses 430281), so they are new
IMPORT_AREA = "430211"
#: synthetic mobiles of imported residents: 1708 + 7 digits (the demo uses 1709…)
IMPORT_PHONE_PREFIX = "1708"
DBS = ("sqlite", "postgres")
PARTS = ("import", "lookup")
WARMUP = 200
MICRO_ROWS = 20_000  # rows of the stand-alone per-row passes
PROFILE_ROWS = 10_000  # rows of the cProfile'd validation pass


# --------------------------------------------------------------------------- helpers


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentiles_ms(ns: list[int]) -> dict[str, Any]:
    ms = np.asarray(ns, dtype=float) / 1e6
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"p50_ms": round(float(p50), 3), "p90_ms": round(float(p90), 3),
            "p99_ms": round(float(p99), 3), "mean_ms": round(float(ms.mean()), 3),
            "max_ms": round(float(ms.max()), 3), "n": len(ms)}


def log(prefix: str, text: str) -> None:
    print(f"[{prefix}] {text}", flush=True)


def fmt_int(n: float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def machine_info() -> dict[str, Any]:
    cpu = mem = ""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    git = ""
    with suppress(OSError, subprocess.SubprocessError):
        root = Path(__file__).resolve().parent.parent
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        git = f"{head}{' + uncommitted changes in src/' if dirty else ''}"
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory": mem, "git": git,
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "numpy": np.__version__}


# --------------------------------------------------------------------------- child: setup


def database_url(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(dsn)
    user = quote(str(info.get("user") or "postgres"), safe="")
    password = info.get("password")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    host = info.get("host") or "127.0.0.1"
    port = info.get("port") or 5432
    return f"postgresql://{auth}@{host}:{port}/{dbname}"


@contextmanager
def pg_database(dsn: str, prefix: str) -> Iterator[str]:
    """A fresh database wangge_bench_reg_<pid>, dropped on the way out (errors included)."""
    import psycopg
    from psycopg import sql

    name = f"wangge_bench_reg_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log(prefix, f"created database {name}")
    try:
        yield name
    finally:
        with suppress(Exception):
            from django.db import connections

            connections.close_all()
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
                admin.execute(drop)
            log(prefix, f"dropped database {name}")
        except Exception as exc:
            log(prefix, f"could not drop database {name}: {exc}")


def setup_django(prefix: str) -> None:
    import django
    from django.core.management import call_command

    os.environ["DJANGO_SETTINGS_MODULE"] = "wangge.settings"
    django.setup()
    _, secs = timed(lambda: call_command("migrate", verbosity=0))
    from django.db import connection

    log(prefix, f"Django {django.get_version()}, {connection.vendor}, migrate {secs:.1f} s")


def db_info() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute("SELECT version(), pg_database_size(current_database())")
            version, size = c.fetchone()
            c.execute("SHOW shared_buffers")
            return {"server": version.split(" on ")[0], "size_mib": round(size / 2**20, 1),
                    "shared_buffers": c.fetchone()[0]}
        c.execute("PRAGMA page_count")
        pages = c.fetchone()[0]
        c.execute("PRAGMA page_size")
        size = pages * c.fetchone()[0]
        c.execute("PRAGMA journal_mode")
        journal = c.fetchone()[0]
        import sqlite3

        return {"server": f"SQLite {sqlite3.sqlite_version}", "size_mib": round(size / 2**20, 1),
                "journal_mode": journal}


# --------------------------------------------------------------------------- import file


def write_resident_csv(path: Path, n: int, houses: list[tuple[str, str]], seed: int) -> dict:
    """N new synthetic residents in new households (1–5 people) in random existing houses,
    Chinese headers and Chinese choice labels as a city's spreadsheet would have them."""
    from wangge.demo.names import person_name
    from wangge.demo.people import ETHNICITIES
    from wangge.registry.columns import RESIDENT_COLUMNS
    from wangge.registry.identity import make_id_number
    from wangge.registry.models import Resident

    rng = np.random.default_rng(seed)
    residence = {code: str(label) for code, label in Resident.ResidenceType.choices}
    relation = {code: str(label) for code, label in Resident.Relation.choices}
    first = dt.date(1940, 1, 1).toordinal()
    last = dt.date(2023, 12, 31).toordinal()
    phone_age = dt.date(2013, 1, 1).toordinal()
    moved_from = dt.date(2000, 1, 1).toordinal()
    moved_to = dt.date(2025, 12, 31).toordinal()
    births = rng.integers(first, last + 1, size=n).tolist()
    serials = rng.integers(0, 100, size=n).tolist()
    male = (rng.random(n) < 0.5).tolist()
    phones = rng.integers(0, 10**7, size=n).tolist()
    has_phone = (rng.random(n) < 0.95).tolist()
    eth = rng.choice(len(ETHNICITIES), size=n, p=(0.955, 0.012, 0.013, 0.012, 0.008)).tolist()
    floating = (rng.random(n) < 0.2).tolist()
    moved = rng.random(n).tolist()
    sizes = rng.choice(5, size=n, p=(0.25, 0.30, 0.25, 0.15, 0.05)) + 1
    cut = int(np.searchsorted(np.cumsum(sizes), n))
    sizes = sizes[: cut + 1]
    sizes[-1] -= int(sizes.sum()) - n
    house_of = rng.integers(0, len(houses), size=len(sizes)).tolist()
    roles = ("head", "spouse", "child", "child", "parent")
    seen: set[tuple[int, int, bool]] = set()
    header = [label for label, _key in RESIDENT_COLUMNS]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        i = 0
        for h, size in enumerate(sizes.tolist()):
            building, number = houses[house_of[h]]
            household = f"{IMPORT_AREA}{h + 1:08d}"
            kind = residence["floating" if floating[i] else "registered"]
            for k in range(size):
                key = (births[i], serials[i], male[i])
                while key in seen:  # keep ID numbers unique: move to the day before
                    key = (key[0] - 1, key[1], key[2])
                seen.add(key)
                birth = dt.date.fromordinal(key[0])
                id_number = make_id_number(IMPORT_AREA, birth, key[1],
                                           "male" if key[2] else "female")
                phone = (f"{IMPORT_PHONE_PREFIX}{phones[i]:07d}"
                         if has_phone[i] and key[0] < phone_age else "")
                lo = max(moved_from, key[0])
                moved_in = dt.date.fromordinal(lo + int(moved[i] * (moved_to - lo)))
                w.writerow([person_name(seed * 1_000_003 + i), id_number, phone,
                            ETHNICITIES[eth[i]], kind, building, number, household,
                            relation[roles[k]], moved_in.isoformat(), ""])
                i += 1
    return {"rows": n, "households": len(sizes), "houses_available": len(houses),
            "bytes": path.stat().st_size}


# --------------------------------------------------------------------------- import part


def read_rows(path: Path) -> list[dict[str, Any]]:
    """What import_file does before validating: read the table, map headers, build dicts."""
    from wangge.registry import importer
    from wangge.registry.columns import COLUMNS

    header, rows = importer.read_table(path)
    labels = dict(COLUMNS["residents"])
    keys = [labels.get(h) or (h if h in labels.values() else None) for h in header]
    cell = getattr(importer, "_cell", lambda v: v)
    return [{k: cell(v) for k, v in zip(keys, raw, strict=False) if k}
            for raw in rows if any(v not in (None, "") for v in raw)]


def micro_passes(path: Path, prefix: str) -> dict[str, Any]:
    """Cheap stand-alone passes over the same file: where the per-row time goes."""
    from django.utils import timezone

    from wangge.core import crypto
    from wangge.registry.identity import parse_id_number
    from wangge.registry.validation import clean_resident, seal_resident

    out: dict[str, Any] = {}

    def per_row(name: str, secs: float, n: int) -> None:
        out[name] = {"s": round(secs, 3), "us_per_row": round(secs / max(n, 1) * 1e6, 2)}

    def csv_only() -> int:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return sum(1 for _ in csv.reader(fh))

    _, secs = timed(csv_only)
    data, secs2 = timed(lambda: read_rows(path))
    per_row("csv_reader", secs, len(data))
    per_row("read_rows (csv + header map + row dicts)", secs2, len(data))
    data = data[:MICRO_ROWS]  # per-row costs: a sample is enough
    n = len(data)
    out["sample_rows"] = n
    resolver, secs = timed(import_resolver())
    out["resolver_preload_s"] = round(secs, 3)
    ring = crypto.keyring()
    _, secs = timed(lambda: [clean_resident(d, resolver, ring) for d in data])
    per_row("clean_resident (all checks + seal)", secs, n)
    ids = [d["id_number"] for d in data]
    today = timezone.localdate()
    _, secs = timed(lambda: [parse_id_number(x, today=today) for x in ids])
    per_row("parse_id_number", secs, n)
    plain = [{"id_number": d["id_number"], "phone": d.get("phone") or ""} for d in data]
    _, secs = timed(lambda: [seal_resident(v, ring) for v in plain])
    per_row("seal_resident (2 seal + 2 blind_index + masks)", secs, n)
    _, secs = timed(lambda: [crypto.seal(x, ring) for x in ids])
    per_row("crypto.seal (AES-GCM, one value)", secs, n)
    _, secs = timed(lambda: [crypto.blind_index(x, ring) for x in ids])
    per_row("crypto.blind_index (HMAC-SHA256, one value)", secs, n)
    _, secs = timed(lambda: [crypto.blind_index(x) for x in ids])
    per_row("crypto.blind_index without ring (keyring() per call)", secs, n)

    # cProfile of the validation pass (a sample), top functions by own time
    sample = data[:PROFILE_ROWS]
    fresh = import_resolver()()
    prof = cProfile.Profile()
    prof.enable()
    for d in sample:
        clean_resident(d, fresh, ring)
    prof.disable()
    stats = pstats.Stats(prof)
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    out["clean_profile"] = {
        "rows": len(sample),
        "total_tottime_s": round(total, 3),
        "top_by_own_time": [
            {"function": f"{Path(f).name}:{line}({fn})", "calls": v[1],
             "own_s": round(v[2], 3), "share": round(v[2] / total, 3)}
            for (f, line, fn), v in top
        ],
    }
    for name, v in out.items():
        if isinstance(v, dict) and "us_per_row" in v:
            log(prefix, f"  {name:<54} {v['us_per_row']:8.2f} µs/row")
    log(prefix, f"  resolver preload: {out['resolver_preload_s']:.3f} s")
    log(prefix, f"  cProfile of clean_resident over {len(sample):,} rows, own time:")
    for t in out["clean_profile"]["top_by_own_time"][:8]:
        log(prefix, f"    {t['share']:6.1%}  {t['own_s']:6.3f} s  {t['calls']:>9,}  "
                    f"{t['function']}")
    return out


#: functions of the import path timed per call, looked up by name in these modules (the
#: writer has lived in importer.py and in actions.py); a missing one is simply not timed
TIMED_FUNCTIONS = ("clean_resident", "do_import_rows", "_write_residents", "_apply",
                   "_history", "_insert_history")
#: the history writer's names, old and new: their times add up to the "history" phase
HISTORY_FUNCTIONS = ("_history", "_insert_history")
TIMED_MODULES = ("wangge.registry.importer", "wangge.registry.actions")


def import_resolver() -> Callable[[], Any]:
    """The resolver import_file uses (or an equivalent, should the private class move)."""
    from wangge.registry import importer
    from wangge.registry.models import Household
    from wangge.registry.resolvers import PreloadedResolver

    found = getattr(importer, "_ImportResolver", None)
    if found is not None:
        return found

    class Resolver(PreloadedResolver):
        def __init__(self) -> None:
            super().__init__()
            self.pending: dict[str, Household] = {}

        def household(self, number: str) -> Household | None:
            hit = self.households.get(number)
            if hit is None:
                hit = self.pending.setdefault(number, Household(number=number))
            return hit

    return Resolver


@contextmanager
def instrument() -> Iterator[dict[str, float]]:
    """Time import_file's phases by wrapping, for one call, the import path's module-level
    functions where they are called by name (overhead: a fraction of a microsecond per
    call). `phases` gets seconds per function name, plus "preload" (the resolver) and
    "_instrumented": the names found."""
    import importlib

    phases: dict[str, float] = defaultdict(float)
    patched: list[tuple[Any, str, Any]] = []
    found: set[str] = set()

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - t0

        return wrapper

    for module_name in TIMED_MODULES:
        module = importlib.import_module(module_name)
        for name in TIMED_FUNCTIONS:
            fn = getattr(module, name, None)
            if callable(fn):
                patched.append((module, name, fn))
                setattr(module, name, wrap(name, fn))
                found.add(name)
        resolver = getattr(module, "_ImportResolver", None)
        if isinstance(resolver, type):

            class TimedResolver(resolver):  # type: ignore[misc, valid-type]
                def __init__(self, **kwargs: Any) -> None:
                    t0 = time.perf_counter()
                    super().__init__(**kwargs)
                    phases["preload"] += time.perf_counter() - t0

            patched.append((module, "_ImportResolver", resolver))
            module._ImportResolver = TimedResolver  # type: ignore[attr-defined]
            found.add("_ImportResolver")
    try:
        yield phases
    finally:
        for module, name, fn in reversed(patched):
            setattr(module, name, fn)
        phases["_instrumented"] = sorted(found)  # type: ignore[assignment]


def breakdown(phases: dict[str, Any], total: float) -> dict[str, float | None]:
    """Seconds per phase; None where the function was not found (then "rest" holds it)."""
    found = set(phases.get("_instrumented", ()))

    def t(name: str) -> float | None:
        return phases.get(name, 0.0) if name in found else None

    def diff(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a - b, 3)

    preload = phases.get("preload", 0.0) if "_ImportResolver" in found else None
    clean, do_rows = t("clean_resident"), t("do_import_rows")
    write, apply = t("_write_residents"), t("_apply")
    history_parts = [t(name) for name in HISTORY_FUNCTIONS if name in found]
    history = sum(history_parts) if history_parts else None
    outer = do_rows if do_rows is not None else write
    rest = total - sum(v for v in (preload, clean, outer) if v is not None)
    return {
        "resolver preload (buildings, houses, households)":
            None if preload is None else round(preload, 3),
        "validate + seal (clean_resident)": None if clean is None else round(clean, 3),
        "households insert + existing-resident lookup": diff(write, apply),
        "residents: compare + insert / update": diff(apply, history),
        "history rows (RegistryChange insert)":
            None if history is None else round(history, 3),
        "outbox + commit (do_import_rows minus writer)": diff(do_rows, write),
        "rest (CSV read, row dicts, duplicate check, …)": round(rest, 3),
    }


def run_import(args: argparse.Namespace, data_dir: Path, prefix: str) -> dict[str, Any]:
    from django.db.models import Max

    from wangge.demo.loader import load_demo
    from wangge.registry import importer
    from wangge.registry.models import House, Household, RegistryChange, Resident

    res: dict[str, Any] = {}
    rep, secs = timed(lambda: load_demo(residents=args.base_residents))
    res["setup"] = {"load_demo_s": round(secs, 2), "base_residents": args.base_residents,
                    "register": rep.register}
    log(prefix, f"load_demo(residents={args.base_residents:,}): {secs:.1f} s {rep.register}")
    houses = list(House.objects.order_by("id").values_list("building__code", "number"))
    if not houses:
        raise RuntimeError("no houses: raise --base-residents")
    path = data_dir / "residents.csv"
    info, secs = timed(lambda: write_resident_csv(path, args.rows, houses, args.import_seed))
    info["generate_s"] = round(secs, 2)
    res["file"] = info
    log(prefix, f"wrote {path.name}: {info['rows']:,} rows, {info['households']:,} new "
                f"households over {info['houses_available']:,} houses, "
                f"{info['bytes'] / 2**20:.1f} MiB in {secs:.1f} s")

    log(prefix, f"stand-alone passes over (the first {MICRO_ROWS:,} rows of) the file, "
                "no database writes:")
    res["micro"] = micro_passes(path, prefix)

    before_max = Resident.objects.aggregate(m=Max("id"))["m"] or 0
    before = {"residents": Resident.objects.count(), "households": Household.objects.count(),
              "history": RegistryChange.objects.count()}
    with instrument() as phases:
        report, secs = timed(lambda: importer.import_file(path, "residents", mode="all"))
    first = import_summary(report, secs, phases)
    after = {"residents": Resident.objects.count(), "households": Household.objects.count(),
             "history": RegistryChange.objects.count()}
    first["rows_written"] = {k: after[k] - before[k] for k in after}
    res["import"] = first
    log(prefix, f"import_file (new rows): {secs:.2f} s = {first['rows_per_s']:,.0f} rows/s "
                f"created={report.created:,} updated={report.updated:,} "
                f"unchanged={report.unchanged:,} errors={len(report.errors):,}")
    log_phases(prefix, first["phases_s"], secs)
    if report.errors:
        raise RuntimeError(f"import reported errors, first: {report.errors[:5]}")

    with instrument() as phases:
        report2, secs = timed(lambda: importer.import_file(path, "residents", mode="all"))
    second = import_summary(report2, secs, phases)
    second["idempotent"] = (report2.created == 0 and report2.updated == 0
                            and report2.unchanged == report.total)
    res["reimport"] = second
    log(prefix, f"import_file (same file again): {secs:.2f} s = "
                f"{second['rows_per_s']:,.0f} rows/s created={report2.created:,} "
                f"updated={report2.updated:,} unchanged={report2.unchanged:,} "
                f"idempotent={second['idempotent']}")
    log_phases(prefix, second["phases_s"], secs)

    res["baseline"] = run_baseline(before_max, args.baseline_repeats, prefix)
    base = res["baseline"]["plain"]["rows_per_s"]
    res["ratio_import_to_baseline"] = round(first["rows_per_s"] / base, 3)
    res["db"] = db_info()
    return res


def log_phases(prefix: str, phases: dict[str, float | None], secs: float) -> None:
    for k, v in phases.items():
        if v is None:
            log(prefix, f"  {k:<62}     n/a (function not found)")
        else:
            log(prefix, f"  {k:<62} {v:7.3f} s  {v / secs:6.1%}")


def import_summary(report: Any, secs: float, phases: dict[str, float]) -> dict[str, Any]:
    return {
        "seconds": round(secs, 3), "rows": report.total,
        "rows_per_s": round(report.total / secs, 1) if secs else None,
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "errors": len(report.errors), "phases_s": breakdown(phases, secs),
        "instrumented": phases.get("_instrumented", []),
    }


def run_baseline(after_id: int, repeats: int, prefix: str) -> dict[str, Any]:
    """Write the rows the import just created (already sealed, hashed, masked: exactly the
    stored values) into plain tables: COPY on PostgreSQL, executemany INSERT on SQLite. Once
    into a table without indexes ("plain") and once with the same indexes as
    registry_resident ("indexed"). Median of `repeats` runs, each into an empty table."""
    from django.db import connection, transaction

    from wangge.registry.models import Resident

    cols = [f.column for f in Resident._meta.concrete_fields if f.column != "id"]
    rows = list(Resident.objects.filter(id__gt=after_id).order_by("id").values_list(*cols))
    rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    n = len(rows)
    out: dict[str, Any] = {"rows": n, "columns": len(cols), "repeats": repeats}
    if connection.vendor == "postgresql":
        out["method"] = "PostgreSQL COPY FROM STDIN (text format), psycopg cursor.copy()"
        collist = ", ".join(f'"{c}"' for c in cols)
        variants = {
            "plain": "LIKE registry_resident INCLUDING DEFAULTS INCLUDING IDENTITY",
            "indexed": "LIKE registry_resident INCLUDING ALL",
        }

        def load(table: str) -> None:
            with (transaction.atomic(), connection.connection.cursor() as cur,
                  cur.copy(f"COPY {table} ({collist}) FROM STDIN") as cp):
                for r in rows:
                    cp.write_row(r)
    else:
        out["method"] = "SQLite executemany INSERT (sqlite3 module), one transaction"
        rows = [tuple(_sqlite_value(v) for v in r) for r in rows]
        marks = ", ".join("?" * len(cols))
        collist = ", ".join(f'"{c}"' for c in cols)
        variants = {"plain": "", "indexed": ""}

        def load(table: str) -> None:
            with transaction.atomic():
                connection.connection.executemany(
                    f"INSERT INTO {table} ({collist}) VALUES ({marks})", rows)

    for variant in variants:
        table = f"bench_{variant}"
        times = []
        for _ in range(repeats):
            with connection.cursor() as c:
                c.execute(f"DROP TABLE IF EXISTS {table}")
                if connection.vendor == "postgresql":
                    c.execute(f"CREATE TABLE {table} ({variants[variant]})")
                else:
                    for stmt in _sqlite_clone_ddl(c, table, indexed=variant == "indexed"):
                        c.execute(stmt)
            _, secs = timed(lambda table=table: load(table))
            times.append(secs)
            with connection.cursor() as c:
                c.execute(f"SELECT count(*) FROM {table}")
                if c.fetchone()[0] != n:
                    raise RuntimeError(f"baseline {table}: row count mismatch")
        with connection.cursor() as c:
            c.execute(f"DROP TABLE IF EXISTS {table}")
        med = float(np.median(times))
        out[variant] = {"seconds": round(med, 3), "runs_s": [round(t, 3) for t in times],
                        "rows_per_s": round(n / med, 1)}
        log(prefix, f"baseline {variant:<8} ({out['method'].split(',')[0]}): {med:.2f} s = "
                    f"{n / med:,.0f} rows/s (median of {repeats})")
    return out


def _sqlite_value(v: Any) -> Any:
    """What Django hands sqlite3: ISO text for dates, naive UTC text for datetimes."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return v.isoformat(" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _sqlite_clone_ddl(cursor: Any, table: str, *, indexed: bool) -> list[str]:
    """registry_resident's columns (types, NOT NULL, integer primary key) without foreign
    keys; with `indexed`, also its indexes (unique ones included)."""
    cursor.execute("PRAGMA table_info(registry_resident)")
    cols = []
    for _cid, name, type_, notnull, _default, pk in cursor.fetchall():
        if pk:
            cols.append(f'"{name}" integer NOT NULL PRIMARY KEY AUTOINCREMENT')
        else:
            cols.append(f'"{name}" {type_}{" NOT NULL" if notnull else ""}')
    stmts = [f"CREATE TABLE {table} ({', '.join(cols)})"]
    if indexed:
        cursor.execute("PRAGMA index_list(registry_resident)")
        for i, (_seq, name, unique, origin, _partial) in enumerate(cursor.fetchall()):
            if origin == "pk":
                continue
            cursor.execute(f'PRAGMA index_info("{name}")')
            on = ", ".join(f'"{r[2]}"' for r in cursor.fetchall())
            stmts.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {table}_{i} "
                         f"ON {table} ({on})")
    return stmts


# --------------------------------------------------------------------------- lookup part


def run_lookup(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max, Min

    from wangge.core import crypto
    from wangge.demo.loader import load_demo
    from wangge.registry.identity import make_id_number
    from wangge.registry.models import Resident
    from wangge.registry.queries import search_residents
    from wangge.registry.resolvers import PreloadedResolver

    res: dict[str, Any] = {}
    m = args.lookup_residents
    t0 = time.perf_counter()
    step = max(m // 10, 1)
    done = {"residents": 0, "next": step}

    def progress(kind: str, k: int) -> None:
        if kind != "residents" or not k:
            return
        done["residents"] += k
        if done["residents"] >= done["next"]:
            done["next"] = (done["residents"] // step + 1) * step
            log(prefix, f"  … {done['residents']:,} residents loaded, "
                        f"{time.perf_counter() - t0:.0f} s")

    rep, secs = timed(lambda: load_demo(residents=m, progress=progress))
    res["load"] = {"residents": m, "seconds": round(secs, 1), "register": rep.register}
    res["db"] = db_info()
    log(prefix, f"load_demo(residents={m:,}): {secs:.1f} s {rep.register}; database "
                f"{res['db']['size_mib']:,.0f} MiB")

    admin = get_user_model().objects.get(username="admin")
    rng = np.random.default_rng(args.seed + 7)
    bounds = Resident.objects.aggregate(lo=Min("id"), hi=Max("id"))
    want = args.lookups + WARMUP
    pks = rng.choice(np.arange(bounds["lo"], bounds["hi"] + 1), size=min(want, m),
                     replace=False).tolist()
    ring = crypto.keyring()
    enc = dict(Resident.objects.filter(pk__in=pks).values_list("pk", "id_number_enc"))
    sample = [(pk, crypto.open_sealed(enc[pk], ring)) for pk in pks if pk in enc]
    warm, sample = sample[:WARMUP], sample[WARMUP:]
    if not sample:
        raise RuntimeError("no residents to look up")

    def search(number: str) -> list[Any]:
        return list(search_residents(admin, id_number=number)[:1])

    for _pk, number in warm:
        search(number)
    times, wrong = [], 0
    for pk, number in sample:
        t = time.perf_counter_ns()
        rows = search(number)
        times.append(time.perf_counter_ns() - t)
        wrong += not rows or rows[0].pk != pk
    res["search"] = percentiles_ms(times)
    res["search"]["wrong_answers"] = wrong

    hashes = [(pk, crypto.blind_index(number, ring)) for pk, number in sample]
    times, wrong = [], 0
    for pk, h in hashes:
        t = time.perf_counter_ns()
        rows = list(Resident.objects.filter(id_number_hash=h)[:1])
        times.append(time.perf_counter_ns() - t)
        wrong += not rows or rows[0].pk != pk
    res["orm_by_hash"] = percentiles_ms(times)
    res["orm_by_hash"]["wrong_answers"] = wrong

    times = []
    for _pk, number in sample:
        t = time.perf_counter_ns()
        crypto.blind_index(number)
        times.append(time.perf_counter_ns() - t)
    res["hash_only"] = percentiles_ms(times)

    misses = []
    for _ in range(args.misses):
        birth = dt.date.fromordinal(int(rng.integers(dt.date(1940, 1, 1).toordinal(),
                                                     dt.date(2020, 1, 1).toordinal())))
        misses.append(make_id_number(IMPORT_AREA, birth, int(rng.integers(100)),
                                     "male" if rng.random() < 0.5 else "female"))
    times, found = [], 0
    for number in misses:
        t = time.perf_counter_ns()
        found += bool(search(number))
        times.append(time.perf_counter_ns() - t)
    res["miss"] = percentiles_ms(times)
    res["miss"]["found"] = found

    number = sample[0][1]
    res["plan"] = search_residents(admin, id_number=number)[:1].explain()
    if connection.vendor == "postgresql":
        server = []
        for _pk, number in sample[: min(200, len(sample))]:
            text = search_residents(admin, id_number=number)[:1].explain(analyze=True,
                                                                        timing=False)
            for line in text.splitlines():
                if line.strip().startswith("Execution Time:"):
                    server.append(float(line.split(":")[1].split()[0]))
        if server:
            ms = np.asarray(server)
            res["server_execution"] = {"p50_ms": round(float(np.percentile(ms, 50)), 3),
                                       "p99_ms": round(float(np.percentile(ms, 99)), 3),
                                       "n": len(ms)}
    for name in ("search", "orm_by_hash", "miss", "hash_only"):
        r = res[name]
        log(prefix, f"{name:<12} p50 {r['p50_ms']:.3f} ms  p90 {r['p90_ms']:.3f}  "
                    f"p99 {r['p99_ms']:.3f}  max {r['max_ms']:.3f}  (n={r['n']:,})")
    if "server_execution" in res:
        s = res["server_execution"]
        log(prefix, f"server-side Execution Time p50 {s['p50_ms']:.3f} ms  "
                    f"p99 {s['p99_ms']:.3f} ms (n={s['n']})")
    log(prefix, "plan of the search query:")
    for line in res["plan"].splitlines():
        log(prefix, f"  {line}")

    # what every import pays first in a full city: the resolver's preloaded maps
    resolver, secs = timed(PreloadedResolver)
    res["import_preload_at_scale"] = {
        "seconds": round(secs, 2), "buildings": len(resolver.buildings),
        "houses": len(resolver.houses), "households": len(resolver.households)}
    log(prefix, f"PreloadedResolver() in this city: {secs:.2f} s "
                f"({len(resolver.buildings):,} buildings, {len(resolver.houses):,} houses, "
                f"{len(resolver.households):,} households)")
    return res


# --------------------------------------------------------------------------- child main


def child_main(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    prefix = f"{args.one}/{args.part}"
    out: dict[str, Any] = {"db": args.one, "part": args.part, "pid": os.getpid()}
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_reg_"))
    started = time.perf_counter()
    os.environ["WANGGE_DATA_DIR"] = str(data_dir)
    os.environ.pop("WANGGE_DATA_KEYS", None)  # fresh keys in the fresh data dir
    try:
        with ExitStack() as stack:
            if args.one == "postgres":
                name = stack.enter_context(pg_database(args.pg_dsn, prefix))
                os.environ["WANGGE_DATABASE_URL"] = database_url(args.pg_dsn, name)
                out["database"] = name
            else:
                os.environ.pop("WANGGE_DATABASE_URL", None)
            setup_django(prefix)
            if args.part == "import":
                out.update(run_import(args, data_dir, prefix))
            else:
                out.update(run_lookup(args, prefix))
    except BaseException as exc:  # report, clean up, and still write what we have
        out["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        out["seconds"] = round(time.perf_counter() - started, 1)
        out["peak_rss_mib"] = peak_rss_mib()
        Path(args.result_file).write_text(json.dumps(out, default=str, ensure_ascii=False))
        shutil.rmtree(data_dir, ignore_errors=True)
    return 1 if "error" in out else 0


# --------------------------------------------------------------------------- parent


def pg_reachable(dsn: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"cannot connect to PostgreSQL ({dsn}): {exc}"
    return None


def run_child(args: argparse.Namespace, db: str, part: str, tmp: Path,
              running: dict[str, subprocess.Popen[bytes] | None]) -> dict[str, Any]:
    result_file = tmp / f"{db}-{part}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", db, "--part", part,
           "--result-file", str(result_file), "--rows", str(args.rows),
           "--base-residents", str(args.base_residents),
           "--lookup-residents", str(args.lookup_residents), "--lookups", str(args.lookups),
           "--misses", str(args.misses), "--seed", str(args.seed),
           "--import-seed", str(args.import_seed), "--pg-dsn", args.pg_dsn,
           "--baseline-repeats", str(args.baseline_repeats)]
    print(f"\n{'-' * 100}\n{db} / {part}\n{'-' * 100}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    running["proc"] = proc
    rc = proc.wait()
    running["proc"] = None
    try:
        out = json.loads(result_file.read_text())
    except (OSError, ValueError):
        out = {"db": db, "part": part, "error": f"child exited {rc} without a result"}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    out["exit_code"] = rc
    return out


def status(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_table(results: dict[str, dict[str, Any]], dbs: list[str], args: argparse.Namespace
                ) -> dict[str, Any]:
    """One table: rows = figures, columns = databases. Returns the verdicts."""
    width, col = 58, 22
    verdicts: dict[str, Any] = {}
    print(f"\n{'=' * 100}\nResults\n{'=' * 100}")
    print(f"{'':<{width}}" + "".join(f"{d:>{col}}" for d in dbs) + f"{'target':>{col - 6}}")

    def row(label: str, cells: list[str], target: str = "") -> None:
        print(f"{label:<{width}}" + "".join(f"{c:>{col}}" for c in cells)
              + (f"{target:>{col - 6}}" if target else ""))

    def get(db: str, part: str, *path: str) -> Any:
        cur: Any = results.get(f"{db}/{part}", {})
        for p in path:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(p)
        return cur

    if args.rows:
        print(f"\nImport of {args.rows:,} new residents (CSV, mode=all) into a city of "
              f"{args.base_residents:,}")
        for db in dbs:
            if err := get(db, "import", "error"):
                print(f"  {db}: ERROR {err}")
        cells = []
        for db in dbs:
            rps = get(db, "import", "import", "rows_per_s")
            ok = None if rps is None else rps >= TARGET_IMPORT_RPS
            verdicts[f"{db}/import_rows_per_s"] = status(ok)
            cells.append(f"{fmt_int(rps)} {status(ok)}".strip())
        row("import_file, new rows (rows/s)", cells, f"≥ {TARGET_IMPORT_RPS:,}")
        row("  seconds", [str(get(db, "import", "import", "seconds")) for db in dbs])
        phases = next((get(db, "import", "import", "phases_s") for db in dbs
                       if get(db, "import", "import", "phases_s")), {}) or {}
        for name in phases:
            cells = [get(db, "import", "import", "phases_s", name) for db in dbs]
            row(f"    {name[:52]}", ["n/a" if c is None else f"{c:.2f} s" for c in cells])
        row("re-import, same file (rows/s)",
            [fmt_int(get(db, "import", "reimport", "rows_per_s")) for db in dbs])
        row("  idempotent (0 created, 0 updated, all unchanged)",
            [str(get(db, "import", "reimport", "idempotent")) for db in dbs])
        row("baseline, plain table (rows/s)",
            [fmt_int(get(db, "import", "baseline", "plain", "rows_per_s")) for db in dbs])
        row("baseline, same indexes as registry_resident (rows/s)",
            [fmt_int(get(db, "import", "baseline", "indexed", "rows_per_s")) for db in dbs])
        row("  baseline method",
            [("COPY" if db == "postgres" else "executemany") for db in dbs])
        row("import ÷ plain baseline",
            [f"{get(db, 'import', 'ratio_import_to_baseline') or 0:.3f}" for db in dbs])
        row("per row: clean_resident (µs)",
            [f"{get(db, 'import', 'micro', 'clean_resident (all checks + seal)', 'us_per_row') or 0:.1f}"  # noqa: E501
             for db in dbs])
        row("  of which seal_resident (µs)",
            [f"{get(db, 'import', 'micro', 'seal_resident (2 seal + 2 blind_index + masks)', 'us_per_row') or 0:.1f}"  # noqa: E501
             for db in dbs])
        row("  of which parse_id_number (µs)",
            [f"{get(db, 'import', 'micro', 'parse_id_number', 'us_per_row') or 0:.1f}"
             for db in dbs])
        row("per row: read CSV + row dicts (µs)",
            [f"{get(db, 'import', 'micro', 'read_rows (csv + header map + row dicts)', 'us_per_row') or 0:.1f}"  # noqa: E501
             for db in dbs])

    if args.lookup_residents:
        print(f"\nLookup by exact ID number, city of {args.lookup_residents:,} residents "
              f"({args.lookups:,} lookups after {WARMUP} warm-up, {args.misses:,} misses)")
        for db in dbs:
            if err := get(db, "lookup", "error"):
                print(f"  {db}: ERROR {err}")
        row("load_demo (s)", [str(get(db, "lookup", "load", "seconds")) for db in dbs])
        row("database size (MiB)", [fmt_int(get(db, "lookup", "db", "size_mib")) for db in dbs])
        cells = []
        for db in dbs:
            p50 = get(db, "lookup", "search", "p50_ms")
            ok = None if p50 is None else p50 < TARGET_LOOKUP_P50_MS
            verdicts[f"{db}/lookup_p50_ms"] = status(ok)
            cells.append(f"{p50 if p50 is not None else '—'} {status(ok)}".strip())
        row("search_residents + fetch, p50 (ms)", cells, f"< {TARGET_LOOKUP_P50_MS:g}")
        for q in ("p90", "p99", "max"):
            row(f"  {q} (ms)", [str(get(db, "lookup", "search", f"{q}_ms")) for db in dbs])
        row("  wrong answers", [str(get(db, "lookup", "search", "wrong_answers")) for db in dbs])
        for q in ("p50", "p99"):
            row(f"ORM filter(id_number_hash=…)[:1], {q} (ms)",
                [str(get(db, "lookup", "orm_by_hash", f"{q}_ms")) for db in dbs])
        for q in ("p50", "p99"):
            row(f"miss (unknown number) via search, {q} (ms)",
                [str(get(db, "lookup", "miss", f"{q}_ms")) for db in dbs])
        row("blind_index alone, p50 (ms)",
            [str(get(db, "lookup", "hash_only", "p50_ms")) for db in dbs])
        row("server-side Execution Time, p50 (ms)",
            [str(get(db, "lookup", "server_execution", "p50_ms") or "—") for db in dbs])
        row("PreloadedResolver() in this city (s)",
            [str(get(db, "lookup", "import_preload_at_scale", "seconds")) for db in dbs])
    return verdicts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rows", type=int, default=100_000,
                   help="new residents in the import file (0: skip the import part)")
    p.add_argument("--base-residents", type=int, default=20_000,
                   help="demo residents loaded before the import (for buildings/houses)")
    p.add_argument("--lookup-residents", type=int, default=1_000_000,
                   help="demo residents for the lookup part (0: skip the lookup part)")
    p.add_argument("--lookups", type=int, default=2_000, help="timed lookups of hits")
    p.add_argument("--misses", type=int, default=500, help="timed lookups of unknown numbers")
    p.add_argument("--seed", type=int, default=2026, help="sample seed (load_demo uses 2026)")
    p.add_argument("--import-seed", type=int, default=1, help="seed of the import file")
    p.add_argument("--baseline-repeats", type=int, default=3)
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
                   help="maintenance connection (env WANGGE_BENCH_PG_DSN)")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    p.add_argument("--one", choices=DBS, help=argparse.SUPPRESS)
    p.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    p.add_argument("--result-file", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        return child_main(args)
    running: dict[str, subprocess.Popen[bytes] | None] = {"proc": None}

    def on_term(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    machine = machine_info()
    print(f"{'=' * 100}\nwangge registry benchmark: import throughput, lookup by ID number\n"
          f"{'=' * 100}")
    print(f"machine: {machine['cpus']} CPUs, {machine['memory']}, {machine['cpu']}; "
          f"load average {' '.join(map(str, machine['loadavg_at_start']))}")
    print(f"code: git {machine['git'] or '?'}; Python {machine['python']}")
    dbs = list(DBS) if args.db == "both" else [args.db]
    skipped: dict[str, str] = {}
    if "postgres" in dbs and (why := pg_reachable(args.pg_dsn)):
        print(f"PostgreSQL: skipped — {why}")
        skipped["postgres"] = why
        dbs.remove("postgres")
    parts = [p for p, n in (("import", args.rows), ("lookup", args.lookup_residents)) if n]
    results: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="wangge_bench_reg_results_"))
    try:
        for part in parts:
            for db in dbs:
                results[f"{db}/{part}"] = run_child(args, db, part, tmp, running)
    finally:
        proc = running["proc"]
        if proc is not None and proc.poll() is None:
            proc.terminate()  # the child drops its database on SIGTERM
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    verdicts = print_table(results, dbs, args)
    total = time.perf_counter() - started
    print(f"\ntotal time {total:.0f} s")
    out = {
        "benchmark": "registry",
        "date": dt.date.today().isoformat(),
        "machine": machine,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                 if k not in ("one", "part", "result_file")},
        "targets": {"import_rows_per_s": TARGET_IMPORT_RPS,
                    "lookup_p50_ms": TARGET_LOOKUP_P50_MS},
        "verdicts": verdicts,
        "skipped": skipped,
        "results": results,
        "total_s": round(total, 1),
    }
    path = args.output or RESULTS_DIR / f"registry-{dt.date.today().isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
