"""The hot spots page (热点分析): a map of case density per basic grid, the heat layer and
the repeat-location clusters. The page is a shell; its figures come from
/api/v1/analytics/hotspots… (analytics.api_hotspots) within analytics.access's scope.
Department staff get 403 (hot spots are a breakdown by grid)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from wangge.analytics.access import analytics_scope, check_breakdown
from wangge.cases.models import CaseCategory
from wangge.territory.models import Grid

#: how many levels below the scope's top grids the grid filter offers (a city: its zones
#: and towns; a workstation: its community and basic grids)
GRID_CHOICE_DEPTH = 2


def _grid_choices(tops: list[Grid]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for top in tops:
        below = (Grid.objects.filter(path__startswith=top.path,
                                     level__lte=top.level + GRID_CHOICE_DEPTH)
                 .order_by("path").values("code", "name", "level"))
        out.extend({**g, "indent": "　" * (int(g["level"]) - top.level)} for g in below)
    return out


def _categories() -> list[tuple[str, list[CaseCategory]]]:
    """Small classes under their big class, for the category select."""
    groups: dict[int, tuple[str, list[CaseCategory]]] = {}
    for c in CaseCategory.objects.filter(parent__isnull=False).select_related("parent") \
            .order_by("parent__code", "code"):
        groups.setdefault(c.parent_id, (c.parent.name, []))[1].append(c)
    return list(groups.values())


@login_required
def hotspots_page(request: HttpRequest, **kwargs: object) -> HttpResponse:
    scope = analytics_scope(request.user)
    check_breakdown(scope, "grid")  # department staff: 403
    today = timezone.localdate()
    return render(request, "analytics/hotspots.html", {
        "grids": _grid_choices(scope.top_grids()),
        "categories": _categories(),
        "today": today.isoformat(),
        # the quick periods' first days (本月 / 本季度 / 本年), in Shanghai's calendar
        "month_from": today.replace(day=1).isoformat(),
        "quarter_from": today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1).isoformat(),
        "year_from": today.replace(month=1, day=1).isoformat(),
        "tile_url": settings.WANGGE_TILE_URL,
    })
