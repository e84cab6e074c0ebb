"""The figures pages (考核指标, 红黑榜) in real Chromium on the demo city: the ECharts charts
draw on their canvas, the tables have rows, a CSV download holds the numbers of the table
on the page; the 红榜 and 黑榜 stand side by side on a wall screen and stack on a phone,
where nothing scrolls sideways."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server, signed_in

pytestmark = pytest.mark.browser

METRICS = "/console/analytics/"
RANKINGS = "/console/analytics/rankings/"
#: last month: the demo's cases fall in it whatever day the test runs
_LAST = dt.date.today().replace(day=1) - dt.timedelta(days=1)
SPAN = f"from={_LAST.replace(day=1)}&to={_LAST}"
#: the figures are counted from the records until the rollups hold the days: on a loaded
#: two-core machine a page can take longer than Playwright's 30 s default to answer
NAVIGATION_MS = 180_000
WALL = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}

#: true when the canvas inside the element has at least one painted pixel
PAINTED = """(el) => {
  const canvas = el.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return false;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
  return false;
}"""


def watched(ctx: BrowserContext) -> tuple[Page, list[str]]:
    page = ctx.new_page()
    page.set_default_navigation_timeout(NAVIGATION_MS)
    page.set_default_timeout(NAVIGATION_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


@pytest.fixture
def wall(browser: Browser, server: Server) -> Iterator[tuple[Page, list[str]]]:
    ctx = signed_in(browser, server, "dispatcher", viewport=WALL, accept_downloads=True)
    page, errors = watched(ctx)
    yield page, errors
    ctx.close()


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[tuple[Page, list[str]]]:
    ctx = signed_in(browser, server, "dispatcher", viewport=PHONE, is_mobile=True,
                    has_touch=True, accept_downloads=True)
    page, errors = watched(ctx)
    yield page, errors
    ctx.close()


def drawn(page: Page, chart: str) -> None:
    element = page.locator(f"#{chart}-chart")
    expect(element).to_have_attribute("data-drawn", re.compile("^(bar|hbar|line|pie)$"))
    page.wait_for_function(f"(el) => ({PAINTED})(el)", arg=element.element_handle())


def number(value: str) -> float | str | None:
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return value


def table_values(page: Page, table: str) -> list[list[float | str | None]]:
    raw = page.locator(f"#{table} tbody tr").evaluate_all(
        "(rows) => rows.map(r => Array.from(r.cells).map(c => c.dataset.value ?? ''))")
    return [[number(v) for v in row] for row in raw]


def test_metrics_page_draws_its_charts_and_the_csv_matches_the_table(
        wall: tuple[Page, list[str]], server: Server) -> None:
    page, errors = wall
    page.goto(f"{server.url}{METRICS}?by=category&period=week&{SPAN}")
    drawn(page, "breakdown")
    drawn(page, "trend")
    rows = page.locator("#breakdown-table tbody tr")
    assert rows.count() >= 3  # categories and the total
    expect(rows.last.locator("td").first).to_have_text("合计")
    weeks = {(_LAST - dt.timedelta(days=n)).isocalendar()[:2] for n in range(_LAST.day)}
    expect(page.locator("#trend-table tbody tr")).to_have_count(len(weeks))
    shown = table_values(page, "breakdown-table")
    with page.expect_download() as info:
        page.locator("#breakdown .an-downloads a").filter(has_text="CSV").click()
    content = open(info.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    lines = list(csv.reader(io.StringIO(content)))
    headers = page.locator("#breakdown-table thead th").all_inner_texts()
    assert lines[0] == [h.strip() for h in headers]
    assert [[number(v) for v in row] for row in lines[1:]] == shown
    # a change of metric redraws the bar chart with that metric
    page.locator("select[name=metric]").select_option("on_time_close_rate")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#breakdown-title")).to_contain_text("按期结案率")
    drawn(page, "breakdown")
    assert errors == []


def test_a_bad_date_shows_the_form_error(wall: tuple[Page, list[str]], server: Server) -> None:
    page, _errors = wall
    response = page.goto(f"{server.url}{METRICS}?from=2026-05-10&to=2026-05-01")
    assert response is not None and response.status == 400
    expect(page.locator("#form-errors li[data-field=to]")).to_contain_text("结束日期早于开始日期")


def test_rankings_show_both_lists_side_by_side_on_a_wall_screen(
        wall: tuple[Page, list[str]], server: Server) -> None:
    page, errors = wall
    page.goto(f"{server.url}{RANKINGS}?dim=grid&level=2&period=month&which={_LAST:%Y-%m}")
    drawn(page, "ranking")
    red, black = page.locator("#red"), page.locator("#black")
    expect(page.locator("#red-table tbody tr").first).to_be_visible()
    expect(page.locator("#black-table tbody tr").first).to_be_visible()
    assert page.locator("#red-table tbody tr").count() >= 1
    assert page.locator("#black-table tbody tr").count() >= 1
    r, b = red.bounding_box(), black.bounding_box()
    assert r and b and abs(r["y"] - b["y"]) < 2 and b["x"] > r["x"] + r["width"] - 1
    assert page.locator("#ranking-table tbody tr").count() >= 2
    assert errors == []


@pytest.mark.parametrize("path", [f"{METRICS}?by=grid&{SPAN}",
                                  f"{RANKINGS}?dim=worker&period=month"])
def test_phone_stacks_and_never_scrolls_sideways(phone: tuple[Page, list[str]], server: Server,
                                                 path: str) -> None:
    page, errors = phone
    page.goto(server.url + path)
    chart = "ranking" if path.startswith(RANKINGS) else "breakdown"
    drawn(page, chart)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    box = page.locator(f"#{chart}-chart").bounding_box()
    assert box and box["width"] >= PHONE["width"] - 60  # the chart takes the width
    if chart == "ranking":
        r, b = page.locator("#red").bounding_box(), page.locator("#black").bounding_box()
        assert r and b and b["y"] >= r["y"] + r["height"] - 1  # stacked
    assert errors == []
