"""The shape of what external systems send us (docs/external-systems.md, "Inbound"): a status
call-back and a work order, checked key by key before anything is looked up or written.

Everything here is pure: a JSON body in, a frozen record out, or `InboundRefused` naming the
field (400). Looking up orders, categories and grids is the action's business
(`integration.actions.inbound`)."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from wangge.cases.actions.external import STATUS_WORDS
from wangge.cases.public_text import scrub
from wangge.core.schema import text_problem
from wangge.registry.identity import mask_name

#: the largest body we read (a call-back is a few hundred bytes, an order a few KB)
MAX_BODY_BYTES = 64 * 1024
#: the lengths of the columns these land in (InboundCall, ExternalOrder)
MAX_EVENT_ID = 64
MAX_ORDER_NO = 40
MAX_NOTE = 2000
MAX_CONTENT = 5000
#: the coordinate system our map and grids use; a system sending GCJ-02 would land its
#: points some hundred metres off, in the wrong grid: refused rather than misplaced
CRS = "WGS84"


class InboundRefused(Exception):
    """A call we do not act on: the HTTP status, the field it names and why
    (`{"error": {"field", "message"}}`)."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


@dataclass(frozen=True)
class Callback:
    event_id: str
    order_no: str
    status: str
    note: str
    occurred_at: dt.datetime
    #: our number, when they send it too: finds the order before their answer to our send
    #: was recorded (a call-back overtaking a slow answer)
    source_no: str = ""


@dataclass(frozen=True)
class WorkOrder:
    order_no: str
    title: str
    content: str
    #: a point (WGS84) or, without one, the code of a grid to place it at
    lng: float | None
    lat: float | None
    grid_code: str
    #: their classification code (mapped back through the adapter's table) or ours
    category_code: str
    category: str
    deadline: dt.datetime | None


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InboundRefused(400, "body", "the body must be JSON in UTF-8") from None
    if not isinstance(data, dict):
        raise InboundRefused(400, "body", "the body must be a JSON object")
    return data


def peek(body: bytes) -> dict[str, str]:
    """event_id, order_no and status as far as they can be read, for the log of a refused
    call (never raises)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in ("event_id", "order_no", "status") if isinstance(data.get(k), str)}


def loggable(body: bytes) -> str:
    """The body as the exchange log keeps it: an order's appellant masked (张*), and phones,
    ID numbers and e-mail addresses masked anywhere (a 12345 order carries the caller's
    contact; the log is read by operators, never sealed)."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("appellant"), str):
        data["appellant"] = mask_name(data["appellant"])
        text = json.dumps(data, ensure_ascii=False)
    return scrub(text)


def _text(data: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InboundRefused(400, name, "required")
        return ""
    if not isinstance(value, str):
        raise InboundRefused(400, name, "must be a string")
    value = value.strip()
    if required and not value:
        raise InboundRefused(400, name, "required")
    if len(value) > limit:
        raise InboundRefused(400, name, f"at most {limit} characters")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise InboundRefused(400, name, "control characters are not allowed")
    if (problem := text_problem(value)) is not None:  # a lone surrogate
        raise InboundRefused(400, name, problem[1])
    return value


def _moment(data: dict[str, Any], name: str, *, required: bool) -> dt.datetime | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InboundRefused(400, name, "required")
        return None
    if not isinstance(value, str):
        raise InboundRefused(400, name, "must be an ISO 8601 date and time")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InboundRefused(400, name, "must be an ISO 8601 date and time, e.g. "
                                        "2026-11-30T10:12:00+08:00") from None
    if timezone.is_naive(moment):  # their local time: the city's
        moment = timezone.make_aware(moment)
    return moment


def parse_callback(data: dict[str, Any]) -> Callback:
    status = _text(data, "status", required=True, limit=16)
    if status not in STATUS_WORDS:
        raise InboundRefused(400, "status", f"unknown status {status!r}; one of "
                                            f"{', '.join(STATUS_WORDS)}")
    return Callback(
        event_id=_text(data, "event_id", required=True, limit=MAX_EVENT_ID),
        order_no=_text(data, "order_no", required=True, limit=MAX_ORDER_NO),
        status=status,
        note=_text(data, "note", required=False, limit=MAX_NOTE),
        occurred_at=_moment(data, "occurred_at", required=True),  # type: ignore[arg-type]
        source_no=_text(data, "source_no", required=False, limit=MAX_ORDER_NO),
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _location(data: dict[str, Any]) -> tuple[float | None, float | None]:
    where = data.get("location")
    if where is None:
        return None, None
    if not isinstance(where, dict):
        raise InboundRefused(400, "location", 'must be {"lng": …, "lat": …, "crs": "WGS84"}')
    crs = where.get("crs", CRS)
    if crs not in (CRS, None):
        raise InboundRefused(400, "location", f"coordinates must be {CRS} (got {crs!r})")
    lng, lat = _number(where.get("lng")), _number(where.get("lat"))
    if lng is None or lat is None or not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise InboundRefused(400, "location", "lng and lat must be numbers (degrees)")
    return lng, lat


def parse_work_order(data: dict[str, Any]) -> WorkOrder:
    order_no = _text(data, "order_no", required=True, limit=MAX_ORDER_NO)
    title = _text(data, "title", required=True, limit=100)
    content = _text(data, "content", required=False, limit=MAX_CONTENT)
    lng, lat = _location(data)
    grid_code = _text(data, "grid_code", required=False, limit=32)
    if lng is None and not grid_code:
        raise InboundRefused(400, "location", "a location (or a grid_code) is required")
    category_code = _text(data, "category_code", required=False, limit=32)
    category = _text(data, "category", required=False, limit=16)
    if not category_code and not category:
        raise InboundRefused(400, "category_code", "required (or our small-class code in "
                                                   "category)")
    return WorkOrder(order_no=order_no, title=title, content=content, lng=lng, lat=lat,
                     grid_code=grid_code, category_code=category_code, category=category,
                     deadline=_moment(data, "deadline", required=False))
