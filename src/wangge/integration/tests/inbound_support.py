"""Shared set-up of the inbound tests: the 12345 system with its adapter, a case transferred
to it, and a signed call to our doors (what the system itself would send)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from wangge.cases.actions.intake import do_report
from wangge.cases.actions.loop import do_transition
from wangge.cases.models import Case, ExternalOrder
from wangge.integration.actions.external import do_save_adapter
from wangge.integration.adapters import signing
from wangge.integration.models import Adapter
from wangge.org.actions import do_ensure_external_department
from wangge.territory.models import Grid

SECRET = "hotline-test-secret"
CODE = "hotline_12345"
#: the demo grid worker's grid
GRID = "胜利社区第1网格"


def user(username: str) -> AbstractBaseUser:
    return get_user_model().objects.get(username=username)


def make_adapter(code: str = CODE, *, enabled: bool = True) -> Adapter:
    system = do_ensure_external_department(code)
    return do_save_adapter(system=system, kind=code if code in Adapter.Kind.values
                           else Adapter.Kind.HOTLINE_12345,
                           endpoint="https://hotline.example.test/api", secret=SECRET,
                           enabled=enabled)


def spot() -> tuple[float, float]:
    grid = Grid.objects.get(name=GRID)
    return grid.label_lng, grid.label_lat


def transferred(code: str = CODE, *, category: str = "0601") -> ExternalOrder:
    """A grid worker's case, registered and dispatched to the system: its outbound order."""
    lng, lat = spot()
    case = do_report({"category": category, "title": "胜利路停水", "lng": lng, "lat": lat},
                     user("gridworker"), channel=Case.Channel.GRID_WORKER)
    do_transition(case, "register", user("dispatcher"))
    do_transition(case, "dispatch", user("dispatcher"), department=code)
    return ExternalOrder.objects.get(case=case, direction=ExternalOrder.Direction.OUT)


def signed_post(client: Client, url: str, body: dict[str, Any] | bytes, *,
                secret: str = SECRET, now: float | None = None,
                headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    sent = signing.headers(secret, raw, now=now if now is not None else time.time())
    sent.update(headers or {})
    return client.post(url, raw, content_type="application/json; charset=utf-8", headers=sent)


def callback(client: Client, body: dict[str, Any], *, code: str = CODE, **kw: Any) -> Any:
    return signed_post(client, f"/integration/systems/{code}/callbacks", body, **kw)


def work_order(client: Client, body: dict[str, Any], *, code: str = CODE, **kw: Any) -> Any:
    return signed_post(client, f"/integration/systems/{code}/work-orders", body, **kw)


def status_body(order_no: str, status: str, event_id: str, note: str = "") -> dict[str, Any]:
    return {"event_id": event_id, "order_no": order_no, "status": status, "note": note,
            "occurred_at": "2026-11-30T10:12:00+08:00"}
