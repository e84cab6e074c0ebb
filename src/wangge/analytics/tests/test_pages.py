"""The console's figures pages (/console/analytics/ and …/rankings/): what a user sees, what
a download holds (the very numbers of the page's table, read back with openpyxl and csv),
what a bad parameter gets (the page again, 400, naming the field) and who sees what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from wangge.analytics.models import EvaluationScheme
from wangge.org.models import Department, Person, Role
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db

METRICS_URL = "/console/analytics/"
RANKINGS_URL = "/console/analytics/rankings/"
SCHEMES = Path(__file__).resolve().parents[1] / "schemes.json"


class Tables(HTMLParser):
    """The tables of a page by id: rows of (text, data-value) per cell, headers apart."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self._table: str | None = None
        self._cell: dict | None = None
        self._row: list | None = None
        self._head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = {"headers": [], "rows": []}
        elif self._table and tag == "thead":
            self._head = True
        elif self._table and tag == "tr":
            self._row = []
        elif self._table and tag in ("td", "th"):
            self._cell = {"text": "", "value": a.get("data-value"), "colspan": a.get("colspan")}

    def handle_endtag(self, tag: str) -> None:
        if not self._table:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            t = self.tables[self._table]
            if self._head:
                t["headers"] = [c["text"].strip() for c in self._row]
            elif not any(c["colspan"] for c in self._row):
                t["rows"].append(self._row)
            self._row = None
        elif tag == "thead":
            self._head = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data


def tables(html: bytes) -> dict[str, dict[str, list]]:
    parser = Tables()
    parser.feed(html.decode())
    return parser.tables


def as_number(value: str | None) -> float | str | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return value


def page_rows(table: dict[str, list]) -> list[list[float | str | None]]:
    return [[as_number(c["value"]) for c in row] for row in table["rows"]]


def xlsx_rows(content: bytes) -> tuple[list[str], list[list[float | str | None]]]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = len(rows[0])  # a row's empty cells at its end are not stored: pad them back
    return [str(h) for h in rows[0]], [
        [float(v) if isinstance(v, int | float) else as_number(v) for v in r]
        + [None] * (width - len(r)) for r in rows[1:]]


def csv_rows(content: bytes) -> tuple[list[str], list[list[float | str | None]]]:
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [[as_number(v) for v in r] for r in rows[1:]]


@pytest.fixture
def schemes() -> None:
    """The default schemes (as `wangge setup` seeds them), whatever the test database has."""
    for s in json.loads(SCHEMES.read_text()):
        EvaluationScheme.objects.update_or_create(
            code=s["code"], defaults={"name": s["name"], "dim": s["dim"],
                                      "weights": s["weights"], "active": True})


# -- the metrics page ----------------------------------------------------------------------

def test_metrics_page_shows_breakdown_chart_trend_and_totals(login_as) -> None:
    r = login_as("dispatcher").get(METRICS_URL, {"from": "2025-01-01", "to": "2026-12-31",
                                                "period": "month"})
    assert r.status_code == 200
    html = r.content.decode()
    found = tables(r.content)
    breakdown = found["breakdown-table"]
    assert breakdown["headers"][0] == "网格"
    assert "上报数 环比(%)" in breakdown["headers"]
    assert breakdown["rows"][-1][0]["text"].strip() == "合计"
    assert len(breakdown["rows"]) >= 2
    # the city's children: the five zones, each a link to drill into it
    zones = {g.name for g in Grid.objects.filter(level=1)}
    assert {row[0]["text"].strip() for row in breakdown["rows"][:-1]} <= zones
    assert "?grid=" in html or "&amp;grid=" in html
    # the bar chart's and the trend's specs are in json_script elements
    assert 'data-chart="breakdown-spec"' in html and 'id="breakdown-spec"' in html
    assert 'data-chart="trend-spec"' in html
    trend = found["trend-table"]
    assert trend["headers"][0] == "周期"
    assert [c[0]["text"] for c in trend["rows"]][:2] == ["2025-01", "2025-02"]
    assert 'id="metrics-totals"' in html
    assert "echarts/echarts.min.js" in html and "analytics/charts.js" in html


def test_metrics_downloads_hold_the_page_numbers(login_as) -> None:
    client = login_as("dispatcher")
    params = {"by": "category", "from": "2025-06-01", "to": "2026-05-31"}
    page = tables(client.get(METRICS_URL, params).content)["breakdown-table"]
    shown = page_rows(page)
    assert len(shown) >= 3
    x = client.get(METRICS_URL, {**params, "format": "xlsx"})
    assert x.status_code == 200
    assert x["Content-Type"].startswith("application/vnd.openxmlformats")
    headers, rows = xlsx_rows(x.content)
    assert headers == page["headers"]
    assert rows == shown
    c = client.get(METRICS_URL, {**params, "format": "csv"})
    headers, rows = csv_rows(c.content)
    assert headers == page["headers"] and rows == shown
    # the trend's table too
    trend_page = tables(client.get(METRICS_URL, {**params, "period": "quarter"}).content)
    t = client.get(METRICS_URL, {**params, "period": "quarter", "table": "trend",
                                 "format": "csv"})
    headers, rows = csv_rows(t.content)
    assert headers == trend_page["trend-table"]["headers"]
    assert rows == page_rows(trend_page["trend-table"])


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "street"}, "by"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "2026-05-10", "to": "2026-05-01"}, "to"),
    ({"from": "1900-01-01", "to": "1900-02-01"}, "from"),
    ({"from": "2015-01-01", "to": "2026-01-01"}, "from"),
    ({"from": "2023-01-01", "to": "2026-01-01", "period": "day"}, "period"),
    ({"period": "fortnight"}, "period"),
    ({"metric": "happiness"}, "metric"),
    ({"grid": "NO-SUCH"}, "grid"),
    ({"by": "grid", "level": "9"}, "level"),
    ({"by": "grid", "level": "0"}, "level"),
    ({"format": "pdf"}, "format"),
    ({"table": "secret"}, "table"),
])
def test_a_bad_parameter_is_a_400_page_naming_the_field(login_as, params, field) -> None:
    r = login_as("dispatcher").get(METRICS_URL, params)
    assert r.status_code == 400
    html = r.content.decode()
    assert f'data-field="{field}"' in html
    assert 'id="metrics-form"' in html  # the form is there to fix it


def test_a_grid_outside_the_scope_is_answered_like_an_unknown_one(login_as) -> None:
    station = login_as("station")
    far = Grid.objects.filter(level=3).exclude(name="胜利社区").order_by("code").first()
    outside = station.get(METRICS_URL, {"grid": far.code})
    unknown = station.get(METRICS_URL, {"grid": "NO-SUCH"})
    assert outside.status_code == unknown.status_code == 400
    assert "没有这个网格" in outside.content.decode()
    assert far.name not in outside.content.decode().split('id="form-errors"')[1]


def test_a_workstation_sees_its_own_grids_only(login_as) -> None:
    r = login_as("station").get(METRICS_URL, {"by": "grid", "from": "2025-01-01",
                                             "to": "2026-12-31"})
    assert r.status_code == 200
    community = Grid.objects.get(name="胜利社区")
    mine = set(Grid.objects.filter(parent=community).values_list("name", flat=True))
    names = {row[0]["text"].strip() for row in tables(r.content)["breakdown-table"]["rows"]}
    names.discard("合计")
    assert names and names <= mine


def test_department_staff_see_their_own_department_only(login_as) -> None:
    client = login_as("department")
    r = client.get(METRICS_URL)
    assert r.status_code == 200
    rows = tables(r.content)["breakdown-table"]["rows"]
    names = {row[0]["text"].strip() for row in rows} - {"合计"}
    own = Department.objects.get(code="urban-management").name
    assert names <= {own}
    # by grid: a clear message, not a crash and not the grids' figures
    r = client.get(METRICS_URL, {"by": "grid"})
    assert r.status_code == 400
    assert "部门人员只能按部门查看本部门的统计" in r.content.decode()
    assert "breakdown-table" not in r.content.decode()
    r = client.get(METRICS_URL, {"grid": Grid.objects.get(level=0).code})
    assert r.status_code == 400


def test_users_without_a_role_get_403_and_no_nav_link(login_as, client: Client) -> None:
    user = get_user_model().objects.create_user("no-role-analytics", password="x")
    client.force_login(user)
    assert client.get(METRICS_URL).status_code == 403
    assert client.get(RANKINGS_URL).status_code == 403
    assert "统计考核" not in client.get("/console/cases/").content.decode()
    home = login_as("dispatcher").get("/console/cases/").content.decode()
    assert f'href="{METRICS_URL}"' in home
    anonymous = Client().get(METRICS_URL)
    assert anonymous.status_code == 302


def test_switching_by_keeps_the_page_with_a_notice(login_as) -> None:
    r = login_as("dispatcher").get(METRICS_URL, {"by": "department", "metric": "visit_people"})
    assert r.status_code == 200
    assert "图表改为上报数" in r.content.decode()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.fixed_dictionaries({}, optional={
    "by": st.sampled_from(["grid", "department", "category", "channel", "worker", "", "x"]),
    "from": st.one_of(st.dates(dt.date(1999, 1, 1), dt.date(2101, 1, 1)).map(str),
                      st.text(max_size=12)),
    "to": st.dates(dt.date(2024, 1, 1), dt.date(2027, 1, 1)).map(str),
    "period": st.sampled_from(["day", "week", "month", "quarter", "year", "", "hour"]),
    "level": st.sampled_from(["", "1", "2", "3", "4", "5", "-1", "x"]),
    "metric": st.sampled_from(["reported", "satisfaction_rate", "visit_people", "?"]),
}))
def test_no_parameters_make_a_server_error(login_as, params: dict[str, str]) -> None:
    r = login_as("subcenter").get(METRICS_URL, params)
    assert r.status_code in (200, 400)
    if r.status_code == 400:
        assert 'id="form-errors"' in r.content.decode()


# -- the rankings page ---------------------------------------------------------------------

def test_rankings_show_red_and_black_lists_chart_and_full_table(login_as, schemes) -> None:
    r = login_as("dispatcher").get(RANKINGS_URL, {"dim": "grid", "level": "3",
                                                 "period": "year", "n": "5"})
    assert r.status_code == 200
    found = tables(r.content)
    red, black, full = found["red-table"], found["black-table"], found["ranking-table"]
    assert red["headers"] == ["名次", "名称", "综合得分"]
    assert 1 <= len(red["rows"]) <= 5 and 1 <= len(black["rows"]) <= 5
    reds = {row[1]["text"] for row in red["rows"]}
    assert not reds & {row[1]["text"] for row in black["rows"]}
    assert full["headers"][:3] == ["名次", "名称", "综合得分"]
    assert "按期结案率 得分" in full["headers"]
    assert len(full["rows"]) >= len(red["rows"]) + len(black["rows"])
    # the best of the red list leads the full table; scores fall down the table
    assert red["rows"][0][1]["text"] == full["rows"][0][1]["text"]
    scores = [as_number(row[2]["value"]) for row in full["rows"]]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored, reverse=True)
    html = r.content.decode()
    assert 'data-chart="ranking-spec"' in html and 'id="scheme-weights"' in html


def test_ranking_downloads_hold_the_page_numbers(login_as, schemes) -> None:
    client = login_as("dispatcher")
    params = {"dim": "department", "period": "year"}
    found = tables(client.get(RANKINGS_URL, params).content)
    for table, element in (("all", "ranking-table"), ("red", "red-table"),
                           ("black", "black-table")):
        x = client.get(RANKINGS_URL, {**params, "table": table, "format": "xlsx"})
        assert x.status_code == 200
        headers, rows = xlsx_rows(x.content)
        assert headers == found[element]["headers"]
        assert rows == page_rows(found[element])
    c = client.get(RANKINGS_URL, {**params, "format": "csv"})
    headers, rows = csv_rows(c.content)
    assert rows == page_rows(found["ranking-table"])


def test_the_full_ranking_comes_page_by_page_and_downloads_whole(login_as, schemes) -> None:
    from wangge.analytics.views_metrics import PAGE_SIZE

    client = login_as("dispatcher")
    params = {"dim": "grid", "level": "4", "period": "year"}
    first = client.get(RANKINGS_URL, params)
    rows = tables(first.content)["ranking-table"]["rows"]
    _headers, everyone = csv_rows(client.get(RANKINGS_URL, {**params, "format": "csv"}).content)
    assert len(everyone) > PAGE_SIZE and len(rows) == PAGE_SIZE
    assert 'id="ranking-pager"' in first.content.decode()
    second = tables(client.get(RANKINGS_URL, {**params, "page": "2"}).content)
    assert page_rows({"rows": rows + second["ranking-table"]["rows"]}) == everyone[
        :len(rows) + len(second["ranking-table"]["rows"])]


@pytest.mark.parametrize(("params", "field"), [
    ({"dim": "category"}, "dim"),
    ({"period": "week"}, "period"),
    ({"period": "month", "which": "1999-01"}, "which"),
    ({"scheme": "no-such"}, "scheme"),
    ({"dim": "department", "scheme": "grid-default"}, "scheme"),
    ({"n": "0"}, "n"),
    ({"n": "many"}, "n"),
    ({"format": "doc"}, "format"),
    ({"page": "0"}, "page"),
    ({"page": "999"}, "page"),
])
def test_rankings_bad_parameter_is_400_naming_the_field(login_as, schemes, params,
                                                        field) -> None:
    r = login_as("dispatcher").get(RANKINGS_URL, params)
    assert r.status_code == 400
    assert f'data-field="{field}"' in r.content.decode()


def test_department_staff_see_the_departments_ranking_only(login_as, schemes) -> None:
    client = login_as("department")
    r = client.get(RANKINGS_URL)
    assert r.status_code == 200
    full = tables(r.content)["ranking-table"]["rows"]
    # the departments' ranking is circulated to all: more than their own department
    assert len(full) >= 1
    assert client.get(RANKINGS_URL, {"dim": "grid"}).status_code == 400
    assert client.get(RANKINGS_URL, {"dim": "worker"}).status_code == 400


def test_without_an_active_scheme_the_page_says_so(login_as, schemes) -> None:
    EvaluationScheme.objects.filter(dim="worker").update(active=False)
    r = login_as("dispatcher").get(RANKINGS_URL, {"dim": "worker"})
    assert r.status_code == 200
    assert 'id="no-scheme"' in r.content.decode()


def test_a_grid_worker_ranking_lists_workers(login_as, schemes) -> None:
    r = login_as("dispatcher").get(RANKINGS_URL, {"dim": "worker", "period": "year"})
    assert r.status_code == 200
    rows = tables(r.content)["ranking-table"]["rows"]
    names = {row[1]["text"] for row in rows}
    # the people who reported (or patrolled, visited …): named, never a phone or an ID
    people = set(Person.objects.filter(name__in=names).values_list("name", flat=True))
    assert names and names == people
    assert Person.objects.filter(name__in=names, roles__role=Role.GRID_WORKER).exists()
