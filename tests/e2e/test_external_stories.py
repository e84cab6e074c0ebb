"""The source's stories of cases that leave the grid system, end to end with real processes:
the demo city's server (`wangge serve`), a `wangge worker` on its database delivering the
outbox, and a simulated peer (`wangge simulate …`) reading the adapter's secret from the same
database.

- 停水: a grid worker reports a water outage, the dispatcher sends it to the 12345 hotline,
  the worker delivers the work order, 12345 answers with its number and calls back 受理 …
  已处置; the case is handled, the grid worker verifies on the spot, the dispatcher closes it.
- 井盖缺失: the same through 数字城管 with a case file (案卷).
- 12345 sends us an order for on-site work (garbage piling up in a grid): it becomes a case
  on channel `external`, our departments handle it, and when the dispatcher closes it the
  worker sends 12345 our handling result as its reply.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BIN, Server
from wangge.integration.tests.test_simulators import free_port, get, post, wait_for

SECRETS = {"hotline_12345": "e2e-12345-secret", "city_management": "e2e-city-secret"}
STEPS = "受理:1,派遣:2,处置中:3,已处置:4"
#: our small class → their codes (code, parent code, name, kind), per system
MAPPINGS = {
    "hotline_12345": ("1001", "0301", "", "供水", "求助"),
    "city_management": ("0601", "0102", "01", "污水井盖", "部件"),
}

CONFIGURE = """
import json
from wangge.cases.models import CaseCategory
from wangge.integration.actions.external import do_save_adapter, do_set_mapping
from wangge.org.models import Department
system = Department.objects.get(code={system!r})
adapter = do_save_adapter(system=system, kind={system!r}, endpoint={endpoint!r},
                          secret={secret!r}, options={{"status_query": True}})
ours, code, parent, name, kind = {mapping!r}
do_set_mapping(adapter, CaseCategory.objects.get(code=ours), their_code=code,
               their_parent_code=parent, their_name=name, their_kind=kind)
print(json.dumps({{"adapter": adapter.pk}}))
"""

ORDERS = """
import json
from wangge.cases.models import ExternalOrder
print(json.dumps([
    {{"system": o.system.code, "direction": o.direction, "our_no": o.our_no,
      "their_no": o.their_no, "state": o.state}}
    for o in ExternalOrder.objects.filter(case__register_no={no!r}).select_related("system")
]))
"""


@dataclass
class Api:
    server: Server
    tokens: dict[str, str]

    def call(self, who: str, path: str, body: dict[str, Any] | None = None
             ) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.server.url}/api/v1{path}", method="POST" if body is not None else "GET",
            data=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.tokens[who]}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def act(self, who: str, no: str, action: str, **body: Any) -> dict[str, Any]:
        status, case = self.call(who, f"/cases/{no}/actions/{action}", body)
        assert status == 200, f"{who} {action} on {no}: {status} {case}"
        return case

    def case(self, no: str) -> dict[str, Any]:
        status, case = self.call("dispatcher", f"/cases/{no}")
        assert status == 200, case
        return case


def shell(server: Server, code: str) -> Any:
    out = server.cli("manage", "shell", "-c", code).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    return Api(server, {who: server.cli("tokens", "create", "--user", who).stdout.strip()
                        .splitlines()[-1] for who in ("gridworker", "dispatcher", "department")})


@pytest.fixture
def processes(server: Server, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Start `wangge <args>` (a simulator) against the server's database; stopped (SIGTERM)
    afterwards. Returns the path of its log."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(name: str, *args: str) -> Path:
        log = tmp_path / f"{name}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([str(BIN / "wangge"), *args], env=server.env, stdout=out,
                                    stderr=subprocess.STDOUT)
        started.append((proc, log))
        return log

    yield start
    for proc, _ in started:
        proc.terminate()
    for proc, log in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            print(log.read_text())


IDLE = """
import json
from django.utils import timezone
from wangge.core.models import OutboxMessage
from wangge.integration.models import Delivery
print(json.dumps({"due": OutboxMessage.objects.filter(status="pending").count()
                  + Delivery.objects.filter(status="pending",
                                            next_attempt_at__lte=timezone.now()).count()}))
"""


def tail(*logs: Path) -> str:
    return "".join(f"\n--- {log.name} ---\n{log.read_text()[-4000:]}" for log in logs
                   if log.exists())


def waiting(condition: Callable[[], Any], what: str, *logs: Path, timeout: float = 120
            ) -> Any:
    """wait_for, with the tails of the processes' logs in the failure."""
    try:
        return wait_for(condition, what, timeout=timeout)
    except AssertionError as e:
        raise AssertionError(f"{e}{tail(*logs)}") from None


@pytest.fixture(scope="module")
def worker(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `wangge worker` for the stories, started once the demo's own outbox (a fresh
    city's messages) is drained, so each story waits only on its own messages.

    Its one periodic job is the adapters' reconcile: the stories need no other, and the
    analytics rollup of the demo's 400 days (75 s on an idle machine, over 300 s in CI's
    two lanes) would hold the first delivery back until it ends."""
    log = tmp_path_factory.mktemp("external-worker") / "worker.log"
    env = {**server.env, "WANGGE_WORKER_JOBS": "wangge.integration.reconcile.reconcile"}
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "wangge"), "worker", "--interval", "0.2",
                                 "--sweep-every", "1"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        waiting(lambda: shell(server, IDLE)["due"] == 0, "the worker to drain the demo's "
                "outbox", log, timeout=600)
        yield log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def start_peer(server: Server, processes: Callable[..., Path], state_dir: Path, kind: str,
               system: str, steps: str = STEPS) -> tuple[str, Path]:
    """Point the system's adapter at a fresh simulator port, then start the simulator there
    with no --secret: it reads the adapter's sealed secret from our database."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shell(server, CONFIGURE.format(system=system, endpoint=url, secret=SECRETS[system],
                                   mapping=MAPPINGS[system]))
    # one memory per system for the module, as the real system has: its numbers go on
    log = processes(f"sim-{system}", "simulate", kind, "--port", str(port), "--steps", steps,
                    "--callback-url", f"{server.url}/integration/systems/{system}",
                    "--state", str(state_dir / f"{system}.sqlite3"))

    def up() -> bool:
        try:
            return bool(get(url + "/_sim/health")["ok"])
        except OSError:
            return False

    waiting(up, f"the {kind} simulator to answer", log)
    return url, log


def the_story(server: Server, api: Api, processes: Callable[..., Path], worker: Path, *,
              kind: str, system: str, category: str, title: str, description: str) -> None:
    peer, peer_log = start_peer(server, processes, worker.parent, kind, system)

    # the grid worker reports it from the field, in their own grid
    status, case = api.call("gridworker", "/cases/", {
        "category": category, "title": title, "description": description})
    assert status == 201, case
    no = case["register_no"]
    # the dispatcher registers it and sends it to the external system
    api.act("dispatcher", no, "register")
    case = api.act("dispatcher", no, "dispatch", department=system)
    assert case["state"] == "dispatched" and case["department"] == system

    # the worker delivers the order; the peer took it once and answered with its number
    def taken() -> dict[str, Any] | None:
        return next((o for o in get(peer + "/_sim/orders")["orders"] if o["our_no"] == no),
                    None)

    order = waiting(taken, f"{kind} to receive {no}", worker, peer_log)
    assert order["direction"] == "received" and order["times_received"] == 1
    their_no = order["number"]

    # its call-backs move our case along: handled, with their note as feedback
    waiting(lambda: api.case(no)["state"] == "handled", f"{no} handled by {kind}'s call-backs",
            worker, peer_log)
    order = taken()
    assert order is not None
    assert [c["status"] for c in order["callbacks"]] == ["受理", "派遣", "处置中", "已处置"]
    assert all(c["state"] == "delivered" and c["attempts"][-1]["http_status"] == 200
               for c in order["callbacks"]), order["callbacks"]
    assert {c["attempts"][-1]["answer"]["result"] for c in order["callbacks"]} == {"applied"}

    # our grid worker checks on the spot; the dispatcher closes
    api.act("gridworker", no, "verify_pass")
    case = api.act("dispatcher", no, "close", closeout_reason="外部系统已处置，现场核实")
    assert case["state"] == "closed"

    [external] = shell(server, ORDERS.format(no=no))
    assert external["system"] == system and external["direction"] == "out"
    assert external["our_no"] == no and external["their_no"] == their_no
    assert external["state"] == "handled"


def test_a_water_outage_goes_to_12345_and_comes_back_handled(
        server: Server, api: Api, processes: Callable[..., Path], worker: Path) -> None:
    the_story(server, api, processes, worker, kind="hotline-12345", system="hotline_12345",
              category="1001", title="东正街片区停水",
              description="3栋、5栋自早上8点起停水，老人家中无水做饭。")


def test_a_missing_manhole_cover_goes_to_city_management(
        server: Server, api: Api, processes: Callable[..., Path], worker: Path) -> None:
    the_story(server, api, processes, worker, kind="city-management", system="city_management",
              category="0601", title="解放路口井盖缺失",
              description="路口人行道井盖缺失，已用锥桶临时围挡。")


GARBAGE = """
import json
from wangge.cases.models import CaseCategory
from wangge.integration.actions.external import do_set_mapping
from wangge.integration.models import Adapter
from wangge.org.models import RoleAssignment
adapter = Adapter.objects.get(system__code="hotline_12345")
do_set_mapping(adapter, CaseCategory.objects.get(code="0101"), their_code="E2E-0101",
               their_name="垃圾堆积", their_kind="投诉")
grid = RoleAssignment.objects.filter(person__user__username="gridworker",
                                     ended_on__isnull=True).first().grid
print(json.dumps({"grid": grid.code}))
"""


def test_12345_sends_an_order_and_gets_our_reply_when_the_case_closes(
        server: Server, api: Api, processes: Callable[..., Path], worker: Path) -> None:
    peer, peer_log = start_peer(server, processes, worker.parent, "hotline-12345",
                                "hotline_12345", steps="none")
    grid = shell(server, GARBAGE)["grid"]
    status, answer = post(peer + "/_sim/send-orders", {"count": 1, "fields": {
        "category_code": "E2E-0101", "category_name": "垃圾堆积", "appeal_type": "投诉",
        "grid_code": grid, "location": None, "title": "小区门口垃圾堆积",
        "content": "市民来电：小区门口垃圾三天没人清运，气味很大。",
        "address": "醴陵市胜利社区"}}, secret=None)
    assert status == 200, answer
    [their_no] = answer["orders"]

    # it reached us once, and we answered with our register number
    def registered() -> dict[str, Any] | None:
        order = next(o for o in get(peer + "/_sim/orders")["orders"]
                     if o["number"] == their_no)
        return order if order["our_no"] else None

    order = waiting(registered, "our answer to 12345's order", worker, peer_log)
    [call] = order["callbacks"]
    assert call["state"] == "delivered" and call["attempts"][-1]["http_status"] == 201
    no = order["our_no"]
    case = api.case(no)
    assert case["channel"] == "external" and case["category"] == "0101"
    assert case["grid"] == grid and case["state"] == "reported"

    # our loop: registered, dispatched to urban management, handled, verified, closed
    api.act("dispatcher", no, "register")
    api.act("dispatcher", no, "dispatch", department="urban-management")
    api.act("department", no, "accept")
    api.act("department", no, "start")
    api.act("department", no, "handle", feedback="已清运垃圾并冲洗地面")
    api.act("gridworker", no, "verify_pass")
    api.act("dispatcher", no, "close", closeout_reason="垃圾已清运，现场核实")

    # the worker sends our handling result to 12345 as its reply
    reply = waiting(lambda: (registered() or {}).get("replies"), "our reply at 12345",
                    worker, peer_log)[0]
    assert reply["times_received"] == 1
    assert reply["body"]["order_no"] == their_no and reply["body"]["source_no"] == no
    assert reply["body"]["result"]
    [external] = shell(server, ORDERS.format(no=no))
    assert external["direction"] == "in" and external["their_no"] == their_no
    waiting(lambda: shell(server, ORDERS.format(no=no))[0]["state"] == "replied",
            "the order marked replied", worker, peer_log)
