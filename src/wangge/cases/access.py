"""Who may see a case and which actions they may take on it."""

from __future__ import annotations

import datetime as dt
import hmac

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from wangge.cases.geo import first_within
from wangge.cases.models import (
    Assignment,
    Case,
    CaseCategory,
    CaseClock,
    CaseEvent,
    CasePhoto,
    DutyRule,
    Notification,
    PublicCategory,
    Rating,
    Supervision,
)
from wangge.cases.workflow import FINAL, STEPS, WAITING_ON, Actor
from wangge.org.access import AnyUser, can_see_path, current_roles, in_scope, scope_paths
from wangge.org.models import Role, RoleAssignment
from wangge.territory.models import Grid

DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN, Role.SUBCENTER_STAFF,
                            Role.STATION_STAFF})
#: who dispatches at each handling level (逐级上报: workstation → sub-center → center);
#: the levels above may always step in
DISPATCH_ROLES_AT = {
    Case.Level.WORKSTATION: DISPATCH_ROLES,
    Case.Level.SUBCENTER: frozenset({Role.DISPATCHER, Role.ADMIN, Role.SUBCENTER_STAFF}),
    Case.Level.CENTER: frozenset({Role.DISPATCHER, Role.ADMIN}),
}
#: confidential cases: center roles and grid police within their scope, and the staff of the
#: department the case is assigned to (e.g. public security)
RULE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.SUBCENTER_STAFF})
SUPERVISE_ROLES = frozenset({Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.LEADER})
#: roles that see the cases of a territory (a department's staff see their department's)
TERRITORY_ROLES = frozenset(Role.values) - {Role.DEPARTMENT_STAFF}
CONFIDENTIAL_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN, Role.LEADER, Role.GRID_POLICE})


def user_department_ids(user: AnyUser) -> list[int]:
    return [r.department_id for r in current_roles(user)
            if r.role == Role.DEPARTMENT_STAFF and r.department_id is not None]


def worker_grid_ids(user: AnyUser) -> list[int]:
    """The basic grids where the user is a grid worker."""
    return [r.grid_id for r in current_roles(user) if r.role == Role.GRID_WORKER]


def visible_cases(user: AnyUser) -> QuerySet[Case]:
    if user.is_superuser:  # (an empty Q() would vanish when OR-ed below)
        return Case.objects.all()
    departments = user_department_ids(user)
    # reporters of a merged duplicate follow the master case (without widening their scope)
    followed = Case.followers.through.objects.filter(user_id=user.pk).values("case_id")
    # a department sees the cases sent to it and those it has an assignment on, not the
    # whole territory its role is held on
    assigned = Assignment.objects.filter(department_id__in=departments).values("case_id")
    open_cases = Q(confidential=False) & (in_scope(user, "grid__path", roles=TERRITORY_ROLES)
                                          | Q(department_id__in=departments)
                                          | Q(pk__in=assigned) | Q(pk__in=followed))
    secret = Q(confidential=True) & (in_scope(user, "grid__path", roles=CONFIDENTIAL_ROLES)
                                     | Q(department_id__in=departments))
    return Case.objects.filter(open_cases | secret)


#: how long after closing a case its department still reaches the people and places of its
#: grid (a follow-up call, a complaint about the handling): a visibility window, not a deadline
DEPARTMENT_REACH_AFTER_CLOSE = dt.timedelta(days=30)


def department_case_grids(department_ids: list[int]) -> QuerySet:
    """The grids of the cases these departments handle — sent to them or with an assignment
    (交办单) of theirs — open or closed within DEPARTMENT_REACH_AFTER_CLOSE, as a
    values("grid_id") subquery. org.access.in_reach uses it (registered in CasesConfig.ready)
    for what a line department may read of the register and the staff."""
    since = timezone.now() - DEPARTMENT_REACH_AFTER_CLOSE
    assigned = Assignment.objects.filter(department_id__in=department_ids).values("case_id")
    return (Case.objects.filter(Q(department_id__in=department_ids) | Q(pk__in=assigned))
            .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=since))
            .values("grid_id"))


def can_see_case(user: AnyUser, case: Case) -> bool:
    return visible_cases(user).filter(pk=case.pk).exists()


def access_case(user: AnyUser, register_no: str) -> Case:
    case = (visible_cases(user).select_related("category", "grid", "department")
            .filter(register_no=register_no).first())
    if case is None:
        raise Http404("no such case")
    return case


def whose_move(state: str) -> Actor | None:
    """Who moves next on a case in this state (None: nobody, the case is over)."""
    return {str(s): actor for s, actor in WAITING_ON.items()}.get(str(state))


def states_waiting_on(actor: Actor) -> list[str]:
    """The states in which the next move is this kind of actor's."""
    return [str(s) for s, a in WAITING_ON.items() if a == actor]


def waiting_on(user: AnyUser) -> Q:
    """Cases whose next move is this user's (the one definition of "whose move is it", read
    by 我的待办, the inbox and responsible_users): to dispatch (at the case's handling
    level), to handle for their department, to verify in their grid, to rate as the
    reporter."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    mine = Q(pk__in=[])
    for level, roles in DISPATCH_ROLES_AT.items():
        mine |= (Q(handling_level=level, state__in=states_waiting_on(Actor.DISPATCH))
                 & in_scope(user, "grid__path", roles=roles))
    mine |= Q(department_id__in=user_department_ids(user),
              state__in=states_waiting_on(Actor.DEPARTMENT))
    mine |= Q(grid_id__in=worker_grid_ids(user), state__in=states_waiting_on(Actor.GRID_WORKER))
    mine |= Q(reporter_id=user.pk, state__in=states_waiting_on(Actor.REPORTER))
    return mine


# ---- What is late (超期): the one definition every surface reads (docs/cases.md) ----------

def as_of(when: dt.date | dt.datetime | None = None) -> dt.datetime:
    """The instant "late" is judged at: a datetime as given; no value or today's date: now;
    another date: the end of that day (Asia/Shanghai)."""
    if isinstance(when, dt.datetime):
        return when
    if when is None or when == timezone.localdate():
        return timezone.now()
    start = dt.datetime.combine(when + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start) - dt.timedelta(microseconds=1)


def late_clocks(now: dt.datetime) -> QuerySet[CaseClock]:
    """Breached SLA clocks: running (not paused, met or stopped) and past their deadline —
    whether or not the worker's sweep has marked them yet — or marked breached and still
    running (a breached clock stays late until it is met or stopped, also when a pause
    moved its deadline)."""
    return CaseClock.objects.filter(Q(status=CaseClock.Status.RUNNING)
                                    & (Q(deadline__lt=now) | Q(breached_at__isnull=False)))


def late_assignments(now: dt.datetime) -> QuerySet[Assignment]:
    """Open assignments (交办单, not yet 销号) whose date has passed."""
    return Assignment.objects.filter(closed_at__isnull=True,
                                     deadline__lt=timezone.localdate(now))


def late_supervisions(now: dt.datetime) -> QuerySet[Supervision]:
    """Supervisions (督办) whose date to answer by has passed."""
    return Supervision.objects.filter(deadline__lt=timezone.localdate(now))


def overdue(when: dt.date | dt.datetime | None = None) -> Q:
    """超期: an open case (not rejected, cancelled, closed or evaluated) with a breached SLA
    clock, a late assignment or a supervision past its date. Filter cases with it."""
    now = as_of(when)
    return ~Q(state__in=FINAL) & (
        Exists(late_clocks(now).filter(case=OuterRef("pk")))
        | Exists(late_assignments(now).filter(case=OuterRef("pk")))
        | Exists(late_supervisions(now).filter(case=OuterRef("pk"))))


def overdue_cases(user: AnyUser, when: dt.date | dt.datetime | None = None) -> QuerySet[Case]:
    """The late cases the user may see."""
    return visible_cases(user).filter(overdue(when))


def actor_kinds(user: AnyUser, case: Case) -> set[Actor]:
    kinds: set[Actor] = set()
    if not user.is_authenticated:
        return kinds
    if can_see_path(user, case.grid.path, DISPATCH_ROLES_AT[case.handling_level]):
        kinds.add(Actor.DISPATCH)
    if case.department_id and (
            case.department_id in user_department_ids(user)
            # an external system (a login without roles) acts through its service user on
            # the cases transferred to it; people with roles never cost this query
            or (not current_roles(user) and case.department.service_user_id == user.pk)):
        kinds.add(Actor.DEPARTMENT)
    if case.grid_id in worker_grid_ids(user):
        kinds.add(Actor.GRID_WORKER)
    if case.reporter_id == user.pk:
        kinds.add(Actor.REPORTER)
    return kinds


#: steps no one takes by hand: a reopen follows an unsatisfied rating (actions.do_rate)
NOT_BY_HAND = frozenset({"reopen"})


def allowed_actions(user: AnyUser, case: Case) -> list[str]:
    kinds = actor_kinds(user, case)
    return [name for name, step in STEPS.items()
            if case.state in step.sources and kinds & step.actors and name not in NOT_BY_HAND]


def public_case(register_no: str) -> Case:
    """One case for a public surface (the public status API): only what `public_cases`
    lets the public see, so never a confidential case or an internal kind of work."""
    case = public_cases().select_related("category").filter(register_no=register_no).first()
    if case is None:
        raise Http404("no such case")
    return case


def public_cases() -> QuerySet[Case]:
    """What every public surface (the status page, Open311 GET) may show at all: no
    confidential case, and only cases filed under a small class that residents can choose
    (a resident-facing category), so internal kinds of work never reach the public. What
    of such a case is shown is the surface's business: never a person's data or a staff
    name (cases.public_text)."""
    # a subquery, not a join + DISTINCT: Open311 pages a date range of a million cases by
    # `-created_at` with a LIMIT, which DISTINCT would turn into a sort of the whole range
    return Case.objects.filter(
        confidential=False,
        category_id__in=PublicCategory.objects.filter(active=True).values("category_id"),
    )


def nearby_public_case(category: CaseCategory, lng: float, lat: float,
                       now: dt.datetime) -> Case | None:
    """The oldest open public case of this kind near the point (the report page's "已有人
    报告：关注这一件"): only cases the public may see, never one that is done."""
    pk = first_within(public_cases().filter(category=category).exclude(state__in=FINAL),
                      lng, lat, now)
    return None if pk is None else Case.objects.filter(pk=pk).first()


def listed_public_cases() -> QuerySet[Case]:
    """What a public *list* may show (Open311 GET): the public cases of the kinds that are
    about places and things (PublicCategory.listed). A resident's own trouble (求助, 邻里纠纷,
    咨询 …) stays readable by its reporter on the status page, never in a list."""
    listed = PublicCategory.objects.filter(active=True, listed=True).values("category_id")
    return Case.objects.filter(confidential=False, category_id__in=listed)


def public_categories() -> QuerySet[PublicCategory]:
    """The resident-facing categories (Open311 services), active ones only."""
    return PublicCategory.objects.filter(active=True, category__confidential=False)


def follow_code_opens(case: Case, code: str | None) -> bool:
    """Whether the follow code given with a register number opens the case's written reply
    on the public status page (compared in constant time; no code, a wrong code and a case
    without a code all answer the same)."""
    given = (code or "").strip().upper().encode()
    stored = (case.follow_code or "").encode()
    # compare_digest always runs, also for an empty code, so timing says nothing
    return hmac.compare_digest(given, stored) and bool(stored)


def access_photo(user: AnyUser, register_no: str, pk: int) -> CasePhoto:
    """A photo is shown exactly to those who may see its case."""
    photo = (CasePhoto.objects.select_related("case")
             .filter(pk=pk, case__in=visible_cases(user), case__register_no=register_no)
             .first())
    if photo is None:
        raise Http404("no such photo")
    return photo


def public_steps(case: Case) -> list[CaseEvent]:
    """What the reporter sees of the timeline: only the changes of state, with their time;
    never who acted, notes, supervisions or internal steps."""
    return [e for e in case.events.only("at", "from_state", "to_state", "action")
            if e.action == "report" or e.from_state != e.to_state]


def can_supervise(user: AnyUser, case: Case) -> bool:
    return can_see_path(user, case.grid.path, SUPERVISE_ROLES)


def can_manage_rules(user: AnyUser, grid: Grid) -> bool:
    """The duty list is kept by the center's admins and dispatchers (for any subtree), and by
    sub-center staff for theirs."""
    return can_see_path(user, grid.path, RULE_ROLES)


def visible_duty_rules(user: AnyUser) -> QuerySet[DutyRule]:
    """The duty list (部门职责清单) as far as it concerns the user: the rules whose grid subtree
    overlaps their territory (a rule inside it, or on a grid above it that also covers it),
    and for department staff the rules that route to their departments. Superusers: all."""
    if not user.is_authenticated:
        return DutyRule.objects.none()
    if user.is_superuser:
        return DutyRule.objects.all()
    paths = scope_paths(user, TERRITORY_ROLES) or []
    above = {a for p in paths for a in _ancestors(p)}
    q = Q(grid__path__in=sorted(above)) if above else Q(pk__in=[])
    for p in paths:
        q |= Q(grid__path__startswith=p)
    if departments := user_department_ids(user):
        q |= Q(department_id__in=departments)
    return DutyRule.objects.filter(q)


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def territory_cases(user: AnyUser) -> QuerySet[Case]:
    """Every case in the user's territory, confidential ones included: only for counting
    (statistics show confidential cases as a number, never listed)."""
    return Case.objects.filter(in_scope(user, "grid__path", roles=TERRITORY_ROLES))


def department_assignments(user: AnyUser) -> QuerySet[Assignment]:
    """The assignments (交办单) of the user's departments."""
    return Assignment.objects.filter(department_id__in=user_department_ids(user))


def responsible_users(case: Case, *, breach: bool, state: str | None = None,
                      level: int | None = None) -> list[AbstractBaseUser]:
    """Who hears of a case's SLA warning or breach, with the case in `state` at handling
    `level` (by default as it is now): the people whose move it is — the dispatchers at that
    level (on the level's grid above the case), the staff of the department it is with, the
    grid's workers when it waits for verification — and, on a breach, also the level's
    dispatchers and supervisors, who now own a late, supervised case. Never anyone who may
    not see the case (a confidential case stays with the few who may)."""
    state = case.state if state is None else state
    level = case.handling_level if level is None else level
    whose = whose_move(state)
    held = Q(pk__in=[])
    # a case with no department, or transferred to an external system (a department with
    # no staff here), is watched by the dispatchers while it waits on a department
    with_staff = case.department_id and not case.department.is_external
    if breach or whose == Actor.DISPATCH or (whose == Actor.DEPARTMENT and not with_staff):
        # the level's dispatchers (and on a breach its supervisors); where nobody holds
        # those roles at that level (a town without sub-center staff), the next level up,
        # which may always step in — a late case never goes untold
        for at in sorted((lv for lv in DISPATCH_ROLES_AT if lv <= level), reverse=True):
            roles = set(DISPATCH_ROLES_AT[at]) | ({Role.SUPERVISOR} if breach else set())
            at_level = Q(grid__path__in=case.grid.ancestor_paths(), grid__level=at,
                         role__in=roles)
            if RoleAssignment.objects.filter(at_level, ended_on__isnull=True,
                                             person__user__is_active=True).exists():
                held = at_level
                break
    if whose == Actor.DEPARTMENT and with_staff:
        held |= Q(role=Role.DEPARTMENT_STAFF, department_id=case.department_id)
    if whose == Actor.GRID_WORKER:
        held |= Q(role=Role.GRID_WORKER, grid_id=case.grid_id)
    user_ids = (RoleAssignment.objects.filter(held, ended_on__isnull=True,
                                              person__user__is_active=True)
                .values_list("person__user", flat=True).distinct())
    users = get_user_model().objects.filter(pk__in=list(user_ids)).order_by("pk")
    return [u for u in users if visible_cases(u).filter(pk=case.pk).exists()]


def notifications(user: AnyUser) -> QuerySet[Notification]:
    """The user's own notifications, about cases they may still see."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk, case__in=visible_cases(user))


def access_notification(user: AnyUser, pk: int) -> Notification:
    found = notifications(user).select_related("case").filter(pk=pk).first()
    if found is None:
        raise Http404("no such notification")
    return found


# ---- 回访 and ratings: the follow-up desk (cases/followups) -------------------------------

def followup_cases(user: AnyUser) -> QuerySet[Case]:
    """The cases whose follow-up calls (回访) and ratings this user looks after: those they
    may see in the territory where they dispatch (center, sub-center and workstation staff,
    each their subtree). A department's staff and grid workers make no follow-up calls."""
    if not user.is_authenticated:
        return Case.objects.none()
    return visible_cases(user).filter(in_scope(user, "grid__path", roles=DISPATCH_ROLES))


def followups_due(user: AnyUser, channels: list[str], closed_before: dt.datetime
                  ) -> QuerySet[Case]:
    """Closed cases from these channels not yet rated (a rating evaluates or reopens a
    case, so a closed case has none since its last close), closed before the moment,
    oldest first."""
    return (followup_cases(user)
            .filter(state="closed", channel__in=channels, closed_at__lt=closed_before)
            .order_by("closed_at", "pk"))


def unsatisfied_ratings(user: AnyUser, since: dt.datetime, worst: int = 2
                        ) -> QuerySet[Rating]:
    """Ratings of `worst` or below (不满意, 非常不满意) since the moment, newest first, on the
    cases the user looks after."""
    return (Rating.objects.filter(level__lte=worst, created_at__gte=since,
                                  case__in=followup_cases(user))
            .select_related("case").order_by("-created_at", "-pk"))
