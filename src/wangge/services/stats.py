"""Statistics of the service hall per item and per department for a period (read only):

- applications: applications submitted for pre-review (any channel) opened in the period;
- pass rate: of those decided (passed, returned or rejected as they stand now), the share
  passed;
- average working days to decide: working days after the day of the (last) submission up
  to and including the decision's day (workcal: a decision the same day is 0, the next
  working day 1), over the decided ones;
- on-time rate: of the decided ones with a deadline, the share decided by `due_at`;
- proxy delivered: proxy requests delivered (delivered or rated) in the period, by
  `delivered_at`;
- satisfaction: of those rated, the share rated 非常满意, 满意 or 基本满意 (3–5).

What is counted is what the viewer may see (services.access.visible_applications /
visible_proxies: a department its own items, a station its community, the center all).
Rates are None where nothing was there to divide by (shown as "—").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from wangge.core.tables import Table, to_csv, to_xlsx
from wangge.org.access import AnyUser
from wangge.services import access
from wangge.services.models import Application, ProxyRequest
from wangge.workcal import calendar
from wangge.workcal.deadlines import CalendarNotCovered, WorkCalendar

DECIDED = (Application.State.PASSED, Application.State.RETURNED, Application.State.REJECTED)
DELIVERED = (ProxyRequest.State.DELIVERED, ProxyRequest.State.RATED)
#: 满意: 非常满意 (5), 满意 (4), 基本满意 (3)
SATISFIED_FROM = 3


@dataclass
class Row:
    """The figures of one item or one department."""

    key: str
    name: str
    department: str = ""
    applications: int = 0
    decided: int = 0
    passed: int = 0
    days_total: int = 0
    with_due: int = 0
    on_time: int = 0
    delivered: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.decided if self.decided else None

    @property
    def avg_days(self) -> float | None:
        return self.days_total / self.decided if self.decided else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_due if self.with_due else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    def add(self, other: Row) -> None:
        for name in ("applications", "decided", "passed", "days_total", "with_due",
                     "on_time", "delivered", "rated", "satisfied"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Stats:
    start: dt.date
    end: dt.date
    items: list[Row] = field(default_factory=list)
    departments: list[Row] = field(default_factory=list)
    total: Row = field(default_factory=lambda: Row("", ""))


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    return lo, timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))


def days_to_decide(cal: WorkCalendar, submitted: dt.date, decided: dt.date) -> int:
    """Working days after the submission's day up to and including the decision's day."""
    if decided <= submitted:
        return 0
    after = timezone.make_aware(dt.datetime.combine(decided + dt.timedelta(days=1), dt.time.min))
    start = timezone.make_aware(dt.datetime.combine(submitted, dt.time(12)))
    try:
        return cal.working_days_between(start, after)
    except CalendarNotCovered:  # a year the calendar does not hold: Monday to Friday
        day, n = submitted + dt.timedelta(days=1), 0
        while day <= decided:
            n += day.weekday() < 5
            day += dt.timedelta(days=1)
        return n


def service_stats(user: AnyUser, start: dt.date, end: dt.date) -> Stats:
    """The figures of every item with something in the period, per item and department,
    sorted by activity (most first)."""
    lo, hi = _bounds(start, end)
    cal = calendar.current()
    days: dict[tuple[dt.date, dt.date], int] = {}  # a period asks few distinct pairs
    rows: dict[int, Row] = {}
    meta: dict[int, tuple[str, str, int, str]] = {}

    def row(item_id: int, code: str, name: str, dept_id: int, dept: str) -> Row:
        if item_id not in rows:
            rows[item_id] = Row(code, name, dept)
            meta[item_id] = (code, name, dept_id, dept)
        return rows[item_id]

    apps = (access.visible_applications(user)
            .filter(created_at__gte=lo, created_at__lt=hi, submitted_at__isnull=False)
            .order_by().values_list("item_id", "item__code", "item__name", "department_id",
                                    "department__name", "state", "submitted_at",
                                    "decided_at", "due_at"))
    for item_id, code, name, dept_id, dept, state, submitted, decided, due in apps:
        r = row(item_id, code, name, dept_id, dept)
        r.applications += 1
        if state in DECIDED and decided is not None:
            r.decided += 1
            r.passed += state == Application.State.PASSED
            pair = (timezone.localtime(submitted).date(), timezone.localtime(decided).date())
            if pair not in days:
                days[pair] = days_to_decide(cal, *pair)
            r.days_total += days[pair]
            if due is not None:
                r.with_due += 1
                r.on_time += decided <= due
    proxies = (access.visible_proxies(user)
               .filter(state__in=DELIVERED, delivered_at__gte=lo, delivered_at__lt=hi)
               .order_by().values_list("item_id", "item__code", "item__name",
                                       "item__department_id", "item__department__name",
                                       "rating"))
    for item_id, code, name, dept_id, dept, rating in proxies:
        r = row(item_id, code, name, dept_id, dept)
        r.delivered += 1
        if rating is not None:
            r.rated += 1
            r.satisfied += rating >= SATISFIED_FROM
    out = Stats(start, end)
    departments: dict[int, Row] = {}
    for item_id, r in rows.items():
        _code, _name, dept_id, dept = meta[item_id]
        d = departments.setdefault(dept_id, Row(str(dept_id), dept))
        d.add(r)
        out.total.add(r)
    out.items = sorted(rows.values(), key=_activity)
    out.departments = sorted(departments.values(), key=_activity)
    return out


def _activity(r: Row) -> tuple[int, str]:
    return -(r.applications + r.delivered), r.key


def chart(rows: list[Row], limit: int = 15) -> dict[str, Any]:
    """A horizontal bar chart as SVG geometry (drawn by the template, no script): per row
    two bars, applications and proxy requests delivered, scaled to the largest value."""
    shown = rows[:limit]
    top = max([r.applications for r in shown] + [r.delivered for r in shown] + [1])
    label_w, bar_w, step = 150, 300, 26
    bars = []
    for i, r in enumerate(shown):
        y = 10 + i * step
        bars.append({"name": r.name, "y": y, "text_y": y + 14, "label_w": label_w,
                     "a_w": round(bar_w * r.applications / top, 1), "a_y": y + 2,
                     "d_w": round(bar_w * r.delivered / top, 1), "d_y": y + 11,
                     "value_x": label_w + bar_w + 6,
                     "applications": r.applications, "delivered": r.delivered})
    return {"bars": bars, "width": label_w + bar_w + 70, "height": 20 + len(shown) * step,
            "label_w": label_w}


def table(stats: Stats, by: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for the download (rates as numbers 0–1, days to one decimal)."""
    head = (["事项编码", "事项名称", "实施部门"] if by == "item" else ["部门"]) + [
        "预审申请数", "已作结论", "预审通过率", "平均办理工作日", "按时办结率", "代办送达件数",
        "已评价", "满意率"]
    out = []
    for r in stats.items if by == "item" else stats.departments:
        lead = [r.key, r.name, r.department] if by == "item" else [r.name]
        out.append([*lead, r.applications, r.decided, _round(r.pass_rate, 4),
                    _round(r.avg_days, 1), _round(r.on_time_rate, 4), r.delivered, r.rated,
                    _round(r.satisfaction, 4)])
    return head, out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _table(stats: Stats, by: str) -> Table:
    head, rows = table(stats, by)
    return Table("按事项" if by == "item" else "按部门", head, rows)


def as_csv(stats: Stats, by: str) -> str:
    """The table as CSV, with a BOM so that Excel opens the Chinese text as UTF-8; text
    a spreadsheet would take for a formula (= + - @) is kept as text."""
    return to_csv(_table(stats, by)).decode("utf-8")


def as_xlsx(stats: Stats, by: str) -> bytes:
    return to_xlsx(_table(stats, by))
