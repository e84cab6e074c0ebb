"""The case queues and the department inbox as a working desk: sorted by urgency (card, breached
or warned clock, nearest deadline), with the working time left, search, filters, counted
pages — and no filter ever shows a user more than they may see."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from wangge.cases import access
from wangge.cases.models import Case, CaseCategory, CaseClock, Supervision
from wangge.cases.tests.helpers import act, report
from wangge.cases.urgency import time_left
from wangge.org.models import Department
from wangge.territory.models import Grid
from wangge.workcal.deadlines import WorkCalendar

pytestmark = pytest.mark.django_db

User = get_user_model()
QUEUE, INBOX, API = "/console/cases/", "/console/cases/inbox/", "/api/v1/cases/"
NO = re.compile(r'href="/console/cases/(LL-[0-9-]+)/"')


def numbers(html: str) -> list[str]:
    """Register numbers in the order the rows list them (each row links its number once
    in the first cell; the inbox's 办理 button links it again)."""
    seen: list[str] = []
    for no in NO.findall(html):
        if no not in seen:
            seen.append(no)
    return seen


def get(client: Client, url: str, status: int = 200, **params: Any) -> str:
    r = client.get(url, params)
    assert r.status_code == status, (url, params, r.status_code)
    return r.content.decode()


def clock(case_no: str, deadline: dt.datetime | None, *, warned: bool = False,
          breached: bool = False, status: str = CaseClock.Status.RUNNING,
          code: str = "handle", missing: int | None = None) -> None:
    case = Case.objects.get(register_no=case_no)
    now = timezone.now()
    CaseClock.objects.create(
        case=case, policy="test", code=code, name="处置时限", amount=5, unit="working_days",
        goal="handled", status=status, started_at=now - dt.timedelta(days=1),
        deadline=deadline, calendar_missing=missing,
        warned_at=now if warned or breached else None, breached_at=now if breached else None)


def card(case_no: str, level: str) -> None:
    Supervision.objects.create(case=Case.objects.get(register_no=case_no), level=level,
                               reason="督办测试", deadline=timezone.localdate())


@pytest.fixture
def desk(login_as, spot) -> dict[str, str]:
    """Seven cases titled with a word no demo case has, their clocks and cards set by hand:
    red card, yellow card, breached, warned, a far deadline, nothing, and a closed case with
    a red card (a closed case does not rise for its card)."""
    worker = login_as("gridworker")
    names = ["red", "yellow", "breached", "warned", "far", "plain", "closed"]
    made = {n: report(worker, spot, title=f"紧急排序测试 {n}")["register_no"] for n in names}
    CaseClock.objects.filter(case__register_no__in=made.values()).delete()
    now = timezone.now()
    clock(made["breached"], now - dt.timedelta(hours=2), breached=True)
    clock(made["warned"], now + dt.timedelta(days=20), warned=True)
    clock(made["far"], now + dt.timedelta(days=3))
    clock(made["plain"], now + dt.timedelta(days=1), status=CaseClock.Status.MET)
    clock(made["yellow"], now + dt.timedelta(days=40))
    card(made["red"], Supervision.Level.RED)
    card(made["yellow"], Supervision.Level.YELLOW)
    card(made["closed"], Supervision.Level.RED)
    Case.objects.filter(register_no=made["closed"]).update(state="closed")
    return made


def test_queue_is_sorted_by_urgency_and_shows_card_deadline_and_time_left(
        login_as, desk) -> None:
    dispatcher = login_as("dispatcher")
    html = get(dispatcher, QUEUE, queue="scope", q="紧急排序测试")
    order = ["red", "yellow", "breached", "warned", "far"]
    assert numbers(html)[:5] == [desk[n] for n in order]
    # plain and closed have no running clock: last, newest first
    assert numbers(html)[5:] == [desk["closed"], desk["plain"]]
    for column in ("督办牌", "办理期限", "剩余（工作时间）"):
        assert column in html
    row = html[html.index(desk["breached"]):html.index(desk["warned"])]
    assert "已超时" in row and "time-over" in row
    assert "badge-red" in html[html.index(desk["red"]):html.index(desk["yellow"])]
    # the API lists the same cases in the same order
    api = dispatcher.get(API, {"queue": "scope", "q": "紧急排序测试"}).json()
    assert [r["register_no"] for r in api] == numbers(html)
    assert api[0]["card"] == "red" and api[2]["breached"] is True


def test_a_deadline_the_calendar_cannot_count_to_shows_a_dash(login_as, desk) -> None:
    far = timezone.now().replace(year=2099)
    clock(desk["plain"], far, code="reply")
    clock(desk["closed"], None, code="reply", missing=2099)
    html = get(login_as("dispatcher"), QUEUE, queue="scope", q=desk["plain"])
    cell = html[html.index("2099-"):]
    assert re.match(r"2099-[^<]*</td>\s*<td[^>]*class=\"queue-left\">—", cell)
    html = get(login_as("dispatcher"), QUEUE, queue="scope", q=desk["closed"])
    assert "待录入 2099 年日历" in html


def test_each_filter_narrows_the_list(login_as, desk) -> None:
    dispatcher = login_as("dispatcher")

    def listed(**params: str) -> set[str]:
        return set(numbers(get(dispatcher, QUEUE, queue="scope", q="紧急排序测试", **params)))

    everything = set(desk.values())
    assert listed() == everything
    assert listed(card="red") == {desk["red"], desk["closed"]}
    assert listed(card="yellow") == {desk["yellow"]}
    assert listed(card="any") == {desk["red"], desk["closed"], desk["yellow"]}
    assert listed(card="none") == everything - listed(card="any")
    assert listed(state="closed") == {desk["closed"]}
    Case.objects.filter(register_no=desk["far"]).update(channel=Case.Channel.RESIDENT)
    assert listed(channel="resident") == {desk["far"]}
    other = CaseCategory.objects.filter(parent__isnull=False).exclude(code="0601").first()
    assert other is not None
    Case.objects.filter(register_no=desk["plain"]).update(category=other)
    assert listed(category=other.code) == {desk["plain"]}
    assert listed(category=other.parent.code) >= {desk["plain"]}  # a big class: its children
    assert desk["red"] not in listed(category=other.parent.code)
    water = Department.objects.get(code="water")
    Case.objects.filter(register_no=desk["warned"]).update(department=water)
    assert listed(department="water") == {desk["warned"]}
    grid = Grid.objects.get(name="胜利社区第1网格")
    town = Grid.objects.get(level=2, path__in=grid.ancestor_paths())
    assert listed(grid=town.code) == everything  # a subtree: the town holds the grid
    assert listed(grid=grid.code) == everything
    elsewhere = Grid.objects.filter(level=2).exclude(pk=town.pk).first()
    assert elsewhere is not None and listed(grid=elsewhere.code) == set()
    assert listed(card="red", state="closed") == {desk["closed"]}  # filters combine


def test_search_by_register_number_and_by_words(login_as, desk, spot) -> None:
    dispatcher = login_as("dispatcher")
    assert numbers(get(dispatcher, QUEUE, queue="scope", q=desk["far"])) == [desk["far"]]
    assert numbers(get(dispatcher, QUEUE, queue="scope", q="紧急排序测试 far")) == [desk["far"]]
    assert numbers(get(dispatcher, QUEUE, queue="scope", q="紧急排序测试 nothing")) == []
    # a confidential case is found by its number, never by the words it hides
    worker = login_as("gridworker")
    secret = report(worker, spot, title="涉密关键词甲乙丙")["register_no"]
    Case.objects.filter(register_no=secret).update(confidential=True)
    admin = login_as("admin")
    assert numbers(get(admin, QUEUE, queue="scope", q="涉密关键词甲乙丙")) == []
    html = get(admin, QUEUE, queue="scope", q=secret)
    assert numbers(html) == [secret] and "涉密关键词" not in html
    # nor by its category: a confidential category is not offered, and asking is refused
    assert numbers(get(admin, QUEUE, queue="scope", q=secret, category="0601")) == []
    secret_class = CaseCategory.objects.filter(confidential=True).first()
    assert secret_class is not None and secret_class.name not in html
    get(admin, QUEUE, 400, queue="scope", category=secret_class.code)


def test_pages_are_counted(login_as) -> None:
    dispatcher = login_as("dispatcher")
    visible = access.visible_cases(User.objects.get(username="dispatcher"))
    html = get(dispatcher, QUEUE, queue="scope")
    shown = int(re.search(r"共 (\d+) 件", html).group(1))
    assert shown == visible.count() > 100
    assert "第 1–50 件" in html and len(numbers(html)) == 50
    pages = -(-shown // 50)
    assert f"第 1 / {pages} 页" in html
    second = get(dispatcher, QUEUE, queue="scope", page="2")
    assert "第 51–100 件" in second and not set(numbers(second)) & set(numbers(html))
    last = get(dispatcher, QUEUE, queue="scope", page=str(pages))
    assert f"第 {(pages - 1) * 50 + 1}–{shown} 件" in last
    # the pager keeps the filters
    filtered = get(dispatcher, QUEUE, queue="scope", state="closed")
    n = int(re.search(r"共 (\d+) 件", filtered).group(1))
    assert n == visible.filter(state="closed").count() > 50
    assert "state=closed&amp;page=2" in filtered[filtered.index('class="pager"'):]


def test_no_filter_widens_what_a_user_sees(login_as, desk) -> None:
    worker = login_as("gridworker")  # sees one basic grid
    mine = Grid.objects.get(name="胜利社区第1网格")
    elsewhere = Grid.objects.filter(level=4).exclude(pk=mine.pk).exclude(
        path__startswith=mine.path).first()
    assert elsewhere is not None
    html = get(worker, QUEUE, queue="scope", grid=elsewhere.code)
    assert numbers(html) == [] and "共 0 件" in html
    city = Grid.objects.get(level=0)
    wide = set(numbers(get(worker, QUEUE, queue="scope", grid=city.code, q="紧急排序测试")))
    assert wide == set(desk.values())
    assert all(Case.objects.get(register_no=no).grid.path.startswith(mine.path)
               for no in numbers(get(worker, QUEUE, queue="scope", grid=city.code)))
    # the department sees only its own cases, whatever the filter says
    dept = login_as("water")
    assert numbers(get(dept, QUEUE, queue="scope", q="紧急排序测试")) == []
    assert numbers(get(dept, QUEUE, queue="scope", department="urban-management",
                       q="紧急排序测试")) == []
    assert worker.get(API, {"queue": "scope", "grid": elsewhere.code}).json() == []
    # the grid list offers only the user's own grids
    html = get(worker, QUEUE, queue="scope")
    assert f'value="{city.code}"' not in html


@pytest.mark.parametrize("params", [
    {"category": "no-such"}, {"department": "no-such"}, {"state": "sleeping"},
    {"channel": "pigeon"}, {"card": "purple"}, {"q": "x" * 101}, {"grid": "g" * 21},
])
def test_bad_filter_values_are_a_clear_400_naming_the_field(login_as, params) -> None:
    dispatcher = login_as("dispatcher")
    html = get(dispatcher, QUEUE, 400, queue="scope", **params)
    field = next(iter(params))
    assert 'role="alert"' in html and f"{field}：" in html and numbers(html) == []
    r = dispatcher.get(API, {"queue": "scope", **params})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", field]


def test_odd_page_numbers_and_unknown_grids_are_not_errors(login_as) -> None:
    dispatcher = login_as("dispatcher")
    assert len(numbers(get(dispatcher, QUEUE, queue="scope", page="abc"))) == 50
    assert "第 1–50 件" not in get(dispatcher, QUEUE, queue="scope", page="99999")
    assert numbers(get(dispatcher, QUEUE, queue="scope", grid="NOSUCHGRID")) == []
    assert dispatcher.get(API, {"queue": "scope", "grid": "NOSUCHGRID"}).json() == []


def test_query_count_does_not_grow_with_the_rows(login_as, desk) -> None:
    dispatcher = login_as("dispatcher")

    def queries(**params: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            html = get(dispatcher, QUEUE, queue="scope", **params)
        return len(ctx.captured_queries), len(numbers(html))

    few, n_few = queries(q="紧急排序测试 far")
    many, n_many = queries()
    assert n_few == 1 and n_many == 50
    assert few == many
    dept = login_as("department")
    for name in ("far", "breached", "plain", "warned"):
        act(dispatcher, desk[name], "register")
        act(dispatcher, desk[name], "dispatch")
    with CaptureQueriesContext(connection) as ctx:
        listed = numbers(get(dept, INBOX))
    assert len(listed) >= 4
    inbox_queries = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        assert numbers(get(dept, INBOX, q=listed[0])) == [listed[0]]
    assert len(ctx.captured_queries) == inbox_queries


def test_the_inbox_is_sorted_filtered_and_paged_the_same_way(login_as, desk) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    for name in ("far", "breached", "plain"):
        act(dispatcher, desk[name], "register")
        act(dispatcher, desk[name], "dispatch")
    CaseClock.objects.filter(case__register_no__in=desk.values(), policy="test").delete()
    CaseClock.objects.filter(case__register_no__in=desk.values()).delete()
    now = timezone.now()
    clock(desk["breached"], now - dt.timedelta(hours=1), breached=True)
    clock(desk["far"], now + dt.timedelta(days=5))
    html = get(dept, INBOX, q="紧急排序测试")
    assert numbers(html) == [desk["breached"], desk["far"], desk["plain"]]
    assert "共 3 件" in html and "剩余（工作时间）" in html and "签收" in html
    assert 'name="department"' not in html  # the inbox is the department's own
    assert numbers(get(dept, INBOX, q="紧急排序测试", card="red")) == []
    card(desk["far"], Supervision.Level.YELLOW)
    assert numbers(get(dept, INBOX, q="紧急排序测试")) == [
        desk["far"], desk["breached"], desk["plain"]]
    assert "筛选条件有误" in get(dept, INBOX, 400, card="purple")


# ------------------------------------------------------------------ working time left

CAL = WorkCalendar(2026, 2026, {dt.date(2026, 10, 1): False, dt.date(2026, 10, 2): False,
                                dt.date(2026, 10, 10): True})
SH = dt.timezone(dt.timedelta(hours=8))
moments = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 10, 31),
                       timezones=st.just(SH))


@given(start=moments, hours=st.floats(min_value=0.25, max_value=120).map(
    lambda h: round(h * 4) / 4))
@settings(max_examples=200, deadline=None)
def test_time_left_to_a_working_hours_deadline_is_those_hours(start: dt.datetime,
                                                              hours: float) -> None:
    deadline = CAL.add_working_hours(start, hours)
    left = time_left(CAL, start, deadline)
    assert left is not None and left.us == round(hours * 3_600_000_000)
    back = time_left(CAL, deadline, start)
    assert back is not None and back.us == -left.us and back.overdue


def test_time_left_reads_in_working_days_and_hours() -> None:
    monday = dt.datetime(2026, 9, 28, 9, 0, tzinfo=SH)
    deadline = CAL.add_working_days(monday, 3)  # over the holiday: Monday 10-05 24:00
    assert deadline == dt.datetime(2026, 10, 6, tzinfo=SH)
    left = time_left(CAL, monday, deadline)  # 6 h today, Tue, Wed, and Mon 10-05
    assert left is not None and str(left) == "剩 3 个工作日 6 小时" and not left.overdue
    late = time_left(CAL, deadline + dt.timedelta(hours=1), deadline)
    assert late is not None and str(late) == "刚超时"  # 01:00: no office time yet
    assert str(time_left(CAL, deadline + dt.timedelta(hours=9), deadline)) == "超 30 分"
    # Tue–Fri, the make-up Saturday 10-10, and 1.5 h of Monday 10-12
    assert str(time_left(CAL, dt.datetime(2026, 10, 12, 10, 0, tzinfo=SH), deadline)) == (
        "超 5 个工作日 1 小时")
    assert str(time_left(CAL, dt.datetime(2026, 10, 5, 17, 45, tzinfo=SH), deadline)) == (
        "即将到期")
    assert time_left(CAL, monday, dt.datetime(2027, 1, 4, tzinfo=SH)) is None  # uncovered
    assert time_left(CAL, monday, None) is None
