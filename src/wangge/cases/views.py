"""Case console pages (the rest of the console comes with the queues)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wangge.cases.notice import notice, shown_title


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return default


@login_required
def notice_page(request: HttpRequest) -> HttpResponse:
    """督办通报: a printable page for a period."""
    today = timezone.localdate()
    end = _date(request.GET.get("to"), today)
    start = _date(request.GET.get("from"), end - dt.timedelta(days=30))
    lines = notice(request.user, start, end, today)
    for line in lines:
        line.rows = [(a.case.register_no, shown_title(a.case), a.task, a.deadline)
                     for a in line.overdue]
        line.sups = [(s.case.register_no, shown_title(s.case), s.get_level_display(), s.deadline)
                     for s in line.supervised]
    return render(request, "cases/notice.html", {"start": start, "end": end, "lines": lines})
