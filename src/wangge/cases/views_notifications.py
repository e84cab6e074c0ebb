"""提醒: the user's own notifications — SLA warnings and breaches of cases they are
responsible for. Opening one (a POST) marks it read and goes to the case."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from wangge.cases import access, actions
from wangge.cases.notice import shown_title

PAGE = 50


@login_required
def notifications_page(request: HttpRequest) -> HttpResponse:
    """The notifications, headed by the late cases (access.overdue, the same count as the 超期
    queue) and how many of them wait for this user's move; each notification says whether
    its case is late now."""
    qs = access.notifications(request.user).select_related("case")
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    late = access.overdue_cases(request.user, timezone.now())
    late_now = set(late.filter(pk__in={n.case_id for n in page})
                   .values_list("pk", flat=True))
    return render(request, "cases/notifications.html", {
        "page": page, "rows": [(n, shown_title(n.case), n.case_id in late_now) for n in page],
        "late_total": late.count(),
        "late_mine": late.filter(access.waiting_on(request.user)).count()})


@login_required
@require_POST  # marking read is a change: never from a link another site could plant
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    found = access.access_notification(request.user, pk)
    actions.do_mark_notifications_read(request.user, [found.pk])
    return redirect("cases:case", found.case.register_no)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    actions.do_mark_notifications_read(request.user)
    return redirect("cases:notifications")
