"""The leaders' dashboard (驾驶舱): the full-screen page and the JSON it refreshes from.

Both answer within analytics.access.analytics_scope; department staff get 403 (their
figures are on the metrics page). The data is analytics.cockpit's."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wangge.analytics import cockpit as dashboard
from wangge.analytics import hotspots
from wangge.analytics.access import Scope, analytics_scope
from wangge.territory.models import Level

#: seconds between refreshes: the default, and the bounds a ?refresh= is clamped to
REFRESH_DEFAULT = 30
REFRESH_MIN = 2
REFRESH_MAX = 3600
#: the headline counters, as analytics.headline names them and the source labels them
COUNTERS = (
    ("visits", gettext_lazy("走访帮扶人次")),
    ("events", gettext_lazy("事件")),
    ("opinions", gettext_lazy("社情民意")),
    ("proxy_items", gettext_lazy("代办件数")),
    ("leaflets", gettext_lazy("政策宣传资料（份）")),
)


def _scope(request: HttpRequest) -> Scope:
    scope = analytics_scope(request.user)
    if scope.department_only:
        raise PermissionDenied("department staff: see the metrics page")
    return scope


def _bad(field: str, msg: str) -> JsonResponse:
    return JsonResponse({"detail": [{"loc": ["query", field], "msg": msg,
                                     "code": "invalid"}]}, status=400)


def _refresh(request: HttpRequest) -> int | None:
    raw = request.GET.get("refresh")
    if raw is None or raw == "":
        return REFRESH_DEFAULT
    try:
        seconds = int(raw)
    except ValueError:
        return None
    return min(max(seconds, REFRESH_MIN), REFRESH_MAX)


def _level(request: HttpRequest, scope: Scope) -> tuple[bool, int | None]:
    """The map's level asked for (?level=, one of hotspots.map_levels of the scope; empty:
    the cockpit's choice), and whether the value was good."""
    raw = request.GET.get("level", "")
    if raw == "":
        return True, None
    allowed = hotspots.map_levels(scope)
    if raw not in {str(lv) for lv in allowed}:
        return False, None
    return True, int(raw)


def _bad_level(scope: Scope) -> HttpResponse:
    allowed = "、".join(str(lv) for lv in hotspots.map_levels(scope))
    return _bad("level", _("地图层级须为 %(levels)s 之一") % {"levels": allowed})


@login_required
def cockpit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    scope = _scope(request)
    refresh = _refresh(request)
    if refresh is None:
        return _bad("refresh", _("刷新间隔须为整数秒"))
    good, level = _level(request, scope)
    if not good:
        return _bad_level(scope)
    tops = scope.top_grids()
    title = "、".join(g.name for g in tops[:3]) + ("等" if len(tops) > 3 else "")
    return render(request, "analytics/cockpit.html", {
        "refresh": refresh, "scope_name": title, "counters": COUNTERS,
        "tile_url": settings.WANGGE_TILE_URL, "map_level": "" if level is None else level,
        "map_levels": [(v, n) for v, n in Level.choices if v in hotspots.map_levels(scope)],
    })


def cockpit_data(request: HttpRequest, **kwargs: object) -> HttpResponse:
    """The figures as JSON (signed out: 403, so the page's fetch marks itself stale)."""
    scope = _scope(request)
    geometry = request.GET.get("geometry", "0")
    if geometry not in ("0", "1"):
        return _bad("geometry", _("geometry 须为 0 或 1"))
    good, level = _level(request, scope)
    if not good:
        return _bad_level(scope)
    found = dashboard.cached_data(request.user, scope, geometry=geometry == "1",
                                  map_level=level)
    response = JsonResponse(found, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
