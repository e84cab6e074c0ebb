"""Who may see what: the one place that turns a user's roles into a territory scope.

A user sees the union of the subtrees of the grids where they hold a current role. Center
roles (dispatcher, admin, leader) and city departments hold theirs on the city grid, so
they see the whole city. Superusers see everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.territory.models import Grid

AnyUser = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_wangge_scope_paths"
_ROLES_ATTR = "_wangge_current_roles"


@dataclass(frozen=True)
class HeldRole:
    role: str
    grid_id: int
    path: str
    department_id: int | None


def current_roles(user: AnyUser) -> tuple[HeldRole, ...]:
    """The user's current roles, read once per user object (that is, per request): every
    scope decision below is made from this one query."""
    if not user.is_authenticated:
        return ()
    cached = user.__dict__.get(_ROLES_ATTR)
    if cached is None:
        cached = tuple(HeldRole(*row) for row in RoleAssignment.objects.filter(
            person__user=user, ended_on__isnull=True).values_list(
            "role", "grid_id", "grid__path", "department_id"))
        user.__dict__[_ROLES_ATTR] = cached
    return cached


def scope_paths(user: AnyUser, roles: frozenset[str] | None = None) -> list[str] | None:
    """Materialized paths of the subtrees the user may see; None means everything.

    With `roles`, only the subtrees where the user holds one of those roles count (who may
    see special groups, who may edit the registry …)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    cache: dict[frozenset[str] | None, list[str]] = user.__dict__.setdefault(_CACHE_ATTR, {})
    if roles in cache:
        return cache[roles]
    paths = sorted({r.path for r in current_roles(user) if roles is None or r.role in roles})
    # Drop paths already covered by a shorter one: fewer OR terms in every query.
    result: list[str] = []
    for p in paths:
        if not any(p.startswith(r) for r in result):
            result.append(p)
    cache[roles] = result
    return result


def in_scope(user: AnyUser, field: str = "path", roles: frozenset[str] | None = None) -> Q:
    """A filter matching rows whose `field` (a grid path) lies in the user's scope."""
    paths = scope_paths(user, roles)
    if paths is None:
        return Q()
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def can_see_path(user: AnyUser, path: str, roles: frozenset[str] | None = None) -> bool:
    paths = scope_paths(user, roles)
    return paths is None or any(path.startswith(p) for p in paths)


def roles_of(user: AnyUser) -> set[str]:
    return {r.role for r in current_roles(user)}


def is_center_staff(user: AnyUser) -> bool:
    return user.is_superuser or bool(roles_of(user) & {Role.DISPATCHER, Role.ADMIN, Role.LEADER})


def visible_people(user: AnyUser) -> QuerySet[Person]:
    """People holding a current role on a grid in the user's scope."""
    assignments = RoleAssignment.objects.filter(
        in_scope(user, "grid__path"), ended_on__isnull=True
    )
    return Person.objects.filter(pk__in=assignments.values("person_id"))


def visible_assignments(user: AnyUser) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(in_scope(user, "grid__path")).select_related(
        "person", "grid", "department"
    )


def access_person(user: AnyUser, person_id: int) -> Person:
    person = visible_people(user).filter(pk=person_id).first()
    if person is None:
        raise Http404("no such person")
    return person


def public_card(grid: Grid) -> dict[str, object]:
    """What a signed-out resident who scanned the grid's QR code may see: the grid's name
    and place in the tree, the responsible worker's public card, the workstation. Nothing
    else (no other roles, no personal data)."""
    codes = grid.path.strip("/").split("/")
    names = dict(Grid.objects.filter(code__in=codes).values_list("code", "name"))
    worker = (
        RoleAssignment.objects.select_related("person")
        .filter(grid=grid, responsible=True, ended_on__isnull=True)
        .first()
    )
    station = (
        Department.objects.filter(kind=Department.Kind.WORKSTATION, grid__code__in=codes)
        .order_by("-grid__level")
        .first()
    )
    return {
        "grid_name": grid.name,
        "grid_code": grid.code,
        "chain": [names[c] for c in codes if c in names],
        "worker": (
            {
                "name": worker.person.name,
                "work_phone": worker.person.work_phone,
                "employment": worker.get_employment_display(),
            }
            if worker
            else None
        ),
        "station": (
            {"name": station.name, "phone": station.phone, "address": station.address}
            if station
            else None
        ),
    }
