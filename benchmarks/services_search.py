"""Service-hall search (一键查询): latency at the demo's 664 items and at 100,000 (a province),
on SQLite and PostgreSQL, beside a plain LIKE '%…%' scan over names and aliases in the same
run; top-1 / top-3 hit rates over the relevance set (services/relevance.py).

    .venv/bin/python benchmarks/services_search.py [--db both|sqlite|postgres]
        [--items 100000] [--rounds 5] [--pg-dsn DSN] [--output PATH]

Each database runs in a child process on its own database (SQLite in a temporary data
directory; PostgreSQL `wangge_search`, created and dropped). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_NAME = "wangge_search"
TARGETS_P95_MS = {"664": 30.0, "100000": 100.0}
#: syllables of the synthetic counties a province's copies of the catalogue belong to
_HEAD = "东西南北安平宁和永兴华新长清丰泰福康盛文"
_TAIL = "阳江山川湖岭溪源桥城田林"


def counties(n: int) -> list[str]:
    out = []
    for a in _HEAD:
        for b in _TAIL:
            for suffix in "县区":
                out.append(f"{a}{b}{suffix}")
    if n > len(out):
        raise ValueError("too many counties")
    return out[:n]


def percentiles(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)

    def at(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))], 2)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "max_ms": round(s[-1], 2), "n": len(s)}


# --------------------------------------------------------------------------- child


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "wangge.settings"
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - t
    import wangge.demo.loader as loader
    from wangge.demo.loader import load_demo
    from wangge.services import search
    from wangge.services.models import SearchTerm, ServiceItem
    from wangge.services.relevance import RELEVANCE_QUERIES

    catalogue_s: list[float] = []
    load_catalogue = loader.load_demo_catalogue

    def timed_catalogue() -> int:
        t = time.perf_counter()
        n = load_catalogue()
        catalogue_s.append(time.perf_counter() - t)
        return n

    loader.load_demo_catalogue = timed_catalogue  # the demo's first load of the 664 items
    t = time.perf_counter()
    load_demo(residents=0, cases=0, fieldwork_days=0)
    demo_s = time.perf_counter() - t
    t = time.perf_counter()
    n = search.reindex_all()
    reindex_s = time.perf_counter() - t
    out: dict[str, Any] = {"vendor": connection.vendor, "migrate_s": round(migrate_s, 1),
                           "demo_load_s": round(demo_s, 1),
                           "catalogue_first_load_s": round(catalogue_s[0], 2),
                           "reindex_664_s": round(reindex_s, 2), "sizes": {}}
    _analyze(connection)
    _like_table(connection)
    out["sizes"][str(n)] = measure(RELEVANCE_QUERIES, args.rounds, exact=True)
    out["sizes"][str(n)]["terms"] = SearchTerm.objects.count()
    if args.items > n:
        t = time.perf_counter()
        grow(args.items)
        out["grow_s"] = round(time.perf_counter() - t, 1)
        _analyze(connection)
        size = ServiceItem.objects.filter(active=True).count()
        out["sizes"][str(size)] = measure(RELEVANCE_QUERIES, args.rounds, exact=False)
        out["sizes"][str(size)]["terms"] = SearchTerm.objects.count()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT version()")
            out["server"] = cur.fetchone()[0].split(" on ")[0]
        else:
            import sqlite3

            out["server"] = f"SQLite {sqlite3.sqlite_version}"
    return out


def _analyze(connection: Any) -> None:
    """Statistics, and on PostgreSQL the visibility map autovacuum would set soon after a
    bulk load (without it the index-only scans that count a term's items read the heap)."""
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _like_table(connection: Any) -> None:
    """The baseline's table: one row per item, its name and aliases as plain text (the
    aliases' JSON is not searchable text on SQLite: it stores \\u escapes)."""
    from wangge.services.models import ServiceItem

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_like")
        cur.execute("CREATE TABLE bench_like (item_id integer PRIMARY KEY, code varchar(60), "
                    "text varchar(1000))")
        rows = [(i, c, f"{name}|{'|'.join(aliases or [])}") for i, c, name, aliases in
                ServiceItem.objects.filter(active=True).values_list(
                    "id", "code", "name", "current__aliases")]
        cur.executemany("INSERT INTO bench_like (item_id, code, text) VALUES (%s, %s, %s)",
                        rows)


def like_search(q: str) -> tuple[int, list[str]]:
    from django.db import connection

    pattern = f"%{q}%"
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM bench_like WHERE text LIKE %s", [pattern])
        total = cur.fetchone()[0]
        cur.execute("SELECT code FROM bench_like WHERE text LIKE %s ORDER BY code LIMIT 20",
                    [pattern])
        return total, [r[0] for r in cur.fetchall()]


def measure(queries: list[tuple[str, str]], rounds: int, *, exact: bool) -> dict[str, Any]:
    """Timed searches (each query `rounds` times after a warm-up round) and hit rates.
    At the province size a hit is any county's copy of the intended item."""
    from wangge.services.search import search_items

    def base(code: str) -> str:
        return "-".join(code.split("-")[:2])

    result: dict[str, Any] = {}
    for name, run in (("index", lambda q: [i.code for i in search_items(q).items]),
                      ("like", lambda q: like_search(q)[1])):
        for q, _ in queries:  # warm-up: jieba, caches, pages
            run(q)
        ms: list[float] = []
        top1 = top3 = 0
        for r in range(rounds):
            for q, want in queries:
                t = time.perf_counter_ns()
                got = run(q)
                ms.append((time.perf_counter_ns() - t) / 1e6)
                if r == 0:
                    got3 = [c if exact else base(c) for c in got[:3]]
                    top1 += bool(got3) and got3[0] == want
                    top3 += want in got3
        result[name] = {**percentiles(ms), "top1": round(top1 / len(queries), 3),
                        "top3": round(top3 / len(queries), 3)}
    return result


def grow(target: int) -> None:
    """Copies of the catalogue for synthetic counties until `target` items: each copy has
    the base item's name, aliases and terms, plus the county's name and its pinyin (so the
    index really holds 100,000 items' worth of rows)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wangge.services.models import ItemVersion, SearchTerm, ServiceItem
    from wangge.services.search import pinyin

    bases = list(ServiceItem.objects.filter(active=True).select_related("current")
                 .order_by("id"))
    need = target - len(bases)
    names = counties(-(-need // len(bases)))
    now = timezone.now()
    plan = [(b, k) for k in range(len(names)) for b in bases][:need]
    with transaction.atomic():
        items = ServiceItem.objects.bulk_create([
            ServiceItem(code=f"{b.code}-{k:03d}", name=b.name, department_id=b.department_id,
                        type=b.type, level=b.level, proxy_eligible=b.proxy_eligible,
                        online_prereview=b.online_prereview, events_text=b.events_text)
            for b, k in plan], batch_size=5000)
        ItemVersion.objects.bulk_create([
            ItemVersion(item=item, number=1, state="published", name=b.name,
                        aliases=b.current.aliases, type=b.type,
                        department_id=b.department_id, level=b.level,
                        legal_days=b.current.legal_days,
                        promised_days=b.current.promised_days, published_at=now)
            for item, (b, _) in zip(items, plan, strict=True)], batch_size=5000)
        table, items_t = SearchTerm._meta.db_table, ServiceItem._meta.db_table
        versions_t = ItemVersion._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f"UPDATE {items_t} SET current_id = (SELECT v.id FROM {versions_t} v "
                        f"WHERE v.item_id = {items_t}.id) WHERE current_id IS NULL")
            cur.execute("CREATE TABLE bench_map (new_id integer, base_id integer, k integer)")
            cur.executemany("INSERT INTO bench_map VALUES (%s, %s, %s)",
                            [(item.pk, b.pk, k) for item, (b, k) in
                             zip(items, plan, strict=True)])
            cur.execute(f"INSERT INTO {table} (term, item_id, weight) SELECT st.term, "
                        f"m.new_id, st.weight FROM {table} st JOIN bench_map m "
                        "ON m.base_id = st.item_id")
            county_terms = []
            for k, county in enumerate(names):
                full, initials = pinyin(county)
                county_terms += [(k, county, 3.0), (k, county[:2], 3.0), (k, full, 2.7),
                                 (k, initials, 2.7)]
            cur.execute("CREATE TABLE bench_county (k integer, term varchar(64), w real)")
            cur.executemany("INSERT INTO bench_county VALUES (%s, %s, %s)", county_terms)
            cur.execute(f"INSERT INTO {table} (term, item_id, weight) SELECT c.term, "
                        "m.new_id, MAX(c.w) FROM bench_map m JOIN bench_county c ON c.k = m.k "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.item_id = m.new_id "
                        "AND s.term = c.term) GROUP BY c.term, m.new_id")
        _like_table(connection)


# --------------------------------------------------------------------------- parent


def run_child(db: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["WANGGE_DATA_DIR"] = str(tmp / db)
    if db == "postgres":
        import psycopg
        from psycopg import sql

        with psycopg.connect(args.pg_dsn, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(PG_NAME)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_NAME)))
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(args.pg_dsn)
        env["WANGGE_DATABASE_URL"] = (
            f"postgresql://{info.get('user') or 'postgres'}@{info.get('host') or '127.0.0.1'}:"
            f"{info.get('port') or 5432}/{PG_NAME}")
    else:
        env.pop("WANGGE_DATABASE_URL", None)
    result_file = tmp / f"{db}.json"
    cmd = [sys.executable, __file__, "--child", "--items", str(args.items), "--rounds",
           str(args.rounds), "--result-file", str(result_file)]
    print(f"[{db}] loading the demo catalogue, measuring …", flush=True)
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env)
    try:
        if done.returncode:
            return {"error": f"child exited {done.returncode}"}
        result = json.loads(result_file.read_text())
        result["child_s"] = round(time.perf_counter() - t, 1)
        return result
    finally:
        if db == "postgres":
            import psycopg
            from psycopg import sql

            with suppress(Exception), psycopg.connect(args.pg_dsn, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                              .format(sql.Identifier(PG_NAME)))


def print_table(results: dict[str, dict[str, Any]]) -> dict[str, bool]:
    verdicts: dict[str, bool] = {}
    print(f"\n{'db':10} {'items':>8} {'engine':7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'top-1':>6} {'top-3':>6}  target p95")
    for db, r in results.items():
        if "error" in r:
            print(f"{db:10} error: {r['error']}")
            continue
        for size, engines in r["sizes"].items():
            target = TARGETS_P95_MS["664" if int(size) < 10000 else "100000"]
            for engine in ("index", "like"):
                e = engines[engine]
                mark = ""
                if engine == "index":
                    ok = e["p95_ms"] < target
                    verdicts[f"{db}/{size}"] = ok
                    mark = f"< {target:.0f} {'ok' if ok else 'MISSED'}"
                print(f"{db:10} {int(size):>8,} {engine:7} {e['p50_ms']:>8.2f} "
                      f"{e['p95_ms']:>8.2f} {e['max_ms']:>8.2f} {e['top1']:>6.1%} "
                      f"{e['top3']:>6.1%}  {mark}")
        print(f"{'':10} index rows: " + ", ".join(
            f"{int(s):,} items → {v['terms']:,} terms" for s, v in r["sizes"].items())
            + f"; first load of the catalogue {r['catalogue_first_load_s']} s (import and "
            f"index, jieba's dictionary included); reindex of 664 items "
            f"{r['reindex_664_s']} s; province copies "
            f"{r.get('grow_s', '-')} s")
    return verdicts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN))
    p.add_argument("--output", type=Path)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        args.result_file.write_text(json.dumps(child(args)))
        return 0
    started = time.perf_counter()
    git = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "--short",
                          "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"wangge service search benchmark: {os.cpu_count()} CPUs, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, git {git}, "
          f"Python {platform.python_version()}")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wangge_bench_search_") as tmp:
        for db in dbs:
            results[db] = run_child(db, args, Path(tmp))
    verdicts = print_table(results)
    total = round(time.perf_counter() - started, 1)
    print(f"\ntotal time {total} s")
    out = {"benchmark": "services_search", "date": dt.date.today().isoformat(), "git": git,
           "cpus": os.cpu_count(), "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
           "args": {"items": args.items, "rounds": args.rounds, "db": args.db},
           "targets_p95_ms": TARGETS_P95_MS, "verdicts": verdicts, "results": results,
           "total_s": total}
    path = args.output or RESULTS_DIR / f"services_search-{dt.date.today().isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
