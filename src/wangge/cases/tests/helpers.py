"""Shared helpers for the case tests: post JSON, report a case, take an action."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def report(client: Client, spot: tuple[float, float], category: str = "0601",
           **extra: Any) -> dict[str, Any]:
    lng, lat = spot
    r = post(client, "/api/v1/cases/", {"category": category, "title": "胜利路井盖缺失",
                                        "lng": lng, "lat": lat, **extra})
    assert r.status_code in (200, 201), r.content
    return r.json()


def act(client: Client, no: str, action: str, **body: Any) -> Any:
    return post(client, f"/api/v1/cases/{no}/actions/{action}", body)


