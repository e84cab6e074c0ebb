"""Proxy handling as the worker, the station and the department notice it: illegal steps
refused with 409 naming the state, another grid's worker gets 404, a retried POST or a
replayed envelope makes one record, a returned application is recollected and passed,
personal data sealed and masked, another community's station sees nothing, the phone's
offline bundle carries the open requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.http import Http404

from wangge.core import crypto
from wangge.core.models import OutboxMessage
from wangge.org.models import Person, Role, RoleAssignment
from wangge.services.actions import applications as apps
from wangge.services.actions import proxy as actions
from wangge.services.errors import IllegalStep, ServiceError
from wangge.services.models import Application, MaterialFile, ProxyEvent, ProxyRequest
from wangge.services.tests.prereview_helpers import ID_NUMBER, PHONE
from wangge.services.tests.proxy_helpers import (
    API,
    at,
    building_residents,
    elderly_item,
    get,
    materials,
    other_worker_login,
    photo,
    post,
    required_keys,
    user,
    worker_grid,
)
from wangge.territory.models import Grid, Level

pytestmark = pytest.mark.django_db


def booked(client: Any, **extra: Any) -> dict[str, Any]:
    item = elderly_item()
    body = {"item_code": item.code, "grid_id": worker_grid().pk, "at": at(),
            "resident_id": building_residents(1)[0].pk, "channel": "phone", **extra}
    code, p = post(client, API, body)
    assert code == 201, p
    return p


def collected(client: Any, originals: bool = True) -> dict[str, Any]:
    p = booked(client)
    code, p = post(client, f"{API}/{p['id']}/collect", {
        "materials": materials(elderly_item()), "signature": photo(), "signer_name": "王秀英",
        "originals": [{"name": "户口簿", "count": 1}] if originals else []})
    assert code == 201, p
    return p


def ready(client: Any, login_as: Any, originals: bool = True) -> dict[str, Any]:
    p = collected(client, originals)
    post(client, f"{API}/{p['id']}/submit", {})
    application = Application.objects.get(proxy_request=p["id"])
    reviewer = user("civil_affairs")
    for key in {f.material_key for f in application.files.all()}:
        apps.do_check_material(reviewer, application, key, "accepted")
    apps.do_decide(reviewer, application, "pass")
    code, p = post(login_as("civil_affairs"), f"{API}/{p['id']}/ready", {})
    assert code == 200, p
    return p


def test_illegal_steps_are_409_naming_the_state(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = booked(worker)
    code, body = post(worker, f"{API}/{p['id']}/deliver", {
        "recipient_name": "王秀英", "signature": photo(), "photo": photo()})
    assert code == 409, body
    assert "已预约" in body["detail"] and "上门收件" in body["detail"]
    assert body["current"]["state"] == "booked"
    # the worker is no department: marking ready is refused even in the right state
    code, body = post(worker, f"{API}/{p['id']}/ready", {})
    assert code == 409 and "已预约" in body["detail"]
    code, body = post(worker, f"{API}/{p['id']}/submit", {})
    assert code == 409
    p = collected(worker)
    post(worker, f"{API}/{p['id']}/submit", {})
    code, body = post(worker, f"{API}/{p['id']}/cancel", {"reason": "不需要了"})
    assert code == 409 and "部门预审中" in body["detail"]
    assert ProxyRequest.objects.get(pk=p["id"]).state == "in_review"
    # nothing half-written: the refused steps left no event
    assert list(ProxyEvent.objects.filter(proxy_id=p["id"]).values_list(
        "action", flat=True)) == ["book", "collect", "submit"]


def test_cancel_before_collection_frees_the_appointment(login_as) -> None:  # type: ignore[no-untyped-def]
    station = login_as("station")
    p = booked(station)
    code, body = post(station, f"{API}/{p['id']}/cancel", {"reason": ""})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "reason"]
    code, body = post(station, f"{API}/{p['id']}/cancel", {"reason": "已自行办理"})
    assert code == 200 and body["state"] == "cancelled"
    assert ProxyRequest.objects.get(pk=p["id"]).appointment.state == "cancelled"


def test_another_grids_worker_gets_404(login_as, django_user_model) -> None:  # type: ignore[no-untyped-def]
    p = booked(login_as("gridworker"))
    other_worker_login(django_user_model)
    other = login_as("other_worker")
    code, _body = post(other, f"{API}/{p['id']}/collect", {
        "materials": materials(elderly_item(), "other_worker"),
        "signature": photo("other_worker"), "signer_name": "王秀英"})
    assert code == 404
    assert get(other, f"{API}/{p['id']}")[0] == 404
    assert other.get(f"{API}/{p['id']}/signature").status_code == 404
    assert ProxyRequest.objects.get(pk=p["id"]).state == "booked"


def test_bad_input_names_the_field_and_writes_nothing(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    item = elderly_item()
    code, body = post(worker, API, {"item_code": "NO-SUCH", "grid_id": worker_grid().pk})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "item_code"]
    community = worker_grid().parent
    code, body = post(login_as("station"), API, {
        "item_code": item.code, "grid_id": community.pk, "applicant": {"name": "王秀英"}})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "grid_id"]
    code, body = post(worker, API, {"item_code": item.code,
                                    "applicant": {"name": "王秀英", "phone": "12"}})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "applicant", "phone"]
    p = booked(worker)
    keys = required_keys(item)
    only_first = {keys[0]: [photo()]}
    code, body = post(worker, f"{API}/{p['id']}/collect", {
        "materials": only_first, "signature": photo(), "signer_name": "王秀英"})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "materials", keys[1]]
    code, body = post(worker, f"{API}/{p['id']}/collect", {
        "materials": materials(item), "signature": "f" * 64, "signer_name": "王秀英"})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "signature"]
    assert ProxyRequest.objects.get(pk=p["id"]).state == "booked"
    assert not Application.objects.filter(proxy_request=p["id"]).exists()


def test_a_retried_post_and_a_replayed_envelope_make_one_record(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    before = ProxyRequest.objects.count()
    first = booked(worker, client_key="phone-1-book")
    code, second = post(worker, API, {
        "item_code": elderly_item().code, "grid_id": worker_grid().pk, "at": at(),
        "resident_id": building_residents(1)[0].pk, "client_key": "phone-1-book"})
    assert code == 200 and second["id"] == first["id"]
    assert ProxyRequest.objects.count() == before + 1
    # offline: book, then collect referring to the booking by its client key, synced twice
    item = elderly_item()
    envelopes = [
        {"client_key": "phone-2-book", "kind": "proxy.book",
         "payload": {"item_code": item.code, "applicant": {"name": "李桂兰", "phone": PHONE},
                     "at": at(30)}},
        {"client_key": "phone-2-collect", "kind": "proxy.collect",
         "payload": {"proxy_key": "phone-2-book", "materials": materials(item),
                     "signature": photo(), "signer_name": "李桂兰",
                     "originals": [{"name": "户口簿", "count": 1}]}},
    ]
    for round_no in (1, 2):
        code, body = post(worker, "/api/v1/fieldwork/sync?version=false",
                          {"envelopes": envelopes})
        assert code == 200, body
        statuses = [o["status"] for o in body["outcomes"]]
        assert statuses == (["created", "created"] if round_no == 1 else
                            ["replayed", "replayed"]), body
        assert body["outcomes"][1]["record"]["state"] == "collected"
    made = ProxyRequest.objects.get(pk=body["outcomes"][0]["id"])
    assert made.state == "collected" and made.events.filter(action="collect").count() == 1
    assert Application.objects.filter(proxy_request=made).count() == 1
    # a replayed step answers the request as it is, a second step with a new key is refused
    code, body = post(worker, "/api/v1/fieldwork/sync?version=false", {"envelopes": [
        {"client_key": "phone-2-collect-again", "kind": "proxy.collect",
         "payload": {"proxy_id": made.pk, "materials": materials(item), "signature": photo(),
                     "signer_name": "李桂兰"}}]})
    assert body["outcomes"][0]["status"] == "conflict"
    assert body["outcomes"][0]["current"]["state"] == "collected"


def test_returned_recollected_and_passed(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    reviewer = user("civil_affairs")
    p = collected(worker)
    post(worker, f"{API}/{p['id']}/submit", {})
    application = Application.objects.get(proxy_request=p["id"])
    keys = sorted({f.material_key for f in application.files.all()})
    apps.do_check_material(reviewer, application, keys[0], "correct", "照片模糊，请重拍")
    for key in keys[1:]:
        apps.do_check_material(reviewer, application, key, "accepted")
    apps.do_decide(reviewer, application, "return")
    code, d = get(worker, f"{API}/{p['id']}")
    assert d["state"] == "returned" and "照片模糊，请重拍" in d["timeline"][-1]["note"]
    code, body = post(worker, f"{API}/{p['id']}/recollect", {"materials": {
        keys[0]: [photo()]}})
    assert code == 201 and body["state"] == "collected", body
    code, body = post(worker, f"{API}/{p['id']}/submit", {})
    assert code == 201 and body["state"] == "in_review", body
    application.refresh_from_db()
    assert application.state == "submitted" and application.round == 2
    apps.do_check_material(reviewer, application, keys[0], "accepted")
    apps.do_decide(reviewer, application, "pass")
    assert ProxyRequest.objects.get(pk=p["id"]).state == "handling"
    assert MaterialFile.objects.filter(application=application, material_key=keys[0]
                                       ).count() == 2  # both rounds kept
    actions_seen = list(ProxyEvent.objects.filter(proxy_id=p["id"]).values_list(
        "action", flat=True))
    assert actions_seen == ["book", "collect", "submit", "returned", "recollect", "submit",
                            "passed"]


def test_rejected_application_ends_the_request(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = collected(worker)
    post(worker, f"{API}/{p['id']}/submit", {})
    application = Application.objects.get(proxy_request=p["id"])
    apps.do_decide(user("civil_affairs"), application, "reject", "不符合年龄条件")
    proxy = ProxyRequest.objects.get(pk=p["id"])
    assert proxy.state == "rejected" and proxy.stage_due_at is None


def test_a_request_given_up_after_collection_ends_and_its_originals_go_back(login_as) -> None:  # type: ignore[no-untyped-def]
    """The resident did it themselves after the worker had collected: cancelled (the
    application withdrawn with it, no request left open for ever), then the originals
    taken at the door are brought back and that is on the timeline."""
    worker = login_as("gridworker")
    p = collected(worker)
    code, body = post(worker, f"{API}/{p['id']}/return-originals", {})
    assert code == 409  # still open: the originals go back at delivery or after an end
    code, body = post(worker, f"{API}/{p['id']}/cancel", {"reason": "已自行到窗口办理"})
    assert code == 200 and body["state"] == "cancelled", body
    application = Application.objects.get(proxy_request=p["id"])
    assert application.state == Application.State.WITHDRAWN
    code, body = post(worker, f"{API}/{p['id']}/return-originals", {})
    assert code == 200, body
    proxy = ProxyRequest.objects.get(pk=p["id"])
    assert proxy.state == "cancelled" and proxy.originals_returned_at is not None
    assert list(ProxyEvent.objects.filter(proxy_id=p["id"]).values_list(
        "action", flat=True)) == ["book", "collect", "cancel", "originals_returned"]
    code, _ = post(worker, f"{API}/{p['id']}/return-originals", {})
    assert code == 409  # once


def test_originals_go_back_after_a_rejection(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = collected(worker)
    post(worker, f"{API}/{p['id']}/submit", {})
    apps.do_decide(user("civil_affairs"), Application.objects.get(proxy_request=p["id"]),
                   "reject", "不符合年龄条件")
    assert post(login_as("civil_affairs"), f"{API}/{p['id']}/return-originals",
                {})[0] == 409  # the department is not at the door
    code, body = post(worker, f"{API}/{p['id']}/return-originals", {})
    assert code == 200 and body["state"] == "rejected"


def test_delivery_needs_the_originals_back(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = ready(worker, login_as)
    code, body = post(worker, f"{API}/{p['id']}/deliver", {
        "recipient_name": "王秀英", "signature": photo(), "photo": photo()})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "originals_returned"]
    code, body = post(worker, f"{API}/{p['id']}/deliver", {
        "recipient_name": "王秀英", "signature": photo(), "photo": photo(),
        "originals_returned": True})
    assert code == 201 and body["state"] == "delivered"
    code, body = post(worker, f"{API}/{p['id']}/rate", {"rating": 6})
    assert code == 422 and body["detail"][0]["loc"] == ["body", "rating"]
    # the resident rates from their status page (no login; the page checked the follow code)
    proxy = actions.do_rate_proxy(None, ProxyRequest.objects.get(pk=p["id"]), 4, "很方便")
    assert proxy.state == "rated" and proxy.rating == 4
    with pytest.raises(IllegalStep):
        actions.do_rate_proxy(None, proxy, 5)


def test_applicant_sealed_and_masked(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    code, p = post(worker, API, {"item_code": elderly_item().code, "applicant": {
        "name": "赵淑芬", "phone": PHONE, "id_number": ID_NUMBER}})
    assert code == 201, p
    assert p["applicant_masked"]["phone"] == "138****5678"
    assert p["applicant_masked"]["id_number"].startswith("110105") and "*" in (
        p["applicant_masked"]["id_number"])
    row = ProxyRequest.objects.get(pk=p["id"])
    assert ID_NUMBER.encode() not in bytes(row.id_number_enc)
    assert crypto.open_sealed(row.id_number_enc) == ID_NUMBER
    assert row.worker == user("gridworker").person and row.stage_due_at is not None
    booked_msg = OutboxMessage.objects.get(topic="services.proxy_book", payload__proxy_id=row.pk)
    assert "赵淑芬" not in str(booked_msg.payload) and PHONE not in str(booked_msg.payload)


def test_another_communitys_station_sees_nothing(login_as, django_user_model) -> None:  # type: ignore[no-untyped-def]
    p = booked(login_as("gridworker"))
    mine = worker_grid().parent
    other = Grid.objects.filter(level=Level.VILLAGE).exclude(pk=mine.pk).first()
    login = django_user_model.objects.create(username="other_station")
    person = Person.objects.create(name="外社区工作站", user=login)
    RoleAssignment.objects.create(person=person, role=Role.STATION_STAFF, grid=other,
                                  started_on=dt.date(2024, 1, 1))
    stranger = login_as("other_station")
    code, page = get(stranger, f"{API}?limit=200")
    assert code == 200 and p["id"] not in {r["id"] for r in page["items"]}
    # only what lies in their own community (the demo's year may have some there)
    assert page["total"] == ProxyRequest.objects.filter(grid__path__startswith=other.path).count()
    assert all(r["grid"].startswith(other.code[:12]) for r in page["items"])
    code, page = get(stranger, f"{API}?grid={worker_grid().code}")
    assert code == 200 and page["total"] == 0
    assert get(stranger, f"{API}/{p['id']}")[0] == 404
    code, _b = post(stranger, f"{API}/{p['id']}/cancel", {"reason": "x"})
    assert code == 404
    code, page = get(login_as("station"), f"{API}?state=booked")
    assert code == 200 and p["id"] in {r["id"] for r in page["items"]}


def test_the_phone_bundle_holds_the_open_requests(login_as) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = booked(worker)
    code, bundle = get(worker, "/api/v1/fieldwork/offline")
    assert code == 200, bundle
    rows = {r["id"]: r for r in bundle["proxies"]}
    assert p["id"] in rows
    row = rows[p["id"]]
    assert row["state"] == "booked" and row["item"]["materials"]
    assert {m["key"] for m in row["item"]["materials"]} >= set(required_keys(elderly_item()))


def test_actions_refuse_directly(login_as) -> None:  # type: ignore[no-untyped-def]
    """The actions' own refusals (console and CLI call them without the API)."""
    item = elderly_item()
    with pytest.raises(ServiceError) as e:
        actions.do_book_proxy(None, item_code=item.code, grid_id=worker_grid().pk,
                              applicant={"name": ""}, at=None, channel="qr")
    assert e.value.field == "applicant.name"
    p = actions.do_book_proxy(None, item_code=item.code, grid_id=worker_grid().pk,
                              applicant={"name": "钱秀珍"}, at=None, channel="qr")
    assert p.appointment.purpose == "proxy" and p.appointment.at.hour == 9
    with pytest.raises(Http404):
        from wangge.services import access

        access.access_proxy(user("civil_affairs"), p.pk)  # no application yet: not theirs


def test_board_and_request_page(login_as, django_user_model) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    p = booked(worker)
    _code, _c = post(worker, f"{API}/{p['id']}/collect", {
        "materials": materials(elderly_item()), "signature": photo(), "signer_name": "王秀英"})
    ProxyRequest.objects.filter(pk=p["id"]).update(
        stage_due_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))  # overdue
    station = login_as("station")
    page = station.get("/console/services/proxies/")
    assert page.status_code == 200
    html = page.content.decode()
    for heading in ("预约", "已收件", "预审中", "待送达", "已送达"):
        assert heading in html
    assert f'data-proxy="{p["id"]}"' in html and "超期" in html
    assert ID_NUMBER not in html
    detail = station.get(f"/console/services/proxies/{p['id']}/")
    assert detail.status_code == 200 and "上门收件" in detail.content.decode()
    # the center picks a community; a grid outside one's scope is 404
    center = login_as("dispatcher")
    community = worker_grid().parent
    assert center.get(f"/console/services/proxies/?grid={community.code}").status_code == 200
    assert station.get("/console/services/proxies/?grid=999999999999").status_code == 404
    other_worker_login(django_user_model)
    assert login_as("other_worker").get(
        f"/console/services/proxies/{p['id']}/").status_code == 404


def test_an_envelope_with_a_mistyped_id_is_refused_alone_not_the_whole_sync(login_as) -> None:
    """A phone's queued booking naming a resident by a string (an old app, a bug) must come
    back `invalid` naming the field; the envelopes after it in the same sync still apply."""
    import json as _json

    client = login_as("gridworker")
    body = {"envelopes": [
        {"client_key": "bad-id-1", "kind": "proxy.book",
         "payload": {"item_code": "MZ-0001", "resident_id": "12", "applicant": {"name": "甲"}}},
        {"client_key": "bad-id-2", "kind": "proxy.book",
         "payload": {"item_code": "MZ-0001", "house_id": True, "applicant": {"name": "乙"}}},
        {"client_key": "bad-id-3", "kind": "proxy.book",
         "payload": {"item_code": "MZ-0001", "applicant": {"name": "丙"}}},
    ]}
    r = client.post("/api/v1/fieldwork/sync?version=false", _json.dumps(body),
                    content_type="application/json")
    assert r.status_code == 200, r.content
    results = r.json()["outcomes"]
    assert [x["status"] for x in results] == ["invalid", "invalid", "created"]
    assert results[0]["errors"][0]["loc"][-1] == "resident_id"
    assert results[1]["errors"][0]["loc"][-1] == "house_id"


def test_a_request_follows_the_grid_when_its_worker_leaves(login_as, django_user_model) -> None:  # type: ignore[no-untyped-def]
    """The booked worker leaves the grid and another takes it over: the new worker sees the
    open request on the phone and collects it; the one who left can no longer act on it."""
    worker = login_as("gridworker")
    p = booked(worker)
    grid = worker_grid()
    mine = RoleAssignment.objects.get(person__user__username="gridworker",
                                      role=Role.GRID_WORKER, ended_on__isnull=True)
    successor = Person.objects.create(name="接任网格员")
    successor.user = django_user_model.objects.create(username="successor")
    successor.save(update_fields=["user"])
    RoleAssignment.objects.filter(pk=mine.pk).update(ended_on=dt.date.today(), responsible=False)
    RoleAssignment.objects.create(person=successor, role=Role.GRID_WORKER, grid=grid,
                                  responsible=True, started_on=dt.date.today())
    new = login_as("successor")
    code, bundle = get(new, "/api/v1/fieldwork/offline")
    assert code == 200 and p["id"] in [r["id"] for r in bundle["proxies"]]
    code, body = post(new, f"{API}/{p['id']}/collect", {
        "materials": materials(elderly_item(), "successor"), "signature": photo("successor"),
        "signer_name": "王秀英", "originals": []})
    assert code == 201 and body["state"] == "collected", body
    code, _ = post(login_as("gridworker"), f"{API}/{p['id']}/submit", {})
    assert code == 404  # left the grid: the request is out of their reach
