"""一键查询: Chinese search over the service catalogue.

Interface (stable; the search slice fills in the engine):

    search_items(q, *, department=None, type=None, event=None, proxy=None,
                 limit=20, offset=0) -> SearchResult(total, items)
    index_item(item) -> None      # rebuild the item's SearchTerm rows from its current version
    reindex_all() -> int

Placeholder engine: a plain name LIKE, so the pages and the API can be built against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from wangge.services.access import visible_items
from wangge.services.models import ServiceItem


@dataclass(frozen=True)
class SearchResult:
    total: int
    items: list[ServiceItem]


def search_items(q: str, *, department: str | None = None, type: str | None = None,
                 event: str | None = None, proxy: bool | None = None,
                 limit: int = 20, offset: int = 0) -> SearchResult:
    qs = visible_items().select_related("department")
    if q:
        qs = qs.filter(name__contains=q)
    if department:
        qs = qs.filter(department__code=department)
    if type:
        qs = qs.filter(type=type)
    if event:
        qs = qs.filter(events_text__contains=f"|{event}|")
    if proxy is not None:
        qs = qs.filter(proxy_eligible=proxy)
    return SearchResult(qs.count(), list(qs.order_by("code")[offset:offset + limit]))


def index_item(item: ServiceItem) -> None:
    """Placeholder: the search slice builds SearchTerm rows here."""


def reindex_all() -> int:
    return 0
