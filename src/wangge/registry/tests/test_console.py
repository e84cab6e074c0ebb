"""Registry console pages: masked lists, unmask with a purpose, forms with field errors and
retry-safe submits."""

from __future__ import annotations

import pytest

from wangge.registry.actions import editable_input
from wangge.registry.models import Resident, UnmaskLog
from wangge.registry.tests import factories

pytestmark = pytest.mark.django_db



@pytest.fixture
def mine() -> Resident:
    return factories.person_in("胜利社区第1网格", name="本格甲", phone="17090000123")


def test_search_page_is_masked_and_scoped(login_as, mine) -> None:
    other = factories.person_in("胜利社区第2网格", name="邻格乙")
    page = login_as("gridworker").get("/console/registry/").content.decode()
    assert "本格甲" in page and "邻格乙" not in page
    assert mine.id_number_masked in page and editable_input(mine)["id_number"] not in page
    assert "special_group" not in page  # no special-group filter for a grid worker
    assert other.pk


def test_unmask_on_the_resident_page(login_as, mine) -> None:
    client = login_as("gridworker")
    url = f"/console/registry/residents/{mine.pk}/"
    page = client.get(url).content.decode()
    number = editable_input(mine)["id_number"]
    assert number not in page and "查看用途" in page
    r = client.post(url + "unmask/", {"purpose": ""})
    assert r.status_code == 400 and number not in r.content.decode()
    r = client.post(url + "unmask/", {"purpose": "代办医保"})
    assert r.status_code == 200 and number in r.content.decode()
    assert "17090000123" in r.content.decode()
    assert UnmaskLog.objects.filter(purpose="代办医保", resident=mine).exists()


def test_resident_form_shows_field_errors_and_saves_once(login_as, mine) -> None:
    client = login_as("gridworker")
    house = mine.house
    form = {"name": "新人", "id_number": "430281198001010011", "residence_type": "registered",
            "building": house.building.code, "house": house.number, "client_key": "k-1"}
    r = client.post("/console/registry/residents/new/", form)
    assert r.status_code == 400 and "check character" in r.content.decode()
    form["id_number"] = factories.id_number()
    first = client.post("/console/registry/residents/new/", form)
    again = client.post("/console/registry/residents/new/", form)  # double tap / resend
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Resident.objects.filter(name="新人").count() == 1


def test_edit_form_never_shows_plaintext_and_blank_keeps_the_number(
    login_as, mine
) -> None:
    client = login_as("gridworker")
    url = f"/console/registry/residents/{mine.pk}/edit/"
    page = client.get(url).content.decode()
    assert editable_input(mine)["id_number"] not in page and "17090000123" not in page
    data = {"name": "本格甲改", "id_number": "", "phone": "", "residence_type": "registered",
            "building": mine.house.building.code, "house": mine.house.number}
    assert client.post(url, data).status_code == 302
    mine.refresh_from_db()
    assert mine.name == "本格甲改" and mine.phone_masked == "170****0123"


def test_building_page_lists_houses_and_people(login_as, mine) -> None:
    page = login_as("station").get(
        f"/console/registry/buildings/{mine.house.building_id}/").content.decode()
    assert mine.house.number in page and "本格甲" in page


def test_other_grids_pages_are_404(login_as) -> None:
    other = factories.person_in("胜利社区第2网格")
    client = login_as("gridworker")
    assert client.get(f"/console/registry/residents/{other.pk}/").status_code == 404
    assert client.get(f"/console/registry/buildings/{other.house.building_id}/").status_code \
        == 404
    assert client.post(f"/console/registry/residents/{other.pk}/unmask/",
                       {"purpose": "x"}).status_code == 404


def test_collection_stats_page_counts_todays_work(django_user_model, login_as, mine) -> None:
    client = login_as("gridworker")
    house = mine.house
    for _ in range(2):
        client.post("/console/registry/residents/new/", {
            "name": "采集", "id_number": factories.id_number(), "residence_type": "registered",
            "building": house.building.code, "house": house.number})
    page = login_as("station").get("/console/registry/stats/")
    text = page.content.decode()
    worker = django_user_model.objects.get(username="gridworker").person.name
    assert f"<td>{worker}</td><td>2</td>" in text


def test_search_pages_through_everyone_in_scope(login_as) -> None:
    client = login_as("station")
    first = client.get("/console/registry/").content.decode()
    assert "下一页" in first and "共 " in first
    second = client.get("/console/registry/?page=2").content.decode()
    assert "上一页" in second
