"""The open data set of cases (开放数据): what it holds, its columns, and its rows.

Modelled on NYC 311's open data (one row per service request, its agency, complaint type,
descriptor, status, resolution and location). Which cases: the public *list* rule of the
project (cases.access.listed_public_cases: never a confidential case, and only kinds of
problem about places and things, so a resident's own trouble — 求助, 邻里纠纷, 咨询 — is
never in a list), and of those neither rejected (不予受理) nor merged into another case as a
duplicate: the open data holds the valid reports (有效上报, metrics.BASES "valid").

What never appears: the reporter, contact data, the description, photos, titles, staff
names. The one free-text column (resolution_description, the closeout reason) goes
through cases.public_text.scrub, and coordinates are rounded to 3 decimals (about 100 m),
so a home is not pinpointed.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from wangge.cases.access import listed_public_cases
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case
from wangge.cases.public_text import scrub
from wangge.cases.workflow import State
from wangge.territory.models import Kind

#: the longest span one download may cover
MAX_SPAN_DAYS = 3 * 366
#: decimals kept of a latitude / longitude (3: about 100 m)
COORD_DECIMALS = 3
#: rows read from the database at a time
CHUNK = 2000


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # zh-Hans, for the page and the docs
    doc: str


COLUMNS: tuple[Column, ...] = (
    Column("unique_key", "登记号", "the case's register number (登记号), unique"),
    Column("created_date", "上报时间",
           "when the case was reported, Asia/Shanghai, YYYY-MM-DD HH:MM:SS"),
    Column("closed_date", "销号时间", "when it was closed (销号), same format; empty while open"),
    Column("agency", "承办部门", "the department (or external system) handling it; empty "
           "before dispatch"),
    Column("complaint_type", "事件大类", "the big class of the event classification list"),
    Column("descriptor", "事件小类", "the small class the case is filed under"),
    Column("location_type", "网格类型", "the kind of the case's grid (城市网格, 农村网格, "
           "社区, 村 …); empty if the grid has no kind"),
    Column("status", "状态", "the case's state, as the console names it (zh-Hans)"),
    Column("resolution_description", "销号原因",
           "the closeout reason, with phones, ID numbers and e-mail addresses masked"),
    Column("grid_code", "基层网格编码", "the basic (level-4) grid's code; empty when the case "
           "sits on a grid above that level"),
    Column("community_code", "社区（村）编码", "the level-3 grid (community or village) above"),
    Column("town_code", "街道（镇）编码", "the level-2 grid (sub-district or town) above"),
    Column("latitude", "纬度", "WGS 84, rounded to 3 decimals (about 100 m); empty if unknown"),
    Column("longitude", "经度", "WGS 84, rounded to 3 decimals; empty if unknown"),
)
HEADERS: list[str] = [c.name for c in COLUMNS]


def default_span(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months up to today."""
    try:
        start = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 1, day=28)
    return start + dt.timedelta(days=1), today


def open_cases(since: dt.date, until: dt.date) -> QuerySet[Case]:
    """The cases of the data set created `since`..`until` (inclusive, Asia/Shanghai days),
    oldest first."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return (listed_public_cases()
            .filter(created_at__gte=lo, created_at__lt=hi, merged_into__isnull=True)
            .exclude(state=State.REJECTED)
            .order_by("created_at", "pk"))


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def _coord(value: float | None) -> str:
    return "" if value is None else f"{round(value, COORD_DECIMALS):.{COORD_DECIMALS}f}"


def _cell(text: str) -> str:
    """Text a spreadsheet would take for a formula is kept as text (as core.tables)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _codes(path: str) -> tuple[str, str, str]:
    """(basic, community, town) codes from a grid's materialized path (level = depth - 1)."""
    parts = path.strip("/").split("/")
    return (parts[4] if len(parts) > 4 else "", parts[3] if len(parts) > 3 else "",
            parts[2] if len(parts) > 2 else "")


FIELDS = ("register_no", "created_at", "closed_at", "department__name",
          "category__parent__name", "category__name", "grid__kind", "state",
          "closeout_reason", "grid__path", "lat", "lng")


def rows(since: dt.date, until: dt.date) -> Iterator[list[str]]:
    """The data set's rows, in HEADERS' order, as text."""
    states = {k: str(v) for k, v in STATE_LABELS.items()}
    kind_labels = {k: str(v) for k, v in Kind.choices}
    for (no, created, closed, agency, big, small, kind, state, reason, path, lat,
         lng) in open_cases(since, until).values_list(*FIELDS).iterator(chunk_size=CHUNK):
        basic, community, town = _codes(path)
        yield [no, _when(created), _when(closed), _cell(agency or ""),
               big or small or "", small if big else "", kind_labels.get(kind, ""),
               states.get(state, state), _cell(scrub(reason or "")), basic, community, town,
               _coord(lat), _coord(lng)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(since: dt.date, until: dt.date) -> Iterator[bytes]:
    """The CSV as UTF-8 bytes with a BOM (so Excel reads the Chinese), a few hundred rows
    per chunk."""
    writer = csv.writer(_Echo())
    buf = ["\ufeff" + writer.writerow(HEADERS)]
    for row in rows(since, until):
        buf.append(writer.writerow(row))
        if len(buf) >= 500:
            yield "".join(buf).encode("utf-8")
            buf = []
    if buf:
        yield "".join(buf).encode("utf-8")
