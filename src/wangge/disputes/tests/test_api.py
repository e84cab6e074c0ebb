"""/api/v1/disputes as its callers meet it: every endpoint's happy path, bad input answered
422 naming the field, scope (404 for what the caller may not see, 403 for a step they may
not take), 409 for a step the dispute's state does not allow, and a retried create (same
client_key or Idempotency-Key) answered with the first record, never a second one."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone
from PIL import Image

from wangge.disputes.models import (
    Dispute,
    FollowUp,
    Party,
    Screening,
    ScreeningRule,
    Session,
    Signature,
)
from wangge.disputes.tests.conftest import OUTSIDER_PHONE, Place, Staff, dispute_payload, item

API = "/api/v1/disputes"


def as_user(user: AbstractBaseUser) -> Client:
    c = Client()
    c.force_login(user)
    return c


def call(user: AbstractBaseUser, method: str, url: str, body: Any = None,
         **headers: str) -> tuple[int, Any]:
    c = as_user(user)
    kwargs: dict[str, Any] = {"headers": headers} if headers else {}
    if method == "GET":
        r = c.get(API + url, body or {}, **kwargs)
    else:
        r = c.generic(method, API + url, json.dumps(body or {}),
                      content_type="application/json", **kwargs)
    return r.status_code, r.json()


def locs(answer: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in answer["detail"]]


def now() -> str:
    return timezone.now().isoformat()


def new_dispute(user: AbstractBaseUser, place: Place, **over: Any) -> dict[str, Any]:
    code, d = call(user, "POST", "/", dispute_payload(place.basic, **over))
    assert code == 201, d
    return d


def session_body(**over: Any) -> dict[str, Any]:
    return {"held_at": now(), "place": "胜利社区调解室", "attendees": "双方当事人、网格员",
            "notes": "双方同意分期支付", **over}


pytestmark = pytest.mark.django_db


# -- the record ---------------------------------------------------------------------------------

def test_create_and_read_parties_whole_on_the_page_masked_in_lists(place: Place,
                                                                    staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    assert d["number"].startswith("TJ") and d["state"] == "registered"
    assert d["kind"] == "labour" and d["amount"] == "86000.00" and d["grid"] == place.basic.code
    names = {p["name"] for p in d["parties"]}
    assert "王测试" in names  # the recorder sees the parties whole on the page
    assert all(OUTSIDER_PHONE not in p["phone"] for p in d["parties"])  # contact data stays sealed

    code, page = call(staff.station, "GET", "/", {"grid": place.basic.code})
    assert code == 200
    row = next(r for r in page["items"] if r["id"] == d["id"])
    assert "王测试" not in {p["name"] for p in row["parties"]}  # lists mask
    assert all(p["name"] for p in row["parties"])

    code, whole = call(staff.station, "GET", f"/{d['id']}")
    assert code == 200 and whole["sees_parties"] is True
    assert [e["kind"] for e in whole["timeline"]][:1] == ["recorded"]
    code, masked = call(staff.leader, "GET", f"/{d['id']}")
    assert code == 200 and masked["sees_parties"] is False and not masked["may_mediate"]
    assert "王测试" not in {p["name"] for p in masked["parties"]}


def test_create_retried_with_the_same_key_is_one_record(place: Place, staff: Staff) -> None:
    before = Dispute.objects.count()
    body = {**dispute_payload(place.basic), "client_key": "retry-dispute-1"}
    code, first = call(staff.worker, "POST", "/", body)
    assert code == 201
    code, again = call(staff.worker, "POST", "/", body)
    assert code == 200 and again["id"] == first["id"]
    # the same through the Idempotency-Key header
    code, third = call(staff.worker, "POST", "/", dispute_payload(place.basic),
                       **{"Idempotency-Key": "retry-dispute-2"})
    assert code == 201 and third["id"] != first["id"]
    code, fourth = call(staff.worker, "POST", "/", dispute_payload(place.basic),
                        **{"Idempotency-Key": "retry-dispute-2"})
    assert code == 200 and fourth["id"] == third["id"]
    assert Dispute.objects.count() == before + 2
    # a body key and a header that disagree: refused, nothing written
    code, bad = call(staff.worker, "POST", "/", {**body, "client_key": "k-a"},
                     **{"Idempotency-Key": "k-b"})
    assert code == 422 and locs(bad) == [["body", "client_key"]]
    assert Dispute.objects.count() == before + 2


@pytest.mark.parametrize(("change", "loc"), [
    ({"parties": []}, ["body", "parties"]),
    ({"kind": "no-such-kind"}, ["body", "kind"]),
    ({"risk": "extreme"}, ["body", "risk"]),
    ({"amount": "-5"}, ["body", "amount"]),
    ({"subject": "争" * 201}, ["body", "subject"]),
    ({"parties": [{"role": "applicant", "phone": "123"}]}, ["body", "parties", 0, "name"]),
])
def test_create_refused_naming_the_field(place: Place, staff: Staff, change: dict[str, Any],
                                         loc: list[Any]) -> None:
    before = Dispute.objects.count()
    code, answer = call(staff.worker, "POST", "/", {**dispute_payload(place.basic), **change})
    assert code == 422, answer
    assert loc in locs(answer), answer
    assert Dispute.objects.count() == before


def test_create_outside_ones_grid_is_forbidden(place: Place, staff: Staff) -> None:
    before = Dispute.objects.count()
    code, _ = call(staff.far_worker, "POST", "/", dispute_payload(place.basic))
    assert code == 403
    code, _ = call(staff.department, "POST", "/", dispute_payload(place.basic))
    assert code == 403
    assert Dispute.objects.count() == before


def test_list_filters_and_pages(place: Place, staff: Staff) -> None:
    high = new_dispute(staff.worker, place, risk="high", kind="neighbour")
    low = new_dispute(staff.worker, place, risk="low")
    code, page = call(staff.station, "GET", "/", {"grid": place.basic.code, "risk": "high"})
    assert code == 200
    ids = [r["id"] for r in page["items"]]
    assert high["id"] in ids and low["id"] not in ids
    code, page = call(staff.station, "GET", "/", {"grid": place.basic.code, "kind": "neighbour"})
    assert {r["kind"] for r in page["items"]} == {"neighbour"}
    code, page = call(staff.station, "GET", "/", {"grid": place.basic.code,
                                                  "state": "registered", "limit": 1,
                                                  "offset": 1})
    assert code == 200 and len(page["items"]) == 1 and page["total"] >= 2
    code, bad = call(staff.station, "GET", "/", {"risk": "extreme"})
    assert code == 422 and locs(bad) == [["query", "risk"]]
    code, bad = call(staff.station, "GET", "/", {"limit": 0})
    assert code == 422 and locs(bad) == [["query", "limit"]]
    # another town's worker and a line department list none of them
    for user in (staff.far_worker, staff.department):
        code, page = call(user, "GET", "/", {"grid": place.basic.code})
        assert code == 200 and page["items"] == []


def test_page_is_404_outside_scope(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    for user in (staff.far_worker, staff.department):
        assert call(user, "GET", f"/{d['id']}")[0] == 404
    assert call(staff.station, "GET", "/999999999")[0] == 404


def test_kinds(staff: Staff) -> None:
    code, kinds = call(staff.worker, "GET", "/kinds")
    assert code == 200 and len(kinds) == 13
    assert {"labour", "neighbour"} <= {k["code"] for k in kinds}


# -- mediation ----------------------------------------------------------------------------------

def test_accept_assign_session_and_retry(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    # not theirs to see / not theirs to take up
    assert call(staff.far_worker, "POST", f"/{d['id']}/accept", {})[0] == 404
    assert call(staff.leader, "POST", f"/{d['id']}/accept", {})[0] == 403
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/accept",
                     {"mediator_id": "x"})
    assert code == 422 and locs(bad) == [["body", "mediator_id"]]
    code, got = call(staff.grid_mediator, "POST", f"/{d['id']}/accept", {})
    assert code == 200 and got["state"] == "mediating" and got["mediator"]
    assert call(staff.grid_mediator, "POST", f"/{d['id']}/accept", {})[0] == 409

    code, bad = call(staff.station, "POST", f"/{d['id']}/assign", {})
    assert code == 422 and locs(bad) == [["body", "mediator_id"]]

    body = session_body(client_key="session-retry-1")
    code, s = call(staff.grid_mediator, "POST", f"/{d['id']}/sessions", body)
    assert code == 201 and s["dispute_id"] == d["id"] and s["place"] == "胜利社区调解室"
    code, again = call(staff.grid_mediator, "POST", f"/{d['id']}/sessions", body)
    assert code == 200 and again["id"] == s["id"]
    assert Session.objects.filter(dispute_id=d["id"]).count() == 1
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/sessions",
                     session_body(place=""))
    assert code == 422 and locs(bad) == [["body", "place"]]
    assert call(staff.far_worker, "POST", f"/{d['id']}/sessions", session_body())[0] == 404
    assert Session.objects.filter(dispute_id=d["id"]).count() == 1
    code, page = call(staff.station, "GET", f"/{d['id']}")
    assert [x["id"] for x in page["sessions"]] == [s["id"]]


def test_escalate_and_withdraw(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    code, bad = call(staff.station, "POST", f"/{d['id']}/escalate", {"reason": ""})
    assert code == 422 and locs(bad) == [["body", "reason"]]
    assert call(staff.leader, "POST", f"/{d['id']}/escalate", {"reason": "调解不成"})[0] == 403
    code, up = call(staff.station, "POST", f"/{d['id']}/escalate", {"reason": "网格调解不成"})
    assert code == 200 and up["level"] == "workstation"
    code, gone = call(staff.station, "POST", f"/{d['id']}/withdraw", {"reason": "申请人撤回"})
    assert code == 200 and gone["state"] == "withdrawn"
    assert call(staff.station, "POST", f"/{d['id']}/withdraw", {"reason": "再撤"})[0] == 409
    assert call(staff.station, "POST", f"/{d['id']}/sessions", session_body())[0] in (409, 422)
    assert not Session.objects.filter(dispute_id=d["id"]).exists()


def _upload(user: AbstractBaseUser) -> str:
    out = io.BytesIO()
    Image.new("RGB", (200, 80), "white").save(out, format="PNG")
    out.seek(0)
    out.name = "sign.png"
    r = as_user(user).post("/api/v1/fieldwork/uploads", {"file": out})
    assert r.status_code in (200, 201), r.content
    return r.json()["sha256"]


def test_agreement_signatures_and_follow_up(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    # an agreement needs mediation first
    assert call(staff.grid_mediator, "POST", f"/{d['id']}/agreement",
                {"terms": "三十日内付清"})[0] == 409
    call(staff.grid_mediator, "POST", f"/{d['id']}/accept", {})
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/agreement", {"terms": ""})
    assert code == 422 and locs(bad) == [["body", "terms"]]
    assert call(staff.far_worker, "POST", f"/{d['id']}/agreement", {"terms": "x"})[0] == 404
    code, agreed = call(staff.grid_mediator, "POST", f"/{d['id']}/agreement",
                        {"terms": "被申请人于三十日内付清工资86000元", "perform_by": "2026-12-31"})
    assert code == 201 and agreed["state"] == "agreed"
    assert agreed["agreement"]["number"] and agreed["agreement"]["signatures"] == []
    assert call(staff.grid_mediator, "POST", f"/{d['id']}/agreement",
                {"terms": "again"})[0] == 409

    party = Party.objects.filter(dispute_id=d["id"]).order_by("order", "pk").first()
    sha = _upload(staff.grid_mediator)
    body = {"party_id": party.pk, "image_hash": sha, "method": "phone",
            "client_key": "sign-retry-1"}
    code, sig = call(staff.grid_mediator, "POST", f"/{d['id']}/signatures", body)
    assert code == 201 and sig["party_id"] == party.pk
    code, again = call(staff.grid_mediator, "POST", f"/{d['id']}/signatures", body)
    assert code == 200 and again["id"] == sig["id"]
    assert Signature.objects.filter(party=party).count() == 1
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/signatures",
                     {"party_id": party.pk, "image_hash": "0" * 64, "method": "phone"})
    assert code == 422 and locs(bad)[0][:2] == ["body", "image_hash"]

    body = {"honoured": "yes", "note": "工资已全部付清", "at": now(),
            "client_key": "follow-retry-1"}
    code, bad = call(staff.worker, "POST", f"/{d['id']}/follow-ups", {"honoured": "maybe"})
    assert code == 422 and locs(bad) == [["body", "honoured"]]
    code, f = call(staff.worker, "POST", f"/{d['id']}/follow-ups", body)
    assert code == 201 and f["honoured"] == "yes"
    code, again = call(staff.worker, "POST", f"/{d['id']}/follow-ups", body)
    assert code == 200 and again["id"] == f["id"]
    assert FollowUp.objects.filter(dispute_id=d["id"]).count() == 1
    code, page = call(staff.worker, "GET", f"/{d['id']}")
    assert page["state"] == "closed" and [x["id"] for x in page["follow_ups"]] == [f["id"]]
    # a closed dispute takes no second follow-up
    code, _ = call(staff.worker, "POST", f"/{d['id']}/follow-ups", {"honoured": "no"})
    assert code in (409, 422)
    assert FollowUp.objects.filter(dispute_id=d["id"]).count() == 1


def test_account_sessions_and_follow_up_notes_only_for_those_who_see_the_parties(
        place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    account = dispute_payload(place.basic)["account"]
    call(staff.grid_mediator, "POST", f"/{d['id']}/accept", {})
    code, s = call(staff.grid_mediator, "POST", f"/{d['id']}/sessions", session_body())
    assert code == 201 and s["notes"] == "双方同意分期支付"  # the mediator's own record
    call(staff.grid_mediator, "POST", f"/{d['id']}/agreement", {"terms": "三十日内付清"})
    code, f = call(staff.worker, "POST", f"/{d['id']}/follow-ups",
                   {"honoured": "yes", "note": "工资已全部付清"})
    assert code == 201 and f["note"] == "工资已全部付清"

    code, whole = call(staff.worker, "GET", f"/{d['id']}")
    assert code == 200 and whole["sees_parties"] is True and whole["account"] == account
    assert whole["sessions"][0]["attendees"] == "双方当事人、网格员"
    assert whole["sessions"][0]["notes"] == "双方同意分期支付"
    assert whole["follow_ups"][0]["note"] == "工资已全部付清"

    # the leader reads the dispute with masked parties: none of what the parties said
    code, masked = call(staff.leader, "GET", f"/{d['id']}")
    assert code == 200 and masked["sees_parties"] is False
    assert masked["account"] == ""
    assert [(x["attendees"], x["notes"]) for x in masked["sessions"]] == [("", "")]
    assert [x["note"] for x in masked["follow_ups"]] == [""]
    assert masked["follow_ups"][0]["honoured"] == "yes"  # the answer itself stays
    text = json.dumps(masked, ensure_ascii=False)
    assert account not in text and "双方同意分期支付" not in text and "工资已全部付清" not in text


def test_signature_before_an_agreement_is_409(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    party = Party.objects.filter(dispute_id=d["id"]).first()
    code, _ = call(staff.grid_mediator, "POST", f"/{d['id']}/signatures",
                   {"party_id": party.pk, "image_hash": "a" * 64})
    assert code == 409


def test_referral(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    assert call(staff.grid_mediator, "POST", f"/{d['id']}/referral",
                {"body": "court", "reason": "调解不成"})[0] == 409
    call(staff.grid_mediator, "POST", f"/{d['id']}/accept", {})
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/referral",
                     {"body": "moon", "reason": "x"})
    assert code == 422 and locs(bad) == [["body", "body"]]
    code, bad = call(staff.grid_mediator, "POST", f"/{d['id']}/referral",
                     {"body": "department", "reason": "需部门处理"})
    assert code == 422 and locs(bad) == [["body", "department_id"]]
    assert call(staff.leader, "POST", f"/{d['id']}/referral",
                {"body": "court", "reason": "调解不成"})[0] == 403
    code, out = call(staff.grid_mediator, "POST", f"/{d['id']}/referral",
                     {"body": "arbitration", "reason": "双方分歧大，申请劳动仲裁"})
    assert code == 201 and out["state"] == "referred"
    assert out["referral"]["body"] == "arbitration"
    assert call(staff.grid_mediator, "POST", f"/{d['id']}/referral",
                {"body": "court", "reason": "again"})[0] == 409


def test_sensitive_narrows_the_dispute(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place, kind="neighbour")
    code, bad = call(staff.admin, "POST", f"/{d['id']}/sensitive", {"sensitive": "maybe",
                                                                    "reason": "x"})
    assert code == 422 and locs(bad) == [["body", "sensitive"]]
    assert call(staff.far_worker, "POST", f"/{d['id']}/sensitive",
                {"sensitive": True, "reason": "涉及家庭暴力"})[0] == 404
    code, out = call(staff.admin, "POST", f"/{d['id']}/sensitive",
                     {"sensitive": True, "reason": "涉及家庭暴力"})
    assert code == 200 and out["sensitive"] is True
    assert call(staff.station, "GET", f"/{d['id']}")[0] == 404
    code, page = call(staff.station, "GET", "/", {"grid": place.basic.code})
    assert d["id"] not in [r["id"] for r in page["items"]]
    assert call(staff.worker, "GET", f"/{d['id']}")[0] == 200  # its recorder


def test_reveal_needs_a_purpose_and_scope(place: Place, staff: Staff) -> None:
    d = new_dispute(staff.worker, place)
    outsider = Party.objects.get(dispute_id=d["id"], role="applicant")
    url = f"/parties/{outsider.pk}/reveal"
    code, bad = call(staff.worker, "POST", url, {})
    assert code == 422 and locs(bad) == [["body", "purpose"]]
    code, bad = call(staff.worker, "POST", url, {"purpose": "  "})
    assert code == 422 and locs(bad) == [["body", "purpose"]]
    assert call(staff.far_worker, "POST", url, {"purpose": "电话联系当事人"})[0] == 404
    assert call(staff.leader, "POST", url, {"purpose": "电话联系当事人"})[0] == 403
    assert call(staff.worker, "POST", "/parties/999999999/reveal",
                {"purpose": "电话联系当事人"})[0] == 404
    code, whole = call(staff.worker, "POST", url, {"purpose": "电话联系当事人"})
    assert code == 200 and whole["phone"] == OUTSIDER_PHONE and whole["name"] == "王测试"


# -- screenings ---------------------------------------------------------------------------------

def test_screening_nil_return_retry_and_coverage(place: Place, staff: Staff) -> None:
    body = {"nil": True, "note": "本月无矛盾纠纷", "client_key": "screen-retry-1"}
    code, s = call(staff.worker, "POST", "/screenings", body)
    assert code == 201 and s["nil"] is True and s["grid"] == place.basic.code
    # a retry answers the same return (not "already screened")
    code, again = call(staff.worker, "POST", "/screenings", body)
    assert code == 200 and again["id"] == s["id"]
    # a second return for the period is refused naming the grid
    code, bad = call(staff.worker, "POST", "/screenings", {"nil": True})
    assert code == 422 and locs(bad) == [["body", "grid"]]
    assert Screening.objects.filter(grid=place.basic).count() == 1

    code, page = call(staff.station, "GET", "/screenings", {"grid": place.village.code})
    assert code == 200 and s["id"] in [x["id"] for x in page["items"]]
    code, one = call(staff.station, "GET", f"/screenings/{s['id']}")
    assert code == 200 and one["nil"] is True
    assert call(staff.far_worker, "GET", f"/screenings/{s['id']}")[0] == 404
    code, page = call(staff.far_worker, "GET", "/screenings")
    assert s["id"] not in [x["id"] for x in page["items"]]

    code, cover = call(staff.station, "GET", "/coverage")
    assert code == 200 and cover["total"] >= 2 and cover["screened"] >= 1
    rows = {r["grid"]: r for r in cover["items"]}
    assert rows[place.basic.code]["screened"] is True and rows[place.basic.code]["nil"] is True
    assert rows[place.sibling.code]["screened"] is False
    code, missing = call(staff.station, "GET", "/coverage", {"screened": "false"})
    assert place.basic.code not in {r["grid"] for r in missing["items"]}
    assert call(staff.station, "GET", "/coverage", {"day": "2026-13-01"})[0] == 422
    code, one = call(staff.station, "GET", "/coverage", {"grid": place.basic.code})
    assert code == 200 and [r["grid"] for r in one["items"]] == [place.basic.code]
    code, none = call(staff.far_worker, "GET", "/coverage", {"grid": place.basic.code})
    assert code == 200 and none["items"] == [] and none["total"] == 0


def test_coverage_follows_each_grids_rule(place: Place, staff: Staff) -> None:
    """A grid under watch screens weekly (its own rule), its neighbours monthly."""
    ScreeningRule.objects.create(grid=place.sibling, period="week")
    day = dt.date(2026, 12, 10)  # a Thursday
    code, cover = call(staff.station, "GET", "/coverage", {"day": day.isoformat()})
    assert code == 200
    rows = {r["grid"]: r for r in cover["items"]}
    assert (rows[place.sibling.code]["period"], rows[place.sibling.code]["period_start"]) == (
        "week", "2026-12-07")
    assert (rows[place.basic.code]["period"], rows[place.basic.code]["period_start"]) == (
        "month", "2026-12-01")


def test_screening_with_items_and_refusals(place: Place, staff: Staff) -> None:
    before = Dispute.objects.count()
    code, bad = call(staff.worker, "POST", "/screenings", {"nil": True, "items": [item()]})
    assert code == 422 and locs(bad) == [["body", "items"]]
    code, bad = call(staff.worker, "POST", "/screenings", {"nil": False})
    assert code == 422 and locs(bad) == [["body", "items"]]
    code, bad = call(staff.worker, "POST", "/screenings", {"items": [item(kind="nope")]})
    assert code == 422 and locs(bad) == [["body", "items", 0, "kind"]]
    assert call(staff.far_worker, "POST", "/screenings",
                {"grid_id": place.basic.pk, "nil": True})[0] == 403
    assert Dispute.objects.count() == before and not Screening.objects.filter(
        grid=place.basic).exists()
    code, s = call(staff.worker, "POST", "/screenings",
                   {"items": [item(), item(kind="neighbour", risk="high", amount=None)]})
    assert code == 201 and s["nil"] is False and len(s["disputes"]) == 2
    assert Dispute.objects.filter(screening_id=s["id"], source="screening").count() == 2
