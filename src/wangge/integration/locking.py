"""Claiming rows and jobs among several workers.

PostgreSQL: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED (a worker never waits on
another's claim and never gets the same row), and a periodic job is run under a session
advisory lock (held by the connection, not a transaction, so a long job needs no long
transaction, and a killed worker's lock goes with its connection).

SQLite has neither, and needs neither for its one worker: every write transaction there is
BEGIN IMMEDIATE (settings), so claims are serialised by the database lock anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import DatabaseError, connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

#: first half of the two-int advisory lock key: "WGJB", so our locks are recognisable
JOB_LOCK_CLASS = 0x57474A42


def can_skip_locked() -> bool:
    return connection.features.has_select_for_update_skip_locked


def skip_locked(qs: QuerySet[M]) -> QuerySet[M]:
    """Lock the selected rows, skipping rows another transaction holds (where supported)."""
    return qs.select_for_update(skip_locked=True) if can_skip_locked() else qs


def several_workers_safe() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def job_lock(job_id: int) -> Iterator[bool]:
    """Yield True if this process may run the job now (no other process is running it)."""
    if not several_workers_safe():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)",
                                   [JOB_LOCK_CLASS, job_id])
            except DatabaseError:
                # a broken connection: closing it ends the session, and the lock with it
                connection.close()
