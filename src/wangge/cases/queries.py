"""Read shapes over cases, built only from what `access` returns: the breakdown of a set of
cases (or clocks) by department and by the grids one level below a subtree, and what is late
on each late case. The SLA board, the statistics and the notice read these, so a late case
counts the same everywhere (docs/cases.md, "What is late")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from wangge.cases import access
from wangge.cases.models import Case
from wangge.territory.models import Grid

#: the name a case without a department (still with the dispatchers) is counted under
NO_DEPARTMENT = "中心（未分流）"
#: the depth of the towns' paths (/city/zone/town/): the city's board breaks down by town
TOWN_DEPTH = 3


def child_depth(under: Grid | None) -> int:
    """The depth of the grids one level below `under` (the towns for the whole city)."""
    return under.path.count("/") if under is not None else TOWN_DEPTH


def breakdown(qs: QuerySet[Any], depth: int, prefix: str = "") -> dict[str, Any]:
    """Counts of the rows of `qs` (cases, or rows with a `case` — prefix "case__") in full:
    the total, by the case's department (承办部门) and by the grid at `depth` above the
    case's grid. Rows are counted (a case once; a clock once per clock)."""
    by_dept: dict[str, int] = {}
    for name, n in (qs.values_list(f"{prefix}department__name").annotate(n=Count("id"))
                    .order_by()):
        key = name or NO_DEPARTMENT
        by_dept[key] = by_dept.get(key, 0) + n
    by_child: dict[str, int] = {}
    for path, n in qs.values_list(f"{prefix}grid__path").annotate(n=Count("id")).order_by():
        child = "/".join(path.split("/")[:depth + 1]) + "/"
        by_child[child] = by_child.get(child, 0) + n
    grids = {g.path: g for g in Grid.objects.filter(path__in=by_child).only(
        "code", "name", "path")}
    return {
        "total": sum(by_dept.values()),
        "by_department": sorted(by_dept.items(), key=lambda kv: (-kv[1], kv[0])),
        "by_grid": sorted(((grids.get(p), p, n) for p, n in by_child.items()),
                          key=lambda row: (-row[2], row[1])),
    }


@dataclass
class Late:
    """One thing that is late on a case: an SLA clock, an assignment or a supervision."""

    kind: str  # "clock" | "assignment" | "supervision"
    label: str
    deadline: dt.datetime | dt.date | None


@dataclass
class LateCase:
    case: Case
    reasons: list[Late] = field(default_factory=list)

    @property
    def department(self) -> str:
        return self.case.department.name if self.case.department_id else NO_DEPARTMENT


def late_reasons(cases: list[Case], now: dt.datetime) -> list[LateCase]:
    """For late cases (from access.overdue_cases), what is late on each, earliest first."""
    ids = [c.pk for c in cases]
    found: dict[int, list[Late]] = {pk: [] for pk in ids}
    for k in access.late_clocks(now).filter(case_id__in=ids):
        found[k.case_id].append(Late("clock", f"{k.name}超时", k.deadline))
    for a in access.late_assignments(now).filter(case_id__in=ids).select_related("department"):
        found[a.case_id].append(Late("assignment", f"交办 {a.department.name}：{a.task}",
                                     a.deadline))
    for s in access.late_supervisions(now).filter(case_id__in=ids):
        found[s.case_id].append(Late("supervision", f"{s.get_level_display()}逾期",
                                     s.deadline))

    def day(late: Late) -> dt.date:
        d = late.deadline
        if isinstance(d, dt.datetime):
            return timezone.localdate(d)
        return d or dt.date.max

    return [LateCase(c, sorted(found[c.pk], key=day)) for c in cases]
