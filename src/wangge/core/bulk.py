"""Fast bulk inserts for imports, below the ORM.

Django's bulk_create compiles every value through the field machinery (~10 µs a value), which
caps a 20-column import at a few thousand rows a second. Here rows go as plain tuples: COPY
on PostgreSQL, executemany on SQLite (the portable path, tested on every run). Ids are
allocated first so the caller can link history rows to what it inserted.

Callers pass database-ready values (dates, Decimals, bytes, JSON as text) in `fields` order
and run inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def db_datetime(value: dt.datetime | None) -> Any:
    """An aware datetime as the backend stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def db_date(value: dt.date | None) -> Any:
    return connection.ops.adapt_datefield_value(value)


def db_json(value: Any) -> str:
    """JSON text exactly as Django's JSONField writes it (ASCII-escaped), so that text
    lookups on SQLite treat bulk rows and ORM rows alike."""
    return json.dumps(value)


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """n fresh primary keys for `model`. Call inside the transaction that inserts them."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [row[0] for row in cur.fetchall()]
        # SQLite: one writer at a time (transactions are IMMEDIATE), so max(id) is ours.
        cur.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
        start = cur.fetchone()[0] + 1
        return list(range(start, start + n))


def insert_rows(model: type[models.Model], fields: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> None:
    """Insert plain tuples into `model`'s table (columns named by field attnames)."""
    table = model._meta.db_table
    columns = ", ".join(f'"{model._meta.get_field(f).column}"' for f in fields)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cur.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(rows))
