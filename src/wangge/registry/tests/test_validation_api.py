"""Bad input: 422 naming the field, nothing half-saved; retries never duplicate."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wangge.core.models import AuditEntry
from wangge.registry.models import Building, RegistryChange, Resident
from wangge.registry.tests import factories
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(django_user_model) -> Client:
    c = Client()
    c.force_login(django_user_model.objects.get(username="gridworker"))
    return c


@pytest.fixture
def house():
    return factories.house(factories.building(Grid.objects.get(name="胜利社区第1网格")))


def post(client: Client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def good(h, /, **changes) -> dict:
    return {"name": "李四", "id_number": factories.id_number(), "phone": "17090000002",
            "residence_type": "registered", "building": h.building.code,
            "house": h.number, "relation": "head", **changes}


def counts() -> tuple[int, int, int]:
    return Resident.objects.count(), RegistryChange.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"id_number": "430281198001010011"}, "id_number", "check character"),
        ({"id_number": "430281198002300011"}, "id_number", "date"),
        ({"id_number": "4302811980"}, "id_number", "18"),
        ({"id_number": ""}, "id_number", "required"),
        ({"name": ""}, "name", "required"),
        ({"phone": "12345"}, "phone", "mobile"),
        ({"residence_type": "alien"}, "residence_type", "one of"),
        ({"house": "9-999"}, "house", "no house"),
        ({"gender": "female"}, "gender", "does not match"),
        ({"birth_date": "1999-01-01"}, "birth_date", "does not match"),
        ({"moved_in": "2020-13-01"}, "moved_in", "date"),
    ],
)
def test_bad_field_is_422_naming_it_and_nothing_is_saved(client, house, changes, field,
                                                         reason) -> None:
    before = counts()
    r = post(client, "/api/v1/registry/residents", good(house, **changes))
    assert r.status_code == 422, r.content
    errors = {e["loc"][-1]: e["msg"] for e in r.json()["detail"]}
    assert field in errors and reason in errors[field], errors
    assert counts() == before


def test_gender_and_birth_date_come_from_the_id_number(client, house) -> None:
    body = good(house, id_number=factories.id_number(gender="female"))
    r = post(client, "/api/v1/registry/residents", body)
    assert r.status_code == 201
    row = r.json()
    assert row["gender"] == "female"
    assert row["birth_date"] == f"{body['id_number'][6:10]}-{body['id_number'][10:12]}-" \
                                f"{body['id_number'][12:14]}"


def test_a_second_person_with_the_same_id_number_is_refused(client, house) -> None:
    body = good(house)
    assert post(client, "/api/v1/registry/residents", body).status_code == 201
    again = post(client, "/api/v1/registry/residents", {**body, "name": "另一人"})
    assert again.status_code == 422 and again.json()["detail"][0]["loc"][-1] == "id_number"


def test_a_retried_create_returns_the_first_record(client, house) -> None:
    body = good(house, client_key="phone-7f3a-0001")
    first = post(client, "/api/v1/registry/residents", body)
    second = post(client, "/api/v1/registry/residents", body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert Resident.objects.filter(name="李四").count() == 1


def test_building_outside_the_territory_is_refused(client) -> None:
    r = post(client, "/api/v1/registry/buildings", {
        "code": "X1", "name": "远方", "address": "北京", "lng": 116.4, "lat": 39.9,
        "floors": 3, "use": "residential"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "lat"
    assert not Building.objects.filter(code="X1").exists()


def test_building_location_fixes_its_grid(client) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = post(client, "/api/v1/registry/buildings", {
        "code": "SL-001", "name": "胜利小区1栋", "address": "胜利路1号",
        "lng": grid.label_lng, "lat": grid.label_lat, "floors": 7, "use": "residential"})
    assert r.status_code == 201 and r.json()["grid"] == grid.code
    qr = r.json()["qr_url"]
    page = Client().get(qr[qr.index("/q/"):]).content.decode()  # signed out
    assert "胜利小区1栋" in page and "胜利社区第1网格" in page and "我的网格员" in page


def test_a_grid_worker_cannot_create_outside_their_grid(client) -> None:
    other = Grid.objects.filter(level=4).exclude(name="胜利社区第1网格").last()
    r = post(client, "/api/v1/registry/buildings", {
        "code": "FAR-1", "name": "外格", "address": "某路", "lng": other.label_lng,
        "lat": other.label_lat, "floors": 2, "use": "residential"})
    assert r.status_code == 403
    assert not Building.objects.filter(code="FAR-1").exists()


def test_update_keeps_history_masked(client, house) -> None:
    r = post(client, "/api/v1/registry/residents", good(house))
    pk = r.json()["id"]
    new_phone = "17090000099"
    r = client.patch(f"/api/v1/registry/residents/{pk}",
                     json.dumps({"phone": new_phone, "name": "李四改"}),
                     content_type="application/json")
    assert r.status_code == 200 and r.json()["phone"] == "170****0099"
    history = client.get(f"/api/v1/registry/residents/{pk}/history").json()
    assert [h["action"] for h in history] == ["update", "create"]
    assert history[0]["actor"] == "gridworker"
    assert history[0]["changes"]["name"] == ["李四", "李四改"]
    assert history[0]["changes"]["phone_masked"] == ["170****0002", "170****0099"]
    assert new_phone not in json.dumps(history)


def test_daily_collection_counts_per_worker(client, house) -> None:
    for _ in range(3):
        post(client, "/api/v1/registry/residents", good(house))
    rows = client.get("/api/v1/registry/stats/collection").json()
    mine = next(r for r in rows if r["username"] == "gridworker")
    assert mine["create"] == 3


def test_key_place_and_organisation_get_their_grid_from_location(client) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = post(client, "/api/v1/registry/key-places", {
        "name": "胜利小学", "kind": "school", "address": "胜利路8号",
        "lng": grid.label_lng, "lat": grid.label_lat})
    assert r.status_code == 201 and r.json()["grid"] == grid.code
    r = post(client, "/api/v1/registry/organisations", {
        "name": "某陶瓷厂", "kind": "enterprise", "address": "胜利路9号",
        "lng": grid.label_lng, "lat": grid.label_lat, "credit_code": "12345"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "credit_code"
    listed = client.get("/api/v1/registry/key-places").json()
    assert [p["name"] for p in listed] == ["胜利小学"]
