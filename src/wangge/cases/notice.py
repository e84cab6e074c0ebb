"""督办通报: for a period, each department's overdue assignments and supervised cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from wangge.cases.access import visible_cases
from wangge.cases.models import Assignment, Case, Supervision
from wangge.org.access import AnyUser


@dataclass
class DepartmentLine:
    department: str
    overdue: list[Assignment] = field(default_factory=list)
    supervised: list[Supervision] = field(default_factory=list)


def notice(user: AnyUser, start: dt.date, end: dt.date, today: dt.date) -> list[DepartmentLine]:
    """Departments with something to report, worst first. Only cases the user may see count;
    confidential ones appear as a count, never with their titles."""
    cases = visible_cases(user)
    lines: dict[str, DepartmentLine] = {}
    overdue = (Assignment.objects.filter(case__in=cases, deadline__lt=today,
                                         deadline__gte=start, deadline__lte=end,
                                         closed_at__isnull=True)
               .select_related("department", "case"))
    for a in overdue:
        lines.setdefault(a.department.name, DepartmentLine(a.department.name)).overdue.append(a)
    supervised = (Supervision.objects.filter(case__in=cases, opened_at__date__gte=start,
                                             opened_at__date__lte=end)
                  .select_related("case__department"))
    for s in supervised:
        name = s.case.department.name if s.case.department_id else "中心（未分流）"
        lines.setdefault(name, DepartmentLine(name)).supervised.append(s)
    return sorted(lines.values(), key=lambda ln: -(len(ln.overdue) + len(ln.supervised)))


def shown_title(case: Case) -> str:
    return "（涉密事件）" if case.confidential else case.title
