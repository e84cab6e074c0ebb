"""Orders to the external systems (12345, 数字城管) through real `wangge worker` processes into
real simulators, beside the webhook sender's rate to a plain receiver, and two faults.

    .venv/bin/python benchmarks/external_transfer.py [--cases 10000] [--workers 2]
        [--webhooks 10000] [--fault-cases 1000] [--down-s 60] [--quick] [--keep]
        [--pg-dsn DSN] [--output PATH]

A fresh PostgreSQL database `wangge_bench_external` gets the demo city (with its adapters,
mappings and duty rules: 停水 → 12345, 井盖缺失 → 数字城管). The cases, half 停水 and half
井盖缺失, are written set-wise as report → register → dispatch leave them, each with its
ExternalOrder and `external.order` outbox row exactly as `open_transfer` writes them in a
dispatch (`--through-actions`: each case through do_report and do_transition instead, ~10
cases/s on this machine); no worker runs meanwhile. Then, in one run:

1. **orders**: both simulators (`wangge simulate … --steps none`: no call-backs, the orders
   alone) and --workers `wangge worker` processes; orders/s from the first worker's start
   until every order is marked sent (the database is polled);
2. **baseline**: the same workers deliver --webhooks messages through the webhook sender to
   a plain HTTP receiver in this process (200 to everything);
3. **fault (a), down**: --fault-cases more orders are due while both simulators are down
   (`/_sim/faults {"down_for": S}`, 12345 answering 503, 数字城管 dropping the connection);
   after they return every order must be delivered, each exactly once (one order per our
   number in `/_sim/orders`, our recorded number = theirs);
4. **fault (b), SIGKILL**: --fault-cases more orders; the worker is SIGKILLed when about a
   third are sent and another one started: nothing lost, nothing doubled (the simulators
   deduplicate on Idempotency-Key; how many repeats they saw is reported).

Backoff and leases are shortened by environment (WANGGE_OUTBOX_BACKOFF_BASE_S=0.5, _MAX_S=4,
_MAX_ATTEMPTS=200, _LEASE_S=8; WANGGE_WEBHOOK_TIMEOUT_S=3) so a run takes minutes. See
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import admin, cli, database_url

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DB_NAME = "wangge_bench_external"
BIN = Path(sys.executable).parent
#: small class → the system the demo's duty list sends it to
CATEGORIES = {"1001": "hotline_12345", "0601": "city_management"}
SIM_KINDS = {"hotline_12345": "hotline-12345", "city_management": "city-management"}
FAST_RETRIES = {"WANGGE_OUTBOX_BACKOFF_BASE_S": "0.5", "WANGGE_OUTBOX_BACKOFF_MAX_S": "4",
                "WANGGE_OUTBOX_MAX_ATTEMPTS": "200", "WANGGE_OUTBOX_LEASE_S": "8",
                "WANGGE_OUTBOX_BATCH": "20", "WANGGE_WEBHOOK_TIMEOUT_S": "3",
                "WANGGE_WORKER_JOBS": ""}
#: the longest wait for one phase to finish
PHASE_TIMEOUT_S = 1800.0


# --------------------------------------------------------------- inside Django (subprocess)


def django_main(argv: list[str]) -> None:
    """`external_transfer.py _django seed N SEED | adapters URL URL | webhooks N URL`:
    the parts that go through the actions, run in a process with the benchmark's env."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wangge.settings")
    django.setup()
    what, *rest = argv
    {"seed": _seed, "seed-bulk": _seed_bulk, "adapters": _adapters,
     "webhooks": _webhooks}[what](*rest)


def _seed(n: str, seed: str) -> None:
    import random

    from django.contrib.auth import get_user_model

    from wangge.cases.actions import do_report, do_transition
    from wangge.territory.models import Grid, Level

    users = get_user_model().objects
    worker, dispatcher = users.get(username="gridworker"), users.get(username="dispatcher")
    rng = random.Random(int(seed))
    spots = list(Grid.objects.filter(level=Level.BASIC).values_list("label_lng", "label_lat"))
    codes = list(CATEGORIES)
    started = time.perf_counter()
    for i in range(int(n)):
        lng, lat = rng.choice(spots)
        category = codes[i % 2]
        case = do_report({"category": category, "lng": lng, "lat": lat,
                          "title": "片区停水" if category == "1001" else "路口井盖缺失",
                          "description": f"基准测试转办 #{seed}-{i}"}, worker,
                         channel="grid_worker")
        case = do_transition(case, "register", dispatcher)
        do_transition(case, "dispatch", dispatcher)
    print(json.dumps({"cases": int(n), "s": round(time.perf_counter() - started, 2)}))


def _seed_bulk(n: str, seed: str) -> None:
    """n cases as report → register → dispatch leave them, set-wise in one transaction: the
    cases (dispatched to the system the duty rule names, register numbers taken from the
    year's counter), their three timeline events and each step's outbox row, and per case
    the ExternalOrder and `external.order` message `cases.actions.external.open_transfer`
    writes. No SLA clock (the order's deadline is then null, as for a case whose year has
    no calendar)."""
    import random

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from wangge.cases.models import (
        Case,
        CaseCategory,
        CaseEvent,
        DutyRule,
        ExternalOrder,
        RegisterCounter,
    )
    from wangge.core import outbox
    from wangge.territory.models import Grid, Level

    users = get_user_model().objects
    worker, dispatcher = users.get(username="gridworker"), users.get(username="dispatcher")
    rng = random.Random(int(seed))
    grids = list(Grid.objects.filter(level=Level.BASIC).values_list("id", "label_lng",
                                                                    "label_lat"))
    started = time.perf_counter()
    now = timezone.now()
    year = timezone.localtime(now).year
    with transaction.atomic():
        kinds = []
        for code in CATEGORIES:
            category = CaseCategory.objects.get(code=code)
            rule = DutyRule.objects.select_related("department").get(
                category=category, grid__level=Level.CITY)
            assert rule.department.code == CATEGORIES[code], rule.department.code
            kinds.append((category, rule))
        counter, _ = RegisterCounter.objects.select_for_update().get_or_create(
            year=year, defaults={"last": 0})
        first = counter.last + 1
        counter.last += int(n)
        counter.save(update_fields=["last"])
        cases = []
        for i in range(int(n)):
            category, rule = kinds[i % 2]
            grid, lng, lat = rng.choice(grids)
            cases.append(Case(
                register_no=f"{settings.WANGGE_CASE_PREFIX}-{year}-{first + i:06d}",
                category=category, grid_id=grid, lng=lng, lat=lat,
                title="片区停水" if category.code == "1001" else "路口井盖缺失",
                description=f"基准测试转办 #{seed}-{i}", channel="grid_worker", reporter=worker,
                state="dispatched", department=rule.department, routed_by=rule,
                registered_at=now))
        Case.objects.bulk_create(cases, batch_size=2000)
        steps = [("report", "", "reported", None, {"possible_duplicate": False, "photos": 0}),
                 ("register", "reported", "registered", dispatcher, {}),
                 ("dispatch", "registered", "dispatched", dispatcher, None)]
        CaseEvent.objects.bulk_create([
            CaseEvent(case=c, actor=actor or worker, action=action, from_state=a, to_state=b,
                      data=data if data is not None else {"rule": c.routed_by_id})
            for c in cases for action, a, b, actor, data in steps], batch_size=3000)
        orders = ExternalOrder.objects.bulk_create(
            [ExternalOrder(case=c, system=c.department, our_no=c.register_no) for c in cases],
            batch_size=2000)
        outbox.enqueue_many(
            [(f"case.{action}", {"register_no": c.register_no, "state": b})
             for c in cases for action, _a, b, _actor, _d in steps]
            + [("external.order", {"register_no": o.our_no, "order": o.pk,
                                  "system": o.system.code, "our_no": o.our_no})
               for o in orders])
    print(json.dumps({"cases": int(n), "s": round(time.perf_counter() - started, 2)}))


def _adapters(hotline: str, city: str) -> None:
    from wangge.integration.actions.external import do_save_adapter
    from wangge.integration.models import Adapter

    for code, url in (("hotline_12345", hotline), ("city_management", city)):
        adapter = Adapter.objects.select_related("system").get(system__code=code)
        do_save_adapter(system=adapter.system, kind=adapter.kind, endpoint=url,
                        options=adapter.options)
    print(json.dumps({"ok": True}))


def _webhooks(n: str, url: str) -> None:
    from django.db import transaction

    from wangge.core import outbox
    from wangge.integration.actions import do_save_subscription

    with transaction.atomic():
        do_save_subscription(name="bench-receiver", topic="bench.ping", kind="webhook", url=url,
                             secret="bench-receiver-secret")
        outbox.enqueue_many([("bench.ping", {"i": i, "text": "基准测试"})
                             for i in range(int(n))])
    print(json.dumps({"messages": int(n)}))


def django(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "_django", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BIN / "wangge"), *args], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    with suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)


def get_json(url: str, body: dict[str, Any] | None = None, timeout: float = 120) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return json.loads(r.read())


class Simulators:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.ports = {code: free_port() for code in SIM_KINDS}
        self.procs = {
            code: spawn(env, logs / f"sim-{code}.log", "simulate", kind, "--port",
                        str(self.ports[code]), "--steps", "none",
                        "--callback-url", f"http://127.0.0.1:{free_port()}/unused")
            for code, kind in SIM_KINDS.items()}
        deadline = time.monotonic() + 60
        for code in SIM_KINDS:
            while True:
                with suppress(OSError):
                    if get_json(f"{self.url(code)}/_sim/health", timeout=2)["ok"]:
                        break
                if time.monotonic() > deadline or self.procs[code].poll() is not None:
                    raise RuntimeError(f"simulator {code} did not start: "
                                       f"{(logs / f'sim-{code}.log').read_text()[-2000:]}")
                time.sleep(0.2)

    def url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.ports[code]}"

    def orders(self) -> dict[str, list[dict[str, Any]]]:
        return {code: [o for o in get_json(f"{self.url(code)}/_sim/orders")["orders"]
                       if o.get("direction", "received") == "received"]
                for code in SIM_KINDS}

    def faults(self, code: str, **changes: Any) -> None:
        get_json(f"{self.url(code)}/_sim/faults", changes)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop(proc)


class Receiver:
    """A plain HTTP receiver: 200 and a count for every POST (the webhook baseline)."""

    def __init__(self) -> None:
        self.count, self.lock = 0, threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------- database


class Db:
    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)

    def value(self, query: str, *params: Any) -> Any:
        row = self.conn.execute(query, params).fetchone()
        return row[0] if row else None

    def orders(self, since_id: int) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT state, count(*) FROM cases_externalorder WHERE id > %s GROUP BY state",
            (since_id,)).fetchall()
        return {state: n for state, n in rows}

    def adapter_deliveries(self, since_message: int, topic: str = "external.order"
                           ) -> dict[str, int]:
        """The adapters' deliveries of messages since `since_message` by status: of the
        orders (`external.order`), or of any other topic (`topic=""`: none is expected)."""
        rows = self.conn.execute(
            "SELECT d.status, count(*) FROM integration_delivery d JOIN integration_subscription"
            " s ON s.id = d.subscription_id JOIN integration_outboxmessage m ON m.id ="
            " d.message_id WHERE s.name LIKE 'adapter:%%' AND d.message_id > %s AND"
            " (m.topic = %s) = (%s <> '') GROUP BY d.status",
            (since_message, topic or "external.order", topic)).fetchall()
        return {status: n for status, n in rows}

    def numbers(self, since_id: int) -> dict[str, tuple[str, str]]:
        """our_no → (system code, their_no) of the orders since `since_id`."""
        rows = self.conn.execute(
            "SELECT o.our_no, d.code, o.their_no FROM cases_externalorder o JOIN org_department"
            " d ON d.id = o.system_id WHERE o.id > %s", (since_id,)).fetchall()
        return {our: (code, their) for our, code, their in rows}


def wait_for(what: str, done: Any, timeout: float = PHASE_TIMEOUT_S, every: float = 0.25,
             procs: list[Any] = (), progress: Any = None) -> float:  # type: ignore[assignment]
    """Poll `done()` until true; the seconds it took. RuntimeError past the deadline or when
    one of `procs` (the workers) has died; `progress()` is printed every 15 s."""
    t0 = last = time.perf_counter()
    while not done():
        now = time.perf_counter()
        if now - t0 > timeout:
            raise RuntimeError(f"{what}: not done after {timeout:.0f} s")
        if dead := [p.args for p in procs if p.poll() is not None]:
            raise RuntimeError(f"{what}: a process exited: {dead}")
        if progress is not None and now - last > 15:
            last = now
            print(f"    {what}: {now - t0:.0f} s, {progress()}")
        time.sleep(every)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------- phases


def seed(env: dict[str, str], n: int, procs: int, tag: int,
         actions: bool = False) -> dict[str, Any]:
    """n dispatched cases, set-wise in one process, or through the actions (`actions`) from
    `procs` processes at once."""
    t0 = time.perf_counter()
    if not actions:
        django(env, "seed-bulk", str(n), str(tag))
        elapsed = time.perf_counter() - t0
        return {"cases": n, "s": round(elapsed, 1), "per_s": round(n / elapsed, 1),
                "how": "set-wise"}
    shares = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    running = [subprocess.Popen([sys.executable, __file__, "_django", "seed", str(k),
                                 str(tag * 100 + i)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
               for i, k in enumerate(shares) if k]
    for p in running:
        _out, err = p.communicate()
        if p.returncode:
            raise RuntimeError(f"seed failed:\n{err[-3000:]}")
    elapsed = time.perf_counter() - t0
    return {"cases": n, "s": round(elapsed, 1), "per_s": round(n / elapsed, 1),
            "how": "do_report, register, dispatch"}


def start_workers(env: dict[str, str], logs: Path, n: int, tag: str) -> list[Any]:
    return [spawn(env, logs / f"worker-{tag}-{i}.log", "worker", "--interval", "0.2",
                  "-v", "0") for i in range(n)]


def check_once(sims: Simulators, db: Db, since_id: int) -> dict[str, Any]:
    """Every order since `since_id` is at its simulator exactly once, under the number we
    recorded; the simulators' repeats (a resend they answered from their dedup) counted."""
    ours = db.numbers(since_id)
    seen: dict[str, int] = {}
    repeats = missing_their_no = wrong_their_no = 0
    for code, orders in sims.orders().items():
        for o in orders:
            if o["our_no"] not in ours:
                continue
            seen[o["our_no"]] = seen.get(o["our_no"], 0) + 1
            repeats += o["times_received"] - 1
            system, their = ours[o["our_no"]]
            if not their:
                missing_their_no += 1
            elif (system, their) != (code, o["number"]):
                wrong_their_no += 1
    return {"orders": len(ours), "at_simulators": len(seen),
            "doubled": sum(1 for v in seen.values() if v > 1),
            "lost": len(set(ours) - set(seen)), "repeats_answered_from_dedup": repeats,
            "their_no_missing": missing_their_no, "their_no_wrong": wrong_their_no}


def phase_orders(args: argparse.Namespace, env: dict[str, str], logs: Path, db: Db,
                 sims: Simulators, out: dict[str, Any]) -> None:
    since = db.value("SELECT coalesce(max(id), 0) FROM cases_externalorder")
    msg0 = db.value("SELECT coalesce(max(id), 0) FROM integration_outboxmessage")
    out["seed"] = seed(env, args.cases, args.seed_procs, 1, args.through_actions)
    print(f"  seeded {args.cases} dispatched cases in {out['seed']['s']} s "
          f"({out['seed']['per_s']}/s, {out['seed']['how']})")
    pending = db.orders(since)
    t0 = time.perf_counter()
    workers = start_workers(env, logs, args.workers, "orders")
    try:
        def finished() -> bool:
            d = db.adapter_deliveries(msg0)
            return d.get("delivered", 0) + d.get("dead", 0) >= args.cases

        wait_for("orders", finished, procs=workers,
                 progress=lambda: db.adapter_deliveries(msg0))
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            stop(w)
    states = db.orders(since)
    deliveries = db.adapter_deliveries(msg0)
    run = {"orders": args.cases, "workers": args.workers, "elapsed_s": round(elapsed, 2),
           "per_s": round(args.cases / elapsed, 1), "orders_before": pending,
           "orders_after": states, "deliveries": deliveries,
           "other_topics_to_adapters": db.adapter_deliveries(msg0, topic=""),
           "check": check_once(sims, db, since)}
    out["runs"]["orders to simulators"] = run
    print(f"  orders: {run['per_s']}/s ({elapsed:.1f} s, {args.workers} workers); "
          f"states {states}; deliveries {deliveries}; other topics to the adapters "
          f"{run['other_topics_to_adapters']}; {run['check']}")


def phase_webhooks(args: argparse.Namespace, env: dict[str, str], logs: Path, db: Db,
                   out: dict[str, Any]) -> None:
    receiver = Receiver()
    try:
        msg0 = db.value("SELECT coalesce(max(id), 0) FROM integration_outboxmessage")
        django(env, "webhooks", str(args.webhooks), receiver.url)
        t0 = time.perf_counter()
        workers = start_workers(env, logs, args.workers, "webhooks")
        try:
            def finished() -> bool:
                return db.value(
                    "SELECT count(*) FROM integration_delivery d JOIN integration_subscription "
                    "s ON s.id = d.subscription_id WHERE s.name = 'bench-receiver' AND "
                    "d.status IN ('delivered', 'dead') AND d.message_id > %s",
                    msg0) >= args.webhooks

            wait_for("webhooks", finished, procs=workers)
            elapsed = time.perf_counter() - t0
        finally:
            for w in workers:
                stop(w)
        dead = db.value("SELECT count(*) FROM integration_delivery d JOIN "
                        "integration_subscription s ON s.id = d.subscription_id WHERE s.name = "
                        "'bench-receiver' AND d.status = 'dead'")
        run = {"messages": args.webhooks, "workers": args.workers,
               "elapsed_s": round(elapsed, 2), "per_s": round(args.webhooks / elapsed, 1),
               "received": receiver.count, "dead": dead}
    finally:
        receiver.close()
    out["runs"]["webhooks to a plain receiver"] = run
    print(f"  webhooks: {run['per_s']}/s ({elapsed:.1f} s); received {receiver.count}, "
          f"dead {dead}")


def phase_down(args: argparse.Namespace, env: dict[str, str], logs: Path, db: Db,
               sims: Simulators, out: dict[str, Any]) -> None:
    since = db.value("SELECT coalesce(max(id), 0) FROM cases_externalorder")
    msg0 = db.value("SELECT coalesce(max(id), 0) FROM integration_outboxmessage")
    seed(env, args.fault_cases, args.seed_procs, 2, args.through_actions)
    sims.faults("hotline_12345", down_for=args.down_s, down_style="503")
    sims.faults("city_management", down_for=args.down_s, down_style="reset")
    t0 = time.perf_counter()
    workers = start_workers(env, logs, args.workers, "down")
    try:
        time.sleep(min(args.down_s / 2, 10))  # a look while they are down: none through
        during = db.orders(since)

        def finished() -> bool:
            d = db.adapter_deliveries(msg0)
            return d.get("delivered", 0) + d.get("dead", 0) >= args.fault_cases

        wait_for("after the outage", finished, procs=workers,
                 progress=lambda: db.adapter_deliveries(msg0))
        elapsed = time.perf_counter() - t0
    finally:
        for w in workers:
            stop(w)
    attempts = db.value(
        "SELECT coalesce(sum(d.attempts), 0) FROM integration_delivery d JOIN "
        "integration_subscription s ON s.id = d.subscription_id JOIN integration_outboxmessage "
        "m ON m.id = d.message_id WHERE s.name LIKE 'adapter:%%' AND m.topic = 'external.order' "
        "AND d.message_id > %s", msg0)
    run = {"orders": args.fault_cases, "down_s": args.down_s,
           "orders_while_down": during, "orders_after": db.orders(since),
           "deliveries": db.adapter_deliveries(msg0), "attempts": attempts,
           "all_delivered_s": round(elapsed, 1), "check": check_once(sims, db, since)}
    out["runs"]["fault (a): simulators down"] = run
    print(f"  down {args.down_s} s: while down {during}; all delivered after {elapsed:.1f} s "
          f"({attempts} attempts); {run['check']}")


def phase_kill(args: argparse.Namespace, env: dict[str, str], logs: Path, db: Db,
               sims: Simulators, out: dict[str, Any]) -> None:
    since = db.value("SELECT coalesce(max(id), 0) FROM cases_externalorder")
    msg0 = db.value("SELECT coalesce(max(id), 0) FROM integration_outboxmessage")
    seed(env, args.fault_cases, args.seed_procs, 3, args.through_actions)
    t0 = time.perf_counter()
    first = start_workers(env, logs, 1, "killed")[0]
    try:
        third = args.fault_cases // 3

        def a_third() -> bool:
            d = db.adapter_deliveries(msg0)
            return d.get("delivered", 0) + d.get("dead", 0) >= third

        wait_for("a third sent", a_third, every=0.05, procs=[first])
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        at_kill = db.orders(since)
        leased = db.value(
            "SELECT count(*) FROM integration_delivery d JOIN integration_subscription s ON "
            "s.id = d.subscription_id JOIN integration_outboxmessage m ON m.id = d.message_id "
            "WHERE s.name LIKE 'adapter:%%' AND m.topic = 'external.order' AND d.message_id > %s "
            "AND d.status = 'pending' AND d.leased_until > now()", msg0)
    finally:
        stop(first, signal.SIGKILL)
    second = start_workers(env, logs, 1, "after-kill")[0]
    try:
        def finished() -> bool:
            d = db.adapter_deliveries(msg0)
            return d.get("delivered", 0) + d.get("dead", 0) >= args.fault_cases

        wait_for("after the kill", finished, procs=[second],
                 progress=lambda: db.adapter_deliveries(msg0))
        elapsed = time.perf_counter() - t0
    finally:
        stop(second)
    run = {"orders": args.fault_cases, "sent_at_kill": at_kill, "leased_at_kill": leased,
           "orders_after": db.orders(since), "deliveries": db.adapter_deliveries(msg0),
           "all_delivered_s": round(elapsed, 1), "check": check_once(sims, db, since)}
    out["runs"]["fault (b): worker SIGKILLed"] = run
    print(f"  SIGKILL at {at_kill} ({leased} leased): all delivered after {elapsed:.1f} s; "
          f"{run['check']}")


def run_all(args: argparse.Namespace, env: dict[str, str], data_dir: Path,
            out: dict[str, Any]) -> None:
    conninfo = make_conninfo(args.pg_dsn, dbname=DB_NAME)
    t = time.perf_counter()
    cli(env, "setup")
    cli(env, "demo", "load", "--residents", "2000", "--cases", "0", "--fieldwork-days", "0")
    out["setup_s"] = round(time.perf_counter() - t, 1)
    logs = data_dir / "logs"
    logs.mkdir()
    sims = Simulators(env, logs)
    db = Db(conninfo)
    try:
        django(env, "adapters", sims.url("hotline_12345"), sims.url("city_management"))
        print(f"set up in {out['setup_s']} s; simulators at {sims.ports}; logs in {logs}")
        out["runs"] = {}
        phase_orders(args, env, logs, db, sims, out)
        phase_webhooks(args, env, logs, db, out)
        if args.fault_cases:
            phase_down(args, env, logs, db, sims, out)
            phase_kill(args, env, logs, db, sims, out)
    finally:
        sims.stop()
        db.conn.close()
    runs = out["runs"]
    print(f"\n{'=' * 90}\n{'':<34}{'n':>8}{'workers':>9}{'seconds':>10}{'per s':>10}")
    for name in ("orders to simulators", "webhooks to a plain receiver"):
        r = runs[name]
        print(f"{name:<34}{r.get('orders', r.get('messages')):>8}{r['workers']:>9}"
              f"{r['elapsed_s']:>10}{r['per_s']:>10}")
    verdict = {}
    main_run = runs["orders to simulators"]
    verdict["every order sent once, none dead"] = _clean(main_run["check"]) and not \
        main_run["deliveries"].get("dead")
    verdict["every webhook received, none dead"] = not runs[
        "webhooks to a plain receiver"]["dead"]
    for name in ("fault (a): simulators down", "fault (b): worker SIGKILLed"):
        if name in runs:
            r = runs[name]
            verdict[f"{name}: all delivered, none doubled"] = _clean(r["check"]) and not \
                r["deliveries"].get("dead")
    out["verdict"] = verdict
    print("verdict: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in verdict.items()))


def _clean(check: dict[str, Any]) -> bool:
    return (check["orders"] == check["at_simulators"] and not check["doubled"]
            and not check["lost"] and not check["their_no_missing"]
            and not check["their_no_wrong"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000, help="orders timed (half per system)")
    p.add_argument("--webhooks", type=int, default=10_000, help="baseline webhook messages")
    p.add_argument("--fault-cases", type=int, default=1000,
                   help="orders in each fault scenario (0: no faults)")
    p.add_argument("--down-s", type=float, default=60.0, help="fault (a): seconds down")
    p.add_argument("--workers", type=int, default=2, help="worker processes")
    p.add_argument("--through-actions", action="store_true",
                   help="report, register and dispatch each case through the actions (~10/s "
                        "here) rather than set-wise")
    p.add_argument("--seed-procs", type=int, default=2,
                   help="processes reporting and dispatching the cases (--through-actions)")
    p.add_argument("--quick", action="store_true",
                   help="1,000 orders and webhooks, 200 per fault, 15 s down")
    p.add_argument("--keep", action="store_true", help="keep the database and the data dir")
    p.add_argument("--pg-dsn", default=os.environ.get("WANGGE_BENCH_PG_DSN", DEFAULT_DSN),
                   help="maintenance connection (env WANGGE_BENCH_PG_DSN)")
    p.add_argument("--output", type=Path, default=None, help="JSON path (default: results/)")
    args = p.parse_args(argv)
    if args.quick:
        args.cases, args.webhooks, args.fault_cases, args.down_s = 1000, 1000, 200, 15.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, today = time.perf_counter(), dt.date.today().isoformat()
    git = subprocess.run(["git", "-C", str(RESULTS_DIR.parent.parent), "describe", "--always",
                          "--dirty"], capture_output=True, text=True).stdout.strip()
    print(f"wangge orders to external systems through real workers and simulators "
          f"(PostgreSQL)\nmachine: {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; git {git}")
    data_dir = Path(tempfile.mkdtemp(prefix="wangge_bench_external_"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANGGE_", "DJANGO_"))}
    env |= {"WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_DATABASE_URL": database_url(args.pg_dsn, DB_NAME), **FAST_RETRIES}
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
    out: dict[str, Any] = {"benchmark": "external_transfer", "date": today, "git": git,
                           "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()[0],
                           "env": FAST_RETRIES,
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
        out["loadavg_at_end"] = os.getloadavg()[0]
        suffix = "-quick" if args.quick else ""
        path = args.output or RESULTS_DIR / f"external_transfer-{today}{suffix}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False) + "\n")
        print(f"wrote {path} (total {out['total_s']} s)")
    return 0 if all(out.get("verdict", {"run": False}).values()) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["_django"]:
        django_main(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
