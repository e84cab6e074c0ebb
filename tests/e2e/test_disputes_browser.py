"""Disputes in the console on a 1920×1080 screen (Chromium): the town's mediator opens a
labour dispute recorded in 胜利社区第1网格, takes it up, records a mediation session and
makes the agreement through the page's forms (a missing field is named beside it first),
then opens the printable agreement (blank lines where nobody has signed yet). The
workstation's coverage map draws its basic grids coloured by their screening return, with
the legend."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Server, signed_in
from tests.e2e.test_browser import server_shot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1920, "height": 1080}

DISPUTE_SCRIPT = r"""
import json
from django.contrib.auth import get_user_model
from wangge.disputes.actions.records import do_record_dispute
from wangge.disputes.actions.screening import do_record_screening
from wangge.territory.models import Grid
User = get_user_model()
grid = Grid.objects.get(name="胜利社区第1网格")
worker = User.objects.get(username="gridworker")
d = do_record_dispute(worker, {
    "grid_id": grid.pk, "source": "resident", "kind": "labour", "risk": "medium",
    "subject": "浏览器测试：拖欠装修工资", "account": "三名装修工人反映工钱未结清",
    "amount": "9600.00",
    "parties": [{"role": "applicant", "kind": "person", "name": "浏览器测试甲",
                 "phone": "13900001111"},
                {"role": "respondent", "kind": "organisation", "name": "浏览器测试装饰公司"}]})
sibling = Grid.objects.filter(parent=grid.parent, level=4).exclude(pk=grid.pk).order_by(
    "path").first()
screened = []
for g in (grid, sibling):
    try:
        do_record_screening(User.objects.get(username="station"), {"grid_id": g.pk,
                            "nil": True, "note": "浏览器测试：本期无矛盾纠纷"})
        screened.append(g.code)
    except Exception:  # the demo may have screened it already this period
        screened.append(g.code)
print(json.dumps({"dispute": d.pk, "number": d.number, "screened": screened}))
"""


@pytest.fixture(scope="module")
def made(server: Server) -> dict:
    out = server.cli("manage", "shell", "-c", DISPUTE_SCRIPT).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_mediator_records_a_session_and_makes_the_agreement(browser: Browser, server: Server,
                                                            made: dict) -> None:
    ctx = signed_in(browser, server, "mediator", viewport=DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(server.url + "/console/disputes/")
    row = page.locator(f"#dispute-{made['dispute']}")
    expect(row).to_contain_text(made["number"])
    expect(row).not_to_contain_text("浏览器测试甲")  # masked in the list
    row.get_by_role("link", name=made["number"]).click()
    expect(page.locator("#dispute-number")).to_have_text(made["number"])
    expect(page.locator("#dispute-state")).to_have_text("已登记")
    expect(page.locator(".party-name").first).to_contain_text("浏览器测试甲")  # whole here

    accept = page.locator("form#accept")
    accept.get_by_role("button", name="受理").click()
    expect(page.locator("#dispute-state")).to_have_text("调解中")

    session = page.locator("form#session")
    session.get_by_label("地点").fill("")
    session.get_by_label("参加人员").fill("申请人、被申请人负责人、网格员")
    session.get_by_label("调解情况").fill("双方核对了工时，同意按实际工时结算")
    # the browser would refuse an empty required field: send it as a hand-made request would
    session.evaluate("f => f.noValidate = true")
    session.get_by_role("button", name="保存调解记录").click()
    expect(page.locator("#id_session-place-error")).to_be_visible()
    expect(page.locator("#sessions")).to_contain_text("尚无调解记录")
    session = page.locator("form#session")
    expect(session.get_by_label("参加人员")).to_have_value("申请人、被申请人负责人、网格员")
    session.get_by_label("地点").fill("胜利社区人民调解室")
    session.get_by_role("button", name="保存调解记录").click()
    expect(page.locator("#sessions .session")).to_have_count(1)
    expect(page.locator("#sessions")).to_contain_text("胜利社区人民调解室")
    expect(page.locator("#timeline")).to_contain_text("调解")

    agree = page.locator("form#agree")
    agree.get_by_label("协议内容").fill("被申请人于本月底前一次性支付工资9600元。")
    agree.get_by_label("履行期限").fill("2026-12-31")
    agree.get_by_role("button", name="生成调解协议书").click()
    expect(page.locator("#dispute-state")).to_have_text("已达成协议")
    expect(page.locator("form#sign")).to_be_visible()
    expect(page.locator("form#follow_up")).to_be_visible()
    page.screenshot(path=str(server_shot(server, "disputes-desktop-agreed.png")), full_page=True)

    page.locator("#agreement-summary").get_by_role("link").click()
    expect(page.get_by_role("heading", name="人民调解协议书")).to_be_visible()
    expect(page.locator(".agreement")).to_contain_text("浏览器测试甲")
    expect(page.locator(".agreement")).to_contain_text("一次性支付工资9600元")
    expect(page.locator(".sig-blank")).to_have_count(2)  # nobody has signed yet
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.bar")).to_be_hidden()
    page.screenshot(path=str(server_shot(server, "disputes-agreement-print.png")), full_page=True)
    page.emulate_media(media="screen")
    assert not errors, errors
    ctx.close()


def test_coverage_map_is_drawn_with_its_legend(browser: Browser, server: Server,
                                               made: dict) -> None:
    ctx = signed_in(browser, server, "station", viewport=DESKTOP)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/console/disputes/coverage/")
    the_map = page.locator("#screening-map")
    expect(the_map).to_have_attribute("data-state", "ready")
    count = int(the_map.get_attribute("data-count") or 0)
    assert count > 1
    expect(the_map.locator("path.leaflet-interactive")).to_have_count(count)
    legend = page.locator(".map-legend")
    expect(legend.locator("li")).to_have_count(3)
    expect(legend).to_contain_text("未排查")
    # every grid coloured by its return: screened, nil or missing
    fills = the_map.locator("path.leaflet-interactive").evaluate_all(
        "ps => ps.map(p => p.getAttribute('fill'))")
    assert set(fills) <= {"#2563eb", "#16a34a", "#dc2626"}, set(fills)
    assert "#2563eb" in fills or "#16a34a" in fills  # the script's returns at least
    # the grids screened are not in the list of those missing
    missing = page.locator("#missing-grids")
    for code in made["screened"]:
        expect(missing).not_to_contain_text(code)
    page.screenshot(path=str(server_shot(server, "disputes-coverage-map.png")))
    assert not errors, errors
    ctx.close()
