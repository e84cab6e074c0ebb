"""Console and public pages. Thin: they ask access for what to show and render it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.utils import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wangge.analytics.headline import headline
from wangge.cases.map_queries import grid_counts
from wangge.org.access import public_card, roles_of
from wangge.registry.access import public_building_by_qr
from wangge.territory.access import access_grid, public_grid_by_qr, top_grids
from wangge.territory.queries import grid_summary
from wangge.web.worker_home import is_worker_only, worker_home


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as e:
        return JsonResponse({"status": "error", "database": str(e.__class__.__name__)},
                            status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_worker_only(request.user) and request.GET.get("view") != "map":
        return worker_home(request)  # a grid worker's desk; the map is one tap away
    tops = list(top_grids(request.user).values("code", "name", "level"))
    return render(request, "web/home.html", {
        "tops": tops,
        "roles": sorted(roles_of(request.user)),
        "tile_url": settings.WANGGE_TILE_URL,
        # the source's five headline counters over the user's whole scope, all time
        "headline": headline(request.user),
    })


@login_required
def grid_panel(request: HttpRequest, code: str) -> HttpResponse:
    grid = access_grid(request.user, code)
    return render(request, "web/grid_panel.html", {
        "grid": grid, "s": grid_summary(grid, request.user),
        # open and late cases in the subtree, as the map colours them
        "cases": grid_counts(request.user, [grid])["grids"][0]})


def qr_page(request: HttpRequest, token: str) -> HttpResponse:
    """A grid's code or a building's door code: both lead to the grid and its worker."""
    try:
        return render(request, "web/qr.html", public_card(public_grid_by_qr(token)))
    except Http404:
        pass
    try:
        building = public_building_by_qr(token)
    except Http404:
        # a mistyped, torn or replaced code: a page a resident can act on, not Django's 404
        return render(request, "web/qr_unknown.html", status=404)
    context = public_card(building.grid)
    context["building"] = {"name": building.name, "address": building.address}
    return render(request, "web/qr.html", context)

