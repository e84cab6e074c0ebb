"""The report form in the rain, in real Chromium on a phone (390×844): a grid worker lands on
their desk, taps 上报事件, uses the phone's location (pin on a small map, "位于 胜利社区第1网格"),
forgets the title, gets the form back with the photo still there, and files the case: the
success page shows the register number and the follow code. With the location refused, the
form says so in plain words."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}
TITLE = "E2E 雨天路面塌陷"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(out, format="JPEG")
    return out.getvalue()


def no_sideways_scroll(page: Page) -> None:
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), \
        f"{page.url} scrolls sideways at {page.viewport_size}"


def new_context(browser: Browser, args: dict, viewport: dict[str, int]  # type: ignore[type-arg]
                ) -> BrowserContext:
    return browser.new_context(**{**args, "viewport": viewport})


def worker_spot(page: Page) -> tuple[float, float]:
    """A point inside 胜利社区第1网格 (the demo grid worker's grid): its label point."""
    top = page.evaluate("fetch('/api/v1/grids/top.geojson').then(r => r.json())")
    feature = next(f for f in top["features"] if f["properties"]["name"] == "胜利社区第1网格")
    lng, lat = feature["properties"]["label"]
    return lat, lng


def test_a_grid_worker_reports_in_the_rain(browser: Browser, server: Server,
                                          browser_context_args: dict) -> None:  # type: ignore[type-arg]
    phone = new_context(browser, browser_context_args, PHONE)
    errors: list[str] = []
    page = phone.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, server, "gridworker")

    # the desk: what is theirs and a big button
    expect(page.locator("#worker-home")).to_be_visible()
    big = page.get_by_role("link", name="上报事件")
    expect(big).to_be_visible()
    assert big.bounding_box()["height"] >= 60  # type: ignore[index]
    expect(page.locator("#verify-title")).to_contain_text("待我核查")
    expect(page.locator("#reported-title")).to_contain_text("我上报的")
    expect(page.locator("#reminders-title")).to_contain_text("未读提醒")
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "worker-home-phone.png")), full_page=True)

    lat, lng = worker_spot(page)
    phone.grant_permissions(["geolocation"], origin=server.url)
    phone.set_geolocation({"latitude": lat, "longitude": lng})
    big.click()

    expect(page.locator("h1")).to_have_text("上报事件")
    expect(page.get_by_label("来源渠道")).to_have_count(0)  # a grid worker reports as one
    page.get_by_label("事件分类").select_option("0801")
    page.get_by_role("button", name="使用当前位置").click()
    expect(page.locator("#report-where")).to_have_text("位于 胜利社区第1网格")
    expect(page.locator("#report-map")).to_be_visible()
    expect(page.locator("#report-map path.report-pin")).to_be_attached()
    expect(page.locator("#report-map path.leaflet-interactive").first).to_be_attached()
    page.locator("#id_photos").set_input_files(
        [{"name": "pit.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "report-form-phone.png")), full_page=True)

    # no title: the form comes back, the photo and the location are still there
    page.get_by_role("button", name="上报", exact=True).click()
    expect(page.locator(".field.invalid #id_title")).to_be_visible()
    kept = page.locator(".kept-photos img")
    expect(kept).to_have_count(1)
    page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=kept.element_handle())
    expect(page.locator("input[name=kept_photo]")).to_be_checked()
    expect(page.locator("#report-where")).to_have_text("位于 胜利社区第1网格")
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "report-form-kept-phone.png")), full_page=True)

    page.get_by_label("标题").fill(TITLE)
    page.get_by_role("button", name="上报", exact=True).click()

    expect(page.locator("h1")).to_have_text("上报成功")
    register_no = page.locator(".register-no").inner_text()
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d{6}", register_no), register_no
    expect(page.locator(".follow-code")).not_to_be_empty()
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "report-success-phone.png")), full_page=True)

    page.get_by_role("link", name="查看事件").click()
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator(".facts")).to_contain_text("胜利社区第1网格")
    expect(page.locator(".photos img")).to_have_count(1)  # the kept photo made it

    page.goto(server.url + "/")  # the desk lists it under 我上报的
    expect(page.locator(".reported-list")).to_contain_text(register_no)
    assert errors == [], errors
    phone.close()


def test_a_refused_location_is_said_plainly(browser: Browser, server: Server,
                                           browser_context_args: dict) -> None:  # type: ignore[type-arg]
    phone = new_context(browser, browser_context_args, PHONE)
    page = phone.new_page()
    login(page, server, "gridworker")
    phone.clear_permissions()  # the person said no to the location prompt
    page.goto(server.url + "/console/cases/new/")
    page.get_by_role("button", name="使用当前位置").click()
    where = page.locator("#report-where")
    expect(where).to_have_attribute("data-state", "denied")
    expect(where).to_contain_text("您拒绝了位置权限")
    expect(page.locator("#report-map")).to_be_hidden()
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "report-denied-phone.png")), full_page=True)
    phone.close()


def test_the_form_and_the_desk_on_a_desktop(browser: Browser, server: Server,
                                            browser_context_args: dict) -> None:  # type: ignore[type-arg]
    desk = new_context(browser, browser_context_args, DESKTOP)
    page = desk.new_page()
    login(page, server, "dispatcher")
    expect(page.locator("#map")).to_be_visible()  # the desks keep the map
    page.goto(server.url + "/console/cases/new/")
    expect(page.get_by_label("来源渠道")).to_be_visible()  # and choose the channel
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "report-form-desktop.png")), full_page=True)
    desk.close()

    desk = new_context(browser, browser_context_args, DESKTOP)
    page = desk.new_page()
    login(page, server, "gridworker")
    expect(page.locator("#worker-home")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "worker-home-desktop.png")), full_page=True)
    desk.close()
