"""A simulator's memory: its orders, the idempotency keys it has answered, its counters.

In memory, and with `--state FILE` written through to a sqlite3 file on every change, so a
restarted simulator still knows its orders and answers a repeated order as the first time
(stdlib sqlite3: the simulator needs no database of ours)."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

Order = dict[str, Any]

SCHEMA = """
create table if not exists orders (number text primary key, data text not null);
create table if not exists answers (key text primary key, data text not null);
create table if not exists counters (name text primary key, value integer not null);
"""


class Store:
    def __init__(self, path: str | None = None) -> None:
        #: everything below is read and changed under this lock
        self.lock = threading.RLock()
        #: their number → order
        self.orders: dict[str, Order] = {}
        #: our number → their number
        self.ours: dict[str, str] = {}
        #: idempotency key → the first answer {"status": 201, "body": {...}}
        self.answers: dict[str, dict[str, Any]] = {}
        self.counters: dict[str, int] = {}
        self.db: sqlite3.Connection | None = None
        if path:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.executescript(SCHEMA)
            for number, data in self.db.execute("select number, data from orders"):
                self.orders[number] = json.loads(data)
            for key, data in self.db.execute("select key, data from answers"):
                self.answers[key] = json.loads(data)
            self.counters.update(self.db.execute("select name, value from counters"))
            for number, order in self.orders.items():
                if order.get("our_no"):
                    self.ours[order["our_no"]] = number

    def next(self, name: str) -> int:
        with self.lock:
            value = self.counters.get(name, 0) + 1
            self.counters[name] = value
            if self.db:
                self.db.execute("insert or replace into counters values (?, ?)", (name, value))
            return value

    def find(self, number: str) -> Order | None:
        """An order by their number or ours."""
        with self.lock:
            return self.orders.get(number) or self.orders.get(self.ours.get(number, ""))

    def save(self, order: Order) -> None:
        with self.lock:
            self.orders[order["number"]] = order
            if order.get("our_no"):
                self.ours[order["our_no"]] = order["number"]
            if self.db:
                self.db.execute("insert or replace into orders values (?, ?)",
                                (order["number"], json.dumps(order, ensure_ascii=False)))

    def remember(self, key: str, answer: dict[str, Any]) -> None:
        with self.lock:
            self.answers[key] = answer
            if self.db:
                self.db.execute("insert or replace into answers values (?, ?)",
                                (key, json.dumps(answer, ensure_ascii=False)))

    def close(self) -> None:
        with self.lock:
            if self.db:
                self.db.close()
                self.db = None
