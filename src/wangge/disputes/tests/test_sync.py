"""The field app's dispute envelopes through the sync engine (POST /api/v1/fieldwork/sync):
created, replayed (the same queue sent again writes nothing), invalid (naming the payload's
field; the envelopes after it still go through), and what the phone holds afterwards (the
offline bundle's `disputes` section: the 13 kinds, the grid's open disputes with masked
parties, the screening period)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from wangge.disputes.actions.mediation import do_accept, do_escalate
from wangge.disputes.actions.outcome import do_make_agreement
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.models import Agreement, Dispute, FollowUp, Screening, Session, Signature
from wangge.disputes.tests.conftest import Place, Staff, dispute_payload, item
from wangge.fieldwork.models import Upload

pytestmark = pytest.mark.django_db


def sync(user: AbstractBaseUser, envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    c = Client()
    c.force_login(user)
    r = c.post("/api/v1/fieldwork/sync", json.dumps({"envelopes": envelopes}),
               content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()["outcomes"]


def offline(user: AbstractBaseUser) -> dict[str, Any]:
    c = Client()
    c.force_login(user)
    r = c.get("/api/v1/fieldwork/offline")
    assert r.status_code == 200
    return r.json()["disputes"]


def env(key: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"client_key": key, "kind": kind, "payload": payload,
            "device_time": timezone.now().isoformat()}


def session(dispute_id: int, **over: Any) -> dict[str, Any]:
    return {"dispute_id": dispute_id, "held_at": timezone.now().isoformat(),
            "place": "网格员家门口", "attendees": "双方当事人、调解员", "notes": "各让一步", **over}


def test_a_day_of_envelopes_created_then_replayed(place: Place, staff: Staff) -> None:
    day = [env("s-1", "screening.create", {"grid_id": place.basic.pk,
                                           "screened_at": timezone.now().isoformat(),
                                           "items": [item(risk="high")]}),
           env("d-1", "dispute.create", dispute_payload(place.basic, kind="neighbour"))]
    first = sync(staff.worker, day)
    assert [o["status"] for o in first] == ["created", "created"], first
    screening = Screening.objects.get(pk=first[0]["id"])
    assert screening.grid == place.basic and not screening.nil
    dispute = Dispute.objects.get(pk=first[1]["id"])
    assert dispute.kind.code == "neighbour" and dispute.source == "resident"

    # the worker mediates at the doorstep (a dispute at grid level) and records it
    first = sync(staff.worker, [env("m-1", "dispute.session", session(dispute.pk))])
    assert first[0]["status"] == "created", first
    assert Session.objects.filter(dispute=dispute).count() == 1

    counts = (Screening.objects.count(), Dispute.objects.count(), Session.objects.count())
    again = sync(staff.worker, [*day, env("m-1", "dispute.session", session(dispute.pk))])
    assert [o["status"] for o in again] == ["replayed"] * 3, again
    assert [o["id"] for o in again] == [screening.pk, dispute.pk, first[0]["id"]]
    assert (Screening.objects.count(), Dispute.objects.count(),
            Session.objects.count()) == counts


def test_invalid_envelopes_name_the_field_and_the_queue_moves_on(place: Place,
                                                                 staff: Staff) -> None:
    d = Dispute.objects.get(pk=sync(staff.worker, [
        env("d-2", "dispute.create", dispute_payload(place.basic))])[0]["id"])
    out = sync(staff.worker, [
        env("bad-1", "dispute.session", session(d.pk, notes="")),
        env("bad-2", "dispute.create", dispute_payload(place.basic, parties=[])),
        env("bad-3", "screening.create", {"nil": True, "items": [item()]}),
        env("bad-4", "dispute.follow_up", {"dispute_id": d.pk, "honoured": "maybe"}),
        env("ok-1", "dispute.session", session(d.pk)),
    ])
    assert [o["status"] for o in out] == ["invalid"] * 4 + ["created"], out
    assert out[0]["errors"][0]["loc"] == ["payload", "notes"]
    assert out[1]["errors"][0]["loc"] == ["payload", "parties"]
    assert out[2]["errors"][0]["loc"] == ["payload", "items"]
    assert out[3]["errors"][0]["loc"] == ["payload", "honoured"]
    assert Session.objects.filter(dispute=d).count() == 1
    assert not FollowUp.objects.filter(dispute=d).exists()
    assert not Screening.objects.filter(grid=place.basic).exists()


def test_out_of_scope_and_wrong_state_never_break_the_sync(place: Place,
                                                           staff: Staff) -> None:
    d = Dispute.objects.get(pk=sync(staff.worker, [
        env("d-3", "dispute.create", dispute_payload(place.basic))])[0]["id"])
    out = sync(staff.far_worker, [env("far-1", "dispute.session", session(d.pk))])
    assert out[0]["status"] in ("not_found", "forbidden"), out
    # a follow-up before any agreement: refused, not a server error
    out = sync(staff.worker, [env("early-1", "dispute.follow_up",
                                  {"dispute_id": d.pk, "honoured": "yes",
                                   "at": timezone.now().isoformat()})])
    assert out[0]["status"] in ("invalid", "conflict"), out
    assert not Session.objects.filter(dispute=d).exists()
    assert not FollowUp.objects.filter(dispute=d).exists()


def test_offline_section(place: Place, staff: Staff) -> None:
    data = offline(staff.worker)
    assert len(data["kinds"]) == 13
    assert data["screening"]["done"] is False
    assert data["screening"]["period"] in ("month", "week")
    assert data["labels"]["state"]["mediating"]

    sync(staff.worker, [
        env("s-9", "screening.create", {"nil": True}),
        env("d-9", "dispute.create", dispute_payload(place.basic)),
        env("d-10", "dispute.create", dispute_payload(place.far)),  # not the worker's grid
    ])
    data = offline(staff.worker)
    assert data["screening"]["done"] is True and data["screening"]["nil"] is True
    mine = Dispute.objects.filter(grid=place.basic, state__in=["registered", "mediating",
                                                                "agreed"])
    rows = {r["i"]: r for r in data["open"]}
    assert set(rows) == set(mine.values_list("pk", flat=True))
    row = next(r for r in data["open"] if r["no"].startswith("TJ") and r["t"] == item()["subject"])
    assert row["m"] is True  # the worker may record a session for a grid-level dispute
    assert all(name != "王测试" for _role, name in row["p"])  # parties masked on the phone


def upload(user: AbstractBaseUser, name: str) -> str:
    """A signature PNG the user sent to /uploads (its hash is what agreement.sign names)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    Upload.objects.create(sha256=digest, uploaded_by=user, file=f"fieldwork/{name}.png",
                          content_type="image/png", size=10)
    return digest


def agreed(by: AbstractBaseUser, grid: Any) -> Dispute:
    d = do_record_dispute(by, dispute_payload(grid))
    do_accept(by, d.pk)
    do_make_agreement(by, d.pk, terms="用工单位十日内付清工资86000元",
                      perform_by=timezone.localdate() + dt.timedelta(days=10))
    return Dispute.objects.get(pk=d.pk)


def test_the_agreement_is_signed_on_the_phone(place: Place, staff: Staff) -> None:
    """The bundle holds an agreed dispute's agreement with its parties (whole names for
    whoever may take the signatures) and who has signed; agreement.sign envelopes put the
    signatures on it (method phone), one per party, and the bundle follows."""
    d = agreed(staff.worker, place.basic)
    agreement = Agreement.objects.get(dispute=d)
    parties = list(d.parties.order_by("order", "pk"))
    row = next(r for r in offline(staff.worker)["open"] if r["i"] == d.pk)
    a = row["a"]
    assert (a["i"], a["no"], a["t"]) == (agreement.pk, agreement.number, agreement.terms)
    assert a["by"] == agreement.perform_by.isoformat() and a["w"] is True
    assert sorted(a["p"]) == sorted([p.pk, p.role, p.name, 0] for p in parties)
    assert all(name != "王测试" for _role, name in row["p"])  # the list row stays masked

    first = sync(staff.worker, [env("g-1", "agreement.sign", {
        "agreement_id": agreement.pk, "party_id": parties[0].pk,
        "image_hash": upload(staff.worker, "a"), "method": "phone",
        "signed_at": timezone.now().isoformat()})])
    assert first[0]["status"] == "created", first
    a = next(r for r in offline(staff.worker)["open"] if r["i"] == d.pk)["a"]
    assert {p[0]: p[3] for p in a["p"]} == {parties[0].pk: 1, parties[1].pk: 0}
    agreement.refresh_from_db()
    assert agreement.signed_at is None  # one party still to sign

    out = sync(staff.worker, [
        env("g-bad", "agreement.sign", {"agreement_id": agreement.pk, "party_id": parties[1].pk,
                                        "image_hash": "0" * 64, "method": "phone"}),
        env("g-1", "agreement.sign", {"agreement_id": agreement.pk, "party_id": parties[0].pk,
                                      "image_hash": upload(staff.worker, "a2"),
                                      "method": "phone"}),
        env("g-2", "agreement.sign", {"agreement_id": agreement.pk, "party_id": parties[1].pk,
                                      "image_hash": upload(staff.worker, "b"),
                                      "method": "phone",
                                      "signed_at": timezone.now().isoformat()})])
    assert [o["status"] for o in out] == ["invalid", "replayed", "created"], out
    assert out[0]["errors"][0]["loc"] == ["payload", "image_hash"]
    signed = Signature.objects.filter(agreement=agreement)
    assert sorted(signed.values_list("party_id", "method")) == sorted(
        [(p.pk, "phone") for p in parties])
    agreement.refresh_from_db()
    assert agreement.signed_at is not None
    a = next(r for r in offline(staff.worker)["open"] if r["i"] == d.pk)["a"]
    assert [p[3] for p in a["p"]] == [1, 1]


def test_an_agreement_the_worker_may_not_sign_shows_masked_parties(place: Place,
                                                                    staff: Staff) -> None:
    """Mediated at the workstation's level by its mediator: the grid's worker sees the
    agreement in the bundle, the parties masked, and takes no signatures."""
    d = do_record_dispute(staff.station_mediator, dispute_payload(place.basic))
    do_escalate(staff.station_mediator, d.pk, reason="网格调解不成，移交调委会")
    do_accept(staff.station_mediator, d.pk)
    do_make_agreement(staff.station_mediator, d.pk, terms="分两期付清")
    row = next(r for r in offline(staff.worker)["open"] if r["i"] == d.pk)
    assert row["a"]["t"] == "分两期付清" and "w" not in row["a"]
    names = [p[2] for p in row["a"]["p"]]
    assert "王测试" not in names and all(names), names
    out = sync(staff.worker, [env("g-9", "agreement.sign", {
        "agreement_id": row["a"]["i"], "party_id": row["a"]["p"][0][0],
        "image_hash": upload(staff.worker, "c"), "method": "phone"})])
    assert out[0]["status"] == "forbidden", out
    assert not Signature.objects.filter(agreement_id=row["a"]["i"]).exists()


def test_the_field_app_carries_the_dispute_screens(staff: Staff) -> None:
    """The shell loads the screens' script and style and their words (fieldwork imports no
    disputes code: the AppConfig declares them), and the service worker precaches them."""
    c = Client()
    c.force_login(staff.worker)
    shell = c.get("/app/").content.decode()
    assert "disputes/app/disputes.js" in shell and "disputes/app/disputes.css" in shell
    assert shell.index("disputes/app/disputes.js") < shell.index("fieldwork/app/app.js")
    words = json.loads(re.search(r'<script id="app-messages"[^>]*>(.*?)</script>', shell,
                                 re.S).group(1))
    assert words["disputes.submit_session"] == "保存调解记录"
    worker = c.get("/app/sw.js").content.decode()
    assert "disputes/app/disputes.js" in worker and "disputes/app/disputes.css" in worker
