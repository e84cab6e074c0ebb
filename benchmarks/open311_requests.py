"""Open311 `GET /open311/v2/requests.json` with date filters over 1,000,000 cases on
PostgreSQL, pages of 1,000, beside the same selection as one raw SQL query (psycopg).

    .venv/bin/python benchmarks/open311_requests.py [--cases 1000000] [--days 400] [--runs 30]
        [--keep] [--reuse] [--pg-dsn DSN] [--output PATH]

A fresh database `wangge_bench_o311` gets the demo city (no residents, no demo cases), the
resident-facing categories, and --cases cases from the demo's generator spread over --days
days, written with core.bulk (COPY): timelines, SLA clocks, resident reports. Each scenario
(date window × service_code × status) is requested through Django's test Client (the whole
middleware stack and the view, no socket) and as one SQL query, --runs times each after
--warmup. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import RESULTS_DIR
from intake import admin, cli

DB_NAME = "wangge_bench_o311"
TARGET_P95_MS = 150.0
CHUNK = 50_000
#: fallback resident-facing categories while do_seed_public_categories has not landed:
#: (small class, service_code, the name people use, group)
FALLBACK_PUBLIC = [
    ("0101", "garbage", "垃圾没人清", "市容环境"), ("0102", "clutter", "乱堆乱放", "市容环境"),
    ("0201", "ads", "乱贴乱挂广告", "市容环境"), ("0301", "construction-noise", "施工扰民", "施工"),
    ("0401", "road-collapse", "路面塌陷", "道路"), ("0501", "street-vending", "占道经营", "街面"),
    ("0601", "manhole", "井盖丢了", "公用设施"), ("0602", "streetlight", "路灯不亮", "公用设施"),
    ("0701", "road-damage", "路面坑洼", "道路"), ("0801", "fallen-tree", "树倒了", "园林"),
    ("0901", "illegal-building", "违章搭建", "房屋"), ("1001", "water-outage", "停水", "水电气"),
    ("1002", "power-outage", "停电", "水电气"), ("1003", "gas-leak", "燃气泄漏", "水电气"),
    ("1101", "fire-hazard", "消防隐患", "安全"), ("1304", "pollution", "环境污染", "环境"),
    ("1306", "neighbours", "邻里纠纷", "纠纷"), ("1401", "suggestion", "意见建议", "社情民意"),
    ("1501", "question", "政策咨询", "咨询"), ("1601", "help", "困难求助", "求助"),
]  # fmt: skip
#: how residents' reports arrive (ResidentReport.source)
SOURCES = ["qr"] * 50 + ["web"] * 35 + ["open311"] * 15
FINAL = ("rejected", "cancelled", "closed", "evaluated")  # cases.workflow.FINAL
#: the selection as one query: what a GeoReport request list shows of a public case (the
#: resident-facing category the resident chose, else the first of its kind; agency, grid
#: names, where, the latest change, the SLA deadline); public = not confidential and filed
#: under a kind residents can choose (cases.access.public_cases)
RAW_SQL = """
SELECT c.register_no, coalesce(rp.code, pc.code), c.state, c.created_at, c.lat, c.lng,
       c.title, c.description, d.name, g.name, g1.name, g2.name, rr.address, rr.media_url,
       (SELECT max(e.at) FROM cases_caseevent e WHERE e.case_id = c.id),
       (SELECT k.deadline FROM cases_caseclock k WHERE k.case_id = c.id AND k.deadline IS NOT
        NULL ORDER BY k.status <> 'running', k.started_at DESC, k.id DESC LIMIT 1)
FROM cases_case c
JOIN LATERAL (SELECT p.code FROM cases_publiccategory p WHERE p.category_id = c.category_id
              AND p.active ORDER BY p."order", p.code LIMIT 1) pc ON true
LEFT JOIN cases_residentreport rr ON rr.case_id = c.id
LEFT JOIN cases_publiccategory rp ON rp.id = rr.public_category_id
LEFT JOIN org_department d ON d.id = c.department_id
JOIN territory_grid g ON g.id = c.grid_id
LEFT JOIN territory_grid g1 ON g1.id = g.parent_id
LEFT JOIN territory_grid g2 ON g2.id = g1.parent_id
WHERE NOT c.confidential AND c.created_at >= %(start)s AND c.created_at <= %(end)s
      {status} {code}
ORDER BY c.created_at DESC, c.id DESC
LIMIT 1000
"""
#: service_code as the view reads it: the category a resident chose, else the case's kind
#: (the view reads the kinds first too: ids as literals let the planner see the category)
CODE_SQL = "AND (rr.public_category_id = %(pc)s OR (rr.id IS NULL AND c.category_id = %(cat)s))"


def stats(ms: Sequence[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


# ------------------------------------------------------------------ data (after setup)


def seed_public_categories() -> str:
    """The report helper's seed when it exists, else FALLBACK_PUBLIC; says which."""
    from wangge.cases import actions
    from wangge.cases.models import CaseCategory, PublicCategory

    seed = getattr(actions, "do_seed_public_categories", None)
    if seed is not None:
        seed()
        if PublicCategory.objects.exists():
            return "do_seed_public_categories"
    ids = dict(CaseCategory.objects.values_list("code", "id"))
    PublicCategory.objects.bulk_create([
        PublicCategory(code=code, name=name, group=group, category_id=ids[small], order=i)
        for i, (small, code, name, group) in enumerate(FALLBACK_PUBLIC) if small in ids])
    return "benchmark fallback (FALLBACK_PUBLIC)"


def _columns(model: Any, given: list[str]) -> tuple[list[str], list[Any]]:
    """The given columns, then every other concrete field but the id, with its default (a
    column added later does not break the load)."""
    from django.db import connection
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rest = [f for f in model._meta.concrete_fields
            if f.attname not in given and not f.primary_key]
    return [*given, *(f.attname for f in rest)], [
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection) for f in rest]


class Writer:
    """One chunk of generated cases into cases, events, clocks and resident reports."""

    def __init__(self, seed: int) -> None:
        from wangge.cases.models import (
            Case,
            CaseCategory,
            CaseClock,
            CaseEvent,
            PublicCategory,
            ResidentReport,
        )
        from wangge.demo.caseload import CASE_FIELDS, EVENT_FIELDS, _datetime_adapter
        from wangge.org.models import Department
        from wangge.territory.models import Grid, Level
        from wangge.workcal import calendar as workcal
        from wangge.workcal.policies import clocks_for

        self.models = (Case, CaseEvent, CaseClock, ResidentReport)
        self.rng = random.Random(seed)
        self.ids = {"category": dict(CaseCategory.objects.values_list("code", "id")),
                    "grid": dict(Grid.objects.filter(level=Level.BASIC)
                                 .values_list("code", "id")),
                    "department": dict(Department.objects.values_list("code", "id"))}
        self.public: dict[str, int] = {}
        for cat, pc in (PublicCategory.objects.filter(active=True).order_by("order", "code")
                        .values_list("category__code", "id")):
            self.public.setdefault(cat, pc)
        self.clock_specs = {c: (p, clocks_for(p)) for c, p in
                            CaseCategory.objects.values_list("code", "sla_policy") if p}
        self.calendar, self.when = workcal.current(), _datetime_adapter()
        self.case_cols, self.case_rest = _columns(Case, ["id", *CASE_FIELDS])
        self.event_cols, self.event_rest = _columns(CaseEvent, EVENT_FIELDS)
        self.clock_cols, self.clock_rest = _columns(CaseClock, [
            "case_id", "policy", "code", "name", "amount", "unit", "goal", "on_breach",
            "warn_fraction", "status", "started_at", "deadline", "warn_at", "calendar_missing",
            "paused_at", "met_at"])
        self.rr_cols, self.rr_rest = _columns(ResidentReport, [
            "case_id", "source", "public_category_id", "token", "anonymous", "name_masked",
            "phone_masked", "address", "media_url", "created_at"])
        self.counts = dict.fromkeys(("cases", "events", "clocks", "resident_reports",
                                     "confidential", "public"), 0)

    def clocks(self, pk: int, s: Any) -> list[tuple[Any, ...]]:
        """As the loop starts them (demo/caseclocks.py), and kept after closing: met where
        the history reached the goal, stopped where it ended first, paused if suspended."""
        from wangge.cases.actions.clocks import LINE
        from wangge.workcal.deadlines import CalendarNotCovered

        if s.state == "reported" or s.category not in self.clock_specs:
            return []
        policy, specs = self.clock_specs[s.category]
        out, w = [], self.when
        for spec in specs:
            start = next((e.at for e in s.events if e.action == spec.starts_on), None)
            if start is None:
                continue
            try:
                deadline, missing = self.calendar.deadline(start, spec.amount, spec.unit), None
                warn = start + (deadline - start) * spec.warn_fraction
            except CalendarNotCovered as e:
                deadline = warn = None
                missing = e.year
            goal = LINE.index(spec.goal)
            met = next((e.at for e in s.events if e.at >= start and e.to_state in LINE
                        and LINE.index(e.to_state) >= goal), None)
            paused = None
            if met is not None:
                status = "met"
            elif s.state in FINAL:
                status = "stopped"
            elif s.state == "suspended":
                status = "paused"
                paused = [e.at for e in s.events if e.action == "suspend"][-1]
            else:
                status = "running"
            out.append((pk, policy, spec.code, spec.name, spec.amount, spec.unit, spec.goal,
                        spec.on_breach, spec.warn_fraction, status, w(start), w(deadline),
                        w(warn), missing, w(paused), w(met), *self.clock_rest))
        return out

    def report(self, pk: int, s: Any) -> tuple[Any, ...] | None:
        """A resident's report (channel resident under a resident-facing category)."""
        pc = self.public.get(s.category)
        if s.channel != "resident" or pc is None:
            return None
        r = self.rng
        source, anonymous = r.choice(SOURCES), r.random() < 0.6
        return (pk, source, pc, secrets.token_hex(16), anonymous, "" if anonymous else "张*",
                "" if anonymous else f"138****{r.randrange(10000):04d}",
                f"{s.title[:40]}附近" if r.random() < 0.5 else "",
                f"https://img.example.org/{secrets.token_hex(8)}.jpg"
                if source == "open311" and r.random() < 0.4 else "",
                self.when(s.created_at), *self.rr_rest)

    def write(self, specs: Sequence[Any]) -> None:
        from django.db import transaction

        from wangge.cases.models import new_follow_code
        from wangge.core.bulk import allocate_ids, insert_rows
        from wangge.demo.caseload import _json

        Case, CaseEvent, CaseClock, ResidentReport = self.models
        w, ids = self.when, self.ids
        with transaction.atomic():
            pairs = list(zip(allocate_ids(Case, len(specs)), specs, strict=True))
            insert_rows(Case, self.case_cols, (
                (pk, s.register_no, ids["category"][s.category], ids["grid"][s.grid], s.lng,
                 s.lat, s.title, s.description, s.channel, s.reporter, s.state, s.confidential,
                 ids["department"].get(s.department or ""), s.routed_by, s.handling_level,
                 s.rework_count, s.closeout_reason, s.satisfaction, s.followup_note,
                 s.written_reply, w(s.replied_at), w(s.created_at), w(s.registered_at),
                 w(s.closed_at), new_follow_code(), *self.case_rest) for pk, s in pairs))
            insert_rows(CaseEvent, self.event_cols, (
                (pk, w(e.at), e.actor, e.action, e.from_state, e.to_state, e.note,
                 _json(tuple(e.data.items())), *self.event_rest)
                for pk, s in pairs for e in s.events))
            clocks = [c for pk, s in pairs for c in self.clocks(pk, s)]
            insert_rows(CaseClock, self.clock_cols, clocks)
            reports = [r for r in (self.report(pk, s) for pk, s in pairs) if r is not None]
            insert_rows(ResidentReport, self.rr_cols, reports)
        c = self.counts
        c["cases"] += len(specs)
        c["events"] += sum(len(s.events) for s in specs)
        c["clocks"] += len(clocks)
        c["resident_reports"] += len(reports)
        c["confidential"] += sum(s.confidential for s in specs)
        c["public"] += sum(not s.confidential and s.category in self.public for s in specs)


def generate(n: int, days: int, seed: int) -> dict[str, Any]:
    """n cases over about `days` days before now: casegen makes one year per call, so the
    chunks' years end at staggered days (the first today, the last days - 365 ago)."""
    from django.conf import settings
    from django.utils import timezone

    from wangge.cases.models import RegisterCounter
    from wangge.demo.casegen import generate_cases
    from wangge.demo.caseload import casegen_inputs

    now = timezone.now()
    grids, categories, route, staff = casegen_inputs()
    writer, chunks = Writer(seed), max(1, -(-n // CHUNK))
    counters = dict(RegisterCounter.objects.values_list("year", "last"))
    t_gen = t_write = 0.0
    for i in range(chunks):
        t = time.perf_counter()
        specs = generate_cases(
            grids, categories, route, now=now, n=min(CHUNK, n - i * CHUNK), seed=seed + i,
            staff=staff, prefix=settings.WANGGE_CASE_PREFIX, counters=counters,
            until=now - dt.timedelta(days=max(0, days - 365) * i / max(chunks - 1, 1)))
        for s in specs:  # the next chunk numbers on (register numbers stay unique)
            _, year, number = s.register_no.rsplit("-", 2)
            counters[int(year)] = max(counters.get(int(year), 0), int(number))
        t_gen += time.perf_counter() - t
        t = time.perf_counter()
        writer.write(specs)
        t_write += time.perf_counter() - t
        print(f"  {writer.counts['cases']:>9,} cases, {writer.counts['events']:>10,} events "
              f"(generate {t_gen:.0f} s, write {t_write:.0f} s)")
    for year, last in counters.items():
        RegisterCounter.objects.update_or_create(year=year, defaults={"last": last})
    return {**writer.counts, "generate_s": round(t_gen, 1), "write_s": round(t_write, 1)}


# ------------------------------------------------------------------------- measuring


def scenarios(now: dt.datetime, code: str) -> list[dict[str, Any]]:
    """Date windows (days before now: end, length) × service_code × status."""
    plan = [("90 d to now", 0, 90, None, None), ("90 d, status=open", 0, 90, None, "open"),
            ("90 d, status=closed", 0, 90, None, "closed"),
            ("90 d, service_code", 0, 90, code, None),
            ("90 d, service_code, open", 0, 90, code, "open"),
            ("1 d, yesterday", 1, 1, None, None), ("7 d, a month ago", 30, 7, None, None),
            ("30 d, 200 d ago, service_code", 200, 30, code, None),
            ("30 d, 200 d ago, status=open", 200, 30, None, "open"),
            # a range spans at most 90 days (the spec; 400 beyond): the oldest stretch
            ("90 d, 300 d ago", 300, 90, None, None),
            ("90 d, 300 d ago, status=open", 300, 90, None, "open")]
    out = []
    for name, ago, length, service, status in plan:
        end = now - dt.timedelta(days=ago)
        out.append({"name": name, "start": end - dt.timedelta(days=length), "end": end,
                    "service_code": service, "status": status})
    return out


def params(s: dict[str, Any]) -> dict[str, str]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")  # ISO 8601 with an offset, as a client sends it
    p = {"start_date": s["start"].astimezone(tz).isoformat(timespec="seconds"),
         "end_date": s["end"].astimezone(tz).isoformat(timespec="seconds")}
    p |= {k: s[k] for k in ("service_code", "status") if s[k]}
    return p


def raw_query(s: dict[str, Any], conninfo: str) -> tuple[str, dict[str, Any]]:
    status = {"open": "AND c.state NOT IN ('rejected', 'cancelled', 'closed', 'evaluated')",
              "closed": "AND c.state IN ('rejected', 'cancelled', 'closed', 'evaluated')",
              None: ""}[s["status"]]
    pc = cat = None
    if s["service_code"]:
        with psycopg.connect(conninfo) as conn:
            pc, cat = conn.execute("SELECT id, category_id FROM cases_publiccategory WHERE "
                                   "code = %s", (s["service_code"],)).fetchone() or (0, 0)
    return (RAW_SQL.format(code=CODE_SQL if pc else "", status=status).replace(
        "%(pc)s", str(pc)).replace("%(cat)s", str(cat)), {"start": s["start"], "end": s["end"]})


def values_fetch(s: dict[str, Any]) -> Any:
    """The view's own query (open311.queries) fetched as dicts instead of model instances
    (seven per row with its select_related), or None if that module has changed shape:
    what the view would cost without building models."""
    from wangge.open311 import queries

    shaped, columns = getattr(queries, "_shaped", None), getattr(queries, "_COLUMNS", None)
    if shaped is None or columns is None or not hasattr(queries, "Filters"):
        return None
    f = queries.Filters(codes=[s["service_code"]] if s["service_code"] else [],
                        start=s["start"], end=s["end"],
                        status={s["status"]} if s["status"] else set())
    kinds = queries.categories()

    def fetch() -> int:
        queries._shaped = lambda qs: shaped(qs).values(*columns, "last_event_at",
                                                       "clock_deadline")
        try:
            return len(queries.requests_page(f, kinds))
        finally:
            queries._shaped = shaped

    return fetch


def explain(sql_text: str, args: Any = None) -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql_text}", args)
        return [r[0] for r in cur.fetchall()]


def measure(s: dict[str, Any], runs: int, warmup: int, conninfo: str) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client, url, p = Client(), "/open311/v2/requests.json", params(s)
    query, args = raw_query(s, conninfo)
    as_values = values_fetch(s)
    out: dict[str, Any] = {"name": s["name"], "query_string": urlencode(p)}
    first = client.get(url, p)
    out["status"] = first.status_code
    if first.status_code != 200:
        out["error"] = first.content[:300].decode(errors="replace")
        return out
    view_ids = [r.get("service_request_id") for r in json.loads(first.content)]
    # no automatic prepare: after 5 runs psycopg would prepare the statement, and PostgreSQL
    # may then switch to a generic plan that does not know the dates (Django, like a one-off
    # client, sends every query afresh)
    with psycopg.connect(conninfo, prepare_threshold=None) as conn:
        raw_rows = conn.execute(query, args).fetchall()  # type: ignore[arg-type]
        for _ in range(warmup):
            client.get(url, p)
            conn.execute(query, args).fetchall()  # type: ignore[arg-type]
        view_ms, raw_ms, values_ms = [], [], []
        for _ in range(runs):  # interleaved: all see the same load on the machine
            t = time.perf_counter_ns()
            r = client.get(url, p)
            view_ms.append((time.perf_counter_ns() - t) / 1e6)
            assert r.status_code == 200, r.status_code
            t = time.perf_counter_ns()
            conn.execute(query, args).fetchall()  # type: ignore[arg-type]
            raw_ms.append((time.perf_counter_ns() - t) / 1e6)
            if as_values is not None:
                t = time.perf_counter_ns()
                as_values()
                values_ms.append((time.perf_counter_ns() - t) / 1e6)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, p)
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    raw_ids = [r[0] for r in raw_rows]
    out |= {"view": stats(view_ms), "raw": stats(raw_ms),
            "view_query_as_values": stats(values_ms) if values_ms else None,
            "items_view": len(view_ids),
            "items_raw": len(raw_ids), "same_ids": set(view_ids) == set(raw_ids),
            "same_order": view_ids == raw_ids, "queries": len(queries),
            "sql_ms": round(sum(q[0] for q in queries), 1),
            "slowest_sql_ms": round(slowest[0], 1), "slowest_sql": slowest[1][:3000],
            "slowest_plan": explain(slowest[1]) if slowest[1] else [],
            "raw_plan": explain(query, args)}
    print(f"  {s['name']:<32} view p50 {out['view']['p50_ms']:>7} p95 {out['view']['p95_ms']:>7}"
          f" | raw p50 {out['raw']['p50_ms']:>7} p95 {out['raw']['p95_ms']:>7}"
          f" | values() p50 {(out['view_query_as_values'] or {}).get('p50_ms', '-')} | items "
          f"{out['items_view']:>4}/{out['items_raw']:>4} same ids {out['same_ids']!s:<5} | "
          f"{out['queries']} queries, {out['sql_ms']} ms SQL")
    return out


def profile(s: dict[str, Any], n: int) -> str:
    """cProfile of n requests of one scenario (stdlib: nothing to install), top 25 by own
    time: where the view's time goes besides SQL."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    client, p = Client(), params(s)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        client.get("/open311/v2/requests.json", p)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
    return buf.getvalue()


def print_table(rows: list[dict[str, Any]]) -> bool:
    print(f"\n{'=' * 108}\n{'scenario':<32}{'view p50':>10}{'view p95':>10}{'raw p50':>10}"
          f"{'raw p95':>10}{'values() p50':>13}{'items':>7}{'queries':>9}{'SQL ms':>8}  p95 < "
          f"{TARGET_P95_MS:g} ms")
    ok = True
    for r in rows:
        if "view" not in r:
            ok = False
            print(f"{r['name']:<32} HTTP {r['status']}: {r.get('error', '')[:60]}")
            continue
        passed = r["view"]["p95_ms"] < TARGET_P95_MS
        ok &= passed
        print(f"{r['name']:<32}{r['view']['p50_ms']:>10}{r['view']['p95_ms']:>10}"
              f"{r['raw']['p50_ms']:>10}{r['raw']['p95_ms']:>10}"
              f"{(r['view_query_as_values'] or {}).get('p50_ms', '-'):>13}{r['items_view']:>7}"
              f"{r['queries']:>9}{r['sql_ms']:>8}  {'PASS' if passed else 'FAIL'}")
    return ok


def run_all(args: argparse.Namespace, env: dict[str, str], out: dict[str, Any]) -> None:
    conninfo = make_conninfo(args.pg_dsn, dbname=DB_NAME)
    if not args.reuse:
        t = time.perf_counter()
        cli(env, "setup")
        cli(env, "demo", "load", "--residents", "0", "--cases", "0", "--fieldwork-days", "0")
        out["city_s"] = round(time.perf_counter() - t, 1)
    os.environ.update(env | {"DJANGO_SETTINGS_MODULE": "wangge.settings"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.reuse:  # e.g. an index migration added since the --keep run
        call_command("migrate", verbosity=0)

    from wangge.cases.models import PublicCategory

    if not args.reuse:
        out["public_categories"] = seed_public_categories()
        print(f"resident-facing categories: {PublicCategory.objects.count()} "
              f"({out['public_categories']}); generating {args.cases:,} cases over "
              f"~{args.days} days …")
        t = time.perf_counter()
        out["data"] = generate(args.cases, args.days, args.seed)
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")  # what autovacuum does soon after a bulk load
        out["data"]["total_s"] = round(time.perf_counter() - t, 1)
        print(f"data: {out['data']}")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), min(created_at), max(created_at), "
                    "count(*) FILTER (WHERE confidential) FROM cases_case")
        n, first, last, secret = cur.fetchone()
        cur.execute("SELECT count(*) FROM cases_case c WHERE NOT c.confidential AND EXISTS "
                    "(SELECT 1 FROM cases_publiccategory p WHERE p.category_id = c.category_id"
                    " AND p.active)")
        public = cur.fetchone()[0]
        cur.execute("SELECT (SELECT count(*) FROM cases_caseevent), (SELECT count(*) FROM "
                    "cases_caseclock), (SELECT count(*) FROM cases_residentreport), "
                    "pg_size_pretty(pg_database_size(current_database())), version()")
        events, clocks, reports, size, version = cur.fetchone()
        cur.execute("SELECT p.code FROM cases_publiccategory p JOIN cases_case c ON "
                    "c.category_id = p.category_id WHERE p.active GROUP BY p.code "
                    "ORDER BY count(*) DESC LIMIT 1")
        code = cur.fetchone()[0]
    out["database"] = {"cases": n, "first": first, "last": last, "confidential": secret,
                       "public": public, "events": events, "clocks": clocks,
                       "resident_reports": reports, "size": size,
                       "server": version.split(" on ")[0]}
    print(f"database: {n:,} cases {first:%Y-%m-%d} … {last:%Y-%m-%d} ({(last - first).days} "
          f"days), {public:,} public ({public / n:.0%}), {secret:,} confidential, "
          f"{events:,} events, {clocks:,} clocks, {reports:,} resident reports; {size}")
    now = last + dt.timedelta(minutes=1)  # windows end just after the newest case
    print(f"\n-- {args.runs} runs each after {args.warmup} warm-up, view (test Client) and raw "
          f"SQL interleaved; service_code = {code} (the commonest)")
    out["scenarios"] = [measure(s, args.runs, args.warmup, conninfo)
                        for s in scenarios(now, code) if args.only in s["name"]]
    out["verdict"] = {"p95 < 150 ms in every scenario": print_table(out["scenarios"])}
    if args.profile:
        out["profile"] = profile(scenarios(now, code)[0], args.profile)
        print(f"\n-- cProfile of {args.profile} requests ({scenarios(now, code)[0]['name']}), "
              f"by own time\n{out['profile']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=400, help="spread of the cases (≥ 365)")
    p.add_argument("--runs", type=int, default=30, help="timed requests per scenario")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--only", default="", help="only scenarios whose name contains this")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="also cProfile N requests of the first scenario")
    p.add_argument("--keep", action="store_true", help="keep the database and the data dir")
    p.add_argument("--reuse", action="store_true",
                   help="measure on the database a --keep run left (no set-up)")
    p.add_argument("--data-dir", type=Path,
                   default=Path(tempfile.gettempdir()) / "wangge_bench_o311")
    common.add_db_args(p)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = common.git_describe()
    print(f"wangge Open311 GET requests.json over {args.cases:,} cases (PostgreSQL) vs raw SQL"
          f"\n{common.machine(git)}")
    env = common.bench_env(args.data_dir, args.pg_dsn, DB_NAME)
    out: dict[str, Any] = {"benchmark": "open311_requests", "date": today, "git": git,
                           "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0],
                           "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        if not args.reuse:
            shutil.rmtree(args.data_dir, ignore_errors=True)
            args.data_dir.mkdir(parents=True)
            admin(args.pg_dsn, common.drop_database(DB_NAME), common.create_database(DB_NAME))
        run_all(args, env, out)
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        common.close_django()
        common.clean_up(args.keep or args.reuse, args.pg_dsn, DB_NAME, args.data_dir)
        path = args.output or RESULTS_DIR / f"open311_requests-{today}.json"
        common.write_result(out, path, started, loadavg_at_end=True)
    return 0 if all(out.get("verdict", {"run": False}).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
