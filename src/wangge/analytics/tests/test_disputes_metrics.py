"""The disputes' base counts and metrics (矛盾纠纷排查调解) on a hand-built fortnight, against
values computed by hand; the rollups give what the records give for them; the cockpit's
disputes panel.

The span is Saturday 1 – Friday 14 March 2025 (Asia/Shanghai), where the demo city has no
records. Rules: every grid screens monthly (a rule on the root) except B, under watch,
weekly (a rule on B): in the span A and C owe 1 return each (the month starting on the
1st), B owes 2 (Mondays 3 and 10). T(d, h) = 2025-03-d h:00.

Grids: A (胜利社区第1网格), B (its sibling), C (a grid of another town). W, WB, WC their grid
workers (W and WB with a login). Kinds: labour, neighbour, marriage_family,
domestic_violence (sensitive), environment.

Screenings: s1 A by W T(2,10) with items; s2 B by WB T(3,10) nil; s3 B by WB T(10,10) with
items; s4 C by WC T(5,10) nil.

Disputes (reported / what followed):
  d1 A labour high, by W, T(2,10): accepted T(3,9), escalated and accepted again T(6,9)
     (not a second mediation), agreement T(9,10), follow-up T(12,10) honoured.
  d2 A neighbour low, by W, T(2,11): accepted T(2,15), agreement T(4,10), follow-ups
     T(11,10) partly and T(13,10) honoured.
  d3 B marriage_family medium, by WB, T(10,11): accepted T(10,15), referred T(12,9).
  d4 C domestic_violence high (sensitive), by the superuser (no person), T(5,11):
     withdrawn T(6,10), never accepted.
  d5 A neighbour low, by W, 27 Feb (before the span): accepted T(1,9), agreement T(1,15).
  d6 A environment medium, by W, 26 Feb: accepted 26 Feb, accepted again T(4,9) after an
     escalation: its mediation began before the span.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from wangge.analytics import cockpit
from wangge.analytics.access import Scope
from wangge.analytics.actions import do_rollup
from wangge.analytics.facts import period_starts
from wangge.analytics.figures import Query, figures, labels, raw_figures, resolve, totals
from wangge.analytics.metrics import METRIC_BY_CODE, evaluate
from wangge.analytics.models import MetricTally
from wangge.analytics.tests.test_headline import grids, worker_of
from wangge.disputes.models import (
    Agreement,
    Dispute,
    DisputeKind,
    Event,
    FollowUp,
    Referral,
    Screening,
    ScreeningRule,
)
from wangge.org.models import Person
from wangge.territory.models import Grid
from wangge.workcal.deadlines import SHANGHAI

pytestmark = pytest.mark.django_db

SINCE, UNTIL = dt.date(2025, 3, 1), dt.date(2025, 3, 14)
EVERYONE = Scope(None, None)
KINDS = {"labour": ("劳资纠纷", False), "neighbour": ("邻里纠纷", False),
         "marriage_family": ("婚姻家庭纠纷", False),
         "domestic_violence": ("家庭暴力", True), "environment": ("环境保护纠纷", False)}


def T(day: int, hour: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=SHANGHAI)


def with_login(person: Person) -> Person:
    if person.user_id is None:
        person.user = get_user_model().objects.create_user(f"t-{uuid.uuid4().hex[:8]}")
        person.save()
    return person


class World:
    def __init__(self) -> None:
        g = grids()
        self.A, self.B, self.C = g["own"], g["sibling"], g["far"]
        self.W = with_login(worker_of(self.A))
        self.WB = with_login(worker_of(self.B))
        self.WC = worker_of(self.C)
        self.admin = get_user_model().objects.filter(is_superuser=True).first() or \
            get_user_model().objects.create_superuser("t-admin-disputes")
        self.kinds = {code: DisputeKind.objects.update_or_create(
            code=code, defaults={"name": name, "sensitive": sensitive})[0]
            for code, (name, sensitive) in KINDS.items()}
        root = Grid.objects.get(level=0)
        ScreeningRule.objects.update_or_create(grid=root, defaults={"period": "month"})
        ScreeningRule.objects.update_or_create(grid=self.B, defaults={"period": "week"})
        # other rules a test database may hold (under the root) would change what is due
        ScreeningRule.objects.exclude(grid__in=[root, self.B]).delete()
        self.n = 0

    def screening(self, grid: Grid, by: Person, at: dt.datetime, *, nil: bool,
                  period: str = "month") -> Screening:
        local = at.astimezone(SHANGHAI).date()
        start = (local.replace(day=1) if period == "month"
                 else local - dt.timedelta(days=local.weekday()))
        return Screening.objects.create(grid=grid, period=period, period_start=start,
                                        screened_at=at, screened_by=by, nil=nil,
                                        recorded_by=by.user or self.admin)

    def dispute(self, grid: Grid, kind: str, risk: str, at: dt.datetime, *, by: Person | None,
                screening: Screening | None = None, state: str = "registered") -> Dispute:
        self.n += 1
        return Dispute.objects.create(
            number=f"TJ2025{self.n:06d}", kind=self.kinds[kind], grid=grid,
            subject="测试纠纷", risk=risk, source="screening" if screening else "resident",
            sensitive=self.kinds[kind].sensitive, state=state, screening=screening,
            handling_grid=grid, reported_at=at, recorded_by=by.user if by else self.admin,
            amount=Decimal("100.00") if kind == "labour" else None)

    def event(self, d: Dispute, kind: str, at: dt.datetime) -> None:
        Event.objects.create(dispute=d, kind=kind, at=at)

    def agree(self, d: Dispute, at: dt.datetime, mediator: Person) -> None:
        self.n += 1
        Agreement.objects.create(dispute=d, number=f"XY2025{self.n:06d}", terms="协议",
                                 made_at=at, mediator=mediator)

    def follow_up(self, d: Dispute, at: dt.datetime, honoured: str, by: Person) -> None:
        FollowUp.objects.create(dispute=d, at=at, by=by, honoured=honoured,
                                recorded_by=self.admin)


@pytest.fixture
def w() -> World:
    w = World()
    A, B, C, W, WB, WC = w.A, w.B, w.C, w.W, w.WB, w.WC
    s1 = w.screening(A, W, T(2, 10), nil=False)
    w.screening(B, WB, T(3, 10), nil=True, period="week")
    s3 = w.screening(B, WB, T(10, 10), nil=False, period="week")
    w.screening(C, WC, T(5, 10), nil=True)
    d1 = w.dispute(A, "labour", "high", T(2, 10), by=W, screening=s1, state="closed")
    w.event(d1, "accepted", T(3, 9))
    w.event(d1, "escalated", T(5, 9))
    w.event(d1, "accepted", T(6, 9))
    w.agree(d1, T(9, 10), W)
    w.follow_up(d1, T(12, 10), "yes", W)
    d2 = w.dispute(A, "neighbour", "low", T(2, 11), by=W, screening=s1, state="closed")
    w.event(d2, "accepted", T(2, 15))
    w.agree(d2, T(4, 10), W)
    w.follow_up(d2, T(11, 10), "partly", W)
    w.follow_up(d2, T(13, 10), "yes", W)
    d3 = w.dispute(B, "marriage_family", "medium", T(10, 11), by=WB, screening=s3,
                   state="referred")
    w.event(d3, "accepted", T(10, 15))
    Referral.objects.create(dispute=d3, body="court", reason="调解不成", referred_at=T(12, 9),
                            referred_by=w.admin)
    d4 = w.dispute(C, "domestic_violence", "high", T(5, 11), by=None, state="withdrawn")
    w.event(d4, "withdrawn", T(6, 10))
    d5 = w.dispute(A, "neighbour", "low", T(27, 9, month=2), by=W, state="agreed")
    w.event(d5, "accepted", T(1, 9))
    w.agree(d5, T(1, 15), W)
    d6 = w.dispute(A, "environment", "medium", T(26, 9, month=2), by=W, state="mediating")
    w.event(d6, "accepted", T(26, 15, month=2))
    w.event(d6, "accepted", T(4, 9))
    return w


def basic_grids(under: Grid | None = None) -> int:
    qs = Grid.objects.filter(level=4)
    return qs.filter(path__startswith=under.path).count() if under else qs.count()


DISPUTE_METRICS = ("screenings", "screening_rate", "screenings_nil", "disputes_found",
                   "disputes_high", "disputes_mediated", "agreements", "referrals",
                   "mediation_success_rate", "follow_ups", "honour_rate")


def only(values: dict, codes: tuple[str, ...] = DISPUTE_METRICS) -> dict:
    return {c: values[c] for c in codes if c in values}


def test_the_periods_a_span_owes() -> None:
    assert period_starts(SINCE, UNTIL, "month") == 1  # 1 March
    assert period_starts(SINCE, UNTIL, "week") == 2  # Mondays 3 and 10
    assert period_starts(dt.date(2025, 3, 2), dt.date(2025, 3, 31), "month") == 0
    assert period_starts(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "month") == 12
    assert period_starts(dt.date(2025, 3, 4), dt.date(2025, 3, 9), "week") == 0
    assert period_starts(dt.date(2025, 3, 10), dt.date(2025, 3, 10), "week") == 1


def test_the_whole_city(w: World) -> None:
    base = totals(EVERYONE, Query("grid", SINCE, UNTIL))
    due = basic_grids() - 1 + 2  # every basic grid once, B twice
    assert base["screenings_due"] == due
    assert only(evaluate(base)) == {
        "screenings": 4, "screenings_nil": 2,
        "screening_rate": round(100 * 4 / due, 2),
        "disputes_found": 4,  # d1–d4; d5, d6 were found in February
        "disputes_high": 2,  # d1, d4 (sensitive: counted, never listed)
        "disputes_mediated": 4,  # d1 (once), d2, d3, d5; d6's mediation began in February
        "agreements": 3, "referrals": 1,  # d1 d2 d5; d3
        "mediation_success_rate": 75.0,  # 3 ÷ (3 + 1); d4's withdrawal is neither
        "follow_ups": 3, "honour_rate": 66.67,  # d1 yes, d2 partly then yes
    }


def test_the_basic_grids_of_one_community(w: World) -> None:
    rows = figures(EVERYONE, Query("grid", SINCE, UNTIL, within=w.A.parent, level=4))
    assert only(evaluate(rows[w.A.pk], "grid")) == {
        "screenings": 1, "screenings_nil": 0, "screening_rate": 100.0,
        "disputes_found": 2, "disputes_high": 1, "disputes_mediated": 3,  # d1 d2 d5
        "agreements": 3, "referrals": 0, "mediation_success_rate": 100.0,
        "follow_ups": 3, "honour_rate": 66.67,
    }
    assert only(evaluate(rows[w.B.pk], "grid")) == {
        "screenings": 2, "screenings_nil": 1, "screening_rate": 100.0,  # weekly: 2 of 2
        "disputes_found": 1, "disputes_high": 0, "disputes_mediated": 1,
        "agreements": 0, "referrals": 1, "mediation_success_rate": 0.0,
        "follow_ups": 0, "honour_rate": None,
    }
    # a grid of the community that never screened owes its return: 0 %, not missing
    idle = Grid.objects.filter(parent=w.A.parent).exclude(pk__in=[w.A.pk, w.B.pk]).first()
    assert idle is not None
    assert evaluate(rows[idle.pk], "grid")["screening_rate"] == 0.0
    assert rows[idle.pk]["screenings_due"] == 1


def test_by_the_person_who_screened_and_recorded(w: World) -> None:
    rows = figures(EVERYONE, Query("worker", SINCE, UNTIL))
    assert only(evaluate(rows[w.W.pk], "worker")) == {
        "screenings": 1, "screenings_nil": 0, "screening_rate": 100.0,
        "disputes_found": 2, "disputes_high": 1,  # mediation is not a worker's figure
    }
    assert rows[w.WB.pk]["screenings_due"] == 2
    assert only(evaluate(rows[w.WC.pk], "worker"))["screenings_nil"] == 1
    assert rows[0]["disputes_found"] == 1  # d4, recorded by a login without a person


def test_by_kind(w: World) -> None:
    rows = figures(EVERYONE, Query("dispute_kind", SINCE, UNTIL))
    k = w.kinds
    assert only(evaluate(rows[k["labour"].pk], "dispute_kind")) == {
        "disputes_found": 1, "disputes_high": 1, "disputes_mediated": 1, "agreements": 1,
        "referrals": 0, "mediation_success_rate": 100.0, "follow_ups": 1,
        "honour_rate": 100.0,
    }
    assert only(evaluate(rows[k["neighbour"].pk], "dispute_kind")) == {
        "disputes_found": 1, "disputes_high": 0, "disputes_mediated": 2,  # d2, d5
        "agreements": 2, "referrals": 0, "mediation_success_rate": 100.0,
        "follow_ups": 2, "honour_rate": 50.0,
    }
    assert evaluate(rows[k["marriage_family"].pk],
                    "dispute_kind")["mediation_success_rate"] == 0.0
    assert rows[k["domestic_violence"].pk] == {"disputes_found": 1, "disputes_high": 1}
    assert k["environment"].pk not in rows  # d6: nothing in the span
    # a breakdown by kind has only the disputes' metrics, and the kinds' names
    assert set(evaluate({}, "dispute_kind")) == {
        m for m in DISPUTE_METRICS if "dispute_kind" in METRIC_BY_CODE[m].dims}
    assert labels("dispute_kind", [k["labour"].pk, 0]) == {k["labour"].pk: "劳资纠纷",
                                                            0: "未分类"}


def test_a_town_scope_counts_only_its_subtree(w: World) -> None:
    town = Grid.objects.get(path=w.A.ancestor_paths()[2])
    assert town.level == 2
    scope = Scope([town.path], None)
    base = totals(scope, Query("grid", SINCE, UNTIL))
    assert base["screenings"] == 3 and base["disputes_found"] == 3  # C is elsewhere
    assert base["screenings_due"] == basic_grids(town) + 1
    kinds = figures(scope, Query("dispute_kind", SINCE, UNTIL))
    assert w.kinds["domestic_violence"].pk not in kinds


@pytest.mark.parametrize("span", [(SINCE, UNTIL), (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
                                  (dt.date(2025, 3, 4), dt.date(2025, 3, 12)),
                                  (dt.date(2025, 2, 20), dt.date(2025, 3, 10))])
def test_the_rollups_give_what_the_records_give(w: World, span: tuple) -> None:
    do_rollup(dt.date(2025, 2, 1), dt.date(2025, 3, 31), today=dt.date(2026, 1, 1))
    assert MetricTally.objects.filter(period="m", start=dt.date(2025, 3, 1),
                                      dim="dispute_kind").exists()
    month = MetricTally.objects.filter(period="m", start=dt.date(2025, 3, 1), dim="grid",
                                       key=w.A.pk).get()
    assert (month.screenings, month.agreements, month.follow_ups, month.honoured,
            month.disputes_mediated) == (1, 3, 3, 2, 3)
    since, until = span
    town = Grid.objects.get(path=w.A.ancestor_paths()[2])
    for scope in (EVERYONE, Scope([town.path], None)):
        for by, within, level in (("grid", None, None), ("grid", w.A.parent, 4),
                                  ("worker", None, None), ("dispute_kind", None, None)):
            q = Query(by, since, until, within=within, level=level)
            got = figures(scope, q)
            rq, paths = resolve(scope, q)
            want = raw_figures(rq, paths=paths, departments=None)
            assert got == want, (by, span, scope)
    # the stored rows never hold what is computed when read
    assert not MetricTally.objects.filter(screenings_due__gt=0).exists()


def test_the_cockpit_panel(w: World) -> None:
    data = cockpit.disputes_section(EVERYONE, SINCE, UNTIL)
    # open: registered or mediating, sensitive ones counted (d6 here; the demo's too)
    open_now = Dispute.objects.filter(state__in=("registered", "mediating"))
    assert data["open"] == open_now.count()
    assert [r["risk"] for r in data["by_risk"]] == ["high", "medium", "low"]
    assert {r["risk"]: r["count"] for r in data["by_risk"]}["medium"] == \
        open_now.filter(risk="medium").count()
    assert (data["screenings"], data["screenings_nil"], data["agreements"],
            data["concluded"], data["success_rate"], data["follow_ups"],
            data["honour_rate"]) == (4, 2, 3, 4, 75.0, 3, 66.67)
    assert data["screenings_due"] == basic_grids() + 1
