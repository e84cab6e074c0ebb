"""`/api/v1/analytics/…`: metrics by any breakdown with 环比/同比 and a trend, rankings with
the 红黑榜, the schemes, and the same tables as CSV/XLSX with the numbers of the JSON.
Bad parameters are 422 naming the field; a grid outside the caller's scope is 404; a
user who sees no figures, or department staff asking for more than their department,
403."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from wangge.analytics.compare import previous_span, year_ago_span
from wangge.org.models import Department
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

BASE = "/api/v1/analytics"
TODAY = timezone.localdate()
SINCE = (TODAY - dt.timedelta(days=90)).isoformat()
UNTIL = TODAY.isoformat()


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"{BASE}{path}", params)


def field_of(resp: Any) -> list[str]:
    assert resp.status_code == 422, resp.content
    return [e["loc"][-1] for e in resp.json()["detail"]]


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "street"}, "by"),
    ({}, "by"),
    ({"by": "grid", "from": "2026-03-10", "to": "2026-03-01"}, "from"),
    ({"by": "grid", "from": "2020-01-01", "to": "2024-01-01", "period": "day"}, "period"),
    ({"by": "grid", "period": "fortnight"}, "period"),
    ({"by": "grid", "from": "2026-02-30"}, "from"),
    ({"by": "grid", "from": "0001-01-01"}, "from"),
    ({"by": "grid", "from": "2001-01-01", "to": "2026-01-01"}, "from"),
    ({"by": "grid", "level": "9"}, "level"),
    ({"by": "grid", "compare": "maybe"}, "compare"),
])
def test_bad_metrics_parameters_are_422_naming_the_field(
        login_as: Any, params: dict[str, str], field: str) -> None:
    assert field in field_of(get(login_as("leader"), "/metrics", **params))


def test_a_level_must_lie_below_the_grid_chosen(login_as: Any) -> None:
    town = Grid.objects.filter(level=2).order_by("code").first()
    resp = get(login_as("leader"), "/metrics", by="grid", grid=town.code, level="2")
    assert field_of(resp) == ["level"]


@pytest.mark.parametrize(("params", "field"), [
    ({"dim": "category"}, "dim"),
    ({"dim": "grid", "scheme": "no-such-scheme"}, "scheme"),
    ({"dim": "grid", "scheme": "worker-default"}, "scheme"),
    ({"dim": "grid", "n": "0"}, "n"),
    ({"dim": "grid", "n": "1000"}, "n"),
])
def test_bad_ranking_parameters_are_422_naming_the_field(
        login_as: Any, params: dict[str, str], field: str) -> None:
    assert field in field_of(get(login_as("leader"), "/rankings", **params))


def test_metrics_by_department_with_changes_and_a_trend(login_as: Any) -> None:
    resp = get(login_as("leader"), "/metrics", by="department", **{"from": SINCE, "to": UNTIL},
               period="month")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    q = body["query"]
    since, until = dt.date.fromisoformat(SINCE), dt.date.fromisoformat(UNTIL)
    prev, ago = previous_span(since, until), year_ago_span(since, until)
    assert (q["previous"]["since"], q["previous"]["until"]) == (str(prev[0]), str(prev[1]))
    assert (q["year_ago"]["since"], q["year_ago"]["until"]) == (str(ago[0]), str(ago[1]))
    assert len(body["rows"]) > 3
    codes = {m["code"] for m in body["metrics"]}
    assert "on_time_handle_rate" in codes and "visit_people" not in codes
    for row in body["rows"]:
        assert set(row["values"]) == codes == set(row["mom"]) == set(row["yoy"])
    assert body["total"]["label"] == "合计"
    assert sum(r["values"]["reported"] for r in body["rows"]) == body["total"]["values"][
        "reported"]
    series = body["series"]
    assert series[0]["start"][:7] == SINCE[:7] and len(series) in (4, 5)
    assert sum(p["values"]["reported"] for p in series) == body["total"]["values"]["reported"]


def test_the_default_span_is_this_month_to_today_and_no_series_without_period(
        login_as: Any) -> None:
    body = get(login_as("leader"), "/metrics", by="channel").json()
    assert body["query"]["since"] == TODAY.replace(day=1).isoformat()
    assert body["query"]["until"] == TODAY.isoformat()
    assert body["series"] is None


def test_a_workstation_sees_its_grids_and_404_for_a_grid_outside(login_as: Any) -> None:
    client = login_as("station")
    body = get(client, "/metrics", by="grid", **{"from": SINCE, "to": UNTIL}).json()
    station = Grid.objects.get(name="胜利社区")
    children = set(Grid.objects.filter(parent=station).values_list("name", flat=True))
    assert body["rows"] and {r["label"] for r in body["rows"]} <= children
    far = Grid.objects.filter(level=3).exclude(pk=station.pk).order_by("code").first()
    assert get(client, "/metrics", by="grid", grid=far.code).status_code == 404
    assert get(client, "/metrics", by="grid", grid="NO-SUCH").status_code == 404
    assert get(client, "/rankings", dim="grid", grid=far.code).status_code == 404
    ranked = get(client, "/rankings", dim="worker", **{"from": SINCE, "to": UNTIL}).json()
    assert ranked["scheme"]["code"] == "worker-default"


def test_a_grid_worker_ranks_within_their_grid_only(login_as: Any) -> None:
    client = login_as("gridworker")
    body = get(client, "/metrics", by="grid", **{"from": SINCE, "to": UNTIL}).json()
    assert [r["label"] for r in body["rows"]] in ([], ["胜利社区第1网格"])
    own = Grid.objects.get(name="胜利社区第1网格")
    assert get(client, "/metrics", by="grid", grid=own.parent.code).status_code == 404


def test_department_staff_see_their_row_and_every_departments_ranking(login_as: Any) -> None:
    client = login_as("water")
    water = Department.objects.get(code="water")
    body = get(client, "/metrics", by="department", **{"from": SINCE, "to": UNTIL}).json()
    assert [r["key"] for r in body["rows"]] in ([], [water.pk])
    for by in ("grid", "worker", "category", "channel"):
        assert get(client, "/metrics", by=by).status_code == 403
    ranked = get(client, "/rankings", dim="department", **{"from": SINCE, "to": UNTIL}).json()
    everyone = get(login_as("leader"), "/rankings", dim="department",
                   **{"from": SINCE, "to": UNTIL}).json()
    assert len(ranked["all"]) > 3 and ranked["all"] == everyone["all"]
    assert get(client, "/rankings", dim="grid").status_code == 403
    assert get(client, "/rankings", dim="department",
               grid=Grid.objects.get(level=0).code).status_code == 404
    assert get(client, "/export", table="rankings", dim="worker").status_code == 403


def test_a_user_without_a_role_sees_no_figures(django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("nobody-analytics", password="x")
    client = Client()
    client.force_login(user)
    for path, params in (("/metrics", {"by": "grid"}), ("/rankings", {"dim": "grid"}),
                         ("/schemes", {}), ("/export", {"table": "metrics", "by": "grid"})):
        assert get(client, path, **params).status_code == 403, path
    assert Client().get(f"{BASE}/schemes").status_code == 401


def test_rankings_give_the_red_and_black_lists(login_as: Any) -> None:
    body = get(login_as("leader"), "/rankings", dim="grid", level="3", n="5", limit="1000",
               **{"from": SINCE, "to": UNTIL}).json()
    assert body["scheme"]["code"] == "grid-default"
    assert sum(w["weight"] for w in body["scheme"]["weights"]) == 100
    red, black, everyone = body["red"], body["black"], body["all"]
    assert len(red) == len(black) == 5 and len(everyone) > 10
    assert body["total"] == len(everyone)  # the whole ranking on one page of 1,000
    assert red == everyone[:5]
    assert black == [r for r in reversed(everyone) if r["score"] is not None][:5]
    assert not {r["key"] for r in red} & {r["key"] for r in black}
    assert all(set(r["points"]) == {w["metric"] for w in body["scheme"]["weights"]}
               for r in everyone)
    assert {r["label"] for r in everyone} <= set(
        Grid.objects.filter(level=3).values_list("name", flat=True))


def test_a_ranking_comes_page_by_page_with_its_total_and_one_row(login_as: Any) -> None:
    client = login_as("leader")
    params = {"dim": "grid", "level": "4", "n": "3", "from": SINCE, "to": UNTIL}
    whole = get(client, "/rankings", limit="1000", **params).json()
    everyone, total = whole["all"], whole["total"]
    assert total == len(everyone) > 7
    # about eight pages, the last one short: each page ranks the whole city's basic grids,
    # and pages of 4 (200 of them) took 70 s of CI's PostgreSQL lane to prove the same
    size = next(n for n in range(total // 8 + 1, total) if total % n)
    pages = [get(client, "/rankings", limit=str(size), offset=str(at), **params).json()
             for at in range(0, total, size)]
    assert len(pages) > 2 and len(pages[-1]["all"]) < size
    assert [r for page in pages for r in page["all"]] == everyone
    assert all(page["total"] == total and len(page["all"]) <= size for page in pages)
    assert all((page["red"], page["black"]) == (whole["red"], whole["black"])
               for page in pages)  # the lists are the whole ranking's
    assert pages[0]["query"]["limit"] == size and whole["row"] is None
    assert get(client, "/rankings", offset=str(total), **params).json()["all"] == []
    one = everyone[total // 2]
    assert get(client, "/rankings", key=str(one["key"]), limit="1", **params
               ).json()["row"] == one
    for field, bad in (("limit", "0"), ("limit", "1001"), ("offset", "-1"), ("key", "x")):
        assert field_of(get(client, "/rankings", **{**params, field: bad})) == [field]
    assert field_of(get(client, "/rankings", key="999999999", **params)) == ["key"]


def test_the_schemes_are_listed_with_their_weights(login_as: Any) -> None:
    body = get(login_as("station"), "/schemes").json()
    assert {s["code"] for s in body} >= {"department-default", "grid-default",
                                         "worker-default"}
    dept = next(s for s in body if s["code"] == "department-default")
    assert [(w["name"], w["weight"]) for w in dept["weights"]] == [
        ("按期处置率", 30), ("返工率", 20), ("回退率", 15), ("满意率", 20), ("回复率", 15)]
    only = get(login_as("station"), "/schemes", dim="worker").json()
    assert [s["dim"] for s in only] == ["worker"] * len(only) and only


def sheet(resp: Any) -> list[list[Any]]:
    assert resp.status_code == 200, resp.content
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    width = len(rows[0])  # trailing empty cells are not stored
    return [r + [None] * (width - len(r)) for r in rows]


def test_the_metrics_export_has_the_numbers_of_the_json(login_as: Any) -> None:
    client = login_as("leader")
    params = {"by": "category", "from": SINCE, "to": UNTIL}
    body = get(client, "/metrics", **params).json()
    rows = sheet(get(client, "/export", table="metrics", format="xlsx", **params))
    header, data = rows[0], rows[1:]
    assert header[0] == "事件分类"
    assert len(data) == len(body["rows"]) + 1
    for name in ("上报数", "按期结案率", "满意率"):
        code = next(m["code"] for m in body["metrics"] if m["name"] == name)
        at, mom, yoy = (header.index(name), header.index(f"{name} 环比(" + (
            "%" if name == "上报数" else "百分点") + ")"), header.index(
            f"{name} 同比(" + ("%" if name == "上报数" else "百分点") + ")"))
        for json_row, xl in zip([*body["rows"], body["total"]], data, strict=True):
            assert xl[0] == json_row["label"]
            assert (xl[at], xl[mom], xl[yoy]) == (json_row["values"][code],
                                                   json_row["mom"][code], json_row["yoy"][code])
    text = get(client, "/export", table="metrics", format="csv", **params)
    assert text["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert lines[0] == header and len(lines) == len(rows)
    assert lines[-1][0] == "合计"


def test_the_rankings_export_has_the_numbers_of_the_json(login_as: Any) -> None:
    client = login_as("leader")
    params = {"dim": "department", "from": SINCE, "to": UNTIL}
    body = get(client, "/rankings", **params).json()
    rows = sheet(get(client, "/export", table="rankings", format="xlsx", **params))
    assert rows[0][:3] == ["名次", "名称", "综合得分"]
    weights = body["scheme"]["weights"]
    for ranked, xl in zip(body["all"], rows[1:], strict=True):
        assert xl[:3] == [ranked["rank"], ranked["label"], ranked["score"]]
        for i, w in enumerate(weights):
            assert xl[3 + 2 * i:5 + 2 * i] == [ranked["values"][w["metric"]],
                                               ranked["points"][w["metric"]]]


def test_export_needs_its_table_and_its_dimension(login_as: Any) -> None:
    client = login_as("leader")
    assert field_of(get(client, "/export", table="metrics")) == ["by"]
    assert field_of(get(client, "/export", table="rankings")) == ["dim"]
    assert "table" in field_of(get(client, "/export", table="people"))
    assert "format" in field_of(get(client, "/export", table="metrics", by="grid",
                                    format="pdf"))


def test_the_openapi_declares_the_export_as_a_file(login_as: Any) -> None:
    spec = login_as("leader").get("/api/v1/openapi.json").json()
    ok = spec["paths"][f"{BASE}/export"]["get"]["responses"]["200"]
    assert ok["content"]["text/csv"]["schema"]["format"] == "binary"
    assert "AnalyticsRankingOut" in spec["components"]["schemas"]
