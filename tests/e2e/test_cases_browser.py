"""A case in real Chromium: a grid worker reports a fallen tree from a phone with a photo and
the phone's location; the dispatcher registers and dispatches it; the department accepts it
from its inbox; the reporter's public page follows along without showing the case's words."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "forestgreen").save(out, format="JPEG")
    return out.getvalue()


def test_a_fallen_tree_from_phone_to_department(page: Page, browser: Browser, server: Server,
                                                browser_context_args: dict) -> None:  # type: ignore[type-arg]
    def context(width: int, height: int) -> BrowserContext:
        return browser.new_context(**{**browser_context_args,
                                      "viewport": {"width": width, "height": height}})

    page.set_viewport_size({"width": 390, "height": 844})
    login(page, server, "gridworker")
    top = page.evaluate("fetch('/api/v1/grids/top.geojson').then(r => r.json())")
    lng, lat = top["features"][0]["properties"]["label"]
    page.context.grant_permissions(["geolocation"], origin=server.url)
    page.context.set_geolocation({"latitude": lat + 0.0003, "longitude": lng + 0.0003})

    page.goto(server.url + "/console/cases/new/")
    page.get_by_label("事件分类").select_option("0801")
    page.get_by_label("标题").fill("E2E 大树倒伏堵住社区入口")
    page.get_by_role("button", name="使用当前位置").click()
    expect(page.locator("#id_lat")).not_to_have_value("")
    page.locator("#id_photos").set_input_files(
        [{"name": "tree.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    page.get_by_role("button", name="上报", exact=True).click()
    expect(page.locator("h1")).to_have_text("上报成功")
    page.get_by_role("link", name="查看事件").click()

    expect(page.locator("h1")).to_contain_text("E2E 大树倒伏堵住社区入口")
    expect(page.locator(".facts")).to_contain_text("胜利社区第1网格")
    register_no = page.locator(".facts dd").first.inner_text()
    image = page.locator(".photos img").first
    expect(image).to_be_visible()
    page.wait_for_function("i => i.complete && i.naturalWidth === 400",
                           arg=image.element_handle())
    expect(page.locator("#case-map path.leaflet-interactive").first).to_be_attached()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.screenshot(path=str(server_shot(server, "case-phone.png")), full_page=True)

    desk = context(1280, 900)
    dispatcher = desk.new_page()
    login(dispatcher, server, "dispatcher")
    dispatcher.goto(server.url + "/console/cases/?queue=mine")
    dispatcher.get_by_role("link", name=register_no).click()
    dispatcher.get_by_role("button", name="登记立案").click()
    expect(dispatcher.locator(".badge")).to_have_text("已登记")
    dispatcher.get_by_role("button", name="派遣").click()
    expect(dispatcher.locator(".badge")).to_have_text("已派遣")
    expect(dispatcher.locator(".routed-by")).to_contain_text("城市管理")
    desk.close()

    office = context(1280, 900)
    dept = office.new_page()
    login(dept, server, "department")
    dept.goto(server.url + "/console/cases/inbox/")
    row = dept.locator("tr", has_text=register_no)
    row.get_by_role("button", name="签收").click()
    expect(dept.locator(".badge")).to_have_text("已签收")
    dept.screenshot(path=str(server_shot(server, "case-desk.png")), full_page=True)
    office.close()

    public = context(390, 844).new_page()
    public.goto(f"{server.url}/cases/status/{register_no}")
    expect(public.locator(".status-card")).to_contain_text("已签收")
    assert "大树" not in public.content()
    public.context.close()
