"""An external system for the adapter tests: a real HTTP server in a thread that checks every
request's signature with `signing.verify`, records it, deduplicates orders by
Idempotency-Key (a repeat gets the first answer) and answers from a script."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wangge.integration.adapters import signing


@dataclass
class Request:
    path: str
    key: str
    body: bytes
    signed: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


#: (status, JSON body or None)
Reply = tuple[int, Any]


@dataclass
class Peer:
    secret: str
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    #: replies to give first, in order (then `answer`)
    script: list[Reply] = field(default_factory=list)
    #: the default reply to a request, from its path and body
    answer: Callable[[str, Any], Reply] | None = None
    first_answers: dict[str, Reply] = field(default_factory=dict)
    numbers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            if not request.signed:
                return 401, {"error": {"field": "X-Wangge-Signature", "message": "bad"}}
            if self.script:
                return self.script.pop(0)
            if request.key and request.key in self.first_answers:
                return self.first_answers[request.key]
            reply = self.answer(request.path, request.json) if self.answer else self._default(
                request.path)
            if request.key and 200 <= reply[0] < 300:
                self.first_answers[request.key] = reply
            return reply

    def _default(self, path: str) -> Reply:
        self.numbers += 1
        if path.endswith("/reply"):
            return 200, {"result": "ok"}
        key = "case_no" if path.endswith("/cases") else "order_no"
        return 201, {key: f"THEIRS-{self.numbers:04d}"}

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def read_signed(handler: BaseHTTPRequestHandler, secret: str) -> tuple[bytes, bool]:
    """The request's body, and whether its signature holds under `secret`."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
    try:
        signing.verify(secret, handler.headers.get(signing.TIMESTAMP_HEADER),
                       handler.headers.get(signing.SIGNATURE_HEADER), body)
    except signing.BadSignature:
        return body, False
    return body, True


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A real HTTP server on a free port, in a thread for as long as the block runs; yields
    the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_peer(secret: str = "peer-secret") -> Iterator[Peer]:
    peer = Peer(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body, signed = read_signed(self, peer.secret)
            status, data = peer.handle(Request(
                path=self.path, key=self.headers.get("Idempotency-Key", ""), body=body,
                signed=signed))
            raw = b"" if data is None else (
                data if isinstance(data, bytes) else json.dumps(data).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as port:
        peer.url = f"http://127.0.0.1:{port}/api"
        yield peer


# --- cases and orders for the adapter tests ------------------------------------------------


def system(code: str) -> Any:
    from wangge.org.models import Department

    return Department.objects.get(code=code)


def wire(peer: Peer, code: str, **options: Any) -> Any:
    """The system's adapter pointed at the peer, signing with its secret."""
    from wangge.integration.actions.external import do_load_mappings, do_save_adapter
    from wangge.integration.mappings import shipped_rows

    adapter = do_save_adapter(system=system(code), kind=code, endpoint=peer.url,
                              secret=peer.secret, options=options)
    if not adapter.mappings.exists():
        do_load_mappings(adapter, shipped_rows(code))
    return adapter


_serial = iter(range(1, 1_000_000))


def make_case(category: str = "1001", *, to: str | None = "hotline_12345",
              grid: str = "胜利社区第3网格", channel: str = "grid_worker",
              reporter: str | None = "gridworker", title: str = "胜利路12号停水",
              description: str = "整栋楼从早上八点起停水，居民无法做饭", state: str = "dispatched",
              located: bool = True) -> Any:
    """A case as the loop leaves it after a dispatch to the system `to`."""
    from django.contrib.auth import get_user_model

    from wangge.cases.models import Case, CaseCategory
    from wangge.territory.models import Grid

    g = Grid.objects.get(name=grid)
    cat = CaseCategory.objects.get(code=category)
    return Case.objects.create(
        register_no=f"TA-2026-{next(_serial):06d}", category=cat, grid=g,
        lng=g.label_lng if located else None, lat=g.label_lat if located else None,
        title=title, description=description, channel=channel,
        reporter=get_user_model().objects.get(username=reporter) if reporter else None,
        state=state, confidential=cat.confidential,
        department=system(to) if to else None)


def transfer(case: Any, code: str = "hotline_12345") -> Any:
    """The order and `external.order` message a dispatch to the system opens."""
    from django.db import transaction

    from wangge.cases.actions.external import open_transfer

    with transaction.atomic():
        return open_transfer(case, system(code))


def resident_report(case: Any, *, building: Any = None, anonymous: bool = False) -> Any:
    """What a resident's public report adds: a sealed name and phone, or none."""
    from wangge.cases.models import PublicCategory, ResidentReport
    from wangge.core import crypto

    extra: dict[str, Any] = {"anonymous": True} if anonymous else {
        "anonymous": False, "name_enc": crypto.seal("王小明"), "name_masked": "王**",
        "phone_enc": crypto.seal("17090001234"), "phone_masked": "170****1234"}
    return ResidentReport.objects.create(
        case=case, source=ResidentReport.Source.WEB,
        public_category=PublicCategory.objects.filter(category=case.category).first()
        or PublicCategory.objects.first(), building=building, **extra)
