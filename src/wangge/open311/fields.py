"""The GeoReport v2 fields: parsing what a client sends (dates, status, lists, a POST's
attributes and contact) and shaping what it reads (a service, a service definition, a
request). Every error names the Open311 field (`Open311Error`, HTTP 400).

What a request shows is what the public status page may show and no more: the state in a
resident's words (`cases.public_text`), free text scrubbed, the department's name, the
address the resident gave or the grid's names; never a person's name, phone, e-mail, device
or account, never a staff name, never our photos, never the written reply."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime

from wangge.cases.models import Case, PublicCategory
from wangge.cases.public_text import STATE_WORDS, is_open, scrub
from wangge.cases.workflow import State
from wangge.open311.render import Open311Error

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: at most this many ids in one service_request_id list (the page's own cap)
MAX_IDS = 1000
#: the spec's default window and page
DEFAULT_DAYS = 90
#: the years a date filter may name
EARLIEST, LATEST = 1970, 2200
PAGE = 1000

#: do_resident_report's field names → the Open311 names a client sent
_FIELD_NAMES = {
    "public_category": "service_code",
    "lat": "lat/long/address_string",
    "lng": "lat/long/address_string",
    "contact.name": "first_name",
    "contact.phone": "phone",
    "contact.email": "email",
    "photos": "media",
    "client_key": "Idempotency-Key",
}


def open311_field(field: str) -> str:
    """The Open311 name of an intake field (attributes.X → attribute[X])."""
    if field.startswith("attributes."):
        return f"attribute[{field.removeprefix('attributes.')}]"
    return _FIELD_NAMES.get(field, field)


# --- reading what a client sends ----------------------------------------------------------


def comma_list(raw: str | None, field: str, limit: int = MAX_IDS) -> list[str]:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    if len(values) > limit:
        raise Open311Error(400, f"{field}: at most {limit} values")
    return values


def parse_when(raw: str | None, field: str) -> dt.datetime | None:
    """W3C / ISO 8601: a date-time with an offset (or Z), a naive one read as Asia/Shanghai,
    or a date (its midnight in Asia/Shanghai)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().replace(" ", "+") if "T" in raw else raw.strip()  # '+' sent unescaped
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise Open311Error(400, f"{field}: not a W3C date-time like 2026-01-31T08:00:00+08:00")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    # a window reaches 90 days back from its end, and databases disagree at the edges of
    # year 1 and 9999: requests live in a sane range
    if not EARLIEST <= moment.year <= LATEST:
        raise Open311Error(400, f"{field}: a date between {EARLIEST} and {LATEST}")
    return moment


def parse_status(raw: str | None) -> set[str]:
    """{'open'}, {'closed'}, both or none (= both)."""
    given = {v.lower() for v in comma_list(raw, "status", 2)}
    if bad := given - {"open", "closed"}:
        raise Open311Error(400, f"status: open or closed, not {', '.join(sorted(bad))}")
    return given


def parse_coordinate(raw: str | None, field: str) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{field}: a decimal number (WGS84 degrees)") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{field}: a decimal number (WGS84 degrees)")
    return value


_URL = URLValidator(schemes=["http", "https"])


def parse_media_url(raw: str | None) -> str:
    """An http(s) URL or nothing: clients show it as a link, so never `javascript:`."""
    url = (raw or "").strip()
    if not url:
        return ""
    if len(url) > 500:
        raise Open311Error(400, "media_url: at most 500 characters")
    try:
        _URL(url)
    except ValidationError:
        raise Open311Error(400, "media_url: an http(s) URL") from None
    return url


def parse_attributes(data: QueryDict) -> dict[str, Any]:
    """attribute[CODE]=v and attribute[CODE][]=v1&attribute[CODE][]=v2 → {CODE: v | [v…]}."""
    out: dict[str, Any] = {}
    for key in data:
        if not key.startswith("attribute["):
            continue
        many = key.endswith("[]")
        code = key[len("attribute["):-3 if many else -1] if key.endswith("]") else ""
        if not code or "[" in code or "]" in code:
            raise Open311Error(400, f"{key}: write attribute[CODE] or attribute[CODE][]")
        values = data.getlist(key)
        out[code] = values if many or len(values) > 1 else values[0]
    return out


# --- what a client reads --------------------------------------------------------------------


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with its +08:00 offset."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment else None


def service(category: PublicCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.intake_fields),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


def service_definition(category: PublicCategory) -> dict[str, Any]:
    fields = sorted(category.intake_fields or [], key=lambda f: f.get("order", 0))
    return {
        "service_code": category.code,
        "attributes": [{
            "variable": True,
            "code": f["code"],
            "datatype": f.get("datatype", "string"),
            "required": bool(f.get("required")),
            "datatype_description": f.get("datatype_description", ""),
            "order": f.get("order", i + 1),
            "description": f.get("description", f["code"]),
            "values": [{"key": str(v["key"]), "name": v.get("name", str(v["key"]))}
                       for v in f.get("values", [])],
        } for i, f in enumerate(fields)],
    }


#: what every pattern scrub() masks contains: a digit or an @
_MAYBE_PERSONAL = re.compile(r"[\d@]")


def public_text(text: str) -> str:
    """scrub(), skipped for text with neither a digit nor an @ (nothing it masks can be in
    it; a page of 1,000 is 2,000 texts)."""
    return scrub(text) if _MAYBE_PERSONAL.search(text) else text


def grid_names(row: Mapping[str, Any]) -> str:
    """Town, community, grid: where a case with no address of its own is."""
    names = (row["grid__parent__parent__name"], row["grid__parent__name"], row["grid__name"])
    return " ".join(n for n in names if n)


def notice(state: str, deadline: dt.datetime | None) -> str:
    """service_notice: what happens next and by when, in plain words."""
    if state == State.REPORTED:
        return "我们已收到，将在一个工作日内核实登记；登记后可凭编号查询办理进度。"
    if deadline is not None and is_open(state):
        return f"按规定应于{deadline.astimezone(SHANGHAI):%Y年%m月%d日 %H:%M}前办结。"
    return ""


def default_kinds(kinds: Iterable[PublicCategory]) -> dict[int, PublicCategory]:
    """Case category id → the first resident-facing category of it (by order): the service
    of a case no resident's choice names."""
    out: dict[int, PublicCategory] = {}
    for k in kinds:
        out.setdefault(k.category_id, k)
    return out


class Shaper:
    """Turns the rows of `queries.requests_page` (plain values: a page of 1,000 as model
    instances with their joined department, rule, grids and report was most of the view's
    time) into request records; knows the resident-facing categories (one small query) so
    no case needs another one."""

    def __init__(self, categories: Iterable[PublicCategory]) -> None:
        # the words of each state translated once, not once per case
        self.words = {state: str(words) for state, words in STATE_WORDS.items()}
        listed = list(categories)
        self.by_id = {c.pk: c for c in listed}
        self.by_category = default_kinds(listed)

    def request(self, row: Mapping[str, Any]) -> dict[str, Any]:
        chosen = self.by_id.get(row["resident_report__public_category_id"] or 0)
        # the category the resident chose while the case is still of its kind; a case
        # reclassified since (or from another channel) is listed under its kind's first
        kind = chosen if chosen is not None and chosen.category_id == row["category_id"] \
            else self.by_category.get(row["category_id"])
        resident = row["channel"] == Case.Channel.RESIDENT
        deadline: dt.datetime | None = row["clock_deadline"]
        address = row["resident_report__address"]
        return {
            "service_request_id": row["register_no"],
            "status": "open" if is_open(row["state"]) else "closed",
            "status_notes": self.words.get(row["state"], ""),
            "service_name": kind.name if kind else "",
            "service_code": kind.code if kind else "",
            # never free text: a resident's words can name people, their flat, their illness
            # (the status page does not show them either); a resident's case has a title
            # made of the kind and the building (do_resident_report), other channels' titles
            # are typed by staff, so those show the kind's name only
            "description": public_text(row["title"] if resident else (kind.name if kind else "")),
            "agency_responsible": (row["department__name"]
                                   or row["routed_by__department__name"] or ""),
            "service_notice": notice(row["state"], deadline),
            "requested_datetime": iso(row["created_at"]),
            "updated_datetime": iso(row["last_event_at"] or row["created_at"]),
            "expected_datetime": iso(deadline),
            # an address_string is free text too (a client may have put a phone in it)
            "address": public_text(address) if address else grid_names(row),
            "lat": row["lat"],
            "long": row["lng"],
            "media_url": row["resident_report__media_url"] or "",
        }


def post_answer(case: Case, token: str, notice_text: str) -> dict[str, Any]:
    return {"service_request_id": case.register_no, "token": token,
            "service_notice": notice_text, "account_id": None}
