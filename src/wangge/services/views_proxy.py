"""Console: the proxy board per workstation (预约 / 已收件 / 预审中 / 待送达 / 已送达) and one
proxy request with its timeline. Thin: scope from services.access, reads from
services.proxy_queries. The viewer sees the requests of their own subtree; the sub-center
and the center pick a community (or a town) to narrow it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from wangge.core.schema import MAX_ID
from wangge.org.access import in_scope
from wangge.services import access, proxy_queries
from wangge.territory.models import Grid, Level

#: at most this many grids in the picker
PICKER_GRIDS = 400


def _picker(user: object) -> list[Grid]:
    """Towns and communities in the viewer's board scope (empty for a single station)."""
    grids = list(Grid.objects.filter(in_scope(user, "path", access.BOARD_ROLES),  # type: ignore[arg-type]
                                     level__in=[Level.TOWN, Level.VILLAGE])
                 .order_by("path")[:PICKER_GRIDS])
    return grids if len([g for g in grids if g.level == Level.VILLAGE]) > 1 else []


@login_required
def board(request: HttpRequest) -> HttpResponse:
    qs = access.visible_proxies(request.user)
    grid = None
    if code := (request.GET.get("grid") or "")[:40]:
        grid = Grid.objects.filter(code=code).first()
        if grid is None or not access.can_see_proxy_board(request.user, grid.path):
            raise Http404("no such grid")
        qs = qs.filter(grid__path__startswith=grid.path)
    return render(request, "services/proxy/board.html", {
        "columns": proxy_queries.board(qs), "grid": grid, "grids": _picker(request.user)})


@login_required
def proxy_page(request: HttpRequest, pk: int) -> HttpResponse:
    if pk > MAX_ID:
        raise Http404("no such proxy request")
    return render(request, "services/proxy/detail.html",
                  {"p": proxy_queries.detail(request.user, pk)})


urlpatterns: list[URLPattern] = [
    path("proxies/", board, name="proxy_board"),
    path("proxies/<int:pk>/", proxy_page, name="proxy"),
]
