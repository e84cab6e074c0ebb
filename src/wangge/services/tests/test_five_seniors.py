"""The five seniors of one building who "约好不出门，专程等上门代办老年证年审", over the API:
booked by the station, one building visit in the worker's plan, collected in one visit with
signatures, pre-reviewed and passed by 民政 (civil_affairs), ready, delivered with the
recipients' signatures and photos, originals returned, rated."""

from __future__ import annotations

import pytest

from wangge.core.models import OutboxMessage
from wangge.fieldwork.models import Appointment
from wangge.services.actions import applications as apps
from wangge.services.models import Application, Authorization, ProxyRequest
from wangge.services.tests.proxy_helpers import (
    API,
    at,
    building_residents,
    elderly_item,
    get,
    materials,
    photo,
    post,
    user,
    visit_day,
    worker_grid,
)

pytestmark = pytest.mark.django_db


def test_five_seniors_one_building_one_visit(login_as) -> None:  # type: ignore[no-untyped-def]
    item = elderly_item()
    grid = worker_grid()
    seniors = building_residents(5)
    building = seniors[0].house.building
    station, worker = login_as("station"), login_as("gridworker")
    me = user("gridworker").person

    # booked: five phone calls taken by the station, one after another
    ids = []
    for i, r in enumerate(seniors):
        code, p = post(station, API, {"item_code": item.code, "grid_id": grid.pk,
                                      "resident_id": r.pk, "at": at(i * 10),
                                      "channel": "phone", "client_key": f"senior-{i}"})
        assert code == 201, p
        assert p["state"] == "booked" and p["worker_id"] == me.pk
        assert p["building"] == building.name
        # the register's name and its masks, never the ID number in clear
        assert p["applicant_masked"]["name"] == r.name
        assert p["applicant_masked"]["id_number"] == r.id_number_masked
        ids.append(p["id"])

    # the worker's plan: five appointments of one building, one visit
    code, plan = get(worker, f"/api/v1/fieldwork/plan?date={visit_day().isoformat()}")
    assert code == 200, plan
    mine = [i for i in plan["items"] if i["appointment_id"] in set(
        Appointment.objects.filter(proxy_request__in=ids).values_list("pk", flat=True))]
    assert len(mine) == 5
    assert {i["building_id"] for i in mine} == {building.pk}
    heading = mine[0]["visit"]
    assert heading.startswith(f"{building.name}：5位居民") and all(
        i["visit"] == heading for i in mine)
    orders = sorted(i["order"] for i in mine)
    assert orders == list(range(orders[0], orders[0] + 5))  # together, not scattered

    # collected in one visit: materials, the 委托书 signed on the screen, the originals
    for pk, r in zip(ids, seniors, strict=True):
        code, p = post(worker, f"{API}/{pk}/collect", {
            "materials": materials(item), "signature": photo(), "signer_name": r.name,
            "originals": [{"name": "老年人优待证", "count": 1}]})
        assert code == 201, p
        assert p["state"] == "collected" and p["application"]["state"] == "draft"
    assert Authorization.objects.filter(proxy_id__in=ids).count() == 5
    assert set(Appointment.objects.filter(proxy_request__in=ids)
               .values_list("state", flat=True)) == {"done"}

    for pk in ids:
        code, p = post(worker, f"{API}/{pk}/submit", {})
        assert code == 201 and p["state"] == "in_review", p

    # 民政's reviewer: every material accepted, passed
    reviewer = user("civil_affairs")
    for pk in ids:
        application = Application.objects.get(proxy_request=pk)
        for key in {f.material_key for f in application.files.all()}:
            apps.do_check_material(reviewer, application, key, "accepted")
        apps.do_decide(reviewer, application, "pass")
    assert set(ProxyRequest.objects.filter(pk__in=ids).values_list("state", flat=True)) == {
        "handling"}

    # the certificates are ready: 民政 hands them to the worker
    civil = login_as("civil_affairs")
    for pk in ids:
        code, p = post(civil, f"{API}/{pk}/ready", {"note": "已年审"})
        assert code == 200 and p["state"] == "ready", p

    # delivered to the door, each signed for, originals returned, rated
    for pk, r in zip(ids, seniors, strict=True):
        code, p = post(worker, f"{API}/{pk}/deliver", {
            "recipient_name": r.name, "signature": photo(), "photo": photo(),
            "originals_returned": True})
        assert code == 201 and p["state"] == "delivered" and p["originals_returned"], p
        code, p = post(worker, f"{API}/{pk}/rate", {"rating": 5, "comment": "不用跑腿"})
        assert code == 201 and p["state"] == "rated", p

    code, d = get(station, f"{API}/{ids[0]}")
    assert code == 200, d
    assert [e["action"] for e in d["timeline"]] == [
        "book", "collect", "submit", "passed", "ready", "deliver", "rate"]
    assert d["rating_label"] == "非常满意" and d["authorization"]["signer_name"] == seniors[0].name
    assert d["application"]["state"] == "passed"
    assert worker.get(d["authorization"]["signature_url"]).status_code == 200
    assert worker.get(d["delivery"]["photo_url"]).status_code == 200
    # the outbox says what happened with numbers and codes, never a name
    for m in OutboxMessage.objects.filter(topic__startswith="services.proxy_",
                                          payload__proxy_id__in=ids):
        assert all(r.name not in str(m.payload) for r in seniors)
    code, listed = get(station, f"{API}?state=rated&grid={grid.code}")
    assert code == 200 and {p["id"] for p in listed["items"]} >= set(ids)
