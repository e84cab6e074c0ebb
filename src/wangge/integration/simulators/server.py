"""A simulated 12345 hotline or 数字城管 system: a real HTTP server speaking
docs/external-systems.md, for tests, demos and a developer's afternoon.

It is built on the standard library's `http.server.ThreadingHTTPServer` on purpose: a test
peer needs a handful of JSON endpoints, one thread per connection and nothing between the
socket and the handler that could hide what goes over the wire. A framework would add a
dependency, start-up time and its own answers (redirects, error pages) to what the peer
says; our server under test is the one that must be a Django application, not its peer.

What it does (docs/simulators.md):
- takes orders (`POST /work-orders` or `/cases`), checks the signature (401), the keys
  (400 naming the field), deduplicates on Idempotency-Key and on our number (a repeat gets
  the first answer, never a second order) and answers with its own number;
- moves every order along a schedule (`steps`) and POSTs a signed call-back to
  `{callback_url}/callbacks` for each status, retried with backoff on 5xx or no answer,
  recorded and left on 4xx, one order's call-backs strictly in order;
- answers the status query, takes 12345's replies, and (12345) sends us orders;
- plays faults: slow answers, random 500s, being down, duplicated call-backs;
- shows and steers everything through `/_sim/...` (no signature: a test's control port).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

from wangge.integration.adapters import signing
from wangge.integration.simulators.kinds import NOTES, STATUS_WORDS, Invalid, Kind, rank
from wangge.integration.simulators.store import Order, Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: answers that make a call-back (or an order we send) worth another try
RETRY_STATUSES = frozenset({408, 425, 429})
MAX_BODY = 2 * 1024 * 1024


def now_iso(at: float | None = None) -> str:
    return dt.datetime.fromtimestamp(at if at is not None else time.time(), SHANGHAI) \
        .isoformat(timespec="seconds")


@dataclass
class Faults:
    #: seconds every answer of the system's endpoints is held back
    slow: float = 0.0
    #: share of requests answered 500 (before anything is stored)
    fail_rate: float = 0.0
    #: Unix time until which the system is down (its endpoints and its call-backs)
    down_until: float = 0.0
    #: how a down system answers: "503", or "reset" (the connection is dropped, no answer)
    down_style: str = "503"
    #: every call-back is sent twice with the same event_id
    duplicate_callbacks: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"slow": self.slow, "fail_rate": self.fail_rate,
                "down_for": max(0.0, round(self.down_until - time.time(), 3)),
                "down_style": self.down_style,
                "duplicate_callbacks": self.duplicate_callbacks}


@dataclass
class Config:
    kind: Kind
    secret: str
    #: our base for this system, e.g. http://127.0.0.1:8000/integration/systems/hotline_12345
    callback_url: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)
    #: their category codes answered with 退回 (after 受理) instead of the story
    return_codes: frozenset[str] = frozenset()
    faults: Faults = field(default_factory=Faults)
    seed: int = 12345
    state_file: str | None = None
    #: call-back attempts before giving up, and the backoff's first and longest wait
    attempts: int = 12
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    timeout_s: float = 10.0
    #: fields of the orders 12345 sends us (merged over the defaults)
    order_fields: dict[str, Any] = field(default_factory=dict)


class Simulator:
    def __init__(self, config: Config, *, out: Any = None) -> None:
        self.config, self.kind = config, config.kind
        self.faults = config.faults
        self.store = Store(config.state_file)
        self.rng = random.Random(config.seed)
        self.out = out or sys.stdout
        self.wake = threading.Condition(self.store.lock)
        self.stopping = threading.Event()
        self.httpd: ThreadingHTTPServer | None = None
        self.ticker: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------

    def start(self, host: str, port: int) -> str:
        sim = self

        class Handler(_Handler):
            simulator = sim

        self.httpd = _Server((host, port), Handler)
        self.ticker = threading.Thread(target=self._tick_forever, name="sim-ticker",
                                       daemon=True)
        self.ticker.start()
        return f"http://{host}:{self.httpd.server_port}"

    def serve_forever(self) -> None:
        assert self.httpd is not None
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.stopping.set()
        with self.wake:
            self.wake.notify_all()
        if self.httpd is not None:
            self.httpd.server_close()
        if self.ticker is not None:
            self.ticker.join(timeout=15)
        self.store.close()

    def log(self, line: str) -> None:
        print(f"{now_iso()} {self.kind.name} {line}", file=self.out, flush=True)

    def is_down(self) -> bool:
        return time.time() < self.faults.down_until

    # --- orders they take ----------------------------------------------------------------

    def take_order(self, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A verified order: the first answer again for a repeat (by key or by our number),
        else a new order of theirs with its story scheduled."""
        with self.store.lock:
            first = self.store.answers.get(key)
            if first is not None:
                self._seen_again(first["body"].get(self.kind.number_key, ""), key)
                return 200, first["body"]
            self.kind.validate(body)
            ours = body[self.kind.number_key]
            existing = self.store.find(ours)
            if existing is not None and existing["our_no"] == ours:
                answer = {self.kind.number_key: existing["number"]}
                self.store.remember(key, {"status": 200, "body": answer})
                self._seen_again(existing["number"], key)
                return 200, answer
            number = self._new_number()
            received = time.time()
            steps = self.config.steps
            if self.kind.category_code(body) in self.config.return_codes:
                first_s = steps[0][1] if steps else 1.0
                second_s = steps[1][1] if len(steps) > 1 else first_s + 1.0
                steps = [("受理", first_s), ("退回", second_s)]
            order: Order = {
                "number": number, "our_no": ours, "direction": "received",
                "category_code": self.kind.category_code(body),
                "received_at": received, "times_received": 1, "idempotency_keys": [key],
                "status": "", "updated_at": now_iso(received), "payload": body,
                "steps": [{"status": w, "due": received + s, "done": False} for w, s in steps],
                "callbacks": [], "replies": [],
            }
            answer = {self.kind.number_key: number}
            self.store.save(order)
            self.store.remember(key, {"status": 201, "body": answer})
            self.wake.notify_all()
            return 201, answer

    def _seen_again(self, number: str, key: str) -> None:
        order = self.store.find(number)
        if order is None:
            return
        order["times_received"] += 1
        if key not in order["idempotency_keys"]:
            order["idempotency_keys"].append(key)
        self.store.save(order)

    def _new_number(self) -> str:
        """Their numbers never repeat, as the real system's: with --state the counter goes
        on from the file; a fresh one starts from the clock (seconds, mod 10^6), so a
        restarted simulator does not hand out a number it gave before (unless it gave more
        than one a second since)."""
        year = dt.datetime.now(SHANGHAI).year
        with self.store.lock:
            if "order" not in self.store.counters:
                self.store.counters["order"] = int(time.time()) % 1_000_000
            return f"{self.kind.prefix}{year}{self.store.next('order') % 1_000_000:06d}"

    def status_of(self, numbers: list[str]) -> dict[str, Any]:
        found, unknown = [], []
        with self.store.lock:
            for number in numbers:
                order = self.store.find(number)
                if order is None or order["direction"] != "received":
                    unknown.append(number)
                else:
                    # before their first step an order they hold is taken (受理)
                    found.append({"number": number, "status": order["status"] or "受理",
                                  "updated_at": order["updated_at"]})
        return {"orders": found, "unknown": unknown}

    def take_reply(self, number: str, key: str, body: dict[str, Any]
                   ) -> tuple[int, dict[str, Any]]:
        """Our reply to an order 12345 sent us (POST /work-orders/{no}/reply)."""
        with self.store.lock:
            order = self.store.find(number)
            if order is None or order["direction"] != "sent":
                raise _Refusal(404, "order_no", f"no order {number} sent by us")
            first = self.store.answers.get(key)
            if first is not None:
                order["replies"][-1]["times_received"] += 1
                self.store.save(order)
                return first["status"], first["body"]
            if body.get("order_no") != number:
                raise Invalid("order_no", f"must be {number}, the order in the path")
            for name in ("source_no", "result"):
                if not isinstance(body.get(name), str) or not body[name].strip():
                    raise Invalid(name, "required (a non-empty string)")
            handled_at = body.get("handled_at")
            try:
                if not isinstance(handled_at, str) or \
                        dt.datetime.fromisoformat(handled_at).tzinfo is None:
                    raise ValueError
            except ValueError:
                raise Invalid("handled_at", "ISO 8601 with an offset") from None
            order["replies"].append({"key": key, "body": body, "times_received": 1,
                                     "at": now_iso()})
            order["status"], order["updated_at"] = "已回复", now_iso()
            self.store.save(order)
            answer = {"result": "received", "order_no": number}
            self.store.remember(key, {"status": 200, "body": answer})
            return 200, answer

    # --- what they send us ---------------------------------------------------------------

    def advance(self, number: str, status: str, note: str = "") -> Order:
        """Queue one call-back now (any status, an impossible one included: a test of our
        409). The order's status follows; later scheduled steps that are not further along
        are skipped."""
        if status not in STATUS_WORDS:
            raise Invalid("status", f"one of {', '.join(STATUS_WORDS)}")
        with self.store.lock:
            order = self.store.find(number)
            if order is None or order["direction"] != "received":
                raise _Refusal(404, "order_no", f"no order {number}")
            self._move(order, status, note)
            self.store.save(order)
            self.wake.notify_all()
            return order

    def _move(self, order: Order, status: str, note: str = "") -> None:
        order["status"], order["updated_at"] = status, now_iso()
        with self.store.lock:  # like their numbers: a restart never repeats an event id
            if "event" not in self.store.counters:
                self.store.counters["event"] = int(time.time() * 10)
            event = f"cb-{self.store.next('event')}"
        body = {"event_id": event, "order_no": order["number"],
                **({"source_no": order["our_no"]} if order.get("our_no") else {}),
                "status": status,
                "note": note or NOTES[status], "occurred_at": order["updated_at"]}
        copies = 2 if self.faults.duplicate_callbacks else 1
        for copy in range(copies):
            order["callbacks"].append({
                "event_id": event, "status": status, "copy": copy + 1, "body": body,
                "state": "pending", "next_at": 0.0, "attempts": []})

    def send_orders(self, count: int, fields: dict[str, Any] | None = None) -> list[str]:
        """12345 sends us `count` orders for on-site work (POST {callback_url}/work-orders)."""
        if not self.kind.two_way:
            raise _Refusal(400, "kind", f"{self.kind.title} sends no orders")
        numbers = []
        with self.store.lock:
            for _ in range(count):
                number = self._new_number()
                now = time.time()
                body = {
                    "order_no": number, "channel": "12345市民服务热线",
                    "channel_detail": "电话", "appeal_type": "求助",
                    "category_code": "1001", "category_name": "停水",
                    "title": "小区停水", "content": "市民来电反映小区自早上起停水，请尽快处理。",
                    "appellant": "王*", "phone": "170****1234",
                    "address": "醴陵市", "location": {"lng": 113.4968, "lat": 27.6462,
                                                      "crs": "WGS84"},
                    "urgency": "一般", "reported_at": now_iso(now),
                    "deadline": now_iso(now + 3 * 86400), "attachments": [],
                    **self.config.order_fields, **(fields or {}),
                }
                body["order_no"] = number
                order: Order = {
                    "number": number, "our_no": "", "direction": "sent",
                    "category_code": str(body.get("category_code") or ""),
                    "received_at": now, "times_received": 0, "idempotency_keys": [],
                    "status": "已派单", "updated_at": now_iso(now), "payload": body,
                    "steps": [], "replies": [], "callbacks": [{
                        "event_id": f"{self.kind.code}-order-{number}", "status": "",
                        "copy": 1, "body": body, "path": "/work-orders", "state": "pending",
                        "next_at": 0.0, "attempts": []}],
                }
                self.store.save(order)
                numbers.append(number)
            self.wake.notify_all()
        return numbers

    # --- the ticker: the schedule and the call-backs -------------------------------------

    def _tick_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                wait = self.tick()
            except Exception as e:  # a simulator keeps going; the line says why
                self.log(f"ticker error: {e!r}")
                wait = 1.0
            with self.wake:
                if not self.stopping.is_set():
                    self.wake.wait(timeout=max(0.02, min(wait, 0.5)))

    def tick(self) -> float:
        """Move orders whose steps are due, send due call-backs (one per order at a time,
        in order); return the seconds until something is next due."""
        now = time.time()
        due: list[tuple[Order, dict[str, Any]]] = []
        soonest = 1.0
        with self.store.lock:
            for order in list(self.store.orders.values()):
                changed = False
                for step in order["steps"]:
                    if step["done"]:
                        continue
                    if step["due"] > now:
                        soonest = min(soonest, step["due"] - now)
                        break
                    step["done"] = changed = True
                    if order["status"] != "退回" and rank(step["status"]) > rank(order["status"]):
                        self._move(order, step["status"])
                if changed:
                    self.store.save(order)
                head = next((c for c in order["callbacks"] if c["state"] == "pending"), None)
                if head is None:
                    continue
                if head["next_at"] > now:
                    soonest = min(soonest, head["next_at"] - now)
                elif not self.is_down() and self.config.callback_url:
                    due.append((order, head))
        for order, call in due:
            self._send(order, call)
        return 0.0 if due else soonest

    def _send(self, order: Order, call: dict[str, Any]) -> None:
        path = call.get("path", "/callbacks")
        url = self.config.callback_url.rstrip("/") + path
        body = json.dumps(call["body"], ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": call["event_id"],
                   **signing.headers(self.config.secret, body)}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        status: int | None = None
        error, answer = "", ""
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                status, answer = response.status, response.read(4000).decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, answer = e.code, e.read(4000).decode(errors="replace")
        except (OSError, ValueError) as e:
            error = f"{type(e).__name__}: {e}"
        try:
            parsed: Any = json.loads(answer) if answer else None
        except ValueError:
            parsed = answer
        with self.store.lock:
            call["attempts"].append({"at": now_iso(), "http_status": status, "error": error,
                                     "answer": parsed})
            n = len(call["attempts"])
            if status is not None and 200 <= status < 300:
                call["state"] = "delivered"
                if path == "/work-orders" and isinstance(parsed, dict):
                    order["our_no"] = str(parsed.get("source_no") or "")
                    order["times_received"] += 1
            elif status is not None and status < 500 and status not in RETRY_STATUSES:
                call["state"] = "refused"
            elif n >= self.config.attempts:
                call["state"] = "gave_up"
            else:
                wait = min(self.config.backoff_max_s, self.config.backoff_s * 2 ** (n - 1))
                call["next_at"] = time.time() + wait
            self.store.save(order)
        what = call["status"] or "order"
        self.log(f"→ POST {path} {order['number']} {what} {call['event_id']} "
                 f"{status if status is not None else error} ({call['state']})")

    # --- inspection ----------------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        with self.store.lock:
            rows = []
            for order in sorted(self.store.orders.values(), key=lambda o: o["received_at"]):
                rows.append({
                    "number": order["number"], "our_no": order["our_no"],
                    "direction": order["direction"], "category_code": order["category_code"],
                    "idempotency_keys": list(order["idempotency_keys"]),
                    "times_received": order["times_received"], "status": order["status"],
                    "updated_at": order["updated_at"],
                    "callbacks": [{k: v for k, v in c.items() if k not in ("body", "next_at")}
                                  | {"note": c["body"].get("note", "")}
                                  for c in order["callbacks"]],
                    "replies": list(order["replies"]), "payload": order["payload"],
                })
            return rows

    def set_faults(self, changes: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            for name, value in changes.items():
                if name == "down_for":
                    self.faults.down_until = time.time() + _number(name, value)
                elif name in ("slow", "fail_rate"):
                    setattr(self.faults, name, _number(name, value))
                elif name == "down_style":
                    if value not in ("503", "reset"):
                        raise Invalid(name, "503 or reset")
                    self.faults.down_style = value
                elif name == "duplicate_callbacks":
                    self.faults.duplicate_callbacks = bool(value)
                else:
                    raise Invalid(name, "one of down_for, slow, fail_rate, down_style, "
                                        "duplicate_callbacks")
            self.wake.notify_all()
            return self.faults.as_dict()

    def roll_failure(self) -> bool:
        with self.store.lock:
            return bool(self.faults.fail_rate) and self.rng.random() < self.faults.fail_rate


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise Invalid(name, "a number ≥ 0")
    return float(value)


class _Refusal(Exception):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field = status, field


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (a sender's timeout) is part of what we simulate


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request, our own (see _answer)

    # --- plumbing ------------------------------------------------------------------------

    def _answer(self, status: int, body: dict[str, Any], note: str = "") -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if self.command == "POST" or not self.path.startswith("/_sim/"):
            self.simulator.log(f"{self.command} {self.path} {status} {note}".rstrip())

    def _error(self, status: int, field: str, message: str) -> None:
        self._answer(status, {"error": {"field": field, "message": message}},
                     f"{field}: {message}")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _Refusal(413, "body", "too large")
        return self.rfile.read(length)

    def _json(self, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise Invalid("body", "not JSON") from None
        if not isinstance(body, dict):
            raise Invalid("body", "a JSON object")
        return body

    def _drop(self) -> None:
        """Down, reset style: drop the connection with a RST and no answer."""
        self.simulator.log(f"{self.command} {self.path} dropped (down)")
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    # --- routes --------------------------------------------------------------------------

    def do_GET(self) -> None:
        sim = self.simulator
        if self.path == "/_sim/orders":
            self._answer(200, {"orders": sim.orders()})
        elif self.path == "/_sim/faults":
            self._answer(200, sim.faults.as_dict())
        elif self.path == "/_sim/health":
            self._answer(200, {"ok": True, "kind": sim.kind.name, "down": sim.is_down()})
        else:
            self._error(404, "path", f"no GET {self.path}")

    def do_POST(self) -> None:
        try:
            raw = self._body()
            if self.path.startswith("/_sim/"):
                self._control(raw)
            else:
                self._system(raw)
        except _Refusal as e:
            if e.status == 413:
                self.close_connection = True  # the body was left unread
            self._error(e.status, e.field, str(e))
        except Invalid as e:
            self._error(400, e.field, str(e))
        except Exception as e:  # a simulator's own bug: say so, on the wire and in the log
            self._error(500, "", f"simulator error: {e!r}")

    def _control(self, raw: bytes) -> None:
        sim, body = self.simulator, self._json(raw)
        if self.path == "/_sim/faults":
            self._answer(200, sim.set_faults(body))
        elif self.path == "/_sim/advance":
            order = sim.advance(str(body.get("order_no") or ""), str(body.get("status") or ""),
                                str(body.get("note") or ""))
            self._answer(200, {"order_no": order["number"], "status": order["status"],
                               "event_id": order["callbacks"][-1]["event_id"]})
        elif self.path == "/_sim/send-orders":
            count = body.get("count", 1)
            if not isinstance(count, int) or not 1 <= count <= 1000:
                raise Invalid("count", "1 … 1000")
            fields = body.get("fields") or {}
            if not isinstance(fields, dict):
                raise Invalid("fields", "an object of work-order keys")
            self._answer(200, {"orders": sim.send_orders(count, fields)})
        else:
            self._error(404, "path", f"no POST {self.path}")

    def _system(self, raw: bytes) -> None:
        sim, kind = self.simulator, self.simulator.kind
        if sim.is_down():
            if sim.faults.down_style == "reset":
                self._drop()
                return
            self._error(503, "", "the system is down (simulated)")
            return
        if sim.roll_failure():
            self._error(500, "", "internal error (simulated)")
            return
        try:
            signing.verify(sim.config.secret, self.headers.get(signing.TIMESTAMP_HEADER),
                           self.headers.get(signing.SIGNATURE_HEADER), raw)
        except signing.BadSignature as e:
            self._error(401, signing.SIGNATURE_HEADER, str(e))
            return
        key = self.headers.get("Idempotency-Key", "").strip()
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == kind.path + "/status":
            numbers = self._json(raw).get("numbers")
            if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
                raise Invalid("numbers", "a list of order numbers")
            if len(numbers) > 500:
                raise Invalid("numbers", "at most 500")
            answer = sim.status_of(numbers)
            self._slow()
            self._answer(200, answer, f"{len(answer['orders'])} known")
            return
        if path == kind.path:
            if not key:
                raise Invalid("Idempotency-Key", "required on an order")
            status, answer = sim.take_order(key, self._json(raw))
        elif kind.two_way and path.startswith("/work-orders/") and path.endswith("/reply"):
            if not key:
                raise Invalid("Idempotency-Key", "required on a reply")
            number = path[len("/work-orders/"):-len("/reply")]
            status, answer = sim.take_reply(number, key, self._json(raw))
        else:
            raise _Refusal(404, "path", f"no POST {path}")
        self._slow()
        self._answer(status, answer, f"{answer.get(kind.number_key, '')} key={key}")

    def _slow(self) -> None:
        if self.simulator.faults.slow:
            time.sleep(self.simulator.faults.slow)

