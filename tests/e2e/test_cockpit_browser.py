"""The leaders' dashboard (驾驶舱) in real Chromium over the demo city: on a 1920×1080 wall
screen it draws its charts and map without scrolling, follows a case closed on the server
without a reload, keeps its figures and says so when the server does not answer; on a
phone it stacks without sideways scrolling."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser

COCKPIT = "/console/analytics/cockpit/"


def number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


def api(server: Server, token: str, path: str, body: dict | None = None) -> object:
    request = urllib.request.Request(
        f"{server.url}/api/v1{path}", method="POST" if body is not None else "GET",
        data=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        assert r.status == 200
        return json.loads(r.read())


def loaded(page: Page) -> None:
    expect(page.locator("#cockpit")).to_have_attribute("data-rounds", re.compile(r"^\d+$"))


def test_the_wall_screen_draws_and_follows_a_closed_case(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, server, "dispatcher")
    token = server.cli("tokens", "create", "--user", "dispatcher").stdout.strip().splitlines()[-1]
    ready = api(server, token, "/cases/?state=verified&limit=1")
    assert ready, "the demo has a verified case to close"
    page.goto(server.url + COCKPIT + "?refresh=2")
    loaded(page)
    # the five counters, today and cumulative
    for code in ("visits", "events", "opinions", "proxy_items", "leaflets"):
        expect(page.locator(f"#total-{code}")).to_have_text(re.compile(r"^[\d,]+$"))
        expect(page.locator(f"#today-{code}")).to_have_text(re.compile(r"^[\d,]+$"))
    # each chart is drawn (ECharts paints a canvas inside its container)
    for chart in ("chart-flow", "chart-rates", "chart-departments"):
        expect(page.locator(f"#{chart} canvas").first).to_be_visible()
    # the map: the month's density choropleth, one path per basic grid
    expect(page.locator("#cockpit-map .leaflet-overlay-pane path").nth(100)).to_be_attached()
    expect(page.locator("#updated-time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    expect(page.locator("#late-count")).to_have_text(re.compile(r"^[\d,]+$"))
    expect(page.locator("#stale")).to_be_hidden()
    # one screen: nothing to scroll on the wall
    over = page.evaluate("[document.documentElement.scrollWidth - innerWidth,"
                         " document.documentElement.scrollHeight - innerHeight]")
    assert over[0] <= 0 and over[1] <= 0, f"the wall screen scrolls by {over}"
    page.screenshot(path=str(server_shot(server, "cockpit-1920.png")))

    closed_text = page.locator("#flow-closed").inner_text()
    closed = number(closed_text)
    page.evaluate("window.__sameDocument = true")
    api(server, token, f"/cases/{ready[0]['register_no']}/actions/close",
        {"closeout_reason": "驾驶舱测试：现场核实已处置"})
    started = time.monotonic()
    expect(page.locator("#flow-closed")).not_to_have_text(closed_text, timeout=30_000)
    took = time.monotonic() - started
    assert number(page.locator("#flow-closed").inner_text()) == closed + 1
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    print(f"cockpit: a closed case showed after {took:.1f} s (refresh 2 s)")
    # the ticker has the close at its head: category and grid, no title
    expect(page.locator("#ticker li").first.locator(".t-action")).to_have_text("销号")
    assert ready[0]["title"] not in page.locator("#ticker").inner_text()


def test_a_failed_refresh_keeps_the_figures_and_says_so(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    login(page, server, "dispatcher")
    page.goto(server.url + COCKPIT + "?refresh=2")
    loaded(page)
    total = page.locator("#total-events").inner_text()
    page.route("**/cockpit/data*", lambda route: route.abort())
    expect(page.locator("#stale")).to_be_visible()
    expect(page.locator("#total-events")).to_have_text(total)
    page.unroute("**/cockpit/data*")
    expect(page.locator("#stale")).to_be_hidden()


def test_on_a_phone_the_panels_stack_without_sideways_scrolling(page: Page, server: Server
                                                                ) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, server, "station")
    page.goto(server.url + COCKPIT)
    loaded(page)
    expect(page.locator("#chart-flow canvas").first).to_be_visible()
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the cockpit is {wide}px wide on a 390px phone"
    page.screenshot(path=str(server_shot(server, "cockpit-390.png")), full_page=True)


def test_department_staff_get_no_cockpit(page: Page, server: Server) -> None:
    login(page, server, "department")
    response = page.goto(server.url + COCKPIT)
    assert response is not None and response.status == 403
