"""Who may see what: the one place that turns a user's roles into a territory scope.

A user sees the union of the subtrees of the grids where they hold a current role. Center
roles (dispatcher, admin, leader) and city departments hold theirs on the city grid, so
they see the whole city. Superusers see everything.
"""

from __future__ import annotations

from collections.abc import Callable
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
    department_code: str | None = None


def current_roles(user: AnyUser) -> tuple[HeldRole, ...]:
    """The user's current roles, read once per user object (that is, per request): every
    scope decision below is made from this one query."""
    if not user.is_authenticated:
        return ()
    cached = user.__dict__.get(_ROLES_ATTR)
    if cached is None:
        cached = tuple(HeldRole(*row) for row in RoleAssignment.objects.filter(
            person__user=user, ended_on__isnull=True).values_list(
            "role", "grid_id", "grid__path", "department_id", "department__code"))
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


# -- the register and the staff: who may read them where (least privilege) -----------------

#: roles that read the register and the staff of the territory where they hold them. A line
#: department's staff hold their role on the city grid only to take the city's cases: that
#: is not a reason to browse a million people (see in_reach).
TERRITORY_READ_ROLES = frozenset(Role.values) - {Role.DEPARTMENT_STAFF}
#: departments whose duty needs the register of their whole territory (masked, like every
#: list): public security keeps household registration and public order, and checks people
#: and places outside any one case. Codes, so that a city names its own in data.
REGISTER_DEPARTMENTS = frozenset({"public-security"})

#: where the departments of these ids currently work, as a values("grid_id") queryset: the
#: grids of the cases they handle. Provided by the cases app (an upper floor) at start-up
#: through add_department_reach, so org imports no domain app.
DepartmentReach = Callable[[list[int]], QuerySet]
_department_reach: list[DepartmentReach] = []


def add_department_reach(provider: DepartmentReach) -> None:
    if provider not in _department_reach:
        _department_reach.append(provider)


def case_departments(user: AnyUser) -> list[int]:
    """The user's departments that see only where their cases are (not REGISTER_DEPARTMENTS)."""
    return sorted({r.department_id for r in current_roles(user)
                   if r.role == Role.DEPARTMENT_STAFF and r.department_id is not None
                   and r.department_code not in REGISTER_DEPARTMENTS})


def in_reach(user: AnyUser, grid_field: str = "grid") -> Q:
    """A filter on rows with a grid foreign key `grid_field` that the user may read in the
    register and the staff lists: the subtrees of their territory roles; for a register
    department (public security), the territory of its role; for any other department, the
    grids of the cases the department handles (open or recently closed), nothing else."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    q = Q(pk__in=[])
    paths = scope_paths(user, TERRITORY_READ_ROLES) or []
    paths += [r.path for r in current_roles(user) if r.role == Role.DEPARTMENT_STAFF
              and r.department_code in REGISTER_DEPARTMENTS]
    for p in paths:
        q |= Q(**{f"{grid_field}__path__startswith": p})
    if (departments := case_departments(user)):
        for provider in _department_reach:
            q |= Q(**{f"{grid_field}_id__in": provider(departments)})
    return q


def reaches(user: AnyUser, grid: Grid) -> bool:
    """Whether `grid` is in the user's reach (in_reach), without a query for the common
    case of a territory role."""
    if can_see_path(user, grid.path, TERRITORY_READ_ROLES):
        return True
    if any(r.role == Role.DEPARTMENT_STAFF and r.department_code in REGISTER_DEPARTMENTS
           and grid.path.startswith(r.path) for r in current_roles(user)):
        return True
    if not (departments := case_departments(user)):
        return False
    return any(provider(departments).filter(grid_id=grid.pk).exists()
               for provider in _department_reach)


def roles_of(user: AnyUser) -> set[str]:
    return {r.role for r in current_roles(user)}


def is_center_staff(user: AnyUser) -> bool:
    return user.is_superuser or bool(roles_of(user) & {Role.DISPATCHER, Role.ADMIN, Role.LEADER})


def _staff_filter(user: AnyUser) -> Q:
    """Roles held on a grid in the user's reach (in_reach: for a line department, the grids
    of its cases, so the people responsible for them), and the roles of the user's own
    departments (colleagues)."""
    departments = [r.department_id for r in current_roles(user)
                   if r.role == Role.DEPARTMENT_STAFF and r.department_id is not None]
    q = in_reach(user)
    if departments:
        q |= Q(department_id__in=departments, role=Role.DEPARTMENT_STAFF)
    return q


def visible_people(user: AnyUser) -> QuerySet[Person]:
    """People holding a current role the user may see (_staff_filter)."""
    assignments = RoleAssignment.objects.filter(_staff_filter(user), ended_on__isnull=True)
    return Person.objects.filter(pk__in=assignments.values("person_id"))


def visible_assignments(user: AnyUser) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(_staff_filter(user)).select_related(
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
