"""Acceptance stories of issue 17, walked through the actions as the people involved would:

1. the labour-wage story: the grid worker and the grid's mediator screen the month and list
   8 workers' unpaid wages (high risk: the workstation and the sub-center learn at once); the
   mediator takes it up, holds two sessions, an agreement is made and signed by both parties
   on the mediator's phone; the follow-up finds it honoured and the dispute is closed;
2. mediation that fails at the grid, the workstation and the town (司法所) and is referred:
   to the labour arbitration committee, or to a line department (which gets a case).

Written from the issue and the contract in access.py / actions/*.py, independently of the
actions' own tests."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.cases.access import visible_cases
from wangge.cases.actions import do_transition
from wangge.core.models import OutboxMessage
from wangge.disputes import access, queries
from wangge.disputes.actions.mediation import (
    do_accept,
    do_escalate,
    do_record_session,
)
from wangge.disputes.actions.outcome import (
    do_make_agreement,
    do_record_follow_up,
    do_refer,
    do_sign,
)
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.actions.screening import do_record_screening, period_of
from wangge.disputes.errors import DisputeError, IllegalMove
from wangge.disputes.models import (
    LEVEL_GRID_DEPTH,
    LEVEL_ORDER,
    Agreement,
    Dispute,
    Event,
    Referral,
    Screening,
    Signature,
)
from wangge.disputes.tests.conftest_stories import (
    SUBCONTRACTOR,
    SUBCONTRACTOR_PHONE,
    World,
    dispute_payload,
    jpeg,
    labour_item,
    outsider_party,
    world,
)
from wangge.fieldwork.actions.uploads import do_upload
from wangge.territory.models import Grid

__all__ = ["world"]  # the fixture, imported for pytest

User = get_user_model()


def now_iso() -> str:
    return timezone.now().isoformat()


def kinds(d: Dispute) -> list[str]:
    """The timeline as it is shown (its own ordering)."""
    return list(Event.objects.filter(dispute=d).values_list("kind", flat=True))


def is_subsequence(wanted: Sequence[str], got: Sequence[str]) -> bool:
    it = iter(got)
    return all(any(k == g for g in it) for k in wanted)


def session(user, d: Dispute, notes: str = "双方就工资数额分歧较大，未达成一致") -> object:  # type: ignore[no-untyped-def]
    return do_record_session(user, {
        "dispute_id": d.pk, "held_at": now_iso(), "place": "胜利社区党群服务中心调解室",
        "attendees": "申请人代表3人、分包方负责人、网格员", "notes": notes,
        "photo_hashes": []})


def fresh(d: Dispute) -> Dispute:
    return Dispute.objects.get(pk=d.pk)


# -- 1. the labour-wage story ---------------------------------------------------------------


def screen_the_month(w: World) -> Dispute:
    """The grid worker and the grid's mediator file this month's return with the labour
    dispute in it; the dispute it became."""
    _period, start = period_of(w.basic, timezone.localdate())
    # a return the demo may already hold for this grid and month is not this story's
    Screening.objects.filter(grid=w.basic, period_start=start).delete()
    screening = do_record_screening(w.u("gridworker"), {
        "grid_id": w.basic.pk, "mediator_id": w.people["grid_mediator"].pk, "nil": False,
        "note": "本月走访排查，发现劳资纠纷1起", "items": [labour_item(w)]})
    return screening.disputes.get()


def test_the_labour_wage_story_from_screening_to_a_closed_follow_up(world: World) -> None:
    w = world
    mediator = w.u("grid_mediator")
    today = timezone.localdate()

    # -- the month's screening lists the dispute --
    d = screen_the_month(w)
    screening = d.screening
    assert screening.period == "month" and screening.period_start == today.replace(day=1)
    assert screening.grid == w.basic and not screening.nil
    assert screening.screened_by == w.people["gridworker"]
    assert screening.mediator == w.people["grid_mediator"]
    assert re.fullmatch(rf"TJ{today.year}\d{{6}}", d.number)
    assert (d.kind.code, d.source, d.risk, d.state) == ("labour", "screening", "high",
                                                        "registered")
    assert (d.grid, d.level, d.handling_grid) == (w.basic, "grid", w.basic)
    assert d.amount == Decimal("86400.00") and "8名" in d.subject
    applicant, respondent = d.parties.order_by("order", "pk")
    assert (applicant.role, applicant.resident) == ("applicant", w.resident)
    assert applicant.name == w.resident.name and applicant.name_masked != w.resident.name
    assert (respondent.role, respondent.kind, respondent.name) == (
        "respondent", "organisation", SUBCONTRACTOR)
    assert respondent.phone_masked == "139****0418"
    assert SUBCONTRACTOR_PHONE.encode() not in bytes(respondent.phone_enc)
    assert SUBCONTRACTOR_PHONE not in respondent.phone_hash

    # -- high risk: the workstation's and the sub-center's staff are told at once --
    station_alerts = access.visible_alerts(w.u("station")).filter(dispute=d)
    subcenter_alerts = access.visible_alerts(w.u("subcenter")).filter(dispute=d)
    assert [a.grid for a in station_alerts] == [w.village]
    assert [a.grid for a in subcenter_alerts] == [w.town]
    assert not access.visible_alerts(w.u("other_worker")).filter(dispute=d).exists()
    told = [m for m in OutboxMessage.objects.filter(topic="disputes.high_risk")
            if d.number in json.dumps(m.payload, ensure_ascii=False)]
    assert len(told) == 1
    assert SUBCONTRACTOR_PHONE not in json.dumps(told[0].payload)
    # the accept clock runs from the record
    assert d.stage == "accept" and d.stage_started_at is not None
    assert d.due_at is None or d.due_at > d.stage_started_at
    started = [d.stage_started_at]

    # -- the mediator takes it up and holds two sessions --
    d = do_accept(mediator, d.pk)
    d = fresh(d)
    assert (d.state, d.mediator, d.stage) == ("mediating", w.people["grid_mediator"],
                                              "mediate")
    assert d.due_at is None or d.due_at > d.stage_started_at
    started.append(d.stage_started_at)
    assert d.assignments.filter(ended_at__isnull=True).get().level == "grid"
    session(mediator, d, "首次调解：核对工资表，分包方承认欠薪，对数额有异议")
    session(mediator, d, "二次调解：双方确认欠薪86400元，约定分期支付")
    assert list(d.sessions.values_list("level", flat=True)) == ["grid", "grid"]
    assert fresh(d).state == "mediating"

    # -- the agreement --
    perform_by = today + dt.timedelta(days=20)
    agreement = do_make_agreement(
        mediator, d.pk, terms="分包方于履行期限前一次性支付8名工人工资共计86400元。",
        perform_by=perform_by)
    assert re.fullmatch(rf"XY{today.year}\d{{6}}", agreement.number)
    assert agreement.perform_by == perform_by and agreement.signed_at is None
    d = fresh(d)
    assert d.state == "agreed" and d.settled_at is not None and d.stage == "follow_up"
    assert d.due_at is None or d.due_at > d.stage_started_at
    started.append(d.stage_started_at)
    assert None not in started and started == sorted(started)  # each stage's clock restarted

    # -- both parties sign on the mediator's phone --
    for party, colour in ((applicant, "navy"), (respondent, "maroon")):
        assert fresh_agreement(agreement).signed_at is None
        upload, _created = do_upload(mediator, jpeg(colour), "image/jpeg")
        do_sign(mediator, {"agreement_id": agreement.pk, "party_id": party.pk,
                           "image_hash": upload.sha256, "method": "phone",
                           "signed_at": now_iso()})
    assert fresh_agreement(agreement).signed_at is not None
    assert Signature.objects.filter(agreement=agreement).count() == 2
    # a party signs once
    again, _ = do_upload(mediator, jpeg("olive"), "image/jpeg")
    with pytest.raises(DisputeError):
        do_sign(mediator, {"agreement_id": agreement.pk, "party_id": applicant.pk,
                           "image_hash": again.sha256, "method": "phone",
                           "signed_at": now_iso()})
    assert Signature.objects.filter(agreement=agreement).count() == 2

    # -- the follow-up finds it honoured: closed --
    do_record_follow_up(mediator, {"dispute_id": d.pk, "at": now_iso(), "honoured": "yes",
                                   "note": "回访8名工人，工资已全部到账"})
    d = fresh(d)
    assert d.state == "closed" and d.closed_at is not None
    assert d.stage == "" and d.due_at is None  # no clock runs on a closed dispute

    # -- the timeline holds each step, in order, with who did it --
    shown = kinds(d)
    assert shown == list(Event.objects.filter(dispute=d).order_by("pk").values_list(
        "kind", flat=True)), "the timeline shows the steps in the order they were taken"
    assert is_subsequence(["recorded", "accepted", "session", "session", "agreed", "signed",
                           "signed", "followed_up"], shown), shown
    assert shown.count("session") == 2 and shown.count("signed") == 2
    assert shown.count("followed_up") == 1
    assert not Event.objects.filter(dispute=d, actor__isnull=True).exists()


def fresh_agreement(a: Agreement) -> Agreement:
    return Agreement.objects.get(pk=a.pk)


def settle(w: World, d: Dispute) -> Agreement:
    """The rest of the story without its checks: taken up, two sessions, an agreement
    signed by every party, honoured at the follow-up."""
    mediator = w.u("grid_mediator")
    do_accept(mediator, d.pk)
    session(mediator, fresh(d))
    session(mediator, fresh(d), "双方确认欠薪数额，约定支付期限")
    agreement = do_make_agreement(mediator, d.pk, terms="分包方一次性支付8名工人工资86400元。",
                                  perform_by=timezone.localdate() + dt.timedelta(days=20))
    for i, party in enumerate(d.parties.all()):
        upload, _ = do_upload(mediator, jpeg(("navy", "maroon", "teal")[i % 3]), "image/jpeg")
        do_sign(mediator, {"agreement_id": agreement.pk, "party_id": party.pk,
                           "image_hash": upload.sha256, "method": "phone",
                           "signed_at": now_iso()})
    do_record_follow_up(mediator, {"dispute_id": d.pk, "at": now_iso(), "honoured": "yes",
                                   "note": "工资已全部到账"})
    return fresh_agreement(agreement)


def test_the_story_is_where_its_people_look(world: World) -> None:
    """The dispute is in the lists of its chain and its mediator, its return on the
    coverage, its agreement in the mediator's workload and on the printable page."""
    w = world

    def labour_high(name: str) -> int:
        table = queries.open_by_risk_and_kind(w.u(name))
        return next(r["high"] for r in table["rows"] if r["kind"] == "labour")

    before = {name: labour_high(name) for name in ("station", "subcenter", "center_admin")}
    d = screen_the_month(w)
    for name, n in before.items():
        assert labour_high(name) == n + 1, name
    assert labour_high("other_worker") == 0
    month = timezone.localdate().replace(day=1)
    row = next(g for g in queries.coverage(w.u("station"), month)["grids"]
               if g["grid_id"] == w.basic.pk)
    assert (row["status"], row["disputes"], row["high_risk"]) == ("screened", 1, 1)
    for name in ("gridworker", "station", "subcenter", "grid_mediator", "center_admin",
                 "dispatcher", "leader"):
        assert access.visible_disputes(w.u(name)).filter(pk=d.pk).exists(), name
        assert access.access_dispute(w.u(name), d.pk) == d
    assert access.visible_screenings(w.u("station")).filter(pk=d.screening_id).exists()
    assert w.basic in access.screening_grids(w.u("station"))
    assert w.neighbour in access.screening_grids(w.u("station"))
    assert w.basic not in access.screening_grids(w.u("other_worker"))

    agreement = settle(w, d)
    d = fresh(d)
    assert d.state == "closed"
    mine = next(r for r in queries.workload(w.u("station"))
                if r["mediator_id"] == w.people["grid_mediator"].pk)
    assert (mine["agreements_this_month"], mine["open"]) == (1, 0)
    for name, n in before.items():  # closed: no longer open
        assert labour_high(name) == n, name
    # the console: the closed dispute in the station's list, masked
    station = Client()
    station.force_login(w.u("station"))
    page = station.get("/console/disputes/", {"state": "closed"})
    assert page.status_code == 200
    html = page.content.decode()
    assert d.number in html and w.resident.name not in html
    workload = station.get("/console/disputes/workload/").content.decode()
    assert "测试网格调解员" in workload
    # the printable agreement: whole for its mediator, masked for the grid chief
    mediator = Client()
    mediator.force_login(w.u("grid_mediator"))
    html = mediator.get(f"/console/disputes/{d.pk}/agreement/").content.decode()
    assert agreement.number in html and "86400" in html and w.resident.name in html
    chief = Client()
    chief.force_login(w.u("grid_chief"))
    page = chief.get(f"/console/disputes/{d.pk}/agreement/")
    assert page.status_code in (200, 403, 404)
    assert w.resident.name not in page.content.decode()


def test_a_second_return_for_the_month_is_refused_naming_the_grid(world: World) -> None:
    w = world
    d = screen_the_month(w)
    before = Dispute.objects.count()
    with pytest.raises(DisputeError) as e:
        do_record_screening(w.u("gridworker"), {"grid_id": w.basic.pk, "nil": True})
    assert e.value.field == "grid" and e.value.code == "already_screened"
    assert Dispute.objects.count() == before
    assert Screening.objects.filter(grid=w.basic, period_start=d.screening.period_start
                                    ).count() == 1


def test_a_nil_return_says_so_and_items_must_match_it(world: World) -> None:
    w = world
    worker = w.u("other_worker")
    _period, start = period_of(w.neighbour, timezone.localdate())
    Screening.objects.filter(grid=w.neighbour, period_start=start).delete()
    for bad in ({"nil": True, "items": [labour_item(w, parties=[outsider_party()])]},
                {"nil": False, "items": []}):
        with pytest.raises(DisputeError) as e:
            do_record_screening(worker, {"grid_id": w.neighbour.pk, **bad})
        assert e.value.field == "items"
    assert not Screening.objects.filter(grid=w.neighbour, period_start=start).exists()
    nil = do_record_screening(worker, {"grid_id": w.neighbour.pk, "nil": True,
                                       "note": "本月无矛盾纠纷"})
    assert nil.nil and nil.disputes.count() == 0 and nil.grid == w.neighbour
    # a worker screens their own grid only
    with pytest.raises((PermissionDenied, DisputeError, Http404)):
        do_record_screening(worker, {"grid_id": w.basic.pk, "nil": True})


def test_a_low_risk_item_alerts_nobody(world: World) -> None:
    w = world
    before = OutboxMessage.objects.filter(topic="disputes.high_risk").count()
    d = do_record_dispute(w.u("gridworker"), dispute_payload(w, risk="low"))
    assert not access.visible_alerts(w.u("station")).filter(dispute=d).exists()
    assert OutboxMessage.objects.filter(topic="disputes.high_risk").count() == before


# -- 2. failed mediation, referred up two levels ---------------------------------------------


def up_to_the_town(w: World) -> Dispute:
    """A labour dispute whose mediation fails at the grid and at the workstation, now with
    the town's 司法所 mediator, mediating; each step's who-may-act checked on the way."""
    d = do_record_dispute(w.u("gridworker"), dispute_payload(w))
    assert (d.level, d.handling_grid, d.state) == ("grid", w.basic, "registered")
    # the grid: the grid's mediator and its worker may act; the workstation's may not yet
    assert access.can_mediate(w.u("grid_mediator"), d)
    assert access.can_mediate(w.u("gridworker"), d)
    assert not access.can_mediate(w.u("other_worker"), d)
    do_accept(w.u("grid_mediator"), d.pk)
    session(w.u("grid_mediator"), fresh(d))
    d = do_escalate(w.u("grid_mediator"), d.pk, reason="分包方拒绝网格调解，提请社区调委会")
    d = fresh(d)
    assert (d.level, d.handling_grid, d.state) == ("workstation", w.village, "registered")
    assert d.mediator is None
    assert d.assignments.get(level="grid").ended_at is not None
    assert d.stage == "accept"  # the new body's accept clock
    # the grid's mediator and worker still see it but can no longer act
    for name in ("grid_mediator", "gridworker"):
        assert access.access_dispute(w.u(name), d.pk) == d
        assert not access.can_mediate(w.u(name), d), name
    with pytest.raises(PermissionDenied):
        session(w.u("grid_mediator"), d)
    with pytest.raises(PermissionDenied):
        do_escalate(w.u("grid_mediator"), d.pk, reason="再次上报")
    assert access.can_mediate(w.u("ws_mediator"), d)
    assert access.can_mediate(w.u("station"), d)

    # the workstation 调委会
    do_accept(w.u("ws_mediator"), d.pk)
    assert fresh(d).mediator == w.people["ws_mediator"]
    session(w.u("ws_mediator"), fresh(d))
    d = do_escalate(w.u("ws_mediator"), d.pk, reason="涉及金额大、人数多，提请街道司法所")
    d = fresh(d)
    assert (d.level, d.handling_grid, d.state) == ("town", w.town, "registered")
    assert d.assignments.get(level="workstation").ended_at is not None
    for name in ("ws_mediator", "station", "grid_mediator"):
        assert access.access_dispute(w.u(name), d.pk) == d
        assert not access.can_mediate(w.u(name), d), name
    assert access.can_mediate(w.u("mediator"), d)
    assert access.can_mediate(w.u("subcenter"), d)

    # the town's 司法所
    do_accept(w.u("mediator"), d.pk)
    session(w.u("mediator"), fresh(d))
    return fresh(d)


def test_failed_mediation_is_referred_to_arbitration_after_two_levels(world: World) -> None:
    w = world
    d = up_to_the_town(w)
    town = w.u("mediator")
    referral = do_refer(town, d.pk, body="arbitration",
                        reason="三级调解均未达成一致，引导工人申请劳动仲裁")
    d = fresh(d)
    assert d.state == "referred" and d.stage == "" and d.due_at is None
    assert (referral.body, referral.case, referral.department) == ("arbitration", None, None)
    assert list(d.sessions.values_list("level", flat=True)) == ["grid", "workstation", "town"]
    assert [a.level for a in d.assignments.order_by("assigned_at", "pk")] == [
        "grid", "workstation", "town"]
    shown = kinds(d)
    assert is_subsequence(["recorded", "accepted", "session", "escalated", "accepted",
                           "session", "escalated", "accepted", "session", "referred"], shown)
    assert shown.count("escalated") == 2
    # every body that held it still sees it; a referred dispute takes no more steps
    for name in ("grid_mediator", "ws_mediator", "mediator", "gridworker", "station",
                 "subcenter"):
        assert access.access_dispute(w.u(name), d.pk) == d
    for step in (lambda: do_escalate(town, d.pk, reason="再次上报"),
                 lambda: do_make_agreement(town, d.pk, terms="补充协议"),
                 lambda: session(town, d)):
        with pytest.raises(IllegalMove):
            step()
    assert fresh(d).state == "referred"


def test_a_referral_to_a_department_opens_a_case_the_department_sees(world: World) -> None:
    w = world
    d = up_to_the_town(w)
    town = w.u("mediator")
    cases_before = visible_cases(w.u("hr")).count()
    with pytest.raises(DisputeError) as e:
        do_refer(town, d.pk, body="department", reason="属人社部门监察职责")
    assert e.value.field == "department_id"
    assert fresh(d).state == "mediating" and not Referral.objects.filter(dispute=d).exists()
    assert visible_cases(w.u("hr")).count() == cases_before  # nothing half-written

    # the town's sub-center staff may route cases: the case goes to 人社局 at once
    referral = do_refer(w.u("subcenter"), d.pk, body="department", department_id=w.hr.pk,
                        reason="欠薪涉嫌违法分包，移交人社局劳动保障监察")
    assert fresh(d).state == "referred"
    assert referral.case is not None and referral.department == w.hr
    hr = w.u("hr")
    assert visible_cases(hr).filter(pk=referral.case_id).exists()
    assert referral.case.state == "dispatched" and referral.case.department == w.hr
    # the department learns of it as a case, not as a dispute
    assert not access.visible_disputes(hr).filter(pk=d.pk).exists()
    with pytest.raises(Http404):
        access.access_dispute(hr, d.pk)
    # the case leaks no party's contact data
    case = referral.case
    _a_mediators_referral_waits_for_the_dispatcher(w)
    text = json.dumps({f.name: str(getattr(case, f.name)) for f in case._meta.concrete_fields},
                      ensure_ascii=False)
    assert SUBCONTRACTOR_PHONE not in text


def _a_mediators_referral_waits_for_the_dispatcher(w: World) -> None:
    """A mediator may not route cases: the referral's case waits in the dispatchers' queue
    with the department named, and reaches the department when a dispatcher sends it."""
    d = up_to_the_town(w)
    referral = do_refer(w.u("mediator"), d.pk, body="department", department_id=w.hr.pk,
                        reason="欠薪涉嫌违法分包，移交人社局劳动保障监察")
    case = referral.case
    assert case is not None and case.state == "reported" and case.department is None
    assert w.hr.name in case.description
    assert not visible_cases(w.u("hr")).filter(pk=case.pk).exists()
    dispatcher = w.u("dispatcher")
    do_transition(case, "register", dispatcher)
    do_transition(case, "dispatch", dispatcher, department=w.hr.code)
    assert visible_cases(w.u("hr")).filter(pk=case.pk).exists()


def test_no_level_above_the_city(world: World) -> None:
    """Escalated grid → workstation → town → city; one more is refused naming the level,
    and nothing is written."""
    w = world
    d = do_record_dispute(w.u("gridworker"), dispute_payload(w))
    for name, level, grid in (("grid_mediator", "workstation", w.village),
                              ("ws_mediator", "town", w.town),
                              ("mediator", "city", w.city)):
        d = do_escalate(w.u(name), d.pk, reason="本级无法调处，逐级上报")
        d = fresh(d)
        assert (d.level, d.handling_grid, d.state) == (level, grid, "registered")
    assert not access.can_mediate(w.u("mediator"), d)  # the town no longer acts
    events = Event.objects.filter(dispute=d).count()
    with pytest.raises(DisputeError) as e:
        do_escalate(w.u("center_admin"), d.pk, reason="再上报")
    assert e.value.field == "level"
    assert (fresh(d).level, fresh(d).handling_grid) == ("city", w.city)
    assert Event.objects.filter(dispute=d).count() == events


# -- escalation order from any basic grid and any level (hypothesis) -------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    """One hypothesis example's writes, undone before the next example."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(pick=st.integers(min_value=0, max_value=10**6), steps=st.integers(0, 3))
def test_escalation_goes_one_level_up_the_grids_own_chain(world: World, pick: int,
                                                          steps: int) -> None:
    basics = list(Grid.objects.filter(level=4).order_by("pk").values_list("pk", flat=True))
    grid = Grid.objects.get(pk=basics[pick % len(basics)])
    admin = User.objects.get(username="admin")
    with rolled_back():
        d = do_record_dispute(admin, {**dispute_payload(world, grid=grid),
                                      "parties": [outsider_party("applicant")]})
        chain = grid.ancestor_paths()
        for i in range(steps):
            d = fresh(do_escalate(admin, d.pk, reason="逐级上报"))
            level = LEVEL_ORDER[i + 1]
            assert d.level == level and d.state == "registered"
            assert d.handling_grid.path == chain[LEVEL_GRID_DEPTH[level]]
            assert grid.path.startswith(d.handling_grid.path)
        if steps == 3:
            with pytest.raises(DisputeError) as e:
                do_escalate(admin, d.pk, reason="逐级上报")
            assert e.value.field == "level"
        assert Event.objects.filter(dispute=d, kind="escalated").count() == steps
