"""The console map in real Chromium: drilled from the city to a basic grid by tapping on a
touch phone, a clustered case marker opened, and the same page on a desktop screen."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser

#: a title that would be markup if it were ever written as HTML
HOSTILE = '<img src=x data-evil="1">井盖缺失'


def api(server: Server, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(
        server.url + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def reported(server: Server) -> dict[str, Any]:
    """Three cases reported a few metres apart in 胜利社区第1网格: one cluster."""
    token = server.cli("tokens", "create", "--user", "gridworker").stdout.strip().splitlines()[-1]
    # the grid worker's scope is their basic grid: its label point lies inside it
    (grid,) = api(server, token, "/api/v1/grids/top.geojson")["features"]
    basic = api(server, token, f"/api/v1/grids/{grid['properties']['code']}")
    assert basic["name"] == "胜利社区第1网格"
    lng, lat = grid["properties"]["label"]
    nos = [api(server, token, "/api/v1/cases/",
               {"category": "0601", "title": HOSTILE if i == 0 else f"井盖缺失{i}",
                "lng": lng + 0.00004 * i, "lat": lat})["register_no"] for i in range(3)]
    # the codes from the city down: city, zone, street, community, basic grid
    return {"nos": nos, "basic": basic["code"], "path": basic["path"]}


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, errors


def crumbs(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#crumbs button.crumb").all_inner_texts()]


def no_sideways_scroll(page: Page) -> None:
    wide = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert wide[0] <= wide[1], f"the page scrolls sideways: {wide}"


def centre_of(page: Page, selector: str) -> tuple[float, float]:
    box = page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return [r.left + r.width / 2, r.top + r.height / 2]; }", selector)
    return box[0], box[1]


def tap_grid(page: Page, code: str) -> None:
    """Tap the grid's name, or the grid where its name would be when it does not fit. A
    cluster of case markers may lie there: tapping it zooms in, as a user would, and the
    name shows once it fits."""
    panel = page.locator("#panel .grid-panel")
    label = page.locator(f'#map .grid-label[data-code="{code}"]')
    for _ in range(5):
        label.scroll_into_view_if_needed()  # a tap off the screen reaches nothing
        # a point of the name that no case marker covers, else its centre
        x, y = page.evaluate(
            """s => { const l = document.querySelector(s), r = l.getBoundingClientRect();
              for (const fx of [.5, .2, .8]) for (const fy of [.5, .2, .8]) {
                const x = r.left + r.width * fx, y = r.top + r.height * fy;
                if (l.contains(document.elementFromPoint(x, y))) return [x, y]; }
              return [r.left + r.width / 2, r.top + r.height / 2]; }""",
            f'#map .grid-label[data-code="{code}"]')
        page.touchscreen.tap(x, y)
        # wait for the panel to answer (slow under load), not a fixed time; if it does not,
        # the tap met a cluster (which zoomed in) or the name moved: aim again
        try:
            expect(panel).to_have_attribute("data-code", code, timeout=4000)
            return
        except AssertionError:
            continue
    expect(panel).to_have_attribute("data-code", code)


def test_tapping_from_the_city_down_to_a_basic_grid_and_a_case(
        phone: Page, server: Server, reported: dict[str, Any]) -> None:
    page = phone
    login(page, server, "dispatcher")
    m = page.locator("#map")
    expect(m).to_have_attribute("data-level", "1")
    expect(m).to_have_attribute("data-count", "5")
    assert crumbs(page) == ["全部", "醴陵市"]
    expect(page.locator("#panel h2")).to_have_text("醴陵市")
    # the grid being viewed offers no 进入下一级 (it reopened the same grid: 醴陵市 › 醴陵市)
    expect(page.locator("#panel button.drill")).to_be_hidden()
    # names are labels on the map, visible without hovering, and there is a legend
    expect(page.locator("#map .grid-label:not(.label-hidden)")).not_to_have_count(0)
    expect(page.locator(".map-legend .legend-swatch").first).to_be_visible()
    no_sideways_scroll(page)

    trail = ["全部", "醴陵市"]
    _city, *below, basic = reported["path"]
    for level, code in enumerate(below, start=1):
        tap_grid(page, code)
        name = page.locator("#panel h2").inner_text()
        page.locator("#panel button.drill").tap()
        expect(m).to_have_attribute("data-level", str(level + 1))
        trail.append(name)
        expect(page.locator("#crumbs button.crumb")).to_have_count(len(trail))
        assert crumbs(page) == trail
        no_sideways_scroll(page)
    # the panel of the community being viewed does not offer to open it again
    expect(page.locator("#panel button.drill")).to_be_hidden()
    assert trail[-2:] == ["来龙门街道", "胜利社区"]
    tap_grid(page, basic)
    expect(page.locator("#panel h2")).to_have_text("胜利社区第1网格")
    expect(page.locator("#panel button.drill")).to_have_count(0)  # a basic grid: no level below
    expect(page.locator("#panel .n-open")).not_to_have_text("0")
    assert crumbs(page) == trail

    # the open cases of the community are clustered markers; open ours by tapping
    expect(m).not_to_have_attribute("data-cases", "0")
    target = reported["nos"][0]
    pin = page.locator(f'#map .case-pin[title="{target}"]')
    for _ in range(12):
        if pin.count() and pin.is_visible():
            break
        clusters = page.locator("#map .marker-cluster")
        if not clusters.count():
            page.wait_for_timeout(300)
            continue
        # tap the cluster nearest to where the cases were reported (the grid's label point)
        gx, gy = centre_of(page, f'#map .grid-label[data-code="{reported["basic"]}"]')
        boxes = [b for b in (c.bounding_box() for c in clusters.all()) if b]
        best = min(boxes, key=lambda b: (b["x"] + b["width"] / 2 - gx) ** 2
                   + (b["y"] + b["height"] / 2 - gy) ** 2)
        page.touchscreen.tap(best["x"] + best["width"] / 2, best["y"] + best["height"] / 2)
        try:  # the zoom or spiderfy shows it, or the next cluster needs a tap
            expect(pin).to_be_visible(timeout=2000)
        except AssertionError:
            continue
    expect(pin).to_be_visible()
    pin.tap()
    popup = page.locator(".leaflet-popup .case-popup")
    expect(popup.locator(".case-no")).to_have_text(target)
    expect(popup.locator(".case-no")).to_have_attribute("href", f"/console/cases/{target}/")
    # the hostile title is shown as text, never made into an element
    expect(popup.locator(".case-title")).to_have_text(HOSTILE)
    assert page.locator("[data-evil]").count() == 0
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "map-phone-case.png")))

    # back up by the breadcrumb: the city once, not twice
    page.locator("#crumbs button.crumb", has_text="醴陵市").tap()
    expect(m).to_have_attribute("data-level", "1")
    assert crumbs(page) == ["全部", "醴陵市"]


def test_desktop_map_colours_by_late_or_open_cases(page: Page, server: Server,
                                                    reported: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, server, "dispatcher")
    m = page.locator("#map")
    expect(m).to_have_attribute("data-count", "5")
    expect(page.locator("#map .grid-label:not(.label-hidden)")).to_have_count(5)
    expect(page.locator('.legend-mode[aria-pressed="true"]')).to_have_text("超期")
    fills = page.eval_on_selector_all("#map path.leaflet-interactive",
                                      "ps => ps.map(p => p.getAttribute('fill'))")
    page.locator(".legend-mode", has_text="未结").click()
    expect(m).to_have_attribute("data-mode", "open")
    expect(page.locator('.legend-mode[aria-pressed="true"]')).to_have_text("未结")
    after = page.eval_on_selector_all("#map path.leaflet-interactive",
                                      "ps => ps.map(p => p.getAttribute('fill'))")
    assert fills != after  # the colours follow the chosen count
    # the case markers can be put away and brought back
    markers = page.locator("#map .leaflet-marker-pane .leaflet-marker-icon")
    expect(markers.first).to_be_visible()
    page.locator(".legend-pins-toggle").click()
    expect(markers).to_have_count(0)
    expect(page.locator(".legend-pins-toggle")).to_have_attribute("aria-pressed", "false")
    page.locator(".legend-pins-toggle").click()
    expect(markers.first).to_be_visible()
    # a double click on a zone opens it (desktop); the crumbs grow by one, once. The pins
    # are put away first: with the demo's cases a marker or a cluster may lie on the zone's
    # name, and a double click there opens the marker, not the zone.
    page.locator(".legend-pins-toggle").click()
    expect(markers).to_have_count(0)
    zone = reported["path"][1]
    x, y = centre_of(page, f'#map .grid-label[data-code="{zone}"]')
    page.mouse.dblclick(x, y)
    expect(m).to_have_attribute("data-level", "2")
    expect(page.locator("#crumbs button.crumb")).to_have_count(3)
    assert crumbs(page)[:2] == ["全部", "醴陵市"] and crumbs(page)[2] != "醴陵市"
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "map-desktop.png")))
    assert not errors, errors
