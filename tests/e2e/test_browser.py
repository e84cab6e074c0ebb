"""The console map and the public QR page in real headless Chromium."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

pytestmark = pytest.mark.browser

PASSWORD = "wangge-demo-2026"


def login(page: Page, server: Server, username: str) -> None:
    page.goto(server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # the map, or a grid worker's desk (their map is one tap away: /?view=map)
    expect(page.locator("#map, #worker-home")).to_be_visible()


def map_shows(page: Page, level: int, count: int) -> None:
    expect(page.locator("#map")).to_have_attribute("data-level", str(level))
    expect(page.locator("#map")).to_have_attribute("data-count", str(count))
    expect(page.locator("#map path.leaflet-interactive")).to_have_count(count)


def test_dispatcher_drills_down_the_grid_tree(page: Page, server: Server) -> None:
    login(page, server, "dispatcher")
    map_shows(page, 1, 5)  # the city opens on its five zones
    expect(page.locator("#panel h2")).to_have_text("醴陵市")
    expect(page.locator("#crumbs")).to_contain_text("醴陵市")
    # force: the grid's name label (a tap target of its own) may lie over the polygon
    page.locator("#map path.leaflet-interactive").first.click(force=True)
    expect(page.locator("#panel .grid-panel")).to_have_attribute("data-code", re.compile(r"\d+"))
    # go down through 来龙门街道 to 胜利社区 using the panel
    for name, level in [("来龙门街道", 2), ("胜利社区", 3)]:
        code = page.evaluate(
            f"fetch('/api/v1/grids/?level={level}').then(r => r.json())"
            f".then(gs => gs.find(g => g.name === {json.dumps(name)}).code)"
        )
        page.evaluate(f"htmx.ajax('GET', '/console/grids/{code}/', '#panel')")
        expect(page.locator("#panel h2")).to_have_text(name)
        page.locator("#panel button.drill").click()
        expect(page.locator("#map")).to_have_attribute("data-level", str(level + 1))
    count = int(page.locator("#map").get_attribute("data-count"))
    assert count >= 2
    expect(page.locator("#crumbs")).to_have_text(re.compile("醴陵市.*来龙门街道.*胜利社区"))
    # force: the grid's name label (a tap target of its own) may lie over the polygon
    page.locator("#map path.leaflet-interactive").first.click(force=True)
    expect(page.locator("#panel")).to_contain_text("网格员")
    expect(page.locator("#panel")).to_contain_text("责任网格员")
    page.screenshot(path=str(server_shot(server, "console-map.png")))


def test_grid_worker_map_holds_only_their_grid(page: Page, server: Server) -> None:
    login(page, server, "gridworker")
    page.goto(server.url + "/?view=map")
    map_shows(page, 4, 1)
    expect(page.locator("#panel h2")).to_have_text("胜利社区第1网格")
    status = page.evaluate("fetch('/api/v1/grids/430281000000').then(r => r.status)")
    assert status == 404


def test_qr_page_on_a_phone_signed_out(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/login/")
    token = server.cli("tokens", "create", "--user", "station").stdout.strip().splitlines()[-1]
    import urllib.request

    req = urllib.request.Request(server.url + "/api/v1/grids/?level=4",
                                 headers={"Authorization": f"Bearer {token}"})
    grids = json.loads(urllib.request.urlopen(req).read())
    first = next(g for g in grids if g["name"] == "胜利社区第1网格")
    req = urllib.request.Request(server.url + f"/api/v1/grids/{first['code']}",
                                 headers={"Authorization": f"Bearer {token}"})
    detail = json.loads(urllib.request.urlopen(req).read())
    page.context.clear_cookies()
    page.goto(detail["qr_url"])
    expect(page.locator("h1")).to_have_text("胜利社区第1网格")
    expect(page.locator(".chain")).to_contain_text("来龙门街道")
    expect(page.locator(".worker .call")).to_have_attribute("href", re.compile(r"^tel:\d+"))
    expect(page.locator(".station")).to_contain_text("胜利社区网格化工作站")
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, "the page scrolls sideways on a phone"
    page.screenshot(path=str(server_shot(server, "qr-page.png")), full_page=True)


def server_shot(server: Server, name: str):
    from pathlib import Path

    folder = Path(server.env["WANGGE_DATA_DIR"]) / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder / name
