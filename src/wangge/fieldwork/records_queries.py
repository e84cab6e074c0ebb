"""Read shapes for the records review (built only from what fieldwork.access returns):
the opinion digest by topic × area, and outreach totals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet, Sum

from wangge.fieldwork import access
from wangge.fieldwork.models import Material, OpinionTopic
from wangge.territory.models import Grid

AnyUser = AbstractBaseUser | AnonymousUser


def local_range(qs: QuerySet, field: str, start: dt.date | None, end: dt.date | None
                ) -> QuerySet:
    """Rows whose `field` (a time) falls on the local days start..end, both included."""
    if start is not None:
        qs = qs.filter(**{f"{field}__date__gte": start})
    if end is not None:
        qs = qs.filter(**{f"{field}__date__lte": end})
    return qs


def _ancestor_code(path: str, level: int) -> str | None:
    parts = path.strip("/").split("/")
    return parts[level] if len(parts) > level else None


def opinion_digest(user: AnyUser, start: dt.date | None, end: dt.date | None,
                   level: int = 2) -> dict[str, Any]:
    """Opinions counted by topic × the level-`level` grid (2: town, 3: community) they lie
    in, over the local days start..end, within the user's scope."""
    rows = (local_range(access.visible_opinions(user), "collected_at", start, end)
            .values("grid__path", "topic_id").annotate(n=Count("pk"), people=Sum(
                "people_concerned")).order_by())
    counts: dict[tuple[str, int], int] = defaultdict(int)
    by_topic: dict[int, int] = defaultdict(int)
    for r in rows:
        code = _ancestor_code(r["grid__path"], level)
        if code is None:
            continue
        counts[(code, r["topic_id"])] += r["n"]
        by_topic[r["topic_id"]] += r["n"]
    topics = list(OpinionTopic.objects.order_by("order", "code"))
    names = dict(Grid.objects.filter(code__in={c for c, _t in counts}).values_list(
        "code", "name"))
    areas = sorted({c for c, _t in counts}, key=lambda c: (-sum(
        n for (a, _t), n in counts.items() if a == c), c))
    return {
        "level": level,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "topics": [{"code": t.code, "name": t.name, "total": by_topic.get(t.pk, 0)}
                   for t in topics],
        "areas": [{"grid": c, "name": names.get(c, c),
                   "counts": [counts.get((c, t.pk), 0) for t in topics],
                   "total": sum(counts.get((c, t.pk), 0) for t in topics)} for c in areas],
        "total": sum(by_topic.values()),
    }


def outreach_totals(user: AnyUser, start: dt.date | None, end: dt.date | None,
                    grid: Grid | None = None) -> dict[str, Any]:
    """Copies handed out per material (and how many distributions), within the user's
    scope, optionally under one grid's subtree, over the days start..end."""
    qs = access.visible_distributions(user)
    if grid is not None:
        qs = qs.filter(grid__path__startswith=grid.path)
    if start is not None:
        qs = qs.filter(day__gte=start)
    if end is not None:
        qs = qs.filter(day__lte=end)
    rows = {r["material_id"]: r for r in qs.values("material_id").annotate(
        copies=Sum("count"), n=Count("pk")).order_by()}
    materials = [{"code": m.code, "name": m.name, "topic": m.topic, "active": m.active,
                  "copies": rows.get(m.pk, {}).get("copies") or 0,
                  "distributions": rows.get(m.pk, {}).get("n") or 0}
                 for m in Material.objects.order_by("topic", "code")]
    return {"grid": grid.code if grid else None,
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "materials": materials,
            "copies": sum(m["copies"] for m in materials),
            "distributions": sum(m["distributions"] for m in materials)}
