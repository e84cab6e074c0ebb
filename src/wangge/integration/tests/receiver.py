"""A webhook receiver for tests: a real HTTP server in a thread that checks signatures the
way docs/worker.md tells receivers to, records every hit, and answers from a script."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def verify(secret: str, body: bytes, header: str) -> bool:
    """The receiver's check, written independently of the sender's code."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@dataclass
class Hit:
    key: str
    topic: str
    body: bytes
    signed: bool
    timestamp: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    #: status codes to answer with, in order; then `default_status`
    script: list[int] = field(default_factory=list)
    default_status: int = 200
    delay_s: float = 0.0
    #: answer this share of hits with a 500, at random (seeded)
    fail_rate: float = 0.0
    failed: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, hit: Hit) -> int:
        with self.lock:
            self.hits.append(hit)
            if self.script:
                return self.script.pop(0)
            if self.fail_rate and self.rng.random() < self.fail_rate:
                self.failed += 1
                return 500
            return self.default_status

    @property
    def keys(self) -> Counter[str]:
        """Hits per idempotency key (successful or not)."""
        with self.lock:
            return Counter(h.key for h in self.hits)

    def processed(self) -> dict[str, Hit]:
        """What a receiver deduplicating by Idempotency-Key acts on: the first hit per key."""
        seen: dict[str, Hit] = {}
        with self.lock:
            for h in self.hits:
                seen.setdefault(h.key, h)
        return seen


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender that timed out and hung up is what some tests are about


@contextmanager
def running_receiver(secret: str = "test-secret", **kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, **kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.record(Hit(
                key=self.headers.get("Idempotency-Key", ""),
                topic=self.headers.get("X-Wangge-Topic", ""),
                body=body,
                signed=verify(receiver.secret, body, self.headers.get("X-Wangge-Signature", "")),
                timestamp=self.headers.get("X-Wangge-Timestamp", ""),
            ))
            if receiver.delay_s:
                # after recording: a sender that dies now has delivered without knowing it
                time.sleep(receiver.delay_s)
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
