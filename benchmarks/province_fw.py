"""Part (c) of benchmarks/fieldwork.py: the headline counters and the attendance board at
province scale on PostgreSQL, beside direct SQL over the same rows.

The tree (a province root, 14 cities, 1,400 towns, 28,000 communities, --grids basic
grids) and its workers are COPY-ed; the bulk rows (visits, cases, opinions, distributions,
today's check-ins) are generated inside PostgreSQL (INSERT … SELECT over generate_series:
no client stream is faster). Foreign-key triggers are off for the load
(session_replication_role = replica) and the tables' own indexes, as the models declare
them, are dropped first and rebuilt after, then ANALYZE. Then the daily rollups are built
(analytics.actions.do_rebuild, timed, and the worker's window and one day), and the
headline is timed from them beside the raw path (analytics.headline.raw_headline) and the
direct SQL; the two paths must give the same figures.

    .venv/bin/python benchmarks/province_fw.py [--visits N] [--grids N] [--repeat R]

runs this part alone in its own database (wangge_bench_province), with fieldwork.py's
options.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

import psycopg
from common import drop_indexes, pct, rebuild_indexes
from psycopg import sql

TARGET_P95_MS = 200.0
#: the baseline: the same rows counted directly (a grid subtree by its path prefix)
JOINED = "SELECT {} FROM {} v JOIN territory_grid g ON g.id = v.grid_id WHERE g.path LIKE %s"
L1, L2_PER_L1, L3_PER_L2 = 14, 100, 20
BULK_TABLES = ("fieldwork_visit", "cases_case", "fieldwork_opinion", "fieldwork_distribution",
               "fieldwork_checkin", "territory_grid", "org_person", "org_roleassignment")


def _tree(basic: int) -> list[tuple[str, str, int, str | None, str]]:
    """(code, name, level, parent code, path) for the root, cities, towns, communities and
    `basic` basic grids (dealt round-robin over the communities)."""
    rows = [("P", "省", 0, None, "/P/")]
    communities = []
    for a in range(L1):
        c1 = f"P{a:02d}"
        rows.append((c1, f"市{a}", 1, "P", f"/P/{c1}/"))
        for b in range(L2_PER_L1):
            c2 = f"{c1}{b:03d}"
            rows.append((c2, f"镇{a}-{b}", 2, c1, f"/P/{c1}/{c2}/"))
            for c in range(L3_PER_L2):
                c3 = f"{c2}{c:02d}"
                path = f"/P/{c1}/{c2}/{c3}/"
                rows.append((c3, f"社区{a}-{b}-{c}", 3, c2, path))
                communities.append((c3, path))
    for i in range(basic):
        c3, path = communities[i % len(communities)]
        c4 = f"{c3}{i // len(communities):02d}"
        rows.append((c4, f"网格{c4}", 4, c3, f"{path}{c4}/"))
    return rows


def _copy_tree(conn: psycopg.Connection, basic: int) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = _tree(basic)
    ids = dict(zip([r[0] for r in rows], [r[0] for r in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('territory_grid', 'id')) FROM "
        "generate_series(1, %s)", (len(rows),)).fetchall()], strict=True))
    with conn.cursor().copy(
            "COPY territory_grid (id, code, name, level, kind, path, boundary, min_lng, min_lat, "
            "max_lng, max_lat, label_lng, label_lat, qr_token, updated_at, parent_id) "
            "FROM STDIN") as copy:
        for code, name, level, parent, path in rows:
            copy.write_row((ids[code], code, name, level, "urban", path, b"", 113.0, 27.0,
                            113.1, 27.1, 113.05, 27.05, f"bench{code}", now,
                            ids[parent] if parent else None))
    # one worker per basic grid
    conn.execute("CREATE TEMP TABLE basic AS SELECT row_number() OVER (ORDER BY id) AS k, id "
                 "AS grid_id, nextval(pg_get_serial_sequence('org_person', 'id')) AS person_id "
                 "FROM territory_grid WHERE level = 4 AND code LIKE 'P%'")
    conn.execute("CREATE UNIQUE INDEX ON basic (k)")
    conn.execute("INSERT INTO org_person (id, name, work_phone) SELECT person_id, '网格员' || k, "
                 "'' FROM basic")
    conn.execute("INSERT INTO org_roleassignment (role, employment, responsible, started_on, "
                 "grid_id, person_id) SELECT 'grid_worker', 'full_time', true, '2025-01-01', "
                 "grid_id, person_id FROM basic")


def load(conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, float]:
    """Returns the seconds each step took."""
    took: dict[str, float] = {}

    def step(name: str, *statements: str | sql.Composed, params: Any = None) -> None:
        t0 = time.perf_counter()
        for s in statements:
            conn.execute(s, params)
        took[name] = round(time.perf_counter() - t0, 1)
        print(f"    {name}: {took[name]} s")

    conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
    conn.execute("SET maintenance_work_mem = '256MB'")
    dropped = drop_indexes(conn, BULK_TABLES)
    t0 = time.perf_counter()
    _copy_tree(conn, args.grids)
    took["tree (COPY)"] = round(time.perf_counter() - t0, 1)
    print(f"    tree and workers (COPY): {took['tree (COPY)']} s")
    kind = conn.execute("SELECT min(id) FROM fieldwork_visitkind").fetchone()[0]
    topic = conn.execute("SELECT min(id) FROM fieldwork_opiniontopic").fetchone()[0]
    material = conn.execute("SELECT min(id) FROM fieldwork_material").fetchone()[0]
    category = conn.execute("SELECT min(id) FROM cases_casecategory WHERE parent_id IS NOT "
                            "NULL").fetchone()[0]
    n = args.visits
    # rows go in in time order, as they do when recorded day by day: today's rows share a
    # few heap pages (in random order, each of today's rows costs a page read)
    span = "now() - (random() * 400) * interval '1 day'"
    pick = "JOIN basic b ON b.k = 1 + (s::bigint * 7919) % (SELECT count(*) FROM basic)"
    step("visits", f"INSERT INTO fieldwork_visit (worker_id, grid_id, kind_id, visited_at, "
         f"people_met, needs, help_given, photo_hashes, recorded_at) SELECT b.person_id, "
         f"b.grid_id, {kind}, t, 1 + (s % 4), '', '', '[]', t FROM (SELECT s, {span} AS t "
         f"FROM generate_series(1, {n}) s) x {pick} ORDER BY t")
    step("cases", f"INSERT INTO cases_case (register_no, title, description, channel, state, "
         f"confidential, handling_level, rework_count, closeout_reason, created_at, grid_id, "
         f"category_id, followup_note, written_reply, follow_code) SELECT 'PB-' || s, '事件', "
         f"'', 'grid_worker', 'closed', s % 500 = 0, 3, 0, '', {span}, b.grid_id, {category},"
         f" '', '', 'pb' || s FROM generate_series(1, {n // 8}) s {pick} ORDER BY 10")
    step("opinions", f"INSERT INTO fieldwork_opinion (author_id, grid_id, topic_id, content, "
         f"source, people_concerned, urgency, state, answer, collected_at) SELECT b.person_id,"
         f" b.grid_id, {topic}, '意见', 'resident', 1, 'normal', 'recorded', '', {span} FROM "
         f"generate_series(1, {n // 56}) s {pick}")
    step("distributions", f"INSERT INTO fieldwork_distribution (worker_id, grid_id, "
         f"material_id, count, place, day) SELECT b.person_id, b.grid_id, {material}, 8, '', "
         f"({span})::date FROM generate_series(1, {n // 8}) s {pick}")
    step("check-ins today", "INSERT INTO fieldwork_checkin (worker_id, grid_id, day, at, "
         "status, place, late, note, recorded_at) SELECT person_id, grid_id, current_date, "
         "now(), 'on_duty', 'grid', k % 20 = 0, '', now() FROM basic WHERE k % 10 <> 0")
    conn.execute("SET session_replication_role = origin")
    rebuild_indexes(conn, dropped, took)
    step("analyze", *(f"ANALYZE {t}" for t in BULK_TABLES))
    return took


def _users() -> dict[str, Any]:
    """A login per scope: a worker, a community, a town, a city, the province."""
    from django.contrib.auth import get_user_model

    from wangge.org.models import Person, Role, RoleAssignment
    from wangge.territory.models import Grid

    basic = Grid.objects.filter(code__startswith="P", level=4).order_by("code").first()
    chain = {g.level: g for g in Grid.objects.filter(path__in=basic.ancestor_paths())}
    plan = {"worker": (Role.GRID_WORKER, 4), "community": (Role.STATION_STAFF, 3),
            "town": (Role.SUBCENTER_STAFF, 2), "city": (Role.LEADER, 1),
            "province": (Role.DISPATCHER, 0)}
    users = {}
    for name, (role, level) in plan.items():
        user, _ = get_user_model().objects.get_or_create(username=f"bench-{name}")
        person, _ = Person.objects.get_or_create(user=user, defaults={"name": name})
        RoleAssignment.objects.get_or_create(person=person, role=role, grid=chain[level],
                                             defaults={"started_on": dt.date(2025, 1, 1)})
        users[name] = (user.pk, chain[level].path)
    return users


def _time(fn: Any, repeat: int) -> list[float]:
    fn()  # warm: plans cached, pages in memory
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from wangge.analytics.headline import headline, raw_headline
    from wangge.fieldwork.queries import attendance, attendance_counts

    User = get_user_model()
    today = timezone.localdate()
    month = today - dt.timedelta(days=30)
    rows: dict[str, Any] = {}
    for scope, (pk, path) in _users().items():
        like = path + "%"
        fast, raw = headline(User.objects.get(pk=pk)), raw_headline(User.objects.get(pk=pk))
        assert fast == raw, (scope, fast, raw)  # the tallies must give the records' figures
        slow = max(3, args.repeat // 8)  # the raw path takes seconds at a city's scope
        row: dict[str, Any] = {
            "headline": _time(lambda pk=pk: headline(User.objects.get(pk=pk)), args.repeat),
            "headline_30d": _time(lambda pk=pk: headline(User.objects.get(pk=pk), since=month,
                                                         until=today), args.repeat),
            "raw_headline": _time(lambda pk=pk: raw_headline(User.objects.get(pk=pk)), slow),
            "sql_count_visits": _time(lambda like=like: conn.execute(
                JOINED.format("count(*)", "fieldwork_visit"), (like,)).fetchone(), args.repeat),
            "sql_sum_visits": _time(lambda like=like: conn.execute(
                JOINED.format("sum(people_met)", "fieldwork_visit"), (like,)).fetchone(),
                args.repeat),
        }
        if scope != "worker":  # the board is the station's, not the worker's
            row["board"] = _time(lambda pk=pk: attendance(User.objects.get(pk=pk), today),
                                 max(3, args.repeat // 8))
            row["board_counts"] = _time(lambda pk=pk: attendance_counts(
                User.objects.get(pk=pk), today), args.repeat)
            row["sql_count_checkins"] = _time(lambda like=like: conn.execute(
                JOINED.format("count(*)", "fieldwork_checkin") + " AND v.day = current_date",
                (like,)).fetchone(), args.repeat)
        rows[scope] = {k: {"p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95)}
                       for k, v in row.items()}
        figures = ", ".join(f"{k} p95 {pct(v, 0.95)} ms" for k, v in row.items())
        print(f"  {scope:<9} {figures}")
    rows["raw_count_all_visits"] = {"p95_ms": pct(_time(lambda: conn.execute(
        "SELECT count(*) FROM fieldwork_visit").fetchone(), 5), 0.95)}
    print(f"  COUNT(*) over all {args.visits:,} visits: "
          f"{rows['raw_count_all_visits']['p95_ms']} ms")
    return rows


def rollups(took: dict[str, float]) -> dict[str, Any]:
    """The daily rollups over the loaded rows: a full rebuild (what the worker's first run
    does), the worker's sliding window, one day; their sizes."""
    from django.utils import timezone

    from wangge.analytics.actions import do_rebuild, do_rollup
    from wangge.analytics.jobs import ROLLUP_DAYS
    from wangge.analytics.models import DailyTally

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for name, run in (
            ("rollup: full rebuild", lambda: do_rebuild()),
            (f"rollup: the worker's window ({ROLLUP_DAYS} days)", lambda: do_rollup(
                yesterday - dt.timedelta(days=ROLLUP_DAYS - 1), yesterday)),
            ("rollup: one day", lambda: do_rollup(yesterday, yesterday))):
        t0 = time.perf_counter()
        run()
        took[name] = round(time.perf_counter() - t0, 1)
        print(f"    {name}: {took[name]} s")
    return {"tallies": DailyTally.objects.count(),
            "days": DailyTally.objects.values("day").distinct().count()}


def bench_province(args: argparse.Namespace, conninfo: str) -> dict[str, Any]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        took = load(conn, args)
        sizes = rollups(took)
        conn.execute("ANALYZE analytics_dailytally")
        print(f"    {sizes['tallies']:,} tallies over {sizes['days']} days")
        figures = measure(conn, args)
    verdict = {scope: r["headline"]["p95_ms"] < TARGET_P95_MS for scope, r in figures.items()
               if isinstance(r, dict) and "headline" in r}
    print("  headline p95 < 200 ms: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}"
                                                 for k, v in verdict.items()))
    return {"load_s": took, "rollup": sizes, "figures": figures,
            "verdict_headline_p95": verdict}


if __name__ == "__main__":
    # the province part alone, in its own database (beside a fieldwork.py run of someone else)
    import sys

    import fieldwork

    fieldwork.DB_NAME = "wangge_bench_province"
    sys.exit(fieldwork.main(["--skip", "sync,offline", *sys.argv[1:]]))
