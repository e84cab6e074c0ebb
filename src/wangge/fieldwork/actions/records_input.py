"""Reading an envelope's payload for the records areas (visits, opinions, diary,
outreach): each reader raises FieldworkError naming the payload field, so a phone's sync
and a REST POST get the same 422. Payloads are plain JSON (the REST schemas dump theirs
in JSON mode first), so dates and times arrive as ISO strings."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from wangge.core.schema import FREE_TEXT, text_problem
from wangge.fieldwork.errors import FieldworkError

#: a device clock may run a little ahead of the server's
CLOCK_SKEW = dt.timedelta(minutes=10)
#: no field record is older than this: an earlier time is a device's mistake (and 0001-01-01
#: with an offset would overflow the database's timestamp on conversion to UTC)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
SHA256 = re.compile(r"[0-9a-f]{64}")


def text(p: dict[str, Any], field: str, *, max_length: int = FREE_TEXT,
         required: bool = False) -> str:
    value = p.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldworkError(field, "must be text", "type")
    value = value.strip()
    if required and not value:
        raise FieldworkError(field, "required", "required")
    if len(value) > max_length:
        raise FieldworkError(field, f"at most {max_length} characters", "too_long")
    if (problem := text_problem(value)) is not None:
        raise FieldworkError(field, problem[1], problem[0])
    return value


def code(p: dict[str, Any], field: str, *, max_length: int = 64) -> str:
    """A catalogue code or a key as given (looked up by the caller): a short storable string
    (PostgreSQL refuses a NUL byte even in a WHERE clause)."""
    value = p.get(field)
    if (not isinstance(value, str) or not value or len(value) > max_length
            or text_problem(value) is not None):
        raise FieldworkError(field, f"must be a code of at most {max_length} characters",
                             "choice")
    return value


def integer(p: dict[str, Any], field: str, *, low: int, high: int,
            default: int | None = None) -> int:
    value = p.get(field, default)
    if value is None:
        raise FieldworkError(field, "required", "required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldworkError(field, "must be a whole number", "type")
    if not low <= value <= high:
        raise FieldworkError(field, f"must be between {low} and {high}", "range")
    return value


def optional_id(p: dict[str, Any], field: str) -> int | None:
    if p.get(field) is None:
        return None
    return integer(p, field, low=1, high=2**63 - 1)


def moment(p: dict[str, Any], field: str) -> dt.datetime:
    """An ISO 8601 time with its offset, not in the future (beyond clock skew) and not
    before 2000-01-01."""
    value = p.get(field)
    if not isinstance(value, str) or not value:
        raise FieldworkError(field, "required: an ISO 8601 time with offset", "required")
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FieldworkError(field, "not an ISO 8601 time", "invalid") from None
    if at.tzinfo is None:
        raise FieldworkError(field, "the time needs its UTC offset", "naive_time")
    if at < EARLIEST:
        raise FieldworkError(field, "lies before 2000-01-01", "too_early")
    if at > timezone.now() + CLOCK_SKEW:
        raise FieldworkError(field, "lies in the future", "future")
    return at


def day(p: dict[str, Any], field: str, *, required: bool = True) -> dt.date | None:
    value = p.get(field)
    if value is None or value == "":
        if required:
            raise FieldworkError(field, "required: a date YYYY-MM-DD", "required")
        return None
    if not isinstance(value, str):
        raise FieldworkError(field, "must be a date YYYY-MM-DD", "type")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldworkError(field, "not a date YYYY-MM-DD", "invalid") from None


def choice(p: dict[str, Any], field: str, choices: list[str], default: str | None = None
           ) -> str:
    value = p.get(field, default)
    if value not in choices:
        raise FieldworkError(field, f"must be one of {', '.join(choices)}", "choice")
    return str(value)


def items(p: dict[str, Any], field: str, *, most: int) -> list[Any]:
    value = p.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldworkError(field, "must be a list", "type")
    if len(value) > most:
        raise FieldworkError(field, f"at most {most} items", "too_many")
    return value


def ids(p: dict[str, Any], field: str, *, most: int = 50) -> list[int]:
    out: list[int] = []
    for i, value in enumerate(items(p, field, most=most)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise FieldworkError(f"{field}.{i}", "must be an id", "type")
        if value not in out:
            out.append(value)
    return out


def hashes(p: dict[str, Any], field: str, *, most: int) -> list[str]:
    out: list[str] = []
    for i, value in enumerate(items(p, field, most=most)):
        if not isinstance(value, str) or not SHA256.fullmatch(value.lower()):
            raise FieldworkError(f"{field}.{i}", "must be a SHA-256 hex digest", "invalid")
        if value.lower() not in out:
            out.append(value.lower())
    return out
