"""Read shapes for the console map, built only from what `access.visible_cases` returns:
open and late cases per grid subtree, and the located open cases of a grid. "Late" is
`queues.overdue`, the one definition the queues and boards use. A confidential case's title
is never given (as in the queues): its marker names the register number only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from wangge.cases import access, queues
from wangge.cases.labels import STATE_LABELS
from wangge.cases.models import Case
from wangge.cases.notice import shown_title
from wangge.cases.workflow import FINAL
from wangge.org.access import AnyUser
from wangge.territory.models import Grid


def _today() -> dt.date:
    return timezone.localdate()


def open_cases(user: AnyUser) -> QuerySet[Case]:
    """The open (not final) cases the user may see."""
    return access.visible_cases(user).exclude(state__in=FINAL)


def late_filter() -> Q:
    return queues.overdue(_today())


def grid_counts(user: AnyUser, grids: Iterable[Grid]) -> dict[str, Any]:
    """Open and late cases in each grid's subtree, within what the user may see."""
    grids = list(grids)
    if not grids:
        return {"grids": [], "max_open": 0, "max_late": 0}
    within = Q()
    for g in grids:
        within |= Q(grid__path__startswith=g.path)
    base = open_cases(user).filter(within)
    per_path_open = dict(base.values_list("grid__path").annotate(n=Count("pk")).order_by())
    per_path_late = dict(base.filter(late_filter()).values_list("grid__path")
                         .annotate(n=Count("pk")).order_by())
    rows = [
        {"code": g.code,
         "open": sum(n for p, n in per_path_open.items() if p.startswith(g.path)),
         "late": sum(n for p, n in per_path_late.items() if p.startswith(g.path))}
        for g in sorted(grids, key=lambda g: g.code)
    ]
    return {"grids": rows, "max_open": max(r["open"] for r in rows),
            "max_late": max(r["late"] for r in rows)}


def case_points(user: AnyUser, grid: Grid, limit: int) -> dict[str, Any]:
    """The located open cases of the grid's subtree, late first, newest first, at most
    `limit` of them (the total says how many there are)."""
    located = (open_cases(user).filter(grid__path__startswith=grid.path)
               .filter(lat__isnull=False, lng__isnull=False))
    total = located.count()
    late_ids = set(located.filter(late_filter()).values_list("pk", flat=True)[:limit])
    late_rows = list(located.filter(pk__in=late_ids).select_related("category")
                     .order_by("-created_at"))
    rest = list(located.exclude(pk__in=late_ids).select_related("category")
                .order_by("-created_at")[:max(limit - len(late_rows), 0)])
    return {
        "grid": grid.code, "total": total, "truncated": total > len(late_rows) + len(rest),
        "cases": [
            {"register_no": c.register_no, "title": shown_title(c), "category": c.category.name,
             "state": c.state, "state_label": str(STATE_LABELS.get(c.state, c.state)),
             "lat": c.lat, "lng": c.lng, "late": c.pk in late_ids,
             "confidential": c.confidential,
             "url": reverse("cases:case", args=[c.register_no])}
            for c in late_rows + rest
        ],
    }
