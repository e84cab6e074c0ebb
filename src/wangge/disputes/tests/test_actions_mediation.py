"""Mediation level by level, sessions, the agreement and its signatures, referral (a case
opened through cases' intake), withdrawal and the follow-up."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from wangge.cases.models import Case
from wangge.core.models import AuditEntry, OutboxMessage
from wangge.disputes import access
from wangge.disputes.actions.mediation import (
    do_accept,
    do_assign,
    do_escalate,
    do_record_session,
    do_withdraw,
)
from wangge.disputes.actions.outcome import (
    do_make_agreement,
    do_record_follow_up,
    do_refer,
    do_sign,
)
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.errors import DisputeError, IllegalMove
from wangge.disputes.models import (
    Agreement,
    Assignment,
    Dispute,
    Event,
    Referral,
    Session,
    Signature,
)
from wangge.disputes.tests.conftest import dispute_payload, person
from wangge.fieldwork.models import Upload
from wangge.org.models import Department

pytestmark = pytest.mark.django_db


def now_iso(minutes: int = 0) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


def session(d: Dispute, **over: object) -> dict:
    return {"dispute_id": d.pk, "held_at": now_iso(5), "place": "胜利社区调解室",
            "attendees": "双方当事人、网格员", "notes": "双方同意分期支付", **over}


def upload(user, name: str = "sig") -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256(name.encode()).hexdigest()
    Upload.objects.create(sha256=digest, uploaded_by=user, file=f"fieldwork/{name}.png",
                          content_type="image/png", size=10)
    return digest


@pytest.fixture
def dispute(place, staff) -> Dispute:  # type: ignore[no-untyped-def]
    return do_record_dispute(staff.worker, dispute_payload(place.basic))


def test_accept_assigns_the_mediator_and_moves_the_clock(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    assert dispute.stage == "accept"
    d = do_accept(staff.grid_mediator, dispute.pk)
    assert (d.state, d.mediator, d.stage) == ("mediating", person(staff.grid_mediator),
                                              "mediate")
    assert Assignment.objects.get(dispute=d).mediator == person(staff.grid_mediator)
    assert Event.objects.filter(dispute=d, kind="accepted").exists()
    assert OutboxMessage.objects.filter(topic="disputes.accepted",
                                        payload__number=d.number).exists()
    with pytest.raises(IllegalMove):
        do_accept(staff.grid_mediator, d.pk)


def test_accept_by_staff_takes_the_grids_own_mediator(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_accept(staff.station, dispute.pk)
    own = access.mediators_for(dispute.grid).first()  # the demo's, or the test's
    assert d.mediator == own
    if own != person(staff.grid_mediator):
        d = do_assign(staff.station, d.pk, mediator_id=person(staff.grid_mediator).pk)
    with pytest.raises(DisputeError) as e:
        do_assign(staff.station, d.pk, mediator_id=person(staff.far_worker).pk)
    assert (e.value.field, e.value.code) == ("mediator_id", "not_mediator")
    with pytest.raises(DisputeError) as e:
        do_assign(staff.station, d.pk, mediator_id=person(staff.grid_mediator).pk)
    assert e.value.code == "same"
    d = do_assign(staff.station, d.pk, mediator_id=person(staff.station_mediator).pk)
    assert d.mediator == person(staff.station_mediator)
    rows = list(Assignment.objects.filter(dispute=d).order_by("pk"))
    assert all(r.ended_at is not None for r in rows[:-1]) and rows[-1].ended_at is None
    assert rows[-1].mediator == person(staff.station_mediator)
    # the first mediator keeps seeing what they held
    assert access.visible_disputes(staff.grid_mediator).filter(pk=d.pk).exists()


def test_who_may_mediate(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    for who in (staff.leader, staff.sibling_worker):
        with pytest.raises((PermissionDenied, Http404)):
            do_accept(who, dispute.pk)
    with pytest.raises(Http404):
        do_accept(staff.far_worker, dispute.pk)
    assert Dispute.objects.get(pk=dispute.pk).state == "registered"
    assert access.can_mediate(staff.worker, dispute)  # the grid's worker at grid level


def test_escalate_level_by_level_up_to_the_city(dispute, place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_accept(staff.grid_mediator, dispute.pk)
    with pytest.raises(DisputeError) as e:
        do_escalate(staff.grid_mediator, d.pk, reason="")
    assert e.value.field == "reason"
    d = do_escalate(staff.grid_mediator, d.pk, reason="双方分歧较大")
    assert (d.level, d.handling_grid, d.state, d.mediator, d.stage) == (
        "workstation", place.village, "registered", None, "accept")
    assert Assignment.objects.get(dispute=d).ended_at is not None
    # the grid's worker no longer mediates it; the first mediator still sees it
    assert not access.can_mediate(staff.worker, d)
    assert access.visible_disputes(staff.grid_mediator).filter(pk=d.pk).exists()
    d = do_accept(staff.station_mediator, d.pk)
    d = do_escalate(staff.station_mediator, d.pk, reason="涉及金额大")
    assert (d.level, d.handling_grid) == ("town", place.town)
    with pytest.raises(PermissionDenied):  # the workstation no longer handles it
        do_accept(staff.station_mediator, d.pk)
    d = do_escalate(staff.subcenter, d.pk, reason="跨镇")
    assert (d.level, d.handling_grid) == ("city", place.city)
    d = do_accept(staff.city_mediator, d.pk)
    before = Event.objects.filter(dispute=d).count()
    with pytest.raises(DisputeError) as e:
        do_escalate(staff.city_mediator, d.pk, reason="再上报")
    assert (e.value.field, e.value.code) == ("level", "top_level")
    assert Event.objects.filter(dispute=d).count() == before
    assert OutboxMessage.objects.filter(topic="disputes.escalated",
                                        payload__number=d.number).count() == 3


def test_sessions(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    # a session on a registered dispute takes it up by its mediator
    s = do_record_session(staff.grid_mediator, session(dispute))
    d = Dispute.objects.get(pk=dispute.pk)
    assert d.state == "mediating" and s.mediator == person(staff.grid_mediator)
    assert s.level == "grid"
    photo = upload(staff.worker, "scene")
    s2 = do_record_session(staff.worker, session(d, photo_hashes=[photo]))
    assert s2.photo_hashes == [photo] and s2.mediator == person(staff.grid_mediator)
    assert Event.objects.filter(dispute=d, kind="session").count() == 2


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"place": ""}, "place", "required"),
    ({"notes": ""}, "notes", "required"),
    ({"held_at": "yesterday"}, "held_at", "invalid"),
    ({"held_at": "2020-01-01T10:00:00+08:00"}, "held_at", "before_report"),
    ({"photo_hashes": ["0" * 64]}, "photo_hashes.0", "unknown_upload"),
    ({"dispute_id": "7"}, "dispute_id", "type"),
])
def test_a_bad_session_names_the_field(dispute, staff, change, field, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DisputeError) as e:
        do_record_session(staff.grid_mediator, session(dispute, **change))
    assert (e.value.field, e.value.code) == (field, code)
    assert not Session.objects.filter(dispute=dispute).exists()
    assert Dispute.objects.get(pk=dispute.pk).state == "registered"  # not taken up either


def test_agreement_signatures_and_follow_up(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IllegalMove):  # not mediating yet
        do_make_agreement(staff.grid_mediator, dispute.pk, terms="x")
    d = do_accept(staff.grid_mediator, dispute.pk)
    with pytest.raises(DisputeError) as e:
        do_make_agreement(staff.grid_mediator, d.pk, terms="  ")
    assert e.value.field == "terms"
    with pytest.raises(DisputeError) as e:
        do_make_agreement(staff.grid_mediator, d.pk, terms="付清",
                          perform_by=dt.date(2020, 1, 1))
    assert e.value.field == "perform_by"
    a = do_make_agreement(staff.grid_mediator, d.pk, terms="十二月底前付清工资86000元",
                          perform_by=timezone.localdate() + dt.timedelta(days=30))
    d.refresh_from_db()
    assert a.number.startswith("XY2026") and d.state == "agreed" and d.stage == "follow_up"
    assert d.settled_at is not None
    applicant, employer = d.parties.all()
    sig = upload(staff.grid_mediator)
    do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": applicant.pk,
                                  "image_hash": sig, "method": "phone"})
    with pytest.raises(DisputeError) as e:
        do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": applicant.pk,
                                      "image_hash": sig, "method": "phone"})
    assert (e.value.field, e.value.code) == ("party_id", "already_signed")
    with pytest.raises(DisputeError) as e:
        do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": employer.pk,
                                      "image_hash": "f" * 64, "method": "scan"})
    assert (e.value.field, e.value.code) == ("image_hash", "unknown_upload")
    with pytest.raises(DisputeError) as e:
        do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": employer.pk,
                                      "image_hash": sig, "method": "fax"})
    assert e.value.field == "method"
    assert Agreement.objects.get(pk=a.pk).signed_at is None
    do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": employer.pk,
                                  "image_hash": sig, "method": "scan"})
    assert Agreement.objects.get(pk=a.pk).signed_at is not None
    # follow-up: partly keeps it agreed with a fresh clock, yes closes it
    f = do_record_follow_up(staff.worker, {"dispute_id": d.pk, "honoured": "partly",
                                           "note": "已付一半"})
    d.refresh_from_db()
    assert d.state == "agreed" and d.stage == "follow_up" and f.by == person(staff.worker)
    with pytest.raises(DisputeError) as e:
        do_record_follow_up(staff.worker, {"dispute_id": d.pk, "honoured": "maybe"})
    assert e.value.field == "honoured"
    do_record_follow_up(staff.grid_mediator, {"dispute_id": d.pk, "honoured": "yes"})
    d.refresh_from_db()
    assert (d.state, d.stage, d.due_at) == ("closed", "", None) and d.closed_at
    with pytest.raises(IllegalMove):
        do_record_follow_up(staff.grid_mediator, {"dispute_id": d.pk, "honoured": "yes"})
    assert [e.kind for e in Event.objects.filter(dispute=d).order_by("pk")] == [
        "recorded", "accepted", "agreed", "signed", "signed", "followed_up", "followed_up"]


def test_an_agreement_not_honoured_goes_back_to_mediation(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_accept(staff.grid_mediator, dispute.pk)
    a = do_make_agreement(staff.grid_mediator, d.pk, terms="一周内付清")
    sig = upload(staff.grid_mediator)
    for party in d.parties.all():
        do_sign(staff.grid_mediator, {"agreement_id": a.pk, "party_id": party.pk,
                                      "image_hash": sig, "method": "phone"})
    do_record_follow_up(staff.grid_mediator, {"dispute_id": d.pk, "honoured": "no",
                                              "note": "未付款"})
    d.refresh_from_db()
    assert (d.state, d.stage) == ("mediating", "mediate")
    reopened = Event.objects.get(dispute=d, kind="reopened")
    assert reopened.data["earlier"]["agreement"] == a.number
    assert not Signature.objects.filter(agreement=a).exists()
    # no longer in force: unsigned, the first agreement's time kept until it is made anew
    stale = Agreement.objects.get(pk=a.pk)
    assert stale.signed_at is None and stale.made_at == a.made_at
    assert reopened.data["earlier"]["signed_at"] is not None
    # nor printable: the agreement page answers 404 until one is made anew
    from django.test import Client

    browser = Client()
    browser.force_login(staff.grid_mediator)
    assert browser.get(f"/console/disputes/{d.pk}/agreement/").status_code == 404
    again = do_make_agreement(staff.grid_mediator, d.pk, terms="两周内付清，逾期起诉")
    assert again.pk == a.pk and again.number != a.number and again.signed_at is None
    assert browser.get(f"/console/disputes/{d.pk}/agreement/").status_code == 200


def test_refer_to_a_department_opens_a_case(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_accept(staff.grid_mediator, dispute.pk)
    dept = Department.objects.filter(kind="department").order_by("code").first()
    with pytest.raises(DisputeError) as e:
        do_refer(staff.grid_mediator, d.pk, body="department", reason="需执法")
    assert (e.value.field, e.value.code) == ("department_id", "required")
    with pytest.raises(DisputeError) as e:
        do_refer(staff.grid_mediator, d.pk, body="heaven", reason="x")
    assert e.value.field == "body"
    with pytest.raises(DisputeError) as e:
        do_refer(staff.grid_mediator, d.pk, body="court", reason="")
    assert e.value.field == "reason"
    cases_before = Case.objects.count()
    r = do_refer(staff.grid_mediator, d.pk, body="department", department_id=dept.pk,
                 reason="用人单位拒不到场，需劳动监察介入")
    d.refresh_from_db()
    assert d.state == "referred" and d.stage == "" and r.case is not None
    assert Case.objects.count() == cases_before + 1
    assert r.case.category.code == "1301" and r.case.grid == d.grid and d.case == r.case
    assert d.number in r.case.title and "王" not in r.case.description
    msg = OutboxMessage.objects.get(topic="disputes.referred", payload__number=d.number)
    assert msg.payload["department"] == dept.code and msg.payload["case"] == r.case.register_no
    with pytest.raises(IllegalMove):
        do_refer(staff.grid_mediator, d.pk, body="court", reason="再移交")


def test_refer_to_court_opens_no_case_and_nothing_half_written(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_accept(staff.grid_mediator, dispute.pk)
    r = do_refer(staff.grid_mediator, d.pk, body="court", reason="一方要求诉讼")
    assert r.case is None and Referral.objects.filter(dispute=d).count() == 1
    d2 = do_record_dispute(staff.worker, dispute_payload(d.grid))
    do_accept(staff.grid_mediator, d2.pk)
    with pytest.raises(DisputeError):
        do_refer(staff.grid_mediator, d2.pk, body="department", department_id=2**40,
                 reason="x")
    assert not Referral.objects.filter(dispute=d2).exists()
    assert Dispute.objects.get(pk=d2.pk).state == "mediating"


def test_withdraw(dispute, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_withdraw(staff.grid_mediator, dispute.pk, reason="双方自行和解")
    assert (d.state, d.stage) == ("withdrawn", "") and d.closed_at is not None
    assert AuditEntry.objects.filter(action="disputes.withdrawn", object_id=str(d.pk)).exists()
    with pytest.raises(IllegalMove):
        do_withdraw(staff.grid_mediator, d.pk, reason="again")
    with pytest.raises(IllegalMove):
        do_record_session(staff.grid_mediator, session(d))
