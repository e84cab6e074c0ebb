"""Gapless numbers per prefix and year: TJ2026000123 (a dispute, 调解), XY2026000045 (an
agreement, 协议). The counter row stays locked until the creating transaction ends, so a
number is used exactly when its record is committed."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from wangge.core.models import NumberCounter


def next_no(prefix: str, now: dt.datetime | None = None) -> str:
    """Call it as late in the transaction as possible: every create waits on this row."""
    key = f"{prefix}{timezone.localtime(now or timezone.now()).year}"
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE key = %s RETURNING last",
                       [key])
        row = cursor.fetchone()
    if row is None:  # the year's first; a concurrent first one loses on the key, retries
        try:
            with transaction.atomic():
                NumberCounter.objects.create(key=key, last=1)
        except IntegrityError:
            return next_no(prefix, now)
        row = (1,)
    return f"{key}{row[0]:06d}"
