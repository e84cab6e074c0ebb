"""Junk at the inbound doors is a 4xx, never a 500, and its refusal is logged: a signature
header with non-ASCII characters, NUL characters and lone surrogates signed or not (the log
itself must store what it refuses), and 数字城管 sending us an order (only 12345 does)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wangge.cases.models import ExternalOrder
from wangge.integration.models import Adapter, InboundCall
from wangge.integration.tests.inbound_support import (
    callback,
    make_adapter,
    status_body,
    work_order,
)

pytestmark = pytest.mark.django_db


def test_a_non_ascii_signature_is_401(adapter: Adapter, order: ExternalOrder) -> None:
    response = callback(Client(), status_body(order.our_no, "受理", "cb-1"),
                        headers={"X-Wangge-Signature": "sha256=é"})
    assert response.status_code == 401
    assert InboundCall.objects.get().outcome == InboundCall.Outcome.REFUSED


@pytest.mark.parametrize("raw", [b"\x00", b'{"event_id": "\\ud800"}',
                                 b'{"order_no": "\\u0000"}'])
def test_unsigned_junk_is_401_and_logged(adapter: Adapter, raw: bytes) -> None:
    response = Client().post("/integration/systems/hotline_12345/callbacks", raw,
                             content_type="application/json")
    assert response.status_code == 401
    assert InboundCall.objects.get().http_status == 401


@pytest.mark.parametrize("field", ["event_id", "note"])
def test_a_signed_lone_surrogate_is_400_naming_the_field(adapter: Adapter, order: ExternalOrder,
                                                         field: str) -> None:
    body = status_body(order.our_no, "受理", "cb-2")
    body[field] = "e\ud800x"
    response = callback(Client(), json.dumps(body).encode())  # JSON's escape: \ud800
    assert response.status_code == 400 and response.json()["error"]["field"] == field
    order.refresh_from_db()
    assert order.state == ExternalOrder.State.PENDING


def test_city_management_sends_us_no_orders(adapter: Adapter) -> None:
    make_adapter("city_management")
    response = work_order(Client(), {"order_no": "AJ1", "title": "井盖缺失", "content": "x",
                                     "category": "0601",
                                     "location": {"lng": 113.49, "lat": 27.65}},
                          code="city_management")
    assert response.status_code == 404 and response.json()["error"]["field"] == "system"
