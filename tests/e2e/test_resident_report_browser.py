"""A resident reports from the code on their building (Chromium at 390×844, signed out):
open the QR page, tap 我要反映问题, pick 下水道堵了, attach a photo, keep the building's
location, send, and get the register number and the follow code. No page scrolls sideways.

The follow-and-rate journey from the status page on extends this in its own file; the
labels and ids used here (name="public_category", name="description", name="photos",
#report-submit, #register-no, #follow-code) are the page's stable interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import server_shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}

# a building with a door code and no open drain case nearby (so no "已有人报告" offer):
# the n-th from the end, so tests that report at different buildings do not meet
BUILDING_SCRIPT = r"""
import json
from wangge.cases.actions import nearby_open
from wangge.registry.models import Building
found = []
for b in Building.objects.exclude(qr_token="").order_by("-pk")[:200]:
    if nearby_open("drain-blocked", b.lng, b.lat) is None:
        found.append(b)
    if len(found) > SKIP:
        break
b = found[-1]
print(json.dumps({"token": b.qr_token, "name": b.name, "grid": b.grid.name}))
"""


def fresh_building(server: Server, skip: int = 0) -> dict[str, str]:
    """{token, name, grid} of a building to report from (`skip` picks another one)."""
    out = server.cli("manage", "shell", "-c", BUILDING_SCRIPT.replace("SKIP", str(skip))).stdout
    return json.loads(out.strip().splitlines()[-1])


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "drain.png"
    Image.new("RGB", (64, 48), (90, 120, 160)).save(path, format="PNG")
    return path


def _fits(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{where} is {width}px wide"


def test_report_a_blocked_drain_from_the_building_code(browser: Browser, server: Server,
                                                      tmp_path: Path) -> None:
    building = fresh_building(server)
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                              device_scale_factor=2, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{server.url}/q/{building['token']}")
    page.get_by_role("link", name="我要反映问题").tap()
    expect(page.get_by_role("heading", name="我要反映问题")).to_be_visible()
    assert f"t={building['token']}" in page.url
    _fits(page, "the report form")

    # the building of the code is the place, chosen already; the map opens for a pin
    at_building = page.locator("input[name=where][value=building]")
    expect(at_building).to_be_checked()
    expect(page.locator("#rr-map")).to_be_hidden()
    page.locator("input[name=where][value=point]").check()
    expect(page.locator("#rr-map")).to_be_visible()
    page.locator("#rr-map").click(position={"x": 120, "y": 100})  # a pin on the blank map
    expect(page.locator("#id_lat")).not_to_have_value("")
    at_building.check()
    expect(page.locator("#rr-map")).to_be_hidden()

    page.locator("input[name=public_category][value=drain-blocked]").check()
    expect(page.get_by_text("补充信息：下水道堵了（选填）")).to_be_visible()
    expect(page.get_by_text("补充信息：路灯不亮（选填）")).to_be_hidden()
    page.locator("textarea[name=description]").fill("单元门口下水道堵了，污水流到路上")
    page.locator("input[name=photos]").set_input_files(photo(tmp_path))
    page.get_by_label("手机号码（选填）").fill("13912345678")
    page.screenshot(path=str(server_shot(server, "report-phone-form.png")), full_page=True,
                    scale="css")
    page.locator("#report-submit").tap()

    expect(page.get_by_role("heading", name="反映成功")).to_be_visible()
    number = page.locator("#register-no").inner_text().strip()
    code = page.locator("#follow-code").inner_text().strip()
    assert number and code
    expect(page.get_by_text("请记下登记号和关注码")).to_be_visible()
    assert "13912345678" not in page.content() and "139****5678" not in page.content()
    _fits(page, "the done page")
    page.screenshot(path=str(server_shot(server, "report-phone-done.png")), full_page=True,
                    scale="css")
    expect(page.locator("#status-link")).to_have_attribute("href", f"/cases/status/{number}")

    made = json.loads(server.cli("manage", "shell", "-c", (
        "import json; from wangge.cases.models import Case; "
        f"c = Case.objects.get(register_no='{number}'); r = c.resident_report; "
        "print(json.dumps({'photos': c.photos.count(), 'building': r.building.name, "
        "'grid': c.grid.name, 'channel': c.channel, 'phone': r.phone_masked}))"
    )).stdout.strip().splitlines()[-1])
    assert made == {"photos": 1, "building": building["name"], "grid": building["grid"],
                    "channel": "resident", "phone": "139****5678"}
    assert not errors, errors
    ctx.close()


MAKE_SCRIPT = r"""
import json
from wangge.cases.actions import Where, do_resident_report
from wangge.registry.models import Building
b = Building.objects.get(qr_token="TOKEN")
made = do_resident_report(public_category="drain-blocked", description="", source="web",
                          where=Where(building=b))
print(json.dumps({"no": made.case.register_no}))
"""


def test_a_drain_reported_nearby_is_offered_to_follow(browser: Browser, server: Server) -> None:
    building = fresh_building(server, skip=1)
    made = server.cli("manage", "shell", "-c", MAKE_SCRIPT.replace("TOKEN", building["token"]))
    first = json.loads(made.stdout.strip().splitlines()[-1])["no"]
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                              locale="zh-CN", timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/report/?t={building['token']}")
    page.locator("input[name=public_category][value=drain-blocked]").check()
    page.locator("#report-submit").tap()
    offer = page.locator("#rr-offer")
    expect(offer).to_be_visible()  # asked before sending: nothing made yet
    expect(offer.get_by_text("已有人报告：关注这一件")).to_be_visible()
    expect(page.locator("#rr-offer-category")).to_have_text("下水道堵了")
    _fits(page, "the nearby offer")
    page.get_by_role("button", name="关注这一件").tap()
    page.wait_for_url(f"**/cases/status/{first}")
    assert not errors, errors
    ctx.close()
