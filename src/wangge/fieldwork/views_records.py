"""Console pages: the review of visits, public opinions (with their steps and the digest),
the diary (the chain's only) and outreach (listed in fieldwork/urls.py). Thin: parse,
call access / actions / records_queries, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wangge.cases.models import CaseCategory
from wangge.fieldwork import access, records_queries
from wangge.fieldwork.actions.opinions import (
    FORWARD_ROLES,
    do_answer_opinion,
    do_forward_opinion,
    do_opinion_to_case,
)
from wangge.fieldwork.actions.outreach import do_save_material
from wangge.fieldwork.errors import Conflict, FieldworkError
from wangge.fieldwork.models import Material, Opinion, OpinionTopic, VisitKind
from wangge.org.access import TERRITORY_READ_ROLES, in_scope
from wangge.territory.models import Grid

PER_PAGE = 50


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _period(request: HttpRequest, default_days: int = 30) -> tuple[dt.date, dt.date]:
    """The ?from=&to= period (local days), the last `default_days` days by default."""
    today = timezone.localdate()
    end = _date(request.GET.get("to")) or today
    start = _date(request.GET.get("from")) or end - dt.timedelta(days=default_days - 1)
    return min(start, end), end


def _grid(request: HttpRequest) -> Grid | None:
    code = request.GET.get("grid", "").strip()
    grid = Grid.objects.filter(code=code).first() if code else None
    return grid if grid is not None and access.can_see_grid(request.user, grid) else None


def _grid_choices(user: Any) -> QuerySet[Grid]:
    """The towns and communities of the user's scope, for the grid filter."""
    return Grid.objects.filter(in_scope(user, roles=TERRITORY_READ_ROLES),
                               level__in=[2, 3]).order_by("path")


def _under(qs: QuerySet, grid: Grid | None) -> QuerySet:
    return qs.filter(grid__path__startswith=grid.path) if grid is not None else qs


def _page(request: HttpRequest, qs: QuerySet) -> Any:
    return Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    """The filters, for the pager's links."""
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


@login_required
def visits(request: HttpRequest) -> HttpResponse:
    start, end = _period(request)
    grid = _grid(request)
    qs = records_queries.local_range(_under(access.visible_visits(request.user), grid),
                                     "visited_at", start, end)
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind__code=kind)
    totals = qs.aggregate(people=Sum("people_met"))
    rows = qs.select_related("kind", "grid", "worker", "household", "resident").order_by(
        "-visited_at", "-pk")
    return render(request, "fieldwork/records/visits.html", {
        "page": _page(request, rows), "query": _query(request), "start": start, "end": end,
        "grid": grid, "grids": _grid_choices(request.user), "kind": kind,
        "kinds": VisitKind.objects.all(),
        "count": qs.count(), "people": totals["people"] or 0,
    })


def _opinion_steps(user: Any, o: Opinion) -> dict[str, bool]:
    """Which buttons this user gets on the row (the actions decide again on POST)."""
    author = o.author.user_id == user.pk
    desk = access.is_opinion_desk(user, o.grid)
    return {
        "forward": o.state == Opinion.State.RECORDED
        and (author or access.can_see_grid(user, o.grid, FORWARD_ROLES)),
        "answer": o.state != Opinion.State.ANSWERED and desk,
        "case": o.case_id is None and (author or desk),
    }


def _bars(digest: dict[str, Any]) -> list[dict[str, Any]]:
    """The digest's topics as bars (percent of the largest) for the server-drawn chart."""
    top = max((t["total"] for t in digest["topics"]), default=0) or 1
    return [{**t, "pct": round(100 * t["total"] / top, 1)} for t in digest["topics"]]


@login_required
def opinions(request: HttpRequest) -> HttpResponse:
    start, end = _period(request)
    grid = _grid(request)
    qs = records_queries.local_range(_under(access.visible_opinions(request.user), grid),
                                     "collected_at", start, end)
    state, topic = request.GET.get("state", ""), request.GET.get("topic", "")
    if state:
        qs = qs.filter(state=state)
    if topic:
        qs = qs.filter(topic__code=topic)
    page = _page(request, qs.select_related("grid", "topic", "case", "author").order_by(
        "-collected_at", "-pk"))
    rows = [(o, _opinion_steps(request.user, o)) for o in page.object_list]
    level = 3 if request.GET.get("level") == "3" else 2
    digest = records_queries.opinion_digest(request.user, start, end, level)
    return render(request, "fieldwork/records/opinions.html", {
        "page": page, "rows": rows, "query": _query(request), "start": start, "end": end,
        "grid": grid, "grids": _grid_choices(request.user), "state": state,
        "topic": topic, "level": level,
        "states": Opinion.State.choices, "topics": OpinionTopic.objects.all(),
        "digest": digest, "bars": _bars(digest),
        "categories": CaseCategory.objects.filter(parent__isnull=False).order_by("code"),
    })


@login_required
@require_POST
def opinion_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in ("forward", "answer", "case"):
        raise Http404("no such step")
    try:
        if step == "forward":
            do_forward_opinion(request.user, pk)
            messages.success(request, _("已上报。"))
        elif step == "answer":
            do_answer_opinion(request.user, pk, request.POST.get("answer", ""))
            messages.success(request, _("已答复。"))
        else:
            o = do_opinion_to_case(request.user, pk, request.POST.get("category", ""))
            messages.success(request, _("已转为事件 %(no)s。") % {"no": o.case.register_no})
    except FieldworkError as e:
        messages.error(request, f"{e.field}: {e.msg}")
    except (Conflict, PermissionDenied) as e:
        messages.error(request, str(e))
    return redirect("fieldwork:opinions")


@login_required
def diary(request: HttpRequest) -> HttpResponse:
    """The chain reviews its workers' diaries; a worker reads their own; others: 403."""
    if not (access.reviews_diary(request.user) or access.keeps_diary(request.user)):
        raise PermissionDenied(_("民情日记仅本人及所在工作站、网格长可见"))
    start, end = _period(request, default_days=31)
    qs = _under(access.visible_diary(request.user), _grid(request)).filter(
        day__gte=start, day__lte=end)
    author = request.GET.get("author", "")
    if author.isdigit():
        qs = qs.filter(author_id=int(author))
    page = _page(request, qs.select_related("author", "grid").prefetch_related(
        "households", "cases", "opinions").order_by("-day", "-written_at", "-pk"))
    return render(request, "fieldwork/records/diary.html", {
        "page": page, "query": _query(request), "start": start, "end": end,
        "grid": _grid(request), "grids": _grid_choices(request.user),
        "reviewer": access.reviews_diary(request.user),
    })


@login_required
def outreach(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            m = do_save_material(request.user, request.POST.get("code", ""),
                                 name=request.POST.get("name", ""),
                                 topic=request.POST.get("topic", ""),
                                 active=request.POST.get("active") == "on")
            messages.success(request, _("已保存：%(name)s") % {"name": m.name})
        except FieldworkError as e:
            messages.error(request, f"{e.field}: {e.msg}")
        except PermissionDenied as e:
            messages.error(request, str(e))
        return redirect("fieldwork:outreach")
    start, end = _period(request, default_days=365)
    grid = _grid(request)
    totals = records_queries.outreach_totals(request.user, start, end, grid)
    return render(request, "fieldwork/records/outreach.html", {
        "totals": totals, "start": start, "end": end, "grid": grid,
        "grids": _grid_choices(request.user),
        "materials": Material.objects.order_by("topic", "code"),
        "can_edit": access.can_edit_catalogue(request.user),
    })


urlpatterns: list[URLPattern] = [
    path("visits/", visits, name="visits"),
    path("opinions/", opinions, name="opinions"),
    path("opinions/<int:pk>/<str:step>/", opinion_step, name="opinion_step"),
    path("diary/", diary, name="diary"),
    path("outreach/", outreach, name="outreach"),
]
