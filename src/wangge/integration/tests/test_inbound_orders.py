"""Orders for on-site work from 12345 (POST /integration/systems/<code>/work-orders): a
signed order becomes a case in the basic grid of its point (or of its grid), on channel
`external`, reported by the system's service user; the same order number again answers the
first case; bad orders are refused naming the field with nothing written; and closing the
case queues our reply to 12345."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from wangge.cases.actions.loop import do_transition
from wangge.cases.models import Case, CaseCategory, ExternalOrder
from wangge.cases.workflow import State
from wangge.core.models import OutboxMessage
from wangge.integration.actions.external import do_set_mapping
from wangge.integration.models import Adapter, InboundCall
from wangge.integration.tests.inbound_support import (
    CODE,
    GRID,
    make_adapter,
    spot,
    user,
    work_order,
)
from wangge.org.actions import do_assign_role
from wangge.org.models import Department, Person, Role
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

#: 12345's code for 停水 in this test's mapping
THEIR_CODE = "HX-0105"


@pytest.fixture
def adapter() -> Adapter:
    adapter = make_adapter()
    do_set_mapping(adapter, CaseCategory.objects.get(code="1001"), their_code=THEIR_CODE,
                   their_name="供水中断", their_kind="求助")
    return adapter


@pytest.fixture
def client() -> Client:
    return Client()


def order_body(order_no: str = "GD20261130000042", **over: Any) -> dict[str, Any]:
    lng, lat = spot()
    body: dict[str, Any] = {
        "order_no": order_no, "channel": "12345热线", "appeal_type": "求助",
        "category_code": THEIR_CODE, "category_name": "供水中断",
        "title": "胜利路12号停水两天", "content": "市民反映胜利路12号停水两天，请核实。",
        "location": {"lng": lng, "lat": lat, "crs": "WGS84"},
        "urgency": "一般", "deadline": "2026-12-03T18:00:00+08:00",
        "reported_at": "2026-11-30T09:00:00+08:00",
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not ...}


def cases_from(adapter: Adapter) -> Any:
    return Case.objects.filter(reporter=adapter.system.service_user)


def calls(adapter: Adapter) -> list[tuple[str, int]]:
    return [(c.outcome, c.http_status) for c in
            InboundCall.objects.filter(adapter=adapter).order_by("id")]


def test_an_order_becomes_a_case_in_its_grid(client: Client, adapter: Adapter) -> None:
    r = work_order(client, order_body())
    assert r.status_code == 201, r.content
    no = r.json()["source_no"]
    case = Case.objects.select_related("grid", "category").get(register_no=no)
    assert case.grid.name == GRID and case.grid.level == Grid.objects.get(name=GRID).level
    assert case.channel == Case.Channel.EXTERNAL
    assert case.reporter == adapter.system.service_user
    assert case.category.code == "1001"  # their 供水中断, mapped back
    assert case.title == "胜利路12号停水两天"
    assert case.description == "市民反映胜利路12号停水两天，请核实。"
    assert case.state == State.REPORTED
    order = ExternalOrder.objects.get(case=case)
    assert order.direction == ExternalOrder.Direction.IN
    assert order.their_no == "GD20261130000042" and order.our_no == no
    assert order.state == ExternalOrder.State.RECEIVED
    assert "2026-12-03" in order.last_note  # their deadline, kept with the order
    assert case.events.filter(action="external_received").exists()
    assert calls(adapter) == [("applied", 201)]


def test_the_same_order_again_answers_the_first_case(client: Client,
                                                     adapter: Adapter) -> None:
    first = work_order(client, order_body())
    again = work_order(client, order_body())
    assert first.status_code == 201
    assert again.status_code == 200 and again.json() == first.json()
    # even if they changed the wording in between: their retry, not a new order
    third = work_order(client, order_body(title="改了标题"))
    assert third.status_code == 200 and third.json() == first.json()
    assert cases_from(adapter).count() == 1
    assert ExternalOrder.objects.filter(system=adapter.system,
                                        direction=ExternalOrder.Direction.IN).count() == 1
    assert calls(adapter) == [("applied", 201), ("duplicate", 200), ("duplicate", 200)]


def test_a_grid_code_places_the_order_at_the_grid(client: Client, adapter: Adapter) -> None:
    grid = Grid.objects.get(name=GRID)
    r = work_order(client, order_body(location=None, grid_code=grid.code))
    assert r.status_code == 201, r.content
    case = Case.objects.get(register_no=r.json()["source_no"])
    assert case.grid == grid
    assert (case.lng, case.lat) == (grid.label_lng, grid.label_lat)


def test_our_category_code_when_theirs_is_not_given(client: Client, adapter: Adapter) -> None:
    r = work_order(client, order_body(category_code=..., category="0601"))
    assert r.status_code == 201, r.content
    assert Case.objects.get(register_no=r.json()["source_no"]).category.code == "0601"


@pytest.mark.parametrize(("over", "field"), [
    ({"order_no": ...}, "order_no"),
    ({"title": ""}, "title"),
    ({"title": "长" * 101}, "title"),
    ({"location": None}, "location"),
    ({"location": {"lng": "113.5", "lat": 27.6}}, "location"),
    ({"location": {"lng": 113.5, "lat": 27.6, "crs": "GCJ02"}}, "location"),
    ({"location": {"lng": 116.4, "lat": 39.9}}, "location"),  # Beijing: outside the city
    ({"location": None, "grid_code": "NO-SUCH-GRID"}, "grid_code"),
    ({"category_code": "HX-9999"}, "category_code"),
    ({"category_code": ...}, "category_code"),
    ({"category_code": ..., "category": "06"}, "category"),  # a large class
    ({"deadline": "下周三"}, "deadline"),
])
def test_a_bad_order_is_400_naming_the_field_and_writes_nothing(
        client: Client, adapter: Adapter, over: dict[str, Any], field: str) -> None:
    before = Case.objects.count()
    r = work_order(client, order_body(**over))
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == field
    assert Case.objects.count() == before
    assert not ExternalOrder.objects.filter(direction=ExternalOrder.Direction.IN).exists()
    assert calls(adapter) == [("refused", 400)]


def test_an_unsigned_order_is_401_and_writes_nothing(client: Client, adapter: Adapter) -> None:
    before = Case.objects.count()
    r = work_order(client, order_body(), secret="guess")
    assert r.status_code == 401 and r.json()["error"]["field"] == "signature"
    assert Case.objects.count() == before
    logged = InboundCall.objects.get(adapter=adapter)
    assert (logged.kind, logged.outcome, logged.order_no) == (
        "order", "refused", "GD20261130000042")


def test_a_disabled_adapter_takes_no_orders(client: Client, adapter: Adapter) -> None:
    make_adapter(enabled=False)
    r = work_order(client, order_body())
    assert r.status_code == 403
    assert not cases_from(adapter).exists()


def water_staff() -> AbstractBaseUser:
    staff, _ = get_user_model().objects.get_or_create(username="test-water-inbound")
    if not Person.objects.filter(user=staff).exists():
        person = Person.objects.create(name="供水测试员", user=staff)
        do_assign_role(person, Role.DEPARTMENT_STAFF, Grid.objects.get(level=0),
                       department=Department.objects.get(code="water"))
    return staff


def test_closing_the_case_queues_our_reply_to_them(client: Client, adapter: Adapter) -> None:
    no = work_order(client, order_body()).json()["source_no"]
    case = Case.objects.get(register_no=no)
    dispatcher, staff = user("dispatcher"), water_staff()
    do_transition(case, "register", dispatcher)
    do_transition(case, "dispatch", dispatcher, department="water")
    for action, fields in (("accept", {}), ("start", {}), ("handle", {"feedback": "已恢复供水"})):
        do_transition(case, action, staff, **fields)
    do_transition(case, "verify_pass", user("gridworker"))
    assert not OutboxMessage.objects.filter(topic="external.reply",
                                            payload__register_no=no).exists()
    do_transition(case, "close", dispatcher, closeout_reason="已解决")
    reply = OutboxMessage.objects.get(topic="external.reply", payload__register_no=no)
    order = ExternalOrder.objects.get(case=case, direction=ExternalOrder.Direction.IN)
    assert reply.payload == {"register_no": no, "order": order.pk, "system": CODE,
                             "their_no": "GD20261130000042"}
    # no transfer of ours was opened for it (it went to a line department)
    assert not OutboxMessage.objects.filter(topic="external.order",
                                            payload__register_no=no).exists()


def test_the_exchange_log_keeps_no_caller_contact_in_clear(client: Client,
                                                           adapter: Adapter) -> None:
    body = order_body(appellant="王建国", phone="17091234567",
                      content="王先生来电（17091234567）反映停水。")
    assert work_order(client, body).status_code == 201
    assert work_order(client, {**body, "title": ""}, secret="wrong").status_code == 401
    for logged in InboundCall.objects.filter(adapter=adapter):
        assert "17091234567" not in logged.body and "王建国" not in logged.body
        if logged.http_status == 401:  # anyone's: only a glimpse is kept
            assert len(logged.body) <= 300
        else:
            assert "170****4567" in logged.body and "王*" in logged.body
