"""`/api/v1/stats/…`: figures computed from the records, within the caller's scope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import ValidationError

from wangge.analytics.headline import headline
from wangge.core.schema import Code, responses
from wangge.fieldwork.access import can_see_grid
from wangge.territory.models import Grid

router = Router(tags=["stats"])


class HeadlineOut(Schema):
    visits: int
    events: int
    opinions: int
    proxy_items: int
    leaflets: int


@router.get("/headline", response=responses(HeadlineOut),
            summary="五项主要数字：走访帮扶人次、事件、社情民意、代办件数、政策宣传资料（份）")
def headline_counters(request: HttpRequest, grid: Code = "",
                      since: Annotated[dt.date | None, Query(alias="from")] = None,
                      until: Annotated[dt.date | None, Query(alias="to")] = None) -> Any:
    """Within the caller's scope (all of it by default), all time by default. A grid the
    caller may not see answers 404, the same as one that does not exist."""
    if since and until and since > until:
        raise ValidationError([{"loc": ["query", "from"], "msg": "开始日期晚于结束日期",
                                "type": "invalid"}])
    where = None
    if grid:
        where = Grid.objects.filter(code=grid).first()
        if where is None or not can_see_grid(request.auth, where):
            raise Http404("no such grid")
    return headline(request.auth, grid=where, since=since, until=until).as_dict()
