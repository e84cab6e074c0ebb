"""Open data (/open-data/): a public page describing the case data set, and its CSV.

Anyone may read both (no sign-in): the rows come from analytics.opendata, which decides
which cases and which columns (no personal data, no confidential case)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wangge.analytics import opendata


class SpanError(ValueError):
    def __init__(self, field: str, msg: str, code: str) -> None:
        super().__init__(msg)
        self.field, self.msg, self.code = field, msg, code


def _date(params: dict[str, str], field: str) -> dt.date | None:
    text = (params.get(field) or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SpanError(field, _("日期格式应为 YYYY-MM-DD"), "invalid_date") from None


def parse_span(params: dict[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """`from` / `to` (YYYY-MM-DD, inclusive). `to` defaults to today, `from` to 12 months
    before `to`. SpanError names the field: a bad date, `to` before `from`, or a span
    longer than opendata.MAX_SPAN_DAYS (the field given; `to` when both are)."""
    since, until = _date(params, "from"), _date(params, "to")
    end = until or today
    start = since or opendata.default_span(end)[0]
    if end < start:
        raise SpanError("to" if until else "from", _("结束日期不能早于开始日期"),
                        "reversed_span")
    if (end - start).days + 1 > opendata.MAX_SPAN_DAYS:
        raise SpanError("to" if until else "from", _("一次最多下载三年的数据"),
                        "span_too_long")
    return start, end


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    since, until = opendata.default_span(timezone.localdate())
    return render(request, "analytics/opendata.html", {
        "columns": opendata.COLUMNS, "since": since, "until": until,
        "max_years": opendata.MAX_SPAN_DAYS // 366,
    })


@require_GET
def cases_csv(request: HttpRequest) -> HttpResponse:
    try:
        since, until = parse_span(request.GET.dict(), timezone.localdate())
    except SpanError as e:
        return JsonResponse({"detail": [{"loc": ["query", e.field], "msg": e.msg,
                                         "code": e.code}]}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    resp = StreamingHttpResponse(opendata.csv_chunks(since, until),
                                 content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = (f'attachment; filename="cases-{since:%Y%m%d}-'
                                   f'{until:%Y%m%d}.csv"')
    return resp
