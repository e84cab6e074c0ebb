"""Who may see and do what with disputes. The only place that decides it.

- A dispute is seen by its grid's chain (the territory roles whose subtree holds the
  dispute's grid: `org.access.TERRITORY_READ_ROLES`, so a grid worker sees their own grid's),
  by every mediator ever assigned to it (`Assignment`), by the mediators of the body that
  handles it now (MEDIATOR role on `handling_grid` or above), and by the center.
  Line departments see none (a department referral reaches them as a case).
- A sensitive dispute (its kind's default, or marked): only its recorder, the mediators
  assigned to it, the mediators of the body it is with now (MEDIATOR role on
  `handling_grid` itself: someone must be able to take it up) and admins. Everyone else: it
  is left out of every list, page and count that names records (aggregate numbers still
  count it: `counted_disputes`).
- Parties' names are masked in lists and exports; whole (and outsiders' phones opened, each
  read logged with its purpose) only on the record's page for those who may mediate it or
  recorded it.
- A high-risk alert (`Alert`) is for the staff of the body it names: workstation staff on
  its village / community grid, sub-center staff on its town grid (and admins); of a
  sensitive dispute they may not see, they learn only how many (`unnamed_alerts`).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wangge.disputes.models import Alert, Assignment, Dispute, Screening
from wangge.disputes.models import Level as Mediation
from wangge.fieldwork.access import field_scope, person_of
from wangge.org.access import (
    TERRITORY_READ_ROLES,
    AnyUser,
    can_see_path,
    current_roles,
    in_scope,
)
from wangge.org.models import Person, Role
from wangge.territory.models import Grid, Level

#: who records a screening or a dispute in the basic grids of their subtree
RECORD_ROLES = frozenset({Role.GRID_WORKER, Role.MEDIATOR, Role.STATION_STAFF,
                          Role.SUBCENTER_STAFF, Role.DISPATCHER, Role.ADMIN})
#: the staff of a mediating body's grid (workstation, sub-center, center) besides mediators
BODY_STAFF_ROLES = frozenset({Role.STATION_STAFF, Role.SUBCENTER_STAFF, Role.DISPATCHER,
                              Role.ADMIN})
#: who learns of a high-risk dispute at once, on the grid of their body
ALERT_ROLES = frozenset({Role.STATION_STAFF, Role.SUBCENTER_STAFF})
#: states in which a dispute is still open (mediation or its follow-up to come)
OPEN_STATES = (Dispute.State.REGISTERED, Dispute.State.MEDIATING, Dispute.State.AGREED)


def _is_admin(user: AnyUser) -> bool:
    return user.is_superuser or any(r.role == Role.ADMIN for r in current_roles(user))


def _assigned_q(user: AnyUser) -> Q:
    return Q(pk__in=Assignment.objects.filter(mediator__user=user).values("dispute_id"))


def _scope_q(user: AnyUser) -> Q:
    """Disputes in the user's chain or assigned to them, sensitivity aside."""
    chain = field_scope(user)
    if not chain:  # the whole tree (an empty Q matches all; `Q() | x` would be only x)
        return Q()
    return chain | _assigned_q(user)


def _sensitive_q(user: AnyUser) -> Q:
    """The sensitive disputes this user may know of."""
    if _is_admin(user):
        return Q()
    q = Q(recorded_by=user) | _assigned_q(user)
    bodies = [r.grid_id for r in current_roles(user) if r.role == Role.MEDIATOR]
    if bodies:
        q |= Q(handling_grid_id__in=bodies)
    return q


def visible_disputes(user: AnyUser) -> QuerySet[Dispute]:
    if not user.is_authenticated:
        return Dispute.objects.none()
    if user.is_superuser:
        return Dispute.objects.all()
    return Dispute.objects.filter(
        (Q(sensitive=False) & _scope_q(user)) | (Q(sensitive=True) & _sensitive_q(user)))


def counted_disputes(user: AnyUser) -> QuerySet[Dispute]:
    """What the user's aggregate numbers count (by kind, risk, grid, mediator): every
    dispute of their scope, sensitive ones too — never to list or name them."""
    if not user.is_authenticated:
        return Dispute.objects.none()
    if user.is_superuser:
        return Dispute.objects.all()
    return Dispute.objects.filter(_scope_q(user))


def access_dispute(user: AnyUser, pk: int) -> Dispute:
    """The dispute, or Http404 (the same answer for "not yours" and "no such")."""
    found = visible_disputes(user).select_related(
        "kind", "grid", "handling_grid", "mediator").filter(pk=pk).first()
    if found is None:
        raise Http404("no such dispute")
    return found


def visible_screenings(user: AnyUser) -> QuerySet[Screening]:
    if not user.is_authenticated:
        return Screening.objects.none()
    return Screening.objects.filter(field_scope(user))


def can_record(user: AnyUser, grid: Grid) -> bool:
    """Record a screening or a dispute in this basic grid: its grid worker, a mediator,
    workstation / sub-center staff or dispatcher whose subtree holds it."""
    return (user.is_authenticated and grid.level == Level.BASIC
            and can_see_path(user, grid.path, RECORD_ROLES))


def _grid_path(dispute: Dispute, field: str) -> str:
    return getattr(dispute, field).path


def is_body_mediator(user: AnyUser, dispute: Dispute) -> bool:
    """A mediator of the body handling the dispute now (MEDIATOR on handling_grid or
    above), or the mediator assigned to it."""
    if not user.is_authenticated:
        return False
    if dispute.mediator_id is not None and dispute.mediator.user_id == user.pk:
        return True
    path = _grid_path(dispute, "handling_grid")
    return any(r.role == Role.MEDIATOR and path.startswith(r.path) for r in current_roles(user))


def can_mediate(user: AnyUser, dispute: Dispute) -> bool:
    """Take up, record sessions, agree, refer, escalate, withdraw: the assigned mediator, a
    mediator of the handling body, or the handling grid's staff (workstation / sub-center /
    center) — for a dispute at level `grid` also the grid's own worker (they mediate with
    the mediator at the doorstep)."""
    if not user.is_authenticated:
        return False
    if not visible_disputes(user).filter(pk=dispute.pk).exists():
        return False
    if user.is_superuser or is_body_mediator(user, dispute):
        return True
    path = _grid_path(dispute, "handling_grid")
    roles = current_roles(user)
    if any(r.role in BODY_STAFF_ROLES and path.startswith(r.path) for r in roles):
        return True
    return dispute.level == Mediation.GRID and any(
        r.role == Role.GRID_WORKER and r.grid_id == dispute.grid_id for r in roles)


def can_follow_up(user: AnyUser, dispute: Dispute) -> bool:
    """回访: whoever may mediate it, and the grid's own worker at any level (they call on
    the parties at the doorstep)."""
    return can_mediate(user, dispute) or (
        visible_disputes(user).filter(pk=dispute.pk).exists()
        and any(r.role == Role.GRID_WORKER and r.grid_id == dispute.grid_id
                for r in current_roles(user)))


def mediable_ids(user: AnyUser, disputes: QuerySet[Dispute]) -> tuple[set[int], set[int]]:
    """can_mediate and can_follow_up for many disputes at once (the offline bundle, lists):
    (ids the user may mediate, ids they may follow up), in one query over those of
    `disputes` the user may see."""
    if not user.is_authenticated:
        return set(), set()
    rows = visible_disputes(user).filter(pk__in=disputes.values("pk")).values_list(
        "pk", "mediator__user_id", "handling_grid__path", "level", "grid_id")
    roles = current_roles(user)
    mediators = [r.path for r in roles if r.role == Role.MEDIATOR]
    body = [r.path for r in roles if r.role in BODY_STAFF_ROLES]
    own = {r.grid_id for r in roles if r.role == Role.GRID_WORKER}
    mediate, follow = set(), set()
    for pk, mediator_user, path, level, grid_id in rows:
        if (user.is_superuser or mediator_user == user.pk
                or any(path.startswith(p) for p in mediators)
                or any(path.startswith(p) for p in body)
                or (level == Mediation.GRID and grid_id in own)):
            mediate.add(pk)
        if pk in mediate or grid_id in own:
            follow.add(pk)
    return mediate, follow


def sees_parties(user: AnyUser, dispute: Dispute) -> bool:
    """Whole names and the reveal of outsiders' contact data."""
    if not user.is_authenticated:
        return False
    return dispute.recorded_by_id == user.pk or can_mediate(user, dispute)


def mediators_for(grid: Grid) -> QuerySet[Person]:
    """People holding a current MEDIATOR role on this grid exactly (the body at its level)."""
    return Person.objects.filter(
        roles__role=Role.MEDIATOR, roles__grid=grid, roles__ended_on__isnull=True
    ).distinct().order_by("pk")


def mediator_candidates(grid: Grid) -> QuerySet[Person]:
    """People holding a current MEDIATOR role on this grid or above it (who may be given
    a dispute handled at `grid`)."""
    return Person.objects.filter(
        roles__role=Role.MEDIATOR, roles__grid__path__in=grid.ancestor_paths(),
        roles__ended_on__isnull=True).distinct().order_by("pk")


def screening_grids(user: AnyUser) -> QuerySet[Grid]:
    """The basic grids in the user's scope that must screen (every level-4 grid)."""
    if not user.is_authenticated:
        return Grid.objects.none()
    return Grid.objects.filter(in_scope(user, "path", TERRITORY_READ_ROLES),
                               level=Level.BASIC)


# -- high-risk alerts -------------------------------------------------------------------


def visible_alerts(user: AnyUser) -> QuerySet[Alert]:
    """The alerts for the bodies where the user is staff (workstation / sub-center on the
    alert's grid exactly), of disputes the user may see; admins: all they may see."""
    if not user.is_authenticated:
        return Alert.objects.none()
    disputes = visible_disputes(user)
    if _is_admin(user):
        return Alert.objects.filter(dispute__in=disputes)
    grids = sorted({r.grid_id for r in current_roles(user) if r.role in ALERT_ROLES})
    if not grids:
        return Alert.objects.none()
    return Alert.objects.filter(grid_id__in=grids, dispute__in=disputes)


def unnamed_alerts(user: AnyUser) -> int:
    """How many high-risk disputes, still open, alerted the bodies where the user is staff
    (workstation / sub-center on the alert's grid) that the user may not see (sensitive
    ones): the body learns that they exist ("辖区新增高风险敏感纠纷 N 件") — a count only,
    never their number, subject or a link."""
    if not user.is_authenticated:
        return 0
    grids = sorted({r.grid_id for r in current_roles(user) if r.role in ALERT_ROLES})
    if not grids:
        return 0
    return (Alert.objects.filter(grid_id__in=grids, dispute__state__in=OPEN_STATES)
            .exclude(dispute__in=visible_disputes(user))
            .values("dispute_id").distinct().count())


def access_alert(user: AnyUser, pk: int) -> Alert:
    found = visible_alerts(user).filter(pk=pk).first()
    if found is None:
        raise Http404("no such alert")
    return found


def person(user: AnyUser) -> Person | None:
    """The org person behind a login (fieldwork.access.person_of)."""
    return person_of(user)
