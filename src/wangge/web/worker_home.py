"""The grid worker's landing page: what is theirs — the cases waiting for their verification,
the cases they reported, their unread reminders — and a big 上报事件 button. The full field
app (/app/) comes next; until then this is the worker's desk in the console. Every read goes
through cases.access; the map stays one tap away (?view=map)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.cases import access as case_access
from wangge.cases.labels import STATE_LABELS
from wangge.cases.notice import shown_title
from wangge.cases.workflow import Actor
from wangge.org.access import AnyUser, roles_of
from wangge.org.models import Role

SHOWN = 20  # rows per list: the worker's desk, not an archive (the queues page has the rest)
SHOWN_REPORTED = 10  # their own recent reports: the latest few, with their state


def is_worker_only(user: AnyUser) -> bool:
    """A user whose only current role is grid worker (not an admin account as well)."""
    return (user.is_authenticated and not user.is_superuser
            and roles_of(user) == {Role.GRID_WORKER})


def _rows(cases: Any) -> list[dict[str, Any]]:
    return [{"case": c, "title": shown_title(c), "state": STATE_LABELS.get(c.state, c.state)}
            for c in cases]


def worker_desk(user: AnyUser) -> dict[str, Any]:
    visible = case_access.visible_cases(user).select_related("category", "grid")
    to_verify = case_access.states_waiting_on(Actor.GRID_WORKER)
    verify = (visible.filter(case_access.waiting_on(user), state__in=to_verify)
              .order_by("created_at"))
    reported = visible.filter(reporter_id=user.pk).order_by("-created_at")
    unread = (case_access.notifications(user).filter(read_at__isnull=True)
              .select_related("case"))
    return {
        "verify": _rows(verify[:SHOWN]), "verify_count": verify.count(),
        "reported": _rows(reported[:SHOWN_REPORTED]), "reported_count": reported.count(),
        "reminders": [(n, shown_title(n.case)) for n in unread[:SHOWN]],
        "reminders_count": unread.count(),
    }


def worker_home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/worker_home.html", worker_desk(request.user))
