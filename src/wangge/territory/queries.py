"""Read models shared by the API and the console: what a grid looks like to a user.

Everything scoped goes through `org.access`; this only shapes the answer."""

from __future__ import annotations

from typing import Any

from wangge.org.access import AnyUser, visible_assignments
from wangge.org.models import Role
from wangge.territory.models import Grid, Level
from wangge.territory.qr import qr_url


def person_cards(grid: Grid, user: AnyUser) -> list[dict[str, Any]]:
    rows = visible_assignments(user).filter(grid=grid, ended_on__isnull=True)
    return [
        {
            "id": a.person_id, "name": a.person.name, "role": a.role,
            "role_label": a.get_role_display(), "work_phone": a.person.work_phone,
            "employment": a.employment, "responsible": a.responsible,
            "department": a.department.name if a.department_id else None,
        }
        for a in rows.order_by("-responsible", "role", "person__name")
    ]


def grid_summary(grid: Grid, user: AnyUser) -> dict[str, Any]:
    subtree = Grid.objects.filter(path__startswith=grid.path)
    return {
        "code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind,
        "parent_code": grid.parent.code if grid.parent_id else None,
        "path": grid.path.strip("/").split("/"),
        "children": grid.children.count(),
        "basic_grids": subtree.filter(level=Level.BASIC).count(),
        "grid_workers": visible_assignments(user)
        .filter(grid__path__startswith=grid.path, role=Role.GRID_WORKER, ended_on__isnull=True)
        .count(),
        "qr_url": qr_url(grid),
        "people": person_cards(grid, user),
    }
