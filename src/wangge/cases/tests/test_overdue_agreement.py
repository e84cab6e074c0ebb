"""One truth about "late" (超期): the 超期 queue, the SLA board, the 督办通报, the statistics
and 提醒 all read access.overdue — a breached running SLA clock, a late open assignment or a
supervision past its date, on a case still open — so over the demo city they give the same
numbers per department and per grid. Due today means running clocks not yet in warning;
paused clocks are listed apart."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.cases import access, jobs, notice, queries, queues
from wangge.cases.models import Assignment, Case, CaseClock, Notification, Supervision
from wangge.cases.tests.helpers import act, post, report
from wangge.cases.workflow import FINAL
from wangge.integration import delivery
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

User = get_user_model()


def deliver() -> None:
    """What the worker does each turn: fan out, then send everything due."""
    tally = delivery.Tally()
    delivery.route(1000)
    while delivery.deliver_due("test-worker", batch=500, stopping=lambda: False, tally=tally):
        pass


def dept(case: Case) -> str:
    return case.department.name if case.department_id else queries.NO_DEPARTMENT


def town(case: Case, depth: int = queries.TOWN_DEPTH) -> str:
    return "/".join(case.grid.path.split("/")[:depth + 1]) + "/"


def board_grids(section: dict[str, Any]) -> dict[str, int]:
    return {path: n for _, path, n in section["by_grid"]}


def stats_grids(s: dict[str, Any]) -> dict[str, int]:
    paths = dict(Grid.objects.filter(code__in=[r["code"] for r in s["overdue"]["by_grid"]])
                 .values_list("code", "path"))
    return {paths[r["code"]]: r["n"] for r in s["overdue"]["by_grid"]}


@pytest.fixture
def late_city(login_as, spot) -> dt.datetime:  # type: ignore[no-untyped-def]
    """The demo city after the worker's sweep and delivery, plus one open case late only by
    its assignment (交办单) and one only by a supervision past its date."""
    dispatcher, worker = login_as("dispatcher"), login_as("gridworker")
    past = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    by_assignment = report(worker, spot, category="1001", title="停水未修")["register_no"]
    post(dispatcher, f"/api/v1/cases/{by_assignment}/consultations", {
        "held_on": past, "participants": "水司", "decision": "抢修",
        "tasks": [{"department": "water", "task": "抢修", "deadline": past}]})
    by_supervision = report(worker, (spot[0] + 0.001, spot[1]), category="0601",
                            title="井盖督办")["register_no"]
    act(dispatcher, by_supervision, "register")
    post(dispatcher, f"/api/v1/cases/{by_supervision}/supervisions",
         {"level": "normal", "reason": "催办", "deadline": past})
    now = timezone.now()
    assert jobs.sweep(now).breached >= 1
    deliver()
    return now


def test_every_surface_counts_the_same_late_cases(login_as, late_city) -> None:
    now = late_city
    dispatcher = User.objects.get(username="dispatcher")
    late = list(queues.queue(dispatcher, "overdue", timezone.localdate())
                .select_related("department", "grid"))
    assert len(late) >= 3
    kinds = {r.kind for row in queries.late_reasons(late, now) for r in row.reasons}
    assert kinds == {"clock", "assignment", "supervision"}  # all three kinds are present
    assert not [c for c in late if c.state in FINAL]
    by_dept = Counter(dept(c) for c in late)
    by_town = Counter(town(c) for c in late)

    board = queues.sla_board(dispatcher, now)["breached"]
    assert board["total"] == len(late)
    assert dict(board["by_department"]) == by_dept
    assert board_grids(board) == by_town

    lines = notice.notice(dispatcher, timezone.localdate() - dt.timedelta(days=30),
                          timezone.localdate(), now)
    assert {ln.department: len(ln.overdue) for ln in lines if ln.overdue} == by_dept

    s = queues.statistics(dispatcher, now)
    plain = [c for c in late if not c.confidential]
    assert s["overdue"]["total"] == len(late)
    assert s["overdue"]["confidential"] == len(late) - len(plain)
    assert {r["name"]: r["n"] for r in s["overdue"]["by_department"]} == Counter(
        dept(c) for c in plain)
    assert stats_grids(s) == Counter(town(c) for c in plain)

    # 提醒: every late clock the sweep marked has told someone, and the dispatcher's page
    # counts what the queue shows
    breached = set(access.late_clocks(now).filter(breached_at__isnull=False)
                   .values_list("case_id", flat=True))
    assert breached and breached <= {c.pk for c in late}
    told = set(Notification.objects.filter(kind=Notification.Kind.SLA_BREACH,
                                           case_id__in=breached)
               .values_list("case_id", flat=True))
    assert told == breached


def test_the_pages_show_the_same_numbers(login_as, late_city) -> None:
    client = login_as("dispatcher")
    api = client.get("/api/v1/cases/", {"queue": "overdue", "limit": 500}).json()
    n = len(api)
    sla_page = client.get("/console/cases/sla/").content.decode()
    breached = sla_page.split('class="sla-breached"')[1].split("</section>")[0]
    assert re.search(rf'<small class="count">{n}</small>', breached)
    stats = client.get("/console/cases/stats/").content.decode()
    assert f'id="overdue">{n}<' in stats
    assert client.get("/api/v1/cases/stats").json()["overdue"]["total"] == n
    notice_page = client.get("/console/cases/notice/").content.decode()
    assert sum(int(x) for x in re.findall(r"超期 (\d+) 件", notice_page)) == n
    notes = client.get("/console/cases/notifications/").content.decode()
    assert f'id="late-total">{n}<' in notes


def test_a_town_and_a_community_agree_too(login_as, late_city) -> None:
    """Per grid below the city: a town's board, its statistics and the queue narrowed to it;
    and the community's station, who sees only its own subtree."""
    now = late_city
    dispatcher = User.objects.get(username="dispatcher")
    victory = Grid.objects.get(name="胜利社区")
    the_town = Grid.objects.get(path=town(Case(grid=victory)))
    late = list(queues.queue(dispatcher, "overdue", timezone.localdate())
                .filter(grid__path__startswith=the_town.path)
                .select_related("department", "grid"))
    assert late
    depth = queries.child_depth(the_town)
    board = queues.sla_board(dispatcher, now, the_town)["breached"]
    assert board["total"] == len(late)
    assert board_grids(board) == Counter(town(c, depth) for c in late)
    s = queues.statistics(dispatcher, now, the_town)
    assert stats_grids(s) == Counter(town(c, depth) for c in late if not c.confidential)

    station = User.objects.get(username="station")
    mine = list(access.overdue_cases(station, now).select_related("department", "grid"))
    assert mine and all(c.grid.path.startswith(victory.path) for c in mine)
    board = queues.sla_board(station, now, victory)["breached"]
    assert board["total"] == len(mine) == queues.queue(
        station, "overdue", timezone.localdate()).count()
    assert dict(board["by_department"]) == Counter(dept(c) for c in mine)
    lines = notice.notice(station, timezone.localdate(), timezone.localdate(), now)
    assert sum(len(ln.overdue) for ln in lines) == len(mine)
    page = login_as("station").get("/console/cases/notifications/").content.decode()
    assert f'id="late-total">{len(mine)}<' in page


def test_due_today_lists_running_clocks_not_yet_warned_and_paused_ones_apart(
        login_as, spot) -> None:
    CaseClock.objects.update(status=CaseClock.Status.STOPPED)
    dispatcher, worker = login_as("dispatcher"), login_as("gridworker")
    nos = []
    for i in range(4):
        no = report(worker, (spot[0] + 0.001 * i, spot[1]), category="0101",
                    title=f"暴露垃圾{i}")["register_no"]
        act(dispatcher, no, "register")
        nos.append(no)
    now = timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59)
    fresh, warned, paused, late = (CaseClock.objects.get(case__register_no=no) for no in nos)
    for clock in (fresh, warned, paused, late):
        clock.deadline = min(now + dt.timedelta(minutes=5), end_of_day)
        clock.warn_at = clock.deadline - dt.timedelta(seconds=1)
    warned.warn_at, warned.warned_at = now - dt.timedelta(hours=1), now - dt.timedelta(hours=1)
    paused.status, paused.paused_at = CaseClock.Status.PAUSED, now - dt.timedelta(days=90)
    paused.deadline = now - dt.timedelta(days=80)  # long past, but the case is suspended
    late.deadline = now - dt.timedelta(minutes=1)  # past, not yet swept: late already
    for clock in (fresh, warned, paused, late):
        clock.save()
    user = User.objects.get(username="dispatcher")
    board = queues.sla_board(user, now)
    listed = {key: {k.case.register_no for k in board[key].get("clocks", [])}
              for key in board}
    assert listed["due_today"] == {fresh.case.register_no}
    assert listed["warning"] == {warned.case.register_no}
    assert listed["paused"] == {paused.case.register_no}
    assert {row.case.register_no for row in board["breached"]["cases"]} == {late.case.register_no}
    page = login_as("dispatcher").get("/console/cases/sla/").content.decode()
    assert late.case.register_no in page.split('class="sla-breached"')[1].split("</section>")[0]
    assert paused.case.register_no in page.split('class="sla-paused"')[1]
    assert paused.case.register_no not in page.split('class="sla-due_today"')[1].split(
        "</section>")[0]


# ---- the rule itself, over its many cases ------------------------------------------------

CLOCK = st.one_of(st.none(), st.fixed_dictionaries({
    "status": st.sampled_from(list(CaseClock.Status.values)),
    "past": st.booleans(),  # deadline already passed
    "marked": st.booleans(),  # the sweep marked it breached
}))
ASSIGNMENT = st.one_of(st.none(), st.fixed_dictionaries({
    "past": st.booleans(), "closed": st.booleans()}))


class Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(final=st.booleans(), clock=CLOCK, assignment=ASSIGNMENT,
       supervision=st.one_of(st.none(), st.booleans()))
def test_the_rule(final: bool, clock: dict[str, Any] | None, assignment: dict[str, Any] | None,
                  supervision: bool | None) -> None:
    """超期 = open, and (a running clock past its deadline or marked breached, or an open
    assignment past its date, or a supervision past its date)."""
    now = timezone.now()
    today = timezone.localdate(now)
    case = Case.objects.exclude(state__in=FINAL).order_by("pk").first()
    assert case is not None
    expected = not final and (
        (clock is not None and clock["status"] == "running"
         and (clock["past"] or clock["marked"]))
        or (assignment is not None and assignment["past"] and not assignment["closed"])
        or bool(supervision))
    try:
        with transaction.atomic():
            for related in (CaseClock, Assignment, Supervision):
                related.objects.filter(case=case).delete()
            if final:
                Case.objects.filter(pk=case.pk).update(state="closed")
            if clock is not None:
                deadline = now + dt.timedelta(hours=-2 if clock["past"] else 2)
                CaseClock.objects.create(
                    case=case, policy="p", code="t", name="测试", amount=1, unit="hours",
                    goal="handled", status=clock["status"], started_at=now - dt.timedelta(
                        days=1), deadline=deadline, warn_at=deadline,
                    breached_at=now if clock["marked"] else None)
            if assignment is not None:
                Assignment.objects.create(
                    case=case, department_id=_a_department(),
                    task="办", deadline=today + dt.timedelta(
                        days=-1 if assignment["past"] else 1),
                    feedback="好" if assignment["closed"] else "",
                    closed_at=now if assignment["closed"] else None)
            if supervision is not None:
                Supervision.objects.create(case=case, level="yellow", reason="r",
                                           deadline=today + dt.timedelta(
                                               days=-1 if supervision else 0))
            assert Case.objects.filter(access.overdue(now), pk=case.pk).exists() == expected
            # today's date means now, as the queue page asks
            assert Case.objects.filter(access.overdue(today), pk=case.pk).exists() == expected
            raise Rollback
    except Rollback:
        pass


def _a_department() -> int:
    from wangge.org.models import Department

    found = Department.objects.values_list("pk", flat=True).first()
    assert found is not None
    return found

