"""Every metric of metrics.METRICS on a hand-built week, against values computed by hand.

The week is Monday 3 – Friday 7 March 2031 (Asia/Shanghai), where the demo city has no
records, with the working-day calendar of 2031 entered (no holidays in that week; office
hours 08:30–12:00, 14:30–17:30). Records are written directly, with their moments set (the
loop's actions stamp "now"); the events carry what the actions write (a dispatch's and a
return's department code).

Grids: A (胜利社区第1网格), B (its sibling), C (a grid of another town). Departments D1, D2.
Categories K1, K2. W is A's grid worker (a login), WB is B's.

Cases (T(d, h:m) = 2031-03-d h:m):
  c1 A K1 grid_worker by W: created T3 9:00, registered 9:30, dispatch D1 10:00,
     handle 15:00 (150 working min: 10–12, 14:30–15), close T4 10:00, rated 5 T4 11:00;
     handling clock deadline T10 00:00, met T3 15:00.
  c2 A K1 resident: created T3 10:00, registered 10:30, dispatch D1 11:00, return 14:00,
     dispatch D2 T4 9:00, handle T4 11:00 (120 min), close T5 9:00, rated 2 T5 10:00,
     reopen T5 10:00, handle T5 15:00 (150 min from the reopen), close T6 9:00; clock
     deadline T4 10:00, breached T4 10:00 (overdue), met T4 11:00; current dept D2.
  c3 B K2 grid_worker by W: created T3 11:00, rejected (not valid).
  c4 B K2 resident: created T4 9:00, registered 9:30, dispatch D2 10:00, handle 16:00
     (210 min: 10–12, 14:30–16), verify_fail T5 9:00, handle T5 10:00 (60 min); no clock.
  c5 C K1 grid_worker by W: created T5 9:00, merged into c1 (not valid).
  c6 C K2 resident: created T5 10:00, registered 10:10, dispatch D1 10:30, reply_due T6
     9:00, reply T6 10:00.
  c7 A K2 grid_worker by W, confidential: created T6 9:00, registered 9:10, dispatch D2
     9:30, handle 17:00 (300 min: 9:30–12, 14:30–17), close T7 9:00; clock deadline T13,
     met T6 17:00.
  c8 B K1 walk_in: created T7 9:00, only reported.
Fieldwork: visits (and one opinion each) W in A T3 3 people, W in A T5 2 people, WB in B
T4 4 people; patrols W in A T3 14:00–15:30 (90 min) passing buildings a1, a2, WB in B T4
8:00–8:45 (45 min) passing b1, W in A T7 14:00 not ended (no minutes) passing a1; one proxy
request delivered by W in A T5, one ready (not counted).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth import get_user_model

from wangge.analytics.access import Scope
from wangge.analytics.figures import Query, figures, totals
from wangge.analytics.metrics import METRICS, evaluate
from wangge.analytics.tests.test_headline import deliver, grids, worker_of, write
from wangge.cases.models import Case, CaseCategory, CaseClock, CaseEvent, Rating
from wangge.fieldwork.models import BuildingPass, Patrol
from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.registry.models import Building
from wangge.services.models import ProxyRequest
from wangge.workcal.deadlines import SHANGHAI
from wangge.workcal.models import CalendarState, CalendarYear

pytestmark = pytest.mark.django_db

SINCE, UNTIL = dt.date(2031, 3, 3), dt.date(2031, 3, 7)
EVERYONE = Scope(None, None)


def T(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, 3, day, hour, minute, tzinfo=SHANGHAI)


def with_login(person: Person) -> Person:
    if person.user_id is None:
        person.user = get_user_model().objects.create_user(f"t-{uuid.uuid4().hex[:8]}")
        person.save()
    return person


class World:
    def __init__(self) -> None:
        CalendarYear.objects.update_or_create(year=2031, defaults={
            "source": CalendarYear.Source.MANUAL, "covered": True})
        CalendarState.objects.get_or_create(pk=1)
        CalendarState.objects.filter(pk=1).update(stamp=uuid.uuid4().hex)
        g = grids()
        self.A, self.B, self.C = g["own"], g["sibling"], g["far"]
        self.W = with_login(worker_of(self.A))
        self.WB = worker_of(self.B)
        assert self.W.pk != self.WB.pk
        deps = list(Department.objects.filter(kind=Department.Kind.DEPARTMENT).order_by("code")[:2])
        self.D1, self.D2 = deps
        cats = list(CaseCategory.objects.filter(parent__isnull=False).order_by("code")[:2])
        self.K1, self.K2 = cats
        self.n = 0

    def case(self, grid, cat, channel: str, at: dt.datetime, *, by: Person | None = None,
             state: str = "reported", dept: Department | None = None, **extra) -> Case:
        self.n += 1
        c = Case.objects.create(register_no=f"T2031{self.n:06d}", category=cat, grid=grid,
                                title="测试", channel=channel, state=state,
                                reporter=by.user if by else None, department=dept, **extra)
        Case.objects.filter(pk=c.pk).update(created_at=at)
        return c

    def event(self, case: Case, action: str, at: dt.datetime, **data) -> None:
        e = CaseEvent.objects.create(case=case, action=action, data=data)
        CaseEvent.objects.filter(pk=e.pk).update(at=at)

    def clock(self, case: Case, deadline: dt.datetime, met: dt.datetime,
              breached: dt.datetime | None = None) -> None:
        CaseClock.objects.create(case=case, policy="general_7wd", code="resolve", name="办结",
                                 amount=7, unit="working_days", goal="handled",
                                 status=CaseClock.Status.MET, started_at=case.created_at,
                                 deadline=deadline, met_at=met, breached_at=breached)

    def rate(self, case: Case, level: int, at: dt.datetime) -> None:
        r = Rating.objects.create(case=case, level=level, via=Rating.Via.FOLLOWUP)
        Rating.objects.filter(pk=r.pk).update(created_at=at)


@pytest.fixture
def w() -> World:
    w = World()
    A, B, C, W, D1, D2, K1, K2 = w.A, w.B, w.C, w.W, w.D1, w.D2, w.K1, w.K2
    c1 = w.case(A, K1, "grid_worker", T(3, 9), by=W, state="evaluated", dept=D1,
                registered_at=T(3, 9, 30))
    w.event(c1, "dispatch", T(3, 10), department=D1.code)
    w.event(c1, "handle", T(3, 15))
    w.event(c1, "close", T(4, 10))
    w.rate(c1, 5, T(4, 11))
    w.clock(c1, T(10, 0), T(3, 15))
    c2 = w.case(A, K1, "resident", T(3, 10), state="closed", dept=D2,
                registered_at=T(3, 10, 30))
    w.event(c2, "dispatch", T(3, 11), department=D1.code)
    w.event(c2, "return", T(3, 14), department=D1.code)
    w.event(c2, "dispatch", T(4, 9), department=D2.code)
    w.event(c2, "handle", T(4, 11))
    w.event(c2, "close", T(5, 9))
    w.rate(c2, 2, T(5, 10))
    w.event(c2, "reopen", T(5, 10))
    w.event(c2, "handle", T(5, 15))
    w.event(c2, "close", T(6, 9))
    w.clock(c2, T(4, 10), T(4, 11), breached=T(4, 10))
    w.case(w.B, K2, "grid_worker", T(3, 11), by=W, state="rejected")
    c4 = w.case(B, K2, "resident", T(4, 9), state="handled", dept=D2,
                registered_at=T(4, 9, 30))
    w.event(c4, "dispatch", T(4, 10), department=D2.code)
    w.event(c4, "handle", T(4, 16))
    w.event(c4, "verify_fail", T(5, 9))
    w.event(c4, "handle", T(5, 10))
    w.case(C, K1, "grid_worker", T(5, 9), by=W, state="cancelled", merged_into=c1)
    c6 = w.case(C, K2, "resident", T(5, 10), state="dispatched", dept=D1,
                registered_at=T(5, 10, 10))
    w.event(c6, "dispatch", T(5, 10, 30), department=D1.code)
    w.event(c6, "reply_due", T(6, 9))
    w.event(c6, "reply", T(6, 10))
    c7 = w.case(A, K2, "grid_worker", T(6, 9), by=W, state="closed", dept=D2,
                confidential=True, registered_at=T(6, 9, 10))
    w.event(c7, "dispatch", T(6, 9, 30), department=D2.code)
    w.event(c7, "handle", T(6, 17))
    w.event(c7, "close", T(7, 9))
    w.clock(c7, T(13, 0), T(6, 17))
    w.case(B, K1, "walk_in", T(7, 9))
    # fieldwork
    write(A, dt.date(2031, 3, 3), 3, 10, None)
    write(A, dt.date(2031, 3, 5), 2, 10, None)
    write(B, dt.date(2031, 3, 4), 4, 10, None)
    a1, a2 = Building.objects.filter(grid=A).order_by("pk")[:2]
    b1 = Building.objects.filter(grid=B).order_by("pk").first()
    for worker, grid, start, end, passes in (
            (W, A, T(3, 14), T(3, 15, 30), [(a1, T(3, 14, 10)), (a2, T(3, 14, 20))]),
            (w.WB, B, T(4, 8), T(4, 8, 45), [(b1, T(4, 8, 10))]),
            (W, A, T(7, 14), None, [(a1, T(7, 14, 10))])):
        p = Patrol.objects.create(worker=worker, grid=grid, started_at=start, ended_at=end,
                                  duration_s=int((end - start).total_seconds()) if end else 0)
        for building, at in passes:
            BuildingPass.objects.create(patrol=p, building=building, at=at)
    deliver(A, dt.date(2031, 3, 5))
    deliver(A, dt.date(2031, 3, 6), ProxyRequest.State.READY)
    return w


def buildings_of(grids) -> int:
    return Building.objects.filter(grid__in=grids).count()


def test_the_whole_city(w: World) -> None:
    got = evaluate(totals(EVERYONE, Query("grid", SINCE, UNTIL)))
    # 5 day buckets × every building of the city (all in grids of level 1 or below)
    total = 5 * Building.objects.count()
    assert got == {
        "reported": 8, "valid": 6, "valid_rate": 75.0,  # c3 rejected, c5 merged
        "registered": 5, "register_rate": 83.33,  # c1 c2 c4 c6 c7 of 6 valid
        "dispatched": 6, "returned": 1, "return_rate": 16.67,
        "handled": 6, "handled_on_time": 4, "on_time_handle_rate": 66.67,  # c2's two late
        "closed": 4, "close_rate": 80.0, "on_time_close_rate": 50.0,  # c1, c7 on time
        "reworked": 2, "rework_rate": 33.33,  # c4 verify_fail, c2 reopen
        "overdue": 1, "reply_rate": 100.0,
        "avg_handling_hours": 2.75,  # (150+120+150+210+60+300) / 6 / 60
        "satisfaction_rate": 50.0,  # 5 and 2
        "followup_rate": 75.0,  # closes of rated cases: c1, c2 twice of 4
        "visit_people": 9, "patrol_hours": 2.25,  # 90 + 45 minutes
        "building_coverage": round(100 * 4 / total, 2),  # {a1,a2} + {b1} + {a1}
        "opinions": 3, "proxy_items": 1,
        # no disputes that week (test_disputes_metrics has them); no screening period
        # starts in it (a month's 1st), so none is due
        "screenings": 0, "screening_rate": None, "screenings_nil": 0, "disputes_found": 0,
        "disputes_high": 0, "disputes_mediated": 0, "agreements": 0, "referrals": 0,
        "mediation_success_rate": None, "follow_ups": 0, "honour_rate": None,
    }
    assert {m.code for m in METRICS} == set(got)


def test_one_department(w: World) -> None:
    rows = figures(EVERYONE, Query("department", SINCE, UNTIL))
    assert evaluate(rows[w.D1.pk], "department") == {
        "reported": 2, "valid": 2, "valid_rate": 100.0,  # c1, c6 are D1's now
        "registered": 2, "register_rate": 100.0,
        "dispatched": 3, "returned": 1, "return_rate": 33.33,  # c1, c2, c6; c2 returned
        "handled": 1, "handled_on_time": 1, "on_time_handle_rate": 100.0,  # c1
        "closed": 1, "close_rate": 50.0, "on_time_close_rate": 100.0,
        "reworked": 0, "rework_rate": 0.0, "overdue": 0,
        "reply_rate": 100.0,  # c6's reply owed and given, dispatched to D1
        "avg_handling_hours": 2.5, "satisfaction_rate": 100.0, "followup_rate": 100.0,
    }
    assert evaluate(rows[w.D2.pk], "department")["reworked"] == 2  # c4, c2 after D2
    assert rows[0]["reported"] == 3  # c3, c5, c8: never dispatched (未派遣)


def test_one_grid(w: World) -> None:
    rows = figures(EVERYONE, Query("grid", SINCE, UNTIL, within=w.A.parent, level=4))
    total = 5 * buildings_of([w.A])
    assert evaluate(rows[w.A.pk], "grid") == {
        "reported": 3, "valid": 3, "valid_rate": 100.0,  # c1 c2 c7
        "registered": 3, "register_rate": 100.0,
        "dispatched": 4, "returned": 1, "return_rate": 25.0,
        "handled": 4, "handled_on_time": 2, "on_time_handle_rate": 50.0,
        "closed": 4, "close_rate": 133.33, "on_time_close_rate": 50.0,  # c2 closed twice
        "reworked": 1, "rework_rate": 25.0, "overdue": 1, "reply_rate": None,
        "avg_handling_hours": 3.0,  # (150+120+150+300) / 4 / 60
        "satisfaction_rate": 50.0, "followup_rate": 75.0,
        "visit_people": 5, "patrol_hours": 1.5, "building_coverage": round(100 * 3 / total, 2),
        "opinions": 2, "proxy_items": 1,
        "screenings": 0, "screening_rate": None, "screenings_nil": 0, "disputes_found": 0,
        "disputes_high": 0, "disputes_mediated": 0, "agreements": 0, "referrals": 0,
        "mediation_success_rate": None, "follow_ups": 0, "honour_rate": None,
    }


def test_one_worker(w: World) -> None:
    rows = figures(EVERYONE, Query("worker", SINCE, UNTIL))
    own = RoleAssignment.objects.filter(person=w.W, role=Role.GRID_WORKER,
                                        ended_on__isnull=True).values("grid")
    total = 5 * buildings_of(own)
    assert evaluate(rows[w.W.pk], "worker") == {
        "reported": 4, "valid": 2, "valid_rate": 50.0,  # c1 c3 c5 c7; c3, c5 not valid
        "registered": 2, "register_rate": 100.0,
        "dispatched": 2, "returned": 0, "return_rate": 0.0,
        "handled": 2, "handled_on_time": 2, "on_time_handle_rate": 100.0,
        "closed": 2, "close_rate": 100.0, "on_time_close_rate": 100.0,
        "reworked": 0, "rework_rate": 0.0, "overdue": 0, "reply_rate": None,
        "avg_handling_hours": 3.75,  # (150 + 300) / 2 / 60
        "satisfaction_rate": 100.0, "followup_rate": 50.0,
        "visit_people": 5, "patrol_hours": 1.5, "building_coverage": round(100 * 3 / total, 2),
        "opinions": 2, "proxy_items": 1,
        "screenings": 0, "screening_rate": None, "screenings_nil": 0, "disputes_found": 0,
        "disputes_high": 0,
    }


def test_a_zero_denominator_is_none_never_0_or_100() -> None:
    got = evaluate({"reported": 0, "replied": 3, "patrol_minutes": 90})
    for m in METRICS:
        if m.denominator is not None:
            assert got[m.code] is None, m.code
    assert got["reported"] == 0 and got["patrol_hours"] == 1.5
    # a numerator of 0 over a denominator is 0, not None
    assert evaluate({"handled": 3})["rework_rate"] == 0.0


def test_a_year_the_calendar_lacks_adds_no_minutes(w: World) -> None:
    CalendarYear.objects.filter(year=2031).update(covered=False)
    CalendarState.objects.filter(pk=1).update(stamp=uuid.uuid4().hex)
    got = totals(EVERYONE, Query("grid", SINCE, UNTIL))
    assert got["handled"] == 6 and got.get("handling_minutes", 0) == 0
