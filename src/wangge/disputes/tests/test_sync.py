"""The field app's dispute envelopes through the sync engine (POST /api/v1/fieldwork/sync):
created, replayed (the same queue sent again writes nothing), invalid (naming the payload's
field; the envelopes after it still go through), and what the phone holds afterwards (the
offline bundle's `disputes` section: the 13 kinds, the grid's open disputes with masked
parties, the screening period)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from wangge.disputes.models import Dispute, FollowUp, Screening, Session
from wangge.disputes.tests.conftest import Place, Staff, dispute_payload, item

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
