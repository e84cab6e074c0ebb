"""`/api/v1/services/items`: search the catalogue and read a published guide, thin over
services.search and services.access.

The catalogue is public data, but the API asks for a token or a session like the rest of
`/api/v1/` (integration.auth.API_AUTH); the public pages call the same functions directly.
A bad filter value is a 422 naming the query parameter; an unknown or withdrawn item 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import ValidationError

from wangge.core.schema import Offset, Text, responses
from wangge.org.models import Department
from wangge.services import access
from wangge.services.guide import due_dates
from wangge.services.models import ItemLevel, ItemType, LifeEvent, MaterialForm, ServiceItem
from wangge.services.search import search_items

router = Router(tags=["services"])

TypeCode = Literal[tuple(ItemType.values)]  # type: ignore[valid-type]
EventCode = Literal[tuple(LifeEvent.values)]  # type: ignore[valid-type]
Limit = Annotated[int, Query(ge=1, le=100)]


class DepartmentOut(Schema):
    code: str
    name: str


class ItemSummaryOut(Schema):
    code: str
    name: str
    department: DepartmentOut
    type: str
    type_label: str
    level: str
    proxy_eligible: bool
    online_prereview: bool
    events: list[str]
    promised_days: int | None


class ItemPageOut(Schema):
    total: int
    items: list[ItemSummaryOut]


class GuideMaterialOut(Schema):
    key: str
    name: str
    form: str
    form_label: str
    count: int
    required: bool
    condition: str
    note: str


class FaqOut(Schema):
    q: str
    a: str


class ItemGuideOut(ItemSummaryOut):
    version: int
    published_at: dt.datetime | None
    aliases: list[str]
    level_label: str
    legal_basis: str
    conditions: str
    materials: list[GuideMaterialOut]
    steps: list[str]
    legal_days: int
    fee: str
    place: str
    hours: str
    phone: str
    in_person_times: int
    prereview_days: int
    event_labels: list[str]
    faq: list[FaqOut]
    #: submitted now, the last day of each limit (workcal); null where the calendar of that
    #: year is not entered yet
    prereview_by: dt.date | None
    promised_by: dt.date | None
    legal_by: dt.date | None


def item_summary(item: ServiceItem) -> dict[str, Any]:
    return {"code": item.code, "name": item.name,
            "department": {"code": item.department.code, "name": item.department.name},
            "type": item.type, "type_label": str(ItemType(item.type).label),
            "level": item.level, "proxy_eligible": item.proxy_eligible,
            "online_prereview": item.online_prereview, "events": item.events,
            "promised_days": item.current.promised_days if item.current else None}


def item_guide(item: ServiceItem) -> dict[str, Any]:
    """The whole published guide (the version residents read) and its number."""
    v = item.current
    assert v is not None  # access_item only gives published items
    forms = dict(MaterialForm.choices)
    events = dict(LifeEvent.choices)
    return {**item_summary(item), "version": v.number, "published_at": v.published_at,
            "aliases": list(v.aliases), "level_label": str(ItemLevel(v.level).label),
            "legal_basis": v.legal_basis, "conditions": v.conditions,
            "materials": [{"key": m.get("key", ""), "name": m.get("name", ""),
                           "form": m.get("form", ""),
                           "form_label": str(forms.get(m.get("form", ""), "")),
                           "count": int(m.get("count") or 1),
                           "required": bool(m.get("required", True)),
                           "condition": m.get("condition", "") or "",
                           "note": m.get("note", "") or ""} for m in v.materials],
            "steps": [str(s) for s in v.steps], "legal_days": v.legal_days,
            "fee": v.fee, "place": v.place, "hours": v.hours, "phone": v.phone,
            "in_person_times": v.in_person_times, "prereview_days": v.prereview_days,
            "event_labels": [str(events.get(e, e)) for e in v.events],
            "faq": [{"q": f.get("q", ""), "a": f.get("a", "")} for f in v.faq],
            **due_dates(v)}


def _refuse(field: str, msg: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "msg": msg, "type": "invalid"}])


@router.get("/items", response=responses(ItemPageOut), summary="服务事项查询（一键查询）")
def list_items(request: HttpRequest, q: Text(100) = "",  # type: ignore[valid-type]
               department: Text(64) = "",  # type: ignore[valid-type]
               type: TypeCode | None = None, event: EventCode | None = None,
               proxy: bool | None = None, limit: Limit = 20, offset: Offset = 0) -> Any:
    if department and not Department.objects.filter(
            code=department, service_items__isnull=False).exists():
        raise _refuse("department", f"没有部门“{department}”的服务事项")
    found = search_items(q, department=department or None, type=type, event=event,
                         proxy=proxy, limit=limit, offset=offset)
    return {"total": found.total, "items": [item_summary(i) for i in found.items]}


@router.get("/items/{code}", response=responses(ItemGuideOut), summary="办事指南")
def get_item(request: HttpRequest, code: Text(40)) -> Any:  # type: ignore[valid-type]
    return item_guide(access.access_item(code))
