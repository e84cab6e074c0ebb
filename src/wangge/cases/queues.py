"""Console queues and statistics over the cases a user may see (all reads go through
access.visible_cases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from wangge.cases import access, queries
from wangge.cases.models import Case, CaseClock
from wangge.cases.urgency import by_urgency, with_urgency
from wangge.cases.workflow import FINAL, Actor, State
from wangge.org.access import AnyUser
from wangge.territory.models import Grid

QUEUES = ("mine", "scope", "overdue")
#: columns a queue never shows: left out of the rows it sorts (a grid's boundary is kilobytes)
WIDE = ("description", "grid__boundary", "category__intake_condition",
        "category__closeout_condition")


def _states(actor: Actor) -> list[str]:
    return access.states_waiting_on(actor)


#: "whose move is it" is decided in access (one definition): 我的待办 reads it from there
waiting_on = access.waiting_on


def overdue(today: dt.date | dt.datetime) -> Q:
    """超期, as access.overdue defines it (breached SLA clocks, late assignments,
    supervisions past their date); today's date means now."""
    return access.overdue(today)


def queue(user: AnyUser, name: str, today: dt.date, state: str = "") -> QuerySet[Case]:
    qs = access.visible_cases(user)
    if name == "mine":
        qs = qs.filter(waiting_on(user))
    elif name == "overdue":
        qs = qs.filter(overdue(today))
    if state:
        qs = qs.filter(state=state)
    # most urgent first, with the card, the clocks' state and the nearest deadline annotated
    return by_urgency(with_urgency(qs.select_related("category", "grid", "department")
                                   .defer(*WIDE)))


def inbox(user: AnyUser) -> dict[str, Any]:
    """A department's inbox: cases to accept, handle or answer, and open assignments."""
    departments = access.user_department_ids(user)
    cases = (access.visible_cases(user)
             .filter(department_id__in=departments, state__in=_states(Actor.DEPARTMENT))
             .select_related("category", "grid").defer(*WIDE))
    cases = by_urgency(with_urgency(cases))
    assignments = (access.department_assignments(user).filter(closed_at__isnull=True)
                   .select_related("case", "department").order_by("deadline"))
    return {"cases": cases, "assignments": assignments}


def statistics(user: AnyUser, now: dt.datetime | None = None,
               under: Grid | None = None) -> dict[str, Any]:
    """Counts over the user's territory. Confidential cases appear only as a count: never
    by category, department, grid or state, whoever asks. `overdue` counts the late cases
    (access.overdue) by department and by the grids one level below `under` (the towns)."""
    scoped = access.territory_cases(user)
    plain = scoped.filter(confidential=False)

    def by(field: str) -> list[dict[str, Any]]:
        return list(plain.values(field).annotate(n=Count("id")).order_by("-n", field))

    late = scoped.filter(access.overdue(now))
    if under is not None:
        late = late.filter(grid__path__startswith=under.path)
    parts = queries.breakdown(late.filter(confidential=False), queries.child_depth(under))
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
        "overdue": {
            "total": late.count(),
            "confidential": late.filter(confidential=True).count(),
            "by_department": [{"name": name, "n": n} for name, n in parts["by_department"]],
            "by_grid": [{"code": g.code if g else "", "name": g.name if g else path, "n": n}
                        for g, path, n in parts["by_grid"]],
        },
    }


#: rows listed per section of the SLA board (the counts are always complete)
SLA_BOARD_ROWS = 200


def sla_board(user: AnyUser, now: dt.datetime, under: Grid | None = None) -> dict[str, Any]:
    """The SLA board over the cases the user may see — in the subtree `under` if given:
    超期 (the late cases, as access.overdue defines them, with what is late on each), then
    the clocks in warning, due today and paused, each section counted in full by department
    and by the grids one level below the subtree (the towns, for the whole city), with the
    first SLA_BOARD_ROWS rows listed. The clock sections are disjoint: due today is a
    running clock due before midnight not yet in warning; a clock past its deadline is late,
    not in warning; paused clocks are listed apart, never as due."""
    end_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0,
                                                 microsecond=0) + dt.timedelta(days=1)
    cases = access.visible_cases(user)
    if under is not None:
        cases = cases.filter(grid__path__startswith=under.path)
    depth = queries.child_depth(under)
    late = cases.filter(access.overdue(now))
    running = CaseClock.objects.filter(case__in=cases, status=CaseClock.Status.RUNNING,
                                       breached_at__isnull=True, deadline__gte=now)
    warned = Q(warned_at__isnull=False) | Q(warn_at__lte=now)
    clock_sections = {
        "warning": running.filter(warned),
        "due_today": running.filter(deadline__lt=end_of_day).exclude(warned),
        "paused": CaseClock.objects.filter(case__in=cases, status=CaseClock.Status.PAUSED),
    }
    board: dict[str, Any] = {"breached": {
        **queries.breakdown(late, depth),
        "cases": queries.late_reasons(
            list(late.select_related("department").order_by("created_at", "pk")
                 [:SLA_BOARD_ROWS]), now),
    }}
    for name, qs in clock_sections.items():
        board[name] = {
            **queries.breakdown(qs, depth, prefix="case__"),
            "clocks": list(qs.select_related("case", "case__department")
                           .order_by("deadline", "pk")[:SLA_BOARD_ROWS]),
        }
    return board
