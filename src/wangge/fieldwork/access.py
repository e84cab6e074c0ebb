"""Who may see which fieldwork records. The only place that decides it.

- Fieldwork of a grid (check-ins, plans, patrols, visits, opinions, outreach, meetings,
  ordinary tasks) is read by the territory roles whose subtree holds the grid
  (`org.access.TERRITORY_READ_ROLES`: a grid worker therefore sees their own grid only);
  line departments see none of it.
- The diary (民情日记) is the worker's own: the author, and their chain — workstation staff
  and the grid chief above the grid — nobody beyond (not the sub-center, not the center,
  not a superuser; the console shows them counts only).
- A confidential task (the police's "observe quietly" work) and its reports: the worker it
  was given to, police roles (grid police in their subtree, public-security staff) and the
  center roles (dispatcher, admin, leader). Nobody else learns it exists: it is left out of
  every list, plan, count and page for them.
"""

from __future__ import annotations

import hmac

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from wangge.cases.access import visible_cases
from wangge.fieldwork.models import (
    Appointment,
    CheckIn,
    DayPlan,
    DiaryEntry,
    Distribution,
    Meeting,
    Opinion,
    Patrol,
    PlanItem,
    Task,
    TaskReport,
    Visit,
)
from wangge.org.access import (
    REGISTER_DEPARTMENTS,
    TERRITORY_READ_ROLES,
    AnyUser,
    can_see_path,
    current_roles,
    is_center_staff,
    scope_paths,
)
from wangge.org.models import Person, Role, RoleAssignment
from wangge.registry.models import Building
from wangge.territory.models import Grid, Level

#: the diary's chain above a grid
DIARY_CHAIN_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF})
#: who may build and edit a worker's day plan and give ordinary tasks
PLAN_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF, Role.SUBCENTER_STAFF,
                        Role.DISPATCHER, Role.ADMIN})
#: who may give a confidential task, in the subtree where they hold the role
POLICE_ROLES = frozenset({Role.GRID_POLICE})
#: who reads the attendance board and the review pages of their subtree
BOARD_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF, Role.SUBCENTER_STAFF,
                         Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.LEADER})


_PERSON_ATTR = "_wangge_person"
_GRID_ATTR = "_wangge_grid_by_id"


def person_of(user: AnyUser) -> Person | None:
    """The org person behind a login (a grid worker's records name the person); read once
    per user object, that is per request (a sync of 500 envelopes asks 500 times)."""
    if not user.is_authenticated:
        return None
    if _PERSON_ATTR not in user.__dict__:
        user.__dict__[_PERSON_ATTR] = Person.objects.filter(user=user).first()
    return user.__dict__[_PERSON_ATTR]


def _held_grid(user: AnyUser, grid_id: int) -> Grid | None:
    """A grid where the user holds a role, read once per user object."""
    cache: dict[int, Grid | None] = user.__dict__.setdefault(_GRID_ATTR, {})
    if grid_id not in cache:
        cache[grid_id] = Grid.objects.filter(pk=grid_id).first()
    return cache[grid_id]


def worker_grid(user: AnyUser) -> Grid | None:
    """The basic grid the user currently works as its grid worker (the first, if several)."""
    held = sorted((r for r in current_roles(user) if r.role == Role.GRID_WORKER),
                  key=lambda r: r.grid_id)
    return _held_grid(user, held[0].grid_id) if held else None


def _paths_q(paths: list[str] | None, grid_field: str) -> Q:
    if paths is None:
        return Q()
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{grid_field}__path__startswith": p})
    return q


_ROOTS_ATTR = "_wangge_root_paths"


def _whole_tree(user: AnyUser, paths: list[str]) -> bool:
    """Whether the paths hold every root grid (the center of a city, or of a province of
    several): then a scope filter would join every row to the grids only to keep them all
    (at a province's scale most of the attendance counts' time). Roots read once per user
    object, that is per request."""
    if not paths:
        return False
    if _ROOTS_ATTR not in user.__dict__:
        user.__dict__[_ROOTS_ATTR] = set(
            Grid.objects.filter(parent__isnull=True).values_list("path", flat=True))
    return user.__dict__[_ROOTS_ATTR] <= set(paths)


def field_scope(user: AnyUser, grid_field: str = "grid",
                roles: frozenset[str] = TERRITORY_READ_ROLES) -> Q:
    """Rows whose grid lies in the subtrees where the user holds one of `roles`."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    paths = scope_paths(user, roles)
    if paths is not None and _whole_tree(user, paths):
        return Q()
    return _paths_q(paths, grid_field)


def can_see_grid(user: AnyUser, grid: Grid, roles: frozenset[str] = TERRITORY_READ_ROLES) -> bool:
    return user.is_authenticated and can_see_path(user, grid.path, roles)


def can_plan(user: AnyUser, grid: Grid) -> bool:
    return can_see_grid(user, grid, PLAN_ROLES)


def can_see_board(user: AnyUser) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(scope_paths(user, BOARD_ROLES)))


# -- ordinary records -------------------------------------------------------------------

def visible_checkins(user: AnyUser) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(field_scope(user))


def visible_plans(user: AnyUser) -> QuerySet[DayPlan]:
    return DayPlan.objects.filter(field_scope(user))


def visible_appointments(user: AnyUser) -> QuerySet[Appointment]:
    return Appointment.objects.filter(field_scope(user))


def visible_patrols(user: AnyUser) -> QuerySet[Patrol]:
    return Patrol.objects.filter(field_scope(user))


def visible_visits(user: AnyUser) -> QuerySet[Visit]:
    return Visit.objects.filter(field_scope(user))


def visible_opinions(user: AnyUser) -> QuerySet[Opinion]:
    return Opinion.objects.filter(field_scope(user))


def visible_distributions(user: AnyUser) -> QuerySet[Distribution]:
    return Distribution.objects.filter(field_scope(user))


def visible_meetings(user: AnyUser) -> QuerySet[Meeting]:
    """A meeting is held for a community (level 3): its workers (whose grids lie below)
    read it too."""
    q = field_scope(user)
    for r in current_roles(user):
        if r.role in TERRITORY_READ_ROLES:
            # the communities above a basic grid (a worker's role is held below them)
            q |= Q(grid__path__in=_ancestor_paths(r.path))
    return Meeting.objects.filter(q) if user.is_authenticated else Meeting.objects.none()


def _ancestor_paths(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/"] (grid paths are materialized "/<code>/…/")."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


# -- the diary --------------------------------------------------------------------------

def visible_diary(user: AnyUser) -> QuerySet[DiaryEntry]:
    """The author's own entries, and those of grids below the user's diary-chain roles."""
    if not user.is_authenticated:
        return DiaryEntry.objects.none()
    chain = scope_paths(user, DIARY_CHAIN_ROLES) if not user.is_superuser else []
    q = Q(author__user=user)
    for p in chain or []:
        q |= Q(grid__path__startswith=p)
    return DiaryEntry.objects.filter(q)


# -- tasks (some confidential) ----------------------------------------------------------

def sees_confidential(user: AnyUser) -> bool:
    """Police and center roles (the task's own worker is handled per row)."""
    if not user.is_authenticated:
        return False
    return is_center_staff(user) or any(
        r.role in POLICE_ROLES or (r.role == Role.DEPARTMENT_STAFF
                                   and r.department_code in REGISTER_DEPARTMENTS)
        for r in current_roles(user))


def _confidential_q(user: AnyUser) -> Q:
    """Which confidential tasks the user may know of."""
    q = Q(worker__user=user)
    if is_center_staff(user):
        return Q()
    police = [r.path for r in current_roles(user) if r.role in POLICE_ROLES]
    police += [r.path for r in current_roles(user) if r.role == Role.DEPARTMENT_STAFF
               and r.department_code in REGISTER_DEPARTMENTS]
    for p in police:
        q |= Q(grid__path__startswith=p)
    return q


def visible_tasks(user: AnyUser) -> QuerySet[Task]:
    if not user.is_authenticated:
        return Task.objects.none()
    ordinary = Q(confidential=False) & (field_scope(user) | Q(worker__user=user))
    secret = Q(confidential=True) & _confidential_q(user)
    return Task.objects.filter(ordinary | secret)


def visible_plan_items(user: AnyUser, plan: DayPlan) -> QuerySet[PlanItem]:
    """A plan's items this user may see: a task item only when the task is visible to
    them (a confidential task shows to its worker, not to the station editing the plan), a
    case item only when the case is."""
    return plan.items.filter(
        Q(task__isnull=True) | Q(task__in=visible_tasks(user)),
        Q(case__isnull=True) | Q(case__in=visible_cases(user)))


def visible_task_reports(user: AnyUser) -> QuerySet[TaskReport]:
    return TaskReport.objects.filter(task__in=visible_tasks(user))


def can_give_confidential(user: AnyUser, grid: Grid) -> bool:
    return user.is_authenticated and (
        is_center_staff(user)
        or any(r.role in POLICE_ROLES and grid.path.startswith(r.path)
               for r in current_roles(user)))


# -- the workers of a subtree -----------------------------------------------------------

def workers_in_scope(user: AnyUser, roles: frozenset[str] = BOARD_ROLES
                     ) -> QuerySet[RoleAssignment]:
    """Current grid-worker roles on grids in the user's board scope (attendance, workload)."""
    if not user.is_authenticated:
        return RoleAssignment.objects.none()
    return RoleAssignment.objects.filter(
        field_scope(user, roles=roles), role=Role.GRID_WORKER, ended_on__isnull=True)


def access_one(queryset: QuerySet, pk: int) -> Model:
    """The row if it is in the (already scoped) queryset; 404 otherwise, the same answer
    whether it does not exist or is not the user's to see."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404("no such record")
    return obj


# -- records: visits, opinions, diary, outreach (written by the records area) -----------

#: who records field work (visits, opinions, diary, distributions) in their subtree: the
#: people who go door to door, and the workstation; not the center, leaders or departments
FIELD_WRITE_ROLES = frozenset({Role.GRID_WORKER, Role.INFO_OFFICER, Role.GRID_CHIEF,
                               Role.PARTY_GROUP_LEADER, Role.JOINT_GROUP_LEADER,
                               Role.STATION_STAFF, Role.MEDIATOR, Role.GRID_POLICE})
#: who answers a public opinion (社情民意) of their subtree, and may turn it into a case
OPINION_DESK_ROLES = frozenset({Role.STATION_STAFF, Role.GRID_CHIEF, Role.SUBCENTER_STAFF,
                                Role.DISPATCHER, Role.ADMIN})
#: who edits the outreach materials catalogue (the center; leaders only read)
CATALOGUE_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


def can_write_field(user: AnyUser, grid: Grid) -> bool:
    return can_see_grid(user, grid, FIELD_WRITE_ROLES)


def home_grid(user: AnyUser) -> Grid | None:
    """Where the user's own field records belong when no household names a grid: their
    basic grid as a worker, else the first grid of another field role (a station's
    community)."""
    if (grid := worker_grid(user)) is not None:
        return grid
    held = sorted((r for r in current_roles(user) if r.role in FIELD_WRITE_ROLES),
                  key=lambda r: r.path)
    return _held_grid(user, held[0].grid_id) if held else None


def is_opinion_desk(user: AnyUser, grid: Grid) -> bool:
    return can_see_grid(user, grid, OPINION_DESK_ROLES)


def can_edit_catalogue(user: AnyUser) -> bool:
    return user.is_authenticated and (
        user.is_superuser or any(r.role in CATALOGUE_ROLES for r in current_roles(user)))


def reviews_diary(user: AnyUser) -> bool:
    """Whether the user is in some worker's diary chain (the review page's whole list)."""
    return bool(user.is_authenticated and not user.is_superuser
                and scope_paths(user, DIARY_CHAIN_ROLES))


def keeps_diary(user: AnyUser) -> bool:
    """Whether the user writes a diary of their own (field staff)."""
    return any(r.role in FIELD_WRITE_ROLES for r in current_roles(user))


# -- the public opinion pages (/opinions/): where a signed-out resident lives ------------


def public_place(token: str = "", grid_code: str = "") -> tuple[Grid | None, Building | None]:
    """(basic grid, building or None) behind a basic grid's or a building's QR token, else
    the basic grid of a code the resident picked; (None, None) for neither. The grid tree
    and building names are public (the QR page shows them)."""
    if token:
        grid = Grid.objects.filter(qr_token=token, level=Level.BASIC).first()
        if grid is not None:
            return grid, None
        building = Building.objects.select_related("grid").filter(qr_token=token).first()
        if building is not None:
            return building.grid, building
    if grid_code:
        return Grid.objects.filter(code=grid_code, level=Level.BASIC).first(), None
    return None, None


def public_communities() -> QuerySet[Grid]:
    """The communities and villages a resident picks from (names only)."""
    return Grid.objects.filter(level=Level.VILLAGE).select_related("parent").order_by(
        "parent__path", "path")


def public_basic_grids(community_code: str) -> QuerySet[Grid]:
    return Grid.objects.filter(level=Level.BASIC, parent__code=community_code,
                               parent__level=Level.VILLAGE).order_by("path")


def resident_opinion(public_no: str) -> Opinion | None:
    """A resident's opinion by its public number (the caller has checked the follow code,
    or that this browser sent it)."""
    no = (public_no or "").strip().upper()
    if not no:
        return None
    return Opinion.objects.select_related("topic", "case").filter(public_no=no).first()


def public_opinion(public_no: str, code: str) -> Opinion | None:
    """The resident's opinion by its number and follow code (compared in constant time);
    None for an unknown number or a wrong code alike, so neither is told apart."""
    found = resident_opinion(public_no)
    if found is None or not found.follow_code or not code:
        return None
    if not hmac.compare_digest(found.follow_code.encode(), code.strip().upper().encode()):
        return None
    return found
