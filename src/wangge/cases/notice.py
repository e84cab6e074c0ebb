"""督办通报: each department's late cases (as access.overdue defines them, as of now) and the
supervisions opened in a period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from wangge.cases import access, queries
from wangge.cases.models import Case, Supervision
from wangge.cases.queries import LateCase
from wangge.org.access import AnyUser


@dataclass
class DepartmentLine:
    department: str
    overdue: list[LateCase] = field(default_factory=list)
    supervised: list[Supervision] = field(default_factory=list)


def notice(user: AnyUser, start: dt.date, end: dt.date,
           now: dt.date | dt.datetime | None = None) -> list[DepartmentLine]:
    """Departments with something to report, worst first: the cases late now, under the
    department handling them (承办部门; "中心（未分流）" while none), and the supervisions
    opened from `start` to `end`. Only cases the user may see count; confidential ones are
    shown without their titles."""
    at = access.as_of(now)
    lines: dict[str, DepartmentLine] = {}
    late = list(access.overdue_cases(user, at).select_related("department")
                .order_by("created_at", "pk"))
    for row in queries.late_reasons(late, at):
        lines.setdefault(row.department, DepartmentLine(row.department)).overdue.append(row)
    supervised = (Supervision.objects.filter(case__in=access.visible_cases(user),
                                             opened_at__date__gte=start,
                                             opened_at__date__lte=end)
                  .select_related("case__department"))
    for s in supervised:
        name = s.case.department.name if s.case.department_id else queries.NO_DEPARTMENT
        lines.setdefault(name, DepartmentLine(name)).supervised.append(s)
    return sorted(lines.values(), key=lambda ln: (-len(ln.overdue), -len(ln.supervised),
                                                  ln.department))


def shown_title(case: Case) -> str:
    return "（涉密事件）" if case.confidential else case.title
