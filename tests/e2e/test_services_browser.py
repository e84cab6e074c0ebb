"""The service hall on a resident's phone (Chromium at 390×844, signed out): type 老年证, the
results follow the typing; open the guide; 请网格员帮我办 — pick the community and grid,
give a name and phone; keep the number and follow code; look it up on the status page. No
page scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import server_shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ELDERLY_CARD = "老年人优待证（老年证）办理与年审"


def _fits(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{where} is {width}px wide"


def test_search_guide_ask_my_worker_and_follow_it(browser: Browser, server: Server) -> None:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                              device_scale_factor=2, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(server.url + "/services/")
    expect(page.get_by_role("heading", name="常办事项")).to_be_visible()
    _fits(page, "/services/")
    box = page.get_by_role("searchbox")
    box.fill("老年证")  # no Enter: the results follow the typing
    hit = page.locator(".item-list a", has_text=ELDERLY_CARD).first
    expect(hit).to_be_visible()
    expect(hit.locator(".badge-proxy")).to_have_text("可代办")
    assert "q=" in page.url  # the typed query is in the address, for the back button
    page.screenshot(path=str(server_shot(server, "services-phone-search.png")), scale="css")
    _fits(page, "search results")

    hit.tap()
    expect(page.get_by_role("heading", name=ELDERLY_CARD)).to_be_visible()
    expect(page.get_by_role("heading", name="申请材料")).to_be_visible()
    page.screenshot(path=str(server_shot(server, "services-phone-guide.png")), full_page=True,
                    scale="css")
    _fits(page, "the guide")

    page.get_by_role("link", name="请网格员帮我办").tap()
    expect(page.get_by_role("heading", name="您住在哪里？")).to_be_visible()
    _fits(page, "the community picker")
    page.get_by_label("社区（村）").select_option(label="胜利社区")  # sends the form by itself
    page.get_by_label("网格").select_option(label="胜利社区第1网格")
    page.get_by_role("button", name="下一步").tap()
    expect(page.get_by_role("heading", name="请网格员帮我办")).to_be_visible()
    expect(page.locator(".card.worker .name")).not_to_be_empty()
    worker = page.locator(".card.worker .name").inner_text()
    _fits(page, "the booking form")

    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("联系电话").fill("139 1234 5678")
    page.get_by_label("补充说明（选填）").fill("上午在家")
    page.get_by_role("button", name="提交预约").tap()
    expect(page.get_by_role("heading", name="已预约网格员代办")).to_be_visible()
    number = page.locator("[data-no]").inner_text().strip()
    code = page.locator("[data-code]").inner_text().strip()
    assert number.startswith("DB") and code
    expect(page.get_by_text("请保存好代办编号和查询码")).to_be_visible()
    page.screenshot(path=str(server_shot(server, "services-phone-booked.png")), full_page=True,
                    scale="css")
    _fits(page, "the booking result")

    # later, on another phone: the number and the follow code open it
    other = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                locale="zh-CN", timezone_id="Asia/Shanghai")
    status = other.new_page()
    status.goto(server.url + "/services/status/")
    status.get_by_label("申请编号或代办编号").fill(number)
    status.get_by_label("查询码").fill("WRONG")
    status.get_by_role("button", name="查询").tap()
    expect(status.get_by_role("alert")).to_contain_text("编号或查询码不对")
    status.get_by_label("查询码").fill(code)
    status.get_by_role("button", name="查询").tap()
    expect(status.locator(".status-card .name")).to_have_text("已预约")
    expect(status.locator(".timeline")).to_contain_text("预约代办")
    expect(status.locator(".card.worker .name")).to_have_text(worker)
    status.screenshot(path=str(server_shot(server, "services-phone-status.png")),
                      full_page=True, scale="css")
    _fits(status, "the status page")
    other.close()
    ctx.close()
    assert not errors, errors
