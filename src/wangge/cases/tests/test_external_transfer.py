"""转外部系统: an external system (数字城管, 12345) is a department of kind `external`. A duty
rule pointing at it routes a case there, the case page and the rules page say the case is
transferred, the dispatchers keep watching it (nobody in the system is its staff), and a
rule naming a line department as an external system is refused with nothing written."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wangge.cases.access import responsible_users
from wangge.cases.models import Case, DutyRule
from wangge.cases.tests.helpers import act, report
from wangge.org.models import Department
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def put_rule(client: Client, **body: str) -> object:
    return client.put("/api/v1/cases/duty-rules", json.dumps(body),
                      content_type="application/json")


def test_a_rule_to_digital_city_management_transfers_the_case(login_as, spot) -> None:
    worker, dispatcher = login_as("gridworker"), login_as("dispatcher")
    system = Department.objects.get(code="city_management")
    assert system.is_external and system.service_user is not None
    assert system.grid == Grid.objects.get(level=0)  # it serves the city
    city = system.grid.code
    r = put_rule(dispatcher, category="0601", grid=city, external_system="city_management")
    assert r.status_code == 200, r.content
    assert r.json()["department"] == r.json()["external_system"] == "city_management"

    no = report(worker, spot, category="0601")["register_no"]
    assert act(dispatcher, no, "register").status_code == 200
    out = act(dispatcher, no, "dispatch")
    assert out.status_code == 200 and out.json()["department"] == "city_management"
    assert "数字城管系统" in out.json()["routed_by"]
    case = Case.objects.get(register_no=no)
    assert case.department == system

    page = dispatcher.get(f"/console/cases/{no}/").content.decode()
    assert "转外部系统：数字城管系统" in page
    rules = dispatcher.get("/console/cases/rules/").content.decode()
    assert "转外部系统：数字城管系统" in rules
    # nobody here is the system's staff: its SLA warnings go to the dispatchers of the
    # case's handling level (the workstation), not to nobody
    told = {u.username for u in responsible_users(case, breach=False)}
    assert "station" in told


def test_a_line_department_is_not_an_external_system(login_as) -> None:
    dispatcher = login_as("dispatcher")
    city = Grid.objects.get(level=0).code
    before = list(DutyRule.objects.values_list("pk", "department_id"))
    r = put_rule(dispatcher, category="0601", grid=city, external_system="water")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == "external_system"
    r = put_rule(dispatcher, category="0601", grid=city, department="water",
                 external_system="city_management")
    assert r.status_code == 422
    assert list(DutyRule.objects.values_list("pk", "department_id")) == before
