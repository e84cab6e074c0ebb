"""The field app's envelope kinds of disputes through fieldwork's sync engine: created,
replayed (the first record, nothing written twice), invalid naming the field, a step the
dispute no longer allows answered as a conflict with the server's copy; and the read
shapes (queries): masked rows, coverage, open by risk and kind, workload."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from wangge.disputes import queries
from wangge.disputes.actions.mediation import do_accept, do_withdraw
from wangge.disputes.actions.outcome import do_make_agreement
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.models import Dispute, FollowUp, Screening, Session, Signature
from wangge.disputes.tests.conftest import AT, OUTSIDER_PHONE, dispute_payload, item
from wangge.fieldwork.actions.sync import apply_batch, apply_envelope
from wangge.fieldwork.envelopes import Envelope
from wangge.fieldwork.models import Upload

pytestmark = pytest.mark.django_db



def env(key: str, kind: str, payload: object) -> Envelope:
    return Envelope(client_key=key, kind=kind, payload=payload)  # type: ignore[arg-type]


def test_screening_envelope_created_then_replayed(place, staff) -> None:  # type: ignore[no-untyped-def]
    e = env("k-scr-1", "screening.create", {"screened_at": AT, "items": [item()]})
    first = apply_envelope(staff.worker, e)
    assert first.status == "created", first.errors
    assert first.record["grid"] == place.basic.code and len(first.record["disputes"]) == 1
    counts = (Screening.objects.count(), Dispute.objects.count())
    again = apply_batch(staff.worker, [e])[0]
    assert again.status == "replayed" and again.id == first.id and again.record == first.record
    assert (Screening.objects.count(), Dispute.objects.count()) == counts


def test_dispute_envelope_answers_masked_or_whole(place, staff) -> None:  # type: ignore[no-untyped-def]
    out = apply_envelope(staff.worker, env("k-d-1", "dispute.create",
                                           dispute_payload(place.basic)))
    assert out.status == "created"
    names = [p["name"] for p in out.record["parties"]]
    assert names[0] == "王测试"  # the recorder sees them whole
    assert OUTSIDER_PHONE not in str(out.record)  # contact data only through a reveal
    d = Dispute.objects.get(pk=out.id)
    row = queries.dispute_row(queries.rows_of(Dispute.objects.filter(pk=d.pk)).get())
    assert row["parties"][0]["name"] == "王**" and row["account"] == ""


def test_invalid_envelopes_name_the_field(place, staff) -> None:  # type: ignore[no-untyped-def]
    before = Dispute.objects.count()
    out = apply_envelope(staff.worker, env("k-d-2", "dispute.create",
                                           dispute_payload(place.basic, risk="x")))
    assert out.status == "invalid" and out.errors[0]["loc"] == ["payload", "risk"]
    out = apply_envelope(staff.worker, env("k-s-2", "screening.create", {
        "screened_at": AT, "items": [item(parties=[])]}))
    assert out.errors[0]["loc"] == ["payload", "items", "0", "parties"]
    out = apply_envelope(staff.far_worker, env("k-d-3", "dispute.create",
                                               dispute_payload(place.basic)))
    assert out.status == "forbidden"
    out = apply_envelope(staff.worker, env("k-s-3", "dispute.session", ["not", "a", "dict"]))
    assert out.status == "invalid"
    assert Dispute.objects.count() == before


def test_session_follow_up_and_signature_envelopes(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    held = (timezone.now() - dt.timedelta(minutes=3)).isoformat()
    s = env("k-sess", "dispute.session", {"dispute_id": d.pk, "held_at": held,
                                         "place": "调解室", "attendees": "双方",
                                         "notes": "达成初步意向"})
    out = apply_envelope(staff.grid_mediator, s)
    assert out.status == "created" and out.record["dispute_id"] == d.pk
    assert apply_envelope(staff.grid_mediator, s).status == "replayed"
    assert Session.objects.filter(dispute=d).count() == 1
    a = do_make_agreement(staff.grid_mediator, d.pk, terms="月底付清")
    digest = hashlib.sha256(b"sig").hexdigest()
    Upload.objects.create(sha256=digest, uploaded_by=staff.grid_mediator,
                          file="fieldwork/sig.png", content_type="image/png", size=3)
    signs = [env(f"k-sig-{p.pk}", "agreement.sign", {
        "agreement_id": a.pk, "party_id": p.pk, "image_hash": digest, "method": "phone"})
        for p in d.parties.all()]
    outs = apply_batch(staff.grid_mediator, signs)
    assert [o.status for o in outs] == ["created", "created"]
    assert outs[-1].record["complete"] is True
    assert apply_batch(staff.grid_mediator, signs)[0].status == "replayed"
    assert Signature.objects.filter(agreement=a).count() == 2
    f = env("k-fu", "dispute.follow_up", {"dispute_id": d.pk, "honoured": "yes"})
    out = apply_envelope(staff.worker, f)
    assert out.status == "created" and out.record["state"] == "closed"
    assert apply_envelope(staff.worker, f).status == "replayed"
    assert FollowUp.objects.filter(dispute=d).count() == 1


ANCIENT = "0001-01-01T00:00:00+08:00"


def test_an_ancient_time_is_refused_naming_it_through_rest_and_sync(place, staff) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    before = (Dispute.objects.count(), Screening.objects.count())
    client = Client()
    client.force_login(staff.worker)
    r = client.post("/api/v1/disputes/", dispute_payload(place.basic, reported_at=ANCIENT),
                    content_type="application/json")
    assert r.status_code == 422 and ["body", "reported_at"] in [
        e["loc"] for e in r.json()["detail"]], r.content
    r = client.post("/api/v1/disputes/screenings", {"screened_at": ANCIENT, "nil": True},
                    content_type="application/json")
    assert r.status_code == 422 and ["body", "screened_at"] in [
        e["loc"] for e in r.json()["detail"]], r.content
    assert (Dispute.objects.count(), Screening.objects.count()) == before
    out = apply_batch(staff.worker, [
        env("k-old-1", "dispute.create", dispute_payload(place.basic, reported_at=ANCIENT)),
        env("k-old-2", "screening.create", {"screened_at": ANCIENT, "nil": True}),
        env("k-new-1", "dispute.create", dispute_payload(place.basic))])
    assert [o.status for o in out] == ["invalid", "invalid", "created"]
    assert out[0].errors[0]["loc"] == ["payload", "reported_at"]
    assert out[1].errors[0]["loc"] == ["payload", "screened_at"]
    assert Dispute.objects.count() == before[0] + 1


def test_a_step_the_dispute_no_longer_allows_is_a_conflict(place, staff) -> None:  # type: ignore[no-untyped-def]
    d = do_record_dispute(staff.worker, dispute_payload(place.basic))
    do_withdraw(staff.grid_mediator, d.pk, reason="和解")
    out = apply_envelope(staff.worker, env("k-late", "dispute.session", {
        "dispute_id": d.pk, "held_at": timezone.now().isoformat(), "place": "家中",
        "attendees": "双方", "notes": "离线记录"}))
    assert out.status == "conflict" and out.current["state"] == "withdrawn"
    assert not Session.objects.filter(dispute=d).exists()


# -- read shapes ----------------------------------------------------------------------------

def test_coverage_open_by_kind_and_workload(place, staff) -> None:  # type: ignore[no-untyped-def]
    from wangge.disputes.actions.screening import do_record_screening

    month = timezone.localdate().replace(day=1)
    # the demo may have screened this month already: count from what is there
    start = {r["grid_id"]: r for r in queries.coverage(staff.station, month)["grids"]}
    if start[place.basic.pk]["status"] == "missing":
        do_record_screening(staff.worker, {"items": [item(kind="neighbour", risk="high",
                                                          amount=None)]})
    if start[place.sibling.pk]["status"] == "missing":
        do_record_screening(staff.sibling_worker, {"nil": True})
    cov = queries.coverage(staff.station, month)
    rows = {r["grid_id"]: r for r in cov["grids"]}
    assert set(rows) == set(place.village.children.values_list("pk", flat=True))
    assert rows[place.basic.pk]["status"] in ("screened", "nil")
    assert rows[place.sibling.pk]["status"] in ("screened", "nil")
    assert cov["totals"]["grids"] == len(rows) == sum(
        cov["totals"][k] for k in ("screened", "nil", "missing"))
    assert place.far.pk not in {r["grid_id"] for r in queries.coverage(staff.worker,
                                                                        month)["grids"]}

    before = queries.open_by_risk_and_kind(staff.station)
    d = do_record_dispute(staff.worker, dispute_payload(place.basic, risk="low"))
    dv = do_record_dispute(staff.worker, dispute_payload(place.basic, kind="domestic_violence",
                                                         amount=None, risk="high"))
    after = queries.open_by_risk_and_kind(staff.station)
    labour = {r["kind"]: r for r in after["rows"]}
    was = {r["kind"]: r for r in before["rows"]}
    assert labour["labour"]["low"] == was["labour"]["low"] + 1
    # a sensitive dispute the station may not see is still counted (it names no record)
    assert labour["domestic_violence"]["high"] == was["domestic_violence"]["high"] + 1
    assert len(after["rows"]) == 13 and after["totals"]["total"] == before["totals"]["total"] + 2

    do_accept(staff.grid_mediator, d.pk)
    do_accept(staff.grid_mediator, dv.pk)
    do_make_agreement(staff.grid_mediator, d.pk, terms="付清")
    mine = {r["mediator_id"]: r for r in queries.workload(staff.station)}
    from wangge.disputes.tests.conftest import person

    row = mine[person(staff.grid_mediator).pk]
    assert (row["open"], row["mediating"], row["late"], row["agreements_this_month"]) == (
        2, 1, 0, 1)
    assert person(staff.grid_mediator).pk not in {
        r["mediator_id"] for r in queries.workload(staff.far_worker)}
