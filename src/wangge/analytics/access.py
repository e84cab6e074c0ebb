"""Who may see which figures: the one place analytics decides it.

- Roles on the territory (center, sub-center, workstation, leaders, grid workers …) see the
  figures of the subtrees where they hold them, broken down any way; the city's or a
  province's staff see everything. Confidential cases are inside the counts (as in every
  statistic here) and never listed: lists of cases (late cases, clusters, heat points, the
  open data) leave them out.
- Department staff see their own department's figures and the ranking of the departments
  (names and scores, the 红黑榜 every department is circulated), nothing broken down by grid,
  category, channel or worker, and no list of other departments' cases.
- Residents and users without a role see nothing here (403).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from wangge.analytics.metrics import Dim
from wangge.org.access import TERRITORY_READ_ROLES, AnyUser, current_roles, scope_paths
from wangge.org.models import Role
from wangge.territory.models import Grid


@dataclass(frozen=True)
class Scope:
    """What one user may see. `paths` None: every grid; `departments` None: every
    department's figures (a department user has their own only)."""

    paths: list[str] | None
    departments: frozenset[int] | None

    @property
    def department_only(self) -> bool:
        return self.departments is not None

    def sees_everything(self) -> bool:
        return self.paths is None and self.departments is None

    def grid_q(self, field: str = "path") -> Q:
        """A filter on `field` (a grid path column) for the grids in scope."""
        if self.paths is None:
            return Q()
        q = Q(pk__in=[])
        for path in self.paths:
            q |= Q(**{f"{field}__startswith": path})
        return q

    def covers(self, grid: Grid) -> bool:
        return self.paths is None or any(grid.path.startswith(p) for p in self.paths)

    def top_grids(self) -> list[Grid]:
        """The grids whose subtrees make up the scope (the roots for everything), for a
        page's default view."""
        if self.paths is None:
            return list(Grid.objects.filter(parent__isnull=True).order_by("code"))
        return list(Grid.objects.filter(path__in=self.paths).order_by("level", "code"))


def analytics_scope(user: AnyUser) -> Scope:
    """The user's scope for figures; PermissionDenied when they may see none."""
    if not user.is_authenticated:
        raise PermissionDenied("sign in to see figures")
    if user.is_superuser:
        return Scope(None, None)
    paths = scope_paths(user, TERRITORY_READ_ROLES)
    if paths:
        return Scope(paths, None)
    departments = frozenset(r.department_id for r in current_roles(user)
                            if r.role == Role.DEPARTMENT_STAFF and r.department_id is not None)
    if departments:
        return Scope([], departments)
    raise PermissionDenied("no role that sees figures")


def check_breakdown(scope: Scope, by: Dim) -> None:
    """Department staff see figures by department only (their own rows)."""
    if scope.department_only and by != "department":
        raise PermissionDenied("department staff see their own department's figures only")


def check_grid(scope: Scope, grid: Grid) -> None:
    """A grid outside the scope: PermissionDenied (the API answers 404, like an unknown
    one, so codes outside the scope are not confirmed)."""
    if scope.department_only or not scope.covers(grid):
        raise PermissionDenied("grid outside your scope")
