"""Least privilege: a line department reads the people and places of the cases it handles,
not the register; public security keeps the register (masked); grid police keep their
grids' register and special groups; an ID number registered where the user cannot see is
refused without saying so or where."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from wangge.cases.access import department_case_grids
from wangge.cases.models import Case, CaseCategory, DutyRule
from wangge.core import crypto
from wangge.org.actions import do_assign_role
from wangge.org.models import Department, Person, Role, RoleAssignment
from wangge.registry import access, actions
from wangge.registry.models import Building, KeyPlace, Resident
from wangge.registry.tests import factories
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

REFUSED = actions.ID_NUMBER_REFUSED


def reached(code: str) -> set[int]:
    dept = Department.objects.get(code=code)
    return set(department_case_grids([dept.pk]).values_list("grid_id", flat=True))


@pytest.fixture
def grids() -> dict[str, Grid]:
    """A basic grid where the water company has a case, and one where it has none."""
    water = reached("water")
    basic = Grid.objects.filter(level=4).order_by("code")
    inside = basic.filter(pk__in=water).first()
    outside = basic.exclude(pk__in=water).exclude(path__startswith=_grid_police_root()).first()
    assert inside is not None and outside is not None
    return {"in": inside, "out": outside}


def _grid_police_root() -> str:
    return RoleAssignment.objects.get(person__user__username="grid_police",
                                      role=Role.GRID_POLICE).grid.path


def person(grid: Grid) -> Resident:
    return factories.resident(factories.house(factories.building(grid)))


def test_a_department_lists_only_the_people_of_its_cases_grids(login_as, grids) -> None:
    inside, outside = person(grids["in"]), person(grids["out"])
    client = login_as("water")
    rows = client.get("/api/v1/registry/residents?limit=500&q=测试人").json()
    ids = {r["id"] for r in rows}
    assert inside.pk in ids and outside.pk not in ids
    assert {r["grid"] for r in client.get("/api/v1/registry/residents?limit=500").json()} \
        <= {g.code for g in Grid.objects.filter(pk__in=reached("water"))}


def test_a_department_cannot_fetch_a_person_outside_its_cases(login_as, grids) -> None:
    inside, outside = person(grids["in"]), person(grids["out"])
    client = login_as("water")
    assert client.get(f"/api/v1/registry/residents/{inside.pk}").status_code == 200
    assert client.get(f"/api/v1/registry/residents/{outside.pk}").status_code == 404
    assert client.get(f"/console/registry/residents/{outside.pk}/").status_code == 404
    assert client.get(f"/console/registry/residents/{inside.pk}/").status_code == 200
    assert client.get(f"/api/v1/registry/buildings/{outside.house.building_id}"
                      ).status_code == 404
    assert client.get(f"/api/v1/registry/residents/{outside.pk}/history").status_code == 404
    search = client.get("/api/v1/registry/residents?id_number="
                        + crypto.open_sealed(outside.id_number_enc, crypto.keyring())).json()
    assert search == []


def test_the_department_sees_places_only_where_its_cases_are(login_as, grids) -> None:
    admin = factories.admin()
    far = actions.do_create("key_place", {
        "name": "远处学校", "kind": "school", "address": "某路", "lng": grids["out"].label_lng,
        "lat": grids["out"].label_lat}, admin)
    near = actions.do_create("key_place", {
        "name": "近处学校", "kind": "school", "address": "某路", "lng": grids["in"].label_lng,
        "lat": grids["in"].label_lat}, admin)
    ids = {p["id"] for p in login_as("water").get("/api/v1/registry/key-places?limit=500").json()}
    assert near.pk in ids and far.pk not in ids
    buildings = login_as("water").get("/api/v1/registry/buildings?limit=500").json()
    assert len(buildings) < Building.objects.count()
    assert KeyPlace.objects.filter(pk=far.pk).exists()


def test_a_recently_closed_case_still_reaches_an_old_one_does_not(login_as, grids) -> None:
    outside = person(grids["out"])
    water = Department.objects.get(code="water")
    leaf = CaseCategory.objects.filter(parent__isnull=False).first()
    case = Case.objects.create(register_no="LL-TEST-000001", category=leaf, grid=grids["out"],
                               title="管道漏水", channel=Case.Channel.GRID_WORKER,
                               state="closed", department=water,
                               closed_at=timezone.now() - dt.timedelta(days=60))
    client = login_as("water")
    assert client.get(f"/api/v1/registry/residents/{outside.pk}").status_code == 404
    case.closed_at = timezone.now() - dt.timedelta(days=5)
    case.save()
    client = login_as("water")  # a new request: roles and reach are read again
    assert client.get(f"/api/v1/registry/residents/{outside.pk}").status_code == 200
    case.closed_at = None
    case.state = "handling"
    case.save()
    assert login_as("water").get(f"/api/v1/registry/residents/{outside.pk}").status_code == 200
    # and another department does not reach it through the water company's case
    assert login_as("department").get(f"/api/v1/registry/residents/{outside.pk}"
                                      ).status_code == 404


def test_public_security_keeps_the_masked_register(login_as, grids) -> None:
    outside = person(grids["out"])
    client = login_as("police")
    r = client.get(f"/api/v1/registry/residents/{outside.pk}")
    assert r.status_code == 200
    number = crypto.open_sealed(outside.id_number_enc, crypto.keyring())
    assert r.json()["id_number"] != number and "*" in r.json()["id_number"]
    assert len(client.get("/api/v1/registry/residents?limit=500").json()) == 500


def test_grid_police_keep_their_grids_register_and_special_groups(login_as, grids) -> None:
    root = _grid_police_root()
    mine = person(Grid.objects.filter(level=4, path__startswith=root).first())
    actions.do_add_special_group(mine, "key_youth", factories.admin())
    far = person(grids["out"])
    client = login_as("grid_police")
    r = client.get(f"/api/v1/registry/residents/{mine.pk}")
    assert r.status_code == 200 and r.json()["special_groups"] == ["重点青少年"]
    assert client.get(f"/api/v1/registry/residents/{far.pk}").status_code == 404


def test_center_roles_still_read_the_whole_register(login_as, grids) -> None:
    far = person(grids["out"])
    for login in ("dispatcher", "leader", "center_admin"):
        assert login_as(login).get(f"/api/v1/registry/residents/{far.pk}").status_code == 200


# -- staff: the people responsible for the grids of the cases, and colleagues --------------

def test_a_department_sees_the_staff_of_its_cases_grids_not_everyone(login_as, grids) -> None:
    client = login_as("water")
    inside = client.get(f"/api/v1/people?grid={grids['in'].code}")
    assert inside.status_code == 200
    outside = client.get(f"/api/v1/people?grid={grids['out'].code}")
    assert outside.status_code == 200 and outside.json() == []
    far_worker = RoleAssignment.objects.filter(grid=grids["out"], ended_on__isnull=True,
                                               role=Role.GRID_WORKER).first()
    assert far_worker is not None
    assert client.get(f"/api/v1/people/{far_worker.person_id}").status_code == 404
    near = RoleAssignment.objects.filter(grid=grids["in"], ended_on__isnull=True).first()
    assert near is not None
    assert client.get(f"/api/v1/people/{near.person_id}").status_code == 200
    assert near.person_id in {p["id"] for p in inside.json()}
    # a center role still sees them all
    everyone = login_as("dispatcher").get(f"/api/v1/people?grid={grids['out'].code}").json()
    assert far_worker.person_id in {p["id"] for p in everyone}


def test_a_department_sees_its_colleagues_but_not_other_departments(login_as) -> None:
    water = Department.objects.get(code="water")
    city = Grid.objects.get(level=0)
    colleague = Person.objects.create(name="水务同事", department=water)
    do_assign_role(colleague, Role.DEPARTMENT_STAFF, city, department=water)
    assert login_as("water").get(f"/api/v1/people/{colleague.pk}").status_code == 200
    assert login_as("department").get(f"/api/v1/people/{colleague.pk}").status_code == 404
    assert login_as("dispatcher").get(f"/api/v1/people/{colleague.pk}").status_code == 200


# -- an ID number registered elsewhere is not revealed ------------------------------------

def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _body(house: Any, number: str) -> dict[str, Any]:
    return {"name": "重复者", "id_number": number, "residence_type": "registered",
            "building": house.building.code, "house": house.number}


def test_registering_an_id_number_held_elsewhere_says_neither_that_nor_where(
        login_as) -> None:
    mine = factories.house(factories.building(Grid.objects.get(name="胜利社区第1网格")))
    elsewhere = factories.person_in(Grid.objects.filter(level=4).exclude(
        path__startswith=Grid.objects.get(name="胜利社区第1网格").path).last().name)
    number = crypto.open_sealed(elsewhere.id_number_enc, crypto.keyring())
    r = post(login_as("gridworker"), "/api/v1/registry/residents", _body(mine, number))
    assert r.status_code == 422
    assert [(e["loc"][-1], e["msg"]) for e in r.json()["detail"]] == [("id_number", REFUSED)]
    text = r.content.decode()
    assert elsewhere.grid.name not in text and elsewhere.grid.code not in text
    assert "registered" not in text


def test_someone_who_can_see_the_record_is_told_it_exists(login_as) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    there = factories.person_in(grid.name)
    number = crypto.open_sealed(there.id_number_enc, crypto.keyring())
    r = post(login_as("gridworker"), "/api/v1/registry/residents",
             _body(factories.house(factories.building(grid)), number))
    assert r.status_code == 422
    assert [(e["loc"][-1], e["msg"]) for e in r.json()["detail"]] == [
        ("id_number", "a person with this ID number is registered")]


def test_changing_an_id_number_to_one_held_elsewhere_is_refused_the_same_way(
        login_as) -> None:
    grid = Grid.objects.get(name="胜利社区第1网格")
    mine = factories.person_in(grid.name)
    elsewhere = factories.person_in(Grid.objects.filter(level=4).exclude(
        path__startswith=grid.path).last().name)
    number = crypto.open_sealed(elsewhere.id_number_enc, crypto.keyring())
    client = login_as("gridworker")
    r = client.patch(f"/api/v1/registry/residents/{mine.pk}", json.dumps({"id_number": number}),
                     content_type="application/json")
    assert r.status_code == 422
    assert [(e["loc"][-1], e["msg"]) for e in r.json()["detail"]] == [("id_number", REFUSED)]
    assert elsewhere.grid.name not in r.content.decode()
    # the dispatcher sees both: told plainly
    r = login_as("dispatcher").patch(f"/api/v1/registry/residents/{mine.pk}",
                                     json.dumps({"id_number": number}),
                                     content_type="application/json")
    assert r.status_code in (403, 422)
    if r.status_code == 422:
        assert "registered" in r.json()["detail"][0]["msg"]


def test_may_know_registered_follows_visibility(django_user_model, grids) -> None:
    far = person(grids["out"])
    water = django_user_model.objects.get(username="water")
    police = django_user_model.objects.get(username="police")
    assert not access.may_know_registered(water, far.pk)
    assert access.may_know_registered(police, far.pk)


# -- the duty list within the user's scope ------------------------------------------------

def _rules(client: Client) -> set[int]:
    r = client.get("/api/v1/cases/duty-rules")
    assert r.status_code == 200
    return {row["id"] for row in r.json()}


@pytest.fixture
def rules() -> dict[str, DutyRule]:
    """A rule on another town (outside 来龙门街道), one in the grid worker's own village,
    one on the city routing to the water company, one on the city routing elsewhere."""
    home = Grid.objects.get(name="胜利社区第1网格")
    town = Grid.objects.get(path=home.ancestor_paths()[2])
    other_town = Grid.objects.filter(level=2).exclude(pk=town.pk).first()
    village = Grid.objects.get(path=home.ancestor_paths()[3])
    city = Grid.objects.get(level=0)
    categories = iter(CaseCategory.objects.filter(parent__isnull=False).exclude(
        duty_rules__grid__in=[city, village, other_town]).order_by("code"))
    water = Department.objects.get(code="water")
    urban = Department.objects.get(code="urban-management")
    return {
        "other_town": DutyRule.objects.create(category=next(categories), grid=other_town,
                                              department=urban),
        "village": DutyRule.objects.create(category=next(categories), grid=village,
                                           department=urban),
        "city_water": DutyRule.objects.create(category=next(categories), grid=city,
                                              department=water),
        "city_urban": DutyRule.objects.create(category=next(categories), grid=city,
                                              department=urban),
    }


def test_a_grid_worker_sees_the_rules_over_and_under_their_grid_only(login_as, rules) -> None:
    seen = _rules(login_as("gridworker"))
    assert {rules["village"].pk, rules["city_water"].pk, rules["city_urban"].pk} <= seen
    assert rules["other_town"].pk not in seen
    page = login_as("gridworker").get("/console/cases/rules/").content.decode()
    assert rules["other_town"].grid.name not in page


def test_a_department_sees_the_rules_that_route_to_it(login_as, rules) -> None:
    seen = _rules(login_as("water"))
    assert rules["city_water"].pk in seen
    assert not {rules["city_urban"].pk, rules["village"].pk, rules["other_town"].pk} & seen
    assert all(r["department"] == "water"
               for r in login_as("water").get("/api/v1/cases/duty-rules").json())


def test_the_center_sees_the_whole_duty_list(login_as, rules) -> None:
    assert _rules(login_as("dispatcher")) == set(DutyRule.objects.values_list("id", flat=True))


def test_a_rule_outside_the_scope_cannot_be_deleted_by_id(login_as, rules) -> None:
    r = login_as("subcenter").delete(f"/api/v1/cases/duty-rules/{rules['other_town'].pk}")
    assert r.status_code == 404
    assert DutyRule.objects.filter(pk=rules["other_town"].pk).exists()


# -- a bulk import never takes over a record outside the importer's grids -----------------

def _import(tmp_path: Any, kind: str, header: list[str], rows: list[list[object]],
            user: str) -> tuple[str, list[list[str]]]:
    import csv
    import io

    from django.core.management import call_command

    path = tmp_path / f"{kind}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    errors, out = path.with_suffix(".err.csv"), io.StringIO()
    call_command("registry", "import", str(path), "--kind", kind, "--mode", "valid",
                 "--errors", str(errors), "--user", user, stdout=out, stderr=io.StringIO())
    with errors.open(encoding="utf-8-sig") as fh:
        return out.getvalue(), list(csv.reader(fh))[1:]


def test_an_import_cannot_take_over_a_person_registered_elsewhere(tmp_path) -> None:
    home = Grid.objects.get(name="胜利社区第1网格")
    mine = factories.house(factories.building(home))
    there = factories.person_in("胜利社区第2网格", name="别处的人")
    number = crypto.open_sealed(there.id_number_enc, crypto.keyring())
    header = ["姓名", "身份证号", "人口类型", "楼栋编号", "房号"]
    out, report = _import(tmp_path, "residents", header, [
        ["冒名", number, "户籍人口", mine.building.code, mine.number],
        ["新人", factories.id_number(), "户籍人口", mine.building.code, mine.number],
    ], "gridworker")
    assert report == [["2", "身份证号", REFUSED]]
    assert "1 created" in out
    there.refresh_from_db()
    assert there.name == "别处的人" and there.grid.name == "胜利社区第2网格"


def test_an_import_cannot_move_a_building_of_another_grid(tmp_path) -> None:
    home = Grid.objects.get(name="胜利社区第1网格")
    theirs = factories.building(Grid.objects.get(name="胜利社区第2网格"))
    header = ["楼栋编号", "名称", "地址", "经度", "纬度", "层数", "用途"]
    _out, report = _import(tmp_path, "buildings", header, [
        [theirs.code, "抢来的楼", "胜利路9号", home.label_lng, home.label_lat, 6, "住宅"],
    ], "gridworker")
    assert [(r[0], r[1]) for r in report] == [("2", "楼栋编号")]
    theirs.refresh_from_db()
    assert theirs.grid.name == "胜利社区第2网格" and theirs.name != "抢来的楼"
