"""The statistics console: figures on a hand-built set, computed by hand; the scope (a
department sees its own items only); the chart, the table and the downloads.

The set belongs to a department made for the test, in a plain week of March 2026 (no
holiday: Mon 9 … Fri 13), so nothing of the demo's year is counted with it:

item X  app1  submitted Mon 10:00, passed Tue 15:00, due Tue 24:00   1 working day, on time
        app2  submitted Mon 11:00, returned Mon 16:00, due Tue       0, on time
        app3  submitted Wed 09:00, rejected Fri 10:00, due Thu       2, late
        app4  submitted Thu, not decided yet                         counted, not decided
        app5  a draft (never submitted)                              not counted
        app6  opened and passed in February                          outside the period
        proxies delivered Tue (rated 5), Wed (rated 2), Thu (not rated); one ready (not
        delivered); one delivered in February (outside) — each passed pre-review the
        week before, so its application is outside the period
item Y  app7  submitted Fri 09:00, passed Fri 11:00, due Mon         0, on time

X: 4 applications, pass rate 1/3, 1.0 working days, on time 2/3, 3 delivered, 1/2 satisfied
Y: 1 application, pass rate 1, 0.0 days, on time 1, nothing delivered
department: 5 applications, 2/4 passed, 0.75 days, on time 3/4, 3 delivered, 1/2
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.services import stats
from wangge.services.models import (
    Application,
    ItemType,
    ItemVersion,
    ProxyRequest,
    ServiceItem,
)
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

URL = "/console/services/stats/"
PERIOD = {"from": "2026-03-09", "to": "2026-03-13"}
A = Application.State
P = ProxyRequest.State


def at(day: int, hour: int, month: int = 3) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour))


def end_of(day: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day + 1))


def make_item(dept: Department, code: str, name: str) -> ServiceItem:
    item = ServiceItem.objects.create(code=code, name=name, department=dept,
                                      type=ItemType.CONFIRMATION, level="city",
                                      proxy_eligible=True, online_prereview=True)
    version = ItemVersion.objects.create(
        item=item, number=1, state=ItemVersion.State.PUBLISHED, name=name,
        type=ItemType.CONFIRMATION, department=dept, level="city", legal_days=5,
        promised_days=1)
    item.current = version
    item.save(update_fields=["current"])
    return item


@pytest.fixture
def world() -> dict[str, object]:
    city = Grid.objects.get(level=0)
    grid = Grid.objects.get(name="胜利社区第1网格")
    dept = Department.objects.create(code="t-stats", name="测试统计局",
                                     kind=Department.Kind.DEPARTMENT, grid=city)
    user = get_user_model().objects.create(username="t_stats")
    person = Person.objects.create(name="统计员", user=user, department=dept)
    RoleAssignment.objects.create(person=person, role=Role.DEPARTMENT_STAFF, grid=city,
                                  department=dept, started_on=dt.date(2026, 1, 1))
    x, y = make_item(dept, "T-STAT-X", "测试事项甲"), make_item(dept, "T-STAT-Y", "测试事项乙")
    worker = RoleAssignment.objects.filter(grid=grid, role=Role.GRID_WORKER).first().person
    n = iter(range(1, 100))

    def app(item: ServiceItem, state: str, created: dt.datetime,
            submitted: dt.datetime | None = None, decided: dt.datetime | None = None,
            due: dt.datetime | None = None,
            channel: str = Application.Channel.PUBLIC) -> Application:
        a = Application.objects.create(
            no=f"YST{next(n):06d}", item=item, version=item.current, department=dept,
            grid=grid, channel=channel, state=state,
            applicant_name="测试", submitted_at=submitted, decided_at=decided, due_at=due)
        Application.objects.filter(pk=a.pk).update(created_at=created)
        return a

    app(x, A.PASSED, at(9, 9), at(9, 10), at(10, 15), end_of(10))
    app(x, A.RETURNED, at(9, 10), at(9, 11), at(9, 16), end_of(10))
    app(x, A.REJECTED, at(11, 8), at(11, 9), at(13, 10), end_of(12))
    app(x, A.SUBMITTED, at(12, 9), at(12, 10), None, end_of(13))
    app(x, A.DRAFT, at(12, 11))
    app(x, A.PASSED, at(2, 9, 2), at(2, 10, 2), at(3, 10, 2), at(4, 0, 2))
    app(y, A.PASSED, at(13, 8), at(13, 9), at(13, 11), end_of(15))

    def proxy(state: str, delivered: dt.datetime | None, rating: int | None = None) -> None:
        """Collected and passed the week before (its application is not in the period)."""
        passed = app(x, A.PASSED, at(2, 9), at(2, 10), at(3, 10), end_of(3),
                     Application.Channel.PROXY)
        ProxyRequest.objects.create(
            no=f"DBT{next(n):06d}", item=x, grid=grid, worker=worker, application=passed,
            channel=ProxyRequest.Channel.PHONE, state=state, applicant_name="测试",
            delivered_at=delivered, rating=rating)

    proxy(P.RATED, at(10, 15), 5)
    proxy(P.RATED, at(11, 15), 2)
    proxy(P.DELIVERED, at(12, 15))
    proxy(P.READY, None)
    proxy(P.RATED, at(2, 15, 2), 5)
    client = Client()
    client.force_login(user)
    return {"user": user, "client": client, "x": x, "y": y, "dept": dept}


def test_the_figures_per_item_and_department_are_the_hand_computed_ones(world) -> None:
    figures = stats.service_stats(world["user"], dt.date(2026, 3, 9), dt.date(2026, 3, 13))
    x, y = figures.items
    assert (x.key, y.key) == ("T-STAT-X", "T-STAT-Y")  # the busier first
    assert (x.applications, x.decided, x.passed) == (4, 3, 1)
    assert x.pass_rate == pytest.approx(1 / 3)
    assert x.avg_days == pytest.approx(1.0)
    assert x.on_time_rate == pytest.approx(2 / 3)
    assert (x.delivered, x.rated, x.satisfaction) == (3, 2, 0.5)
    assert (y.applications, y.pass_rate, y.avg_days, y.on_time_rate) == (1, 1.0, 0.0, 1.0)
    assert (y.delivered, y.satisfaction) == (0, None)
    [dept] = figures.departments
    assert dept.name == "测试统计局"
    assert (dept.applications, dept.pass_rate, dept.avg_days, dept.on_time_rate) == (
        5, 0.5, 0.75, 0.75)
    assert (dept.delivered, dept.satisfaction) == (3, 0.5)


def test_working_days_follow_the_calendar_over_a_weekend() -> None:
    from wangge.workcal import calendar

    cal = calendar.current()
    # Fri 13 March → Mon 16 March: one working day; → Fri 13 the same day: none
    assert stats.days_to_decide(cal, dt.date(2026, 3, 13), dt.date(2026, 3, 16)) == 1
    assert stats.days_to_decide(cal, dt.date(2026, 3, 13), dt.date(2026, 3, 13)) == 0
    assert stats.days_to_decide(cal, dt.date(2026, 3, 9), dt.date(2026, 3, 13)) == 4


def test_the_page_shows_the_chart_beside_the_table(world) -> None:
    r = world["client"].get(URL, PERIOD)
    assert r.status_code == 200
    page = r.content.decode()
    assert '<svg class="bar-chart"' in page and "测试事项甲" in page
    assert 'id="stats-table"' in page
    # X's row: 4 applications, 33%, 1.0 days, 67%, 3 delivered, 50%
    row = page[page.index("T-STAT-X"):]
    row = row[:row.index("</tr>")]
    for cell in ("<td>4</td>", "33%", "1.0", "67%", "<td>3</td>", "50%"):
        assert cell in row, cell
    by_dept = world["client"].get(URL, {**PERIOD, "by": "department"}).content.decode()
    assert "测试统计局" in by_dept and "75%" in by_dept


def test_a_department_sees_only_its_own_items(world, login_as) -> None:
    other = login_as("civil_affairs").get(URL, PERIOD).content.decode()
    assert "测试事项甲" not in other
    centre = stats.service_stats(get_user_model().objects.get(username="dispatcher"),
                                 dt.date(2026, 3, 9), dt.date(2026, 3, 13))
    mine = next(r for r in centre.items if r.key == "T-STAT-X")
    assert (mine.applications, mine.delivered) == (4, 3)


def test_the_downloads_hold_the_table(world) -> None:
    r = world["client"].get(URL, {**PERIOD, "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["事项编码", "事项名称", "实施部门"]
    assert rows[1][:4] == ["T-STAT-X", "测试事项甲", "测试统计局", "4"]
    assert rows[1][4:] == ["3", "0.3333", "1.0", "0.6667", "3", "2", "0.5"]
    r = world["client"].get(URL, {**PERIOD, "by": "department", "format": "xlsx"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[1] == ["测试统计局", 5, 4, 0.5, 0.8, 0.75, 3, 2, 0.5]


def test_a_bad_or_reversed_period_falls_back_and_anonymous_users_log_in(world) -> None:
    assert world["client"].get(URL, {"from": "2026-02-30", "to": "x"}).status_code == 200
    reversed_ = world["client"].get(URL, {"from": "2026-03-13", "to": "2026-03-09"})
    assert "测试事项甲" in reversed_.content.decode()
    assert Client().get(URL).status_code == 302


def test_a_period_at_the_ends_of_the_calendar_is_a_page_not_a_500(login_as) -> None:
    client = login_as("station")
    for query in ("to=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31"):
        assert client.get(f"/console/services/stats/?{query}").status_code == 200, query
