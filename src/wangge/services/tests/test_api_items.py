"""`GET /api/v1/services/items` and `/items/{code}` as a client sees them: ranked search with
the total, filters, the whole guide with its version, and the refusals (401 without a login,
422 naming the bad filter, 404 for an unknown or withdrawn item)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from wangge.demo.catalogue import NAMED_PROXY_ITEMS
from wangge.services.models import ServiceItem

pytestmark = pytest.mark.django_db

URL = "/api/v1/services/items"
OLD_AGE = NAMED_PROXY_ITEMS["老年人优待证（老年证）办理与年审"]


def get(client: Client, path: str = "", **params: Any) -> tuple[int, Any]:
    r = client.get(URL + path, params)
    return r.status_code, r.json()


def test_search_needs_a_login() -> None:
    assert Client().get(URL, {"q": "老年证"}).status_code == 401


def test_search_ranks_and_counts(login_as: Any) -> None:
    code, page = get(login_as("gridworker"), q="lnz", limit=5)
    assert code == 200
    assert page["items"][0]["code"] == OLD_AGE
    first = page["items"][0]
    assert first["department"] == {"code": "civil-affairs", "name": "民政局"}
    assert first["proxy_eligible"] is True and first["type_label"] == "公共服务"
    assert first["events"] == ["elderly"] and first["promised_days"] == 3
    assert page["total"] >= len(page["items"])


def test_filters_and_pages(login_as: Any) -> None:
    client = login_as("gridworker")
    code, page = get(client, proxy="true", limit=100)
    assert code == 200 and page["total"] == 50 and len(page["items"]) == 50
    _, benefit = get(client, type="benefit", event="elderly", limit=100)
    assert benefit["items"] and all(
        i["type"] == "benefit" and "elderly" in i["events"] for i in benefit["items"])
    _, dept = get(client, department="veterans", limit=100)
    assert {i["department"]["code"] for i in dept["items"]} == {"veterans"}
    _, p1 = get(client, q="许可证", limit=5)
    _, p2 = get(client, q="许可证", limit=5, offset=5)
    assert p1["total"] == p2["total"] > 10
    assert not {i["code"] for i in p1["items"]} & {i["code"] for i in p2["items"]}


@pytest.mark.parametrize(("param", "value"), [("type", "permit"), ("event", "party"),
                                              ("department", "no-such-dept"),
                                              ("proxy", "maybe"), ("limit", "0"),
                                              ("offset", "-1")])
def test_bad_filter_is_422_naming_it(login_as: Any, param: str, value: str) -> None:
    code, body = get(login_as("gridworker"), **{param: value})
    assert code == 422
    assert body["detail"][0]["loc"][-1] == param


def test_guide_is_the_published_version(login_as: Any) -> None:
    code, guide = get(login_as("gridworker"), f"/{OLD_AGE}")
    assert code == 200
    item = ServiceItem.objects.select_related("current").get(code=OLD_AGE)
    assert guide["version"] == item.current.number
    assert guide["name"] == "老年人优待证（老年证）办理与年审"
    assert "老年证" in guide["aliases"]
    assert {m["key"] for m in guide["materials"]} >= {"id_card", "hukou"}
    id_card = next(m for m in guide["materials"] if m["key"] == "id_card")
    assert id_card["form_label"] == "原件" and id_card["required"] is True
    assert guide["steps"] and guide["faq"] and guide["phone"].startswith("0731-2399")
    assert guide["event_labels"] == ["养老"]


def test_unknown_and_withdrawn_items_are_404(login_as: Any) -> None:
    client = login_as("gridworker")
    assert get(client, "/XX-9999")[0] == 404
    ServiceItem.objects.filter(code="GA-0009").update(active=False)
    assert get(client, "/GA-0009")[0] == 404
    _, page = get(client, q="办护照")
    assert "GA-0009" not in [i["code"] for i in page["items"]]


def test_a_guide_gives_its_limits_as_dates_over_the_working_day_calendar(login_as) -> None:
    """承诺 N 个工作日 means a date a resident can plan by: holidays are skipped (workcal)."""
    import datetime as dt
    import zoneinfo

    from wangge.services.guide import due_dates
    from wangge.services.models import ServiceItem

    version = ServiceItem.objects.get(code="MZ-0001").current
    version.promised_days, version.prereview_days = 3, 1
    # submitted on Tuesday 2026-09-29: 10-01..10-07 are the National Day holidays (the
    # State Council's 2026 schedule, as the seeded calendar holds it)
    at = dt.datetime(2026, 9, 29, 15, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    due = due_dates(version, at)
    assert due["prereview_by"] == dt.date(2026, 9, 30)
    assert due["promised_by"] == dt.date(2026, 10, 9)  # 9-30, 10-08, 10-09
    assert due["legal_by"] is not None and due["legal_by"] >= due["promised_by"]
    body = login_as("gridworker").get("/api/v1/services/items/MZ-0001").json()
    assert body["promised_by"] >= dt.date.today().isoformat()
