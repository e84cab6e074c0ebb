"""A grid worker on a phone registers a building (from the phone's location), a house and a
resident, then looks at the resident masked and unmasks with a purpose."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import PASSWORD, server_shot
from wangge.registry.identity import make_id_number

pytestmark = pytest.mark.browser

# synthetic: area 430211 is not the demo's, so it never collides with a demo resident
ID_NUMBER = make_id_number("430211", dt.date(1985, 3, 4), 0, "female")
TYPO = ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2")


def test_grid_worker_registers_a_household_on_a_phone(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/login/")
    page.get_by_label("用户名").fill("gridworker")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    top = page.evaluate("fetch('/api/v1/grids/top.geojson').then(r => r.json())")
    lng, lat = top["features"][0]["properties"]["label"]
    page.context.grant_permissions(["geolocation"], origin=server.url)
    page.context.set_geolocation({"latitude": lat, "longitude": lng})

    page.goto(server.url + "/console/registry/buildings/new/")
    page.get_by_label("楼栋编号").fill("E2E-1")
    page.get_by_label("名称").fill("胜利小区9栋")
    page.get_by_label("地址").fill("胜利路99号")
    page.get_by_role("button", name="使用当前位置").click()
    expect(page.locator("#id_lat")).not_to_have_value("")
    page.get_by_label("层数").fill("7")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text("胜利小区9栋")
    expect(page.locator(".meta")).to_contain_text("胜利社区第1网格")

    page.get_by_role("link", name="新增房屋").click()
    page.get_by_label("房号").fill("1-101")
    page.get_by_label("面积(㎡)").fill("86")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".houses")).to_contain_text("1-101")

    page.get_by_role("link", name="新增人口").click()
    page.get_by_label("姓名").fill("测试居民")
    page.get_by_label("身份证号").fill(TYPO)  # a typo first
    page.get_by_label("联系电话").fill("17090001111")
    page.get_by_label("房号").fill("1-101")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".invalid .error")).to_contain_text("check character")
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_role("button", name="保存").click()

    errors = page.locator(".error").all_inner_texts()
    assert not errors, errors
    expect(page.locator("h1")).to_have_text("测试居民")
    expect(page.locator(".id-number")).to_have_text(ID_NUMBER[:6] + "********" + ID_NUMBER[-4:])
    expect(page.locator(".phone")).to_have_text("170****1111")
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, "the resident page scrolls sideways on a phone"
    page.get_by_label("查看用途").fill("代办社保")
    page.get_by_role("button", name="查看完整信息").click()
    expect(page.locator(".id-number")).to_have_text(ID_NUMBER)
    expect(page.locator(".notice")).to_contain_text(re.compile("已记录"))
    page.screenshot(path=str(server_shot(server, "resident-phone.png")), full_page=True)
