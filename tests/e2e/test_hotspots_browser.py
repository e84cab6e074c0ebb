"""The hot spots page (热点分析) in real Chromium on the demo city: the choropleth of the
basic grids, the heat layer's canvas, the clusters table with links to the cases, the
quick periods; on a 390×844 phone nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server, signed_in

pytestmark = pytest.mark.browser

URL = "/console/analytics/hotspots/"


@pytest.fixture
def desk(browser: Browser, server: Server) -> Iterator[Page]:
    ctx = signed_in(browser, server, "dispatcher", viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # (a period the API refuses is a 422 the page shows: the browser logs the answer too)
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    yield page
    ctx.close()
    assert errors == []


def ready(page: Page) -> None:
    expect(page.locator("#hotspot-map")).to_have_attribute("data-state", "ready")


def test_choropleth_heat_and_clusters_on_a_wide_screen(desk: Page, server: Server) -> None:
    page = desk
    page.goto(server.url + URL)
    ready(page)
    count = int(page.locator("#hotspot-map").get_attribute("data-count") or 0)
    assert count == 820  # Liling's basic grids, one polygon each
    expect(page.locator("#hotspot-map .leaflet-overlay-pane path.leaflet-interactive")) \
        .to_have_count(count + int(page.locator("#hotspot-map").get_attribute("data-clusters")))
    # the legend names the classes, from 无事件 up
    expect(page.locator(".map-legend li").first).to_have_text("无事件")
    assert page.locator(".map-legend li").count() >= 2
    # the clusters table lists rows, each with its case numbers (links to the case page)
    rows = page.locator("#cluster-table tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() == int(page.locator("#hotspot-map").get_attribute("data-clusters"))
    link = rows.first.locator("td.cases a").first
    expect(link).to_have_attribute("href", r"/console/cases/" + link.inner_text() + "/")
    expect(page.locator("#density-table tbody tr").first).to_be_visible()
    # the heat layer: off at first, its canvas appears when switched on, goes when off
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(0)
    page.get_by_label("热力图").check()
    expect(page.locator("#hotspot-map canvas.leaflet-heatmap-layer")).to_have_count(1)
    assert int(page.locator("#hotspot-map").get_attribute("data-heat")) > 0
    page.get_by_label("热力图").uncheck()
    expect(page.locator("canvas.leaflet-heatmap-layer")).to_have_count(0)
    # a click on a cluster row brings the map to it and marks the row
    rows.first.locator("td").first.click()
    expect(rows.first).to_have_class("picked")
    # the download links carry the filters
    href = page.locator("a.download[data-table=clusters][data-format=xlsx]").get_attribute("href")
    assert href.startswith("/api/v1/analytics/hotspots/clusters?") and "format=xlsx" in href
    with page.expect_download() as got:
        page.locator("a.download[data-table=density][data-format=csv]").click()
    assert got.value.suggested_filename.startswith("事件密度")


def test_filters_and_a_bad_period(desk: Page, server: Server) -> None:
    page = desk
    page.goto(server.url + URL)
    ready(page)
    before = page.locator("#hotspot-summary").inner_text()
    page.get_by_role("button", name="本月").click()
    ready(page)
    expect(page.get_by_role("button", name="本月")).to_have_attribute("aria-pressed", "true")
    # a town: only its basic grids are drawn
    page.locator("select[name=grid]").select_option(label="　　来龙门街道")
    ready(page)
    town = int(page.locator("#hotspot-map").get_attribute("data-count"))
    assert 0 < town < 820
    assert page.locator("#hotspot-summary").inner_text() != "" and before != ""
    # from after to: the API's 422 message is shown, nothing drawn from it
    page.locator("input[name=from]").fill("2030-01-01")
    page.locator("input[name=from]").dispatch_event("change")
    expect(page.locator("#hotspot-error")).to_be_visible()
    expect(page.locator("#hotspot-error")).to_contain_text("开始日期晚于结束日期")
    page.get_by_role("button", name="本年").click()
    ready(page)
    expect(page.locator("#hotspot-error")).to_be_hidden()


def test_phone_no_sideways_scroll(browser: Browser, server: Server) -> None:
    ctx = signed_in(browser, server, "station", viewport={"width": 390, "height": 844},
                    is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page = ctx.new_page()
        page.goto(server.url + URL)
        ready(page)
        assert int(page.locator("#hotspot-map").get_attribute("data-count")) >= 2
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        box = page.locator("#hotspot-map").bounding_box()
        assert box and box["width"] > 330  # the map takes the screen's width
    finally:
        ctx.close()
