"""Which grids a user may see. Views and API call these; they never filter by hand."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from wangge.org.access import AnyUser, in_scope, scope_paths
from wangge.territory.models import Grid


def visible_grids(user: AnyUser) -> QuerySet[Grid]:
    return Grid.objects.filter(in_scope(user))


def access_grid(user: AnyUser, code: str) -> Grid:
    """The grid if the user may see it; 404 otherwise (never say it exists)."""
    grid = visible_grids(user).select_related("parent").filter(code=code).first()
    if grid is None:
        raise Http404("no such grid")
    return grid


def visible_trail(user: AnyUser, grid: Grid) -> list[Grid]:
    """The grids from the top of the user's scope down to `grid`, for a breadcrumb."""
    return list(visible_grids(user).filter(path__in=grid.ancestor_paths())
                .only("code", "name", "level", "path").order_by("level"))


def top_grids(user: AnyUser) -> QuerySet[Grid]:
    """The roots of the user's scope: where their map starts."""
    paths = scope_paths(user)
    if paths is None:
        return Grid.objects.filter(level=0)
    return Grid.objects.filter(path__in=paths)


def public_grid_by_qr(token: str) -> Grid:
    """The grid behind a QR code, for the signed-out public page."""
    grid = Grid.objects.select_related("parent").filter(qr_token=token).first()
    if grid is None:
        raise Http404("unknown code")
    return grid
