"""The simulated 12345 and 数字城管 systems as real processes (`wangge simulate …` on a free
port), talked to over HTTP the way our senders talk to the real ones, with their call-backs
caught by a small recording server here that checks every signature."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from wangge.integration.adapters import signing
from wangge.integration.tests.adapters_peer import read_signed, serving

BIN = Path(sys.executable).parent
SECRET = "sim-test-secret"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: Any, *, key: str | None = None, secret: str | None = SECRET,
         raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if secret is not None:
        headers.update(signing.headers(secret, data))
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# --- a recording server: our side of the call-backs ----------------------------------------

@dataclass
class Call:
    path: str
    body: dict[str, Any]
    signed: bool
    key: str


@dataclass
class Recorder:
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    #: status codes to answer with, in order, per path; then 200
    script: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call) -> int:
        with self.lock:
            self.calls.append(call)
            queue = self.script.get(call.path) or []
            return queue.pop(0) if queue else 200

    def on(self, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.endswith(path)]


@contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body, signed = read_signed(self, SECRET)
            parsed = json.loads(body)
            status = recorder.record(Call(self.path, parsed, signed,
                                          self.headers.get("Idempotency-Key", "")))
            answer: dict[str, Any] = {"result": "applied"}
            if self.path.endswith("/work-orders"):
                answer = {"source_no": "SJ" + parsed["order_no"][-6:]}
            if status >= 400:
                answer = {"error": {"field": "status", "message": "refused by the test"}}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as port:
        recorder.url = f"http://127.0.0.1:{port}/integration/systems/x"
        yield recorder


# --- the simulator process ------------------------------------------------------------------

@dataclass
class Sim:
    url: str
    proc: subprocess.Popen[str]
    log: Path

    def orders(self) -> list[dict[str, Any]]:
        return get(self.url + "/_sim/orders")["orders"]

    def order(self, number: str) -> dict[str, Any]:
        return next(o for o in self.orders() if number in (o["number"], o["our_no"]))

    def control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = post(self.url + path, body, secret=None)
        assert status == 200, answer
        return answer

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    started: list[Sim] = []
    env = {**os.environ, "WANGGE_DATA_DIR": str(tmp_path / "data")}

    def start(kind: str, *args: str, port: int | None = None) -> Sim:
        port = port or free_port()
        log = tmp_path / f"sim-{len(started)}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [str(BIN / "wangge"), "simulate", kind, "--port", str(port), "--secret", SECRET,
                 *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        sim = Sim(url=f"http://127.0.0.1:{port}", proc=proc, log=log)
        started.append(sim)

        def up() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                return get(sim.url + "/_sim/health")["ok"]
            except OSError:
                return False

        wait_for(up, f"{kind} to answer")
        return sim

    yield start
    for sim in started:
        sim.stop()


def work_order(order_no: str = "SJ20260001", **changes: Any) -> dict[str, Any]:
    return {
        "order_no": order_no, "channel": "网格化服务管理平台", "channel_detail": "grid_worker",
        "appeal_type": "求助", "category_code": "010101", "category_name": "停水",
        "title": "东正街小区停水", "content": "3栋自早上8点停水，居民用水困难。",
        "appellant": "张*", "phone": "170****0012", "address": "醴陵市东正街3栋",
        "location": {"lng": 113.4968, "lat": 27.6462, "crs": "WGS84"},
        "area_code": "430281001001", "grid_code": "430281001001001", "urgency": "紧急",
        "deadline": "2026-12-02T18:00:00+08:00", "reported_at": "2026-12-01T09:00:00+08:00",
        "attachments": [], **changes,
    }


def case_file(case_no: str = "SJ20260002", **changes: Any) -> dict[str, Any]:
    return {
        "case_no": case_no, "source": "网格员上报", "problem_type": "部件",
        "main_class": {"code": "01", "name": "公用设施"},
        "sub_class": {"code": "0104", "name": "井盖缺失"},
        "location_desc": "醴陵市东正街与解放路交叉口", "location": None,
        "area_code": "430281001001", "grid_code": "430281001001001",
        "description": "路口井盖缺失，有行人跌落危险。", "images": [],
        "reported_at": "2026-12-01T09:00:00+08:00", "deadline": "2026-12-02T09:00:00+08:00",
        **changes,
    }


# --- tests ----------------------------------------------------------------------------------

def test_12345_takes_an_order_once_refuses_bad_ones_and_calls_back_in_order(
        simulator: Callable[..., Sim]) -> None:
    with recording() as us:
        sim = simulator("hotline-12345", "--callback-url", us.url,
                        "--steps", "受理:0.2,派遣:0.4,处置中:0.6,已处置:0.8")
        status, answer = post(sim.url + "/work-orders", work_order(), key="k-1")
        assert status == 201
        number = answer["order_no"]
        assert re.fullmatch(r"GD\d{4}\d{6}", number)

        # a retry with the same key, and a resend of the same order under a new key: the
        # first answer, never a second order
        assert post(sim.url + "/work-orders", work_order(), key="k-1") == (200, answer)
        assert post(sim.url + "/work-orders", work_order(), key="k-2") == (200, answer)
        [order] = sim.orders()
        assert order["number"] == number and order["our_no"] == "SJ20260001"
        assert order["times_received"] == 3 and order["idempotency_keys"] == ["k-1", "k-2"]

        # a wrong secret, a missing signature, a stale timestamp: 401 and nothing stored
        assert post(sim.url + "/work-orders", work_order("SJ9"), key="k-3",
                    secret="wrong")[0] == 401
        assert post(sim.url + "/work-orders", work_order("SJ9"), key="k-4",
                    secret=None)[0] == 401
        # a missing key, a bad word, no Idempotency-Key: 400 naming the field
        missing = work_order("SJ9")
        del missing["title"]
        assert post(sim.url + "/work-orders", missing, key="k-5") == (
            400, {"error": {"field": "title", "message": "required (a non-empty string)"}})
        assert post(sim.url + "/work-orders", work_order("SJ9", appeal_type="求救"),
                    key="k-6")[1]["error"]["field"] == "appeal_type"
        assert post(sim.url + "/work-orders", work_order("SJ9", reported_at="昨天"),
                    key="k-7")[1]["error"]["field"] == "reported_at"
        assert post(sim.url + "/work-orders", work_order("SJ9"))[1]["error"]["field"] == \
            "Idempotency-Key"
        assert len(sim.orders()) == 1

        # the call-backs arrive signed, in the scheduled order, about their number
        wait_for(lambda: len(us.on("/callbacks")) >= 4, "four call-backs")
        calls = us.on("/callbacks")
        assert [c.body["status"] for c in calls] == ["受理", "派遣", "处置中", "已处置"]
        assert all(c.signed for c in calls)
        assert {c.body["order_no"] for c in calls} == {number}
        assert len({c.body["event_id"] for c in calls}) == 4
        assert all(c.body["note"] and c.body["occurred_at"].endswith("+08:00") for c in calls)
        wait_for(lambda: all(c["state"] == "delivered" for c in sim.order(number)["callbacks"]),
                 "the answers noted")

        # the status query, by their number; an unknown number is listed as such
        status, answer = post(sim.url + "/work-orders/status",
                              {"numbers": [number, "GD2099000000"]})
        assert status == 200
        assert [(o["number"], o["status"]) for o in answer["orders"]] == [(number, "已处置")]
        assert answer["unknown"] == ["GD2099000000"]
        assert post(sim.url + "/work-orders/status", {"numbers": "all"})[0] == 400
        assert post(sim.url + "/work-orders/status", {"numbers": [number]},
                    secret="wrong")[0] == 401
    assert sim.stop() == 0
    log = sim.log.read_text()
    assert "POST /work-orders 201" in log and "POST /work-orders 401" in log


def test_city_management_returns_its_codes_and_retries_only_what_is_worth_it(
        simulator: Callable[..., Sim]) -> None:
    with recording() as us:
        # our server: down (500) for the first call-back, then a 409 for the second
        us.script["/integration/systems/x/callbacks"] = [500, 200, 409]
        sim = simulator("city-management", "--callback-url", us.url, "--backoff", "0.1",
                        "--steps", "受理:0.2,派遣:0.4,已处置:0.6",
                        "--return-codes", "0199,0198")
        status, answer = post(sim.url + "/cases", case_file(), key="c-1")
        assert status == 201 and re.fullmatch(r"AJ\d{10}", answer["case_no"])
        number = answer["case_no"]
        assert post(sim.url + "/cases", case_file(), key="c-2") == (200, answer)
        no_class = case_file("SJ5")
        del no_class["sub_class"]
        assert post(sim.url + "/cases", no_class, key="c-3")[1]["error"]["field"] == "sub_class"
        assert post(sim.url + "/cases", case_file("SJ5", problem_type="问题"),
                    key="c-4")[1]["error"]["field"] == "problem_type"

        order = wait_for(lambda: (o := sim.order(number)) and len(o["callbacks"]) == 3
                         and all(c["state"] != "pending" for c in o["callbacks"]) and o,
                         "the three call-backs settled")
        first, second, third = order["callbacks"]
        # 500 → retried with backoff, then delivered; a 409 is recorded, never retried
        assert [a["http_status"] for a in first["attempts"]] == [500, 200]
        assert first["state"] == third["state"] == "delivered"
        assert [a["http_status"] for a in second["attempts"]] == [409]
        assert second["state"] == "refused"
        assert second["attempts"][0]["answer"]["error"]["field"] == "status"
        assert [c.body["status"] for c in us.on("/callbacks")] == ["受理", "受理", "派遣", "已处置"]

        # a category they do not handle: taken, then returned (退回) instead of the story
        status, returned = post(sim.url + "/cases", case_file(
            "SJ6", sub_class={"code": "0199", "name": "其他"}), key="c-5")
        assert status == 201

        wait_for(lambda: [c["status"] for c in sim.order(returned["case_no"])["callbacks"]]
                 == ["受理", "退回"], "受理 then 退回")
        assert sim.order(returned["case_no"])["status"] == "退回"
        status, answer = post(sim.url + "/cases/status", {"numbers": [returned["case_no"]]})
        assert answer["orders"][0]["status"] == "退回"


def test_duplicate_callbacks_and_a_call_back_sent_on_demand(
        simulator: Callable[..., Sim]) -> None:
    with recording() as us:
        sim = simulator("hotline-12345", "--callback-url", us.url, "--steps", "受理:0.1",
                        "--duplicate-callbacks")
        number = post(sim.url + "/work-orders", work_order(), key="d-1")[1]["order_no"]
        wait_for(lambda: len(us.on("/callbacks")) == 2, "the call-back twice")
        first, again = us.on("/callbacks")
        assert first.body == again.body and first.body["status"] == "受理"

        # /_sim/advance: any status, now (an impossible step included, for our 409)
        sim.control("/_sim/faults", {"duplicate_callbacks": False})
        answer = sim.control("/_sim/advance", {"order_no": "SJ20260001", "status": "结案",
                                               "note": "市民确认已恢复供水"})
        assert answer["order_no"] == number and answer["status"] == "结案"
        wait_for(lambda: len(us.on("/callbacks")) == 3, "the advanced call-back")
        assert us.on("/callbacks")[2].body["note"] == "市民确认已恢复供水"
        status, _ = post(sim.url + "/_sim/advance", {"order_no": "GD1", "status": "受理"},
                         secret=None)
        assert status == 404
        status, answer = post(sim.url + "/_sim/advance", {"order_no": number, "status": "好了"},
                              secret=None)
        assert status == 400 and answer["error"]["field"] == "status"


def test_a_restart_with_state_keeps_orders_and_their_keys(
        simulator: Callable[..., Sim], tmp_path: Path) -> None:
    state = str(tmp_path / "sim.sqlite3")
    port = free_port()
    sim = simulator("city-management", "--state", state, "--steps", "none", port=port)
    first = post(sim.url + "/cases", case_file(), key="s-1")[1]["case_no"]
    assert sim.stop() == 0

    sim = simulator("city-management", "--state", state, "--steps", "none", port=port)
    assert post(sim.url + "/cases", case_file(), key="s-1") == (200, {"case_no": first})
    assert post(sim.url + "/cases", case_file(), key="s-2") == (200, {"case_no": first})
    second = post(sim.url + "/cases", case_file("SJ7"), key="s-3")[1]["case_no"]
    assert second != first  # numbers go on, never reused
    [order, _] = sim.orders()
    assert order["number"] == first and order["times_received"] == 3


def test_down_refuses_then_recovers_and_holds_call_backs(simulator: Callable[..., Sim]) -> None:
    with recording() as us:
        sim = simulator("hotline-12345", "--callback-url", us.url, "--steps", "受理:0.1",
                        "--down-for", "600", "--down-style", "reset")
        with pytest.raises(OSError):  # connection reset: no answer at all
            post(sim.url + "/work-orders", work_order(), key="w-1")
        sim.control("/_sim/faults", {"down_style": "503"})
        assert post(sim.url + "/work-orders", work_order(), key="w-1")[0] == 503
        assert sim.orders() == []

        sim.control("/_sim/faults", {"down_for": 0})
        assert post(sim.url + "/work-orders", work_order(), key="w-1")[0] == 201
        wait_for(lambda: us.on("/callbacks"), "the call-back")

        # down again: their schedule goes on, call-backs wait for them to be back up
        sim.control("/_sim/faults", {"down_for": 600})
        number = post(sim.url + "/_sim/advance", {"order_no": "SJ20260001", "status": "派遣"},
                      secret=None)[1]["order_no"]
        assert sim.order(number)["callbacks"][-1]["state"] == "pending"
        assert len(us.on("/callbacks")) == 1
        sim.control("/_sim/faults", {"down_for": 0})
        wait_for(lambda: len(us.on("/callbacks")) == 2, "the held call-back")

        # random 500s, seeded: with a rate of 1 every request fails, nothing is stored
        sim.control("/_sim/faults", {"fail_rate": 1})
        assert post(sim.url + "/work-orders", work_order("SJ8"), key="w-2")[0] == 500
        sim.control("/_sim/faults", {"fail_rate": 0})
        assert len(sim.orders()) == 1
        assert post(sim.url + "/_sim/faults", {"down_for": -1}, secret=None)[0] == 400


def test_12345_sends_us_orders_and_takes_our_reply(simulator: Callable[..., Sim]) -> None:
    with recording() as us:
        us.script["/integration/systems/x/work-orders"] = [503]
        sim = simulator("hotline-12345", "--callback-url", us.url, "--backoff", "0.1",
                        "--send-orders", "1", "--order-fields", '{"grid_code": "G1"}')
        wait_for(lambda: len(us.on("/work-orders")) == 2, "the order, retried after a 503")
        first, again = us.on("/work-orders")
        assert first.body == again.body and first.key == again.key and again.signed
        assert first.body["grid_code"] == "G1" and first.body["order_no"].startswith("GD")
        number = first.body["order_no"]
        order = wait_for(lambda: (o := sim.order(number))["our_no"] and o, "our answer noted")
        assert order["direction"] == "sent" and order["our_no"] == "SJ" + number[-6:]

        [sent] = sim.control("/_sim/send-orders", {"count": 1,
                                                   "fields": {"title": "路灯不亮"}})["orders"]
        wait_for(lambda: len(us.on("/work-orders")) == 3, "the second order")
        assert us.on("/work-orders")[2].body["title"] == "路灯不亮"
        assert sent != number

        reply = {"order_no": number, "source_no": order["our_no"], "result": "已恢复供水",
                 "handled_at": "2026-12-01T12:00:00+08:00", "unit": "醴陵市自来水公司",
                 "attachments": []}
        url = f"{sim.url}/work-orders/{number}/reply"
        assert post(url, reply, key="r-1") == (200, {"result": "received", "order_no": number})
        assert post(url, reply, key="r-1")[0] == 200
        assert post(url, {**reply, "result": ""}, key="r-2")[1]["error"]["field"] == "result"
        assert post(url, reply, key="r-3", secret="wrong")[0] == 401
        assert post(f"{sim.url}/work-orders/GD1/reply", reply, key="r-4")[0] == 404
        [received] = sim.order(number)["replies"]
        assert received["times_received"] == 2 and received["body"]["result"] == "已恢复供水"
        # an order they sent us is not one we sent them: unknown to the status query
        assert post(sim.url + "/work-orders/status", {"numbers": [number]})[1]["unknown"] == \
            [number]
