"""The demo city's external systems: after the load, 12345 and 数字城管 have adapters at
`make demo`'s simulator ports with a fresh secret each load, the shipped mapping tables and
duty rules sending 停水/停电 to 12345 and manhole/street-light/drain cases to 数字城管. History
is not transferred; a case dispatched afterwards is, with its order and outbox message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from wangge.cases.models import Case, DutyRule, ExternalOrder
from wangge.core.models import OutboxMessage
from wangge.demo.external import (
    CITY_MANAGEMENT_PORT,
    EXTERNAL_DUTY,
    HOTLINE_PORT,
    load_demo_external_systems,
)
from wangge.integration.actions.external import adapter_secret
from wangge.integration.mappings import shipped_rows
from wangge.integration.models import Adapter, CategoryMapping, Subscription
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def report_and_dispatch(login_as, category: str, title: str) -> Case:  # type: ignore[no-untyped-def]
    grid = Grid.objects.get(name="胜利社区第1网格")
    r = post(login_as("gridworker"), "/api/v1/cases/", {
        "category": category, "title": title, "lng": grid.label_lng, "lat": grid.label_lat})
    assert r.status_code in (200, 201), r.content
    no = r.json()["register_no"]
    dispatcher = login_as("dispatcher")
    assert post(dispatcher, f"/api/v1/cases/{no}/actions/register", {}).status_code == 200
    out = post(dispatcher, f"/api/v1/cases/{no}/actions/dispatch", {})
    assert out.status_code == 200, out.content
    return Case.objects.get(register_no=no)


def test_the_load_wires_both_systems_to_their_simulators() -> None:
    orders, transfers = ExternalOrder.objects.count(), OutboxMessage.objects.filter(
        topic="external.order").count()
    loaded = load_demo_external_systems()
    assert loaded.adapters == {"hotline_12345": f"http://127.0.0.1:{HOTLINE_PORT}",
                               "city_management": f"http://127.0.0.1:{CITY_MANAGEMENT_PORT}"}
    for code, kind in [("hotline_12345", "hotline_12345"),
                       ("city_management", "city_management")]:
        adapter = Adapter.objects.get(system__code=code)
        assert adapter.kind == kind and adapter.enabled
        assert CategoryMapping.objects.filter(adapter=adapter).count() == len(
            shipped_rows(kind)) == loaded.mappings[code]
        sub = Subscription.objects.get(name=f"adapter:{code}")
        assert sub.active and sub.url == adapter.endpoint and sub.kind == kind
    assert Adapter.objects.get(system__code="hotline_12345").option("pass_phone") is False
    city = Grid.objects.get(level=0)
    for category, code in EXTERNAL_DUTY.items():
        rule = DutyRule.objects.get(category__code=category, grid=city)
        assert rule.department.code == code and rule.department.is_external
    # the year of history was not transferred
    assert ExternalOrder.objects.count() == orders
    assert OutboxMessage.objects.filter(topic="external.order").count() == transfers


def test_every_load_signs_with_a_new_secret() -> None:
    load_demo_external_systems()
    first = {a.system.code: adapter_secret(a) for a in Adapter.objects.select_related("system")}
    load_demo_external_systems()
    again = {a.system.code: adapter_secret(a) for a in Adapter.objects.select_related("system")}
    assert set(first) == set(again) == {"hotline_12345", "city_management"}
    assert all(len(s) >= 32 for s in again.values())
    assert first["hotline_12345"] != again["hotline_12345"]
    assert first["city_management"] != again["city_management"]
    assert again["hotline_12345"] != again["city_management"]
    assert Adapter.objects.count() == 2  # a second load changes the adapters, adds none


@pytest.mark.parametrize(("category", "title", "system"), [
    ("1001", "胜利路片区停水", "hotline_12345"),
    ("0601", "胜利路井盖缺失", "city_management"),
])
def test_a_case_dispatched_after_the_load_goes_out_with_its_order(
        login_as, category: str, title: str, system: str) -> None:  # type: ignore[no-untyped-def]
    load_demo_external_systems()
    case = report_and_dispatch(login_as, category, title)
    assert case.department.code == system and case.state == "dispatched"
    order = ExternalOrder.objects.get(case=case)
    assert (order.system.code, order.our_no, order.state) == (system, case.register_no,
                                                              ExternalOrder.State.PENDING)
    message = OutboxMessage.objects.get(topic="external.order", payload__order=order.pk)
    assert message.payload["system"] == system
    # the mapping the adapter will send it with
    assert CategoryMapping.objects.filter(adapter__system__code=system,
                                          category__code=category).exists()


def test_other_kinds_stay_with_the_line_departments(login_as) -> None:  # type: ignore[no-untyped-def]
    load_demo_external_systems()
    case = report_and_dispatch(login_as, "0101", "胜利路暴露垃圾")
    assert case.department.code == "urban-management"
    assert not ExternalOrder.objects.filter(case=case).exists()
