"""Console queues and statistics over the cases a user may see (all reads go through
access.visible_cases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from wangge.cases import access
from wangge.cases.models import Assignment, Case, CaseClock, Supervision
from wangge.cases.urgency import by_urgency, with_urgency
from wangge.cases.workflow import FINAL, WAITING_ON, Actor, State
from wangge.org.access import AnyUser, in_scope
from wangge.territory.models import Grid

QUEUES = ("mine", "scope", "overdue")


def _states(actor: Actor) -> list[str]:
    return [s for s, a in WAITING_ON.items() if a == actor]


def waiting_on(user: AnyUser) -> Q:
    """Cases whose next move is this user's: to dispatch (at the case's handling level), to
    handle for their department, to verify in their grid, to rate as the reporter."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    mine = Q(pk__in=[])
    for level, roles in access.DISPATCH_ROLES_AT.items():
        mine |= (Q(handling_level=level, state__in=_states(Actor.DISPATCH))
                 & in_scope(user, "grid__path", roles=roles))
    mine |= Q(department_id__in=access.user_department_ids(user),
              state__in=_states(Actor.DEPARTMENT))
    mine |= Q(grid_id__in=access.worker_grid_ids(user), state__in=_states(Actor.GRID_WORKER))
    mine |= Q(reporter_id=user.pk, state__in=_states(Actor.REPORTER))
    return mine


def overdue(today: dt.date) -> Q:
    """Open cases past a deadline they carry: an open assignment's or a supervision's.
    (The working-day clocks of the SLA engine add theirs.)"""
    late_assignment = Assignment.objects.filter(case=OuterRef("pk"), closed_at__isnull=True,
                                                deadline__lt=today)
    late_supervision = Supervision.objects.filter(case=OuterRef("pk"), deadline__lt=today)
    return ~Q(state__in=FINAL) & (Exists(late_assignment) | Exists(late_supervision))


def queue(user: AnyUser, name: str, today: dt.date, state: str = "") -> QuerySet[Case]:
    qs = access.visible_cases(user)
    if name == "mine":
        qs = qs.filter(waiting_on(user))
    elif name == "overdue":
        qs = qs.filter(overdue(today))
    if state:
        qs = qs.filter(state=state)
    # most urgent first, with the card, the clocks' state and the nearest deadline annotated
    return by_urgency(with_urgency(qs.select_related("category", "grid", "department")))


def inbox(user: AnyUser) -> dict[str, Any]:
    """A department's inbox: cases to accept, handle or answer, and open assignments."""
    departments = access.user_department_ids(user)
    cases = (access.visible_cases(user)
             .filter(department_id__in=departments, state__in=_states(Actor.DEPARTMENT))
             .select_related("category", "grid"))
    cases = by_urgency(with_urgency(cases))
    assignments = (access.department_assignments(user).filter(closed_at__isnull=True)
                   .select_related("case", "department").order_by("deadline"))
    return {"cases": cases, "assignments": assignments}


def statistics(user: AnyUser) -> dict[str, Any]:
    """Counts over the user's territory. Confidential cases appear only as a count: never
    by category, department or state, whoever asks."""
    scoped = access.territory_cases(user)
    plain = scoped.filter(confidential=False)

    def by(field: str) -> list[dict[str, Any]]:
        return list(plain.values(field).annotate(n=Count("id")).order_by("-n", field))

    return {
        "total": scoped.count(),
        "confidential": scoped.filter(confidential=True).count(),
        "by_state": {row["state"]: row["n"] for row in by("state")},
        "by_class": [{"code": r["category__parent__code"], "name": r["category__parent__name"],
                      "n": r["n"]} for r in plain.values("category__parent__code",
                                                         "category__parent__name")
                     .annotate(n=Count("id")).order_by("-n")],
        "by_department": [{"name": r["department__name"] or "", "n": r["n"]}
                          for r in by("department__name")],
        "open": plain.exclude(state__in=FINAL).count(),
        "closed": plain.filter(state__in=[State.CLOSED, State.EVALUATED]).count(),
    }


#: rows listed per section of the SLA board (the counts are always complete)
SLA_BOARD_ROWS = 200


def sla_board(user: AnyUser, now: dt.datetime, under: Grid | None = None) -> dict[str, Any]:
    """The SLA board: clocks due today, in warning and breached, over the cases the user may
    see — in the subtree `under` if given — each counted in full by department and by the
    grids one level below the subtree (the towns, for the whole city), with the first
    SLA_BOARD_ROWS clocks listed by deadline."""
    end_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0,
                                                 microsecond=0) + dt.timedelta(days=1)
    cases = access.visible_cases(user)
    if under is not None:
        cases = cases.filter(grid__path__startswith=under.path)
    live = CaseClock.objects.filter(case__in=cases, status__in=[CaseClock.Status.RUNNING,
                                                                CaseClock.Status.PAUSED])
    sections = {
        "breached": live.filter(breached_at__isnull=False),
        "warning": live.filter(breached_at__isnull=True, warned_at__isnull=False),
        "due_today": live.filter(breached_at__isnull=True, deadline__lt=end_of_day),
    }
    depth = under.path.count("/") if under is not None else 3  # /city/zone/town/ → towns
    board: dict[str, Any] = {}
    for name, qs in sections.items():
        by_dept = {(d or "—"): n for d, n in qs.values_list("case__department__name")
                   .annotate(n=Count("id")).order_by()}
        by_child: dict[str, int] = {}
        for path, n in qs.values_list("case__grid__path").annotate(n=Count("id")).order_by():
            child = "/".join(path.split("/")[:depth + 1]) + "/"
            by_child[child] = by_child.get(child, 0) + n
        grids = {g.path: g for g in Grid.objects.filter(path__in=by_child).only(
            "code", "name", "path")}
        board[name] = {
            "total": sum(by_dept.values()),
            "clocks": list(qs.select_related("case", "case__department")
                           .order_by("deadline")[:SLA_BOARD_ROWS]),
            "by_department": sorted(by_dept.items(), key=lambda kv: (-kv[1], kv[0])),
            "by_grid": sorted(((grids.get(p), p, n)
                               for p, n in by_child.items()),
                              key=lambda row: (-row[2], row[1])),
        }
    return board
