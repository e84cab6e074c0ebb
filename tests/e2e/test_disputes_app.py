"""Issue 17's acceptance on the phone, in real Chromium at 390×844: the grid worker opens the
field app, finds the open dispute of their grid under 矛盾纠纷, loses the signal, records a
mediation session (调解记录: time, place, who attended, what was said) and the grid's
screening return; the app is closed and opened again offline and the queue is still there;
back online one sync puts the session on the server exactly once (checked through the
server's own Django), and sending the queue again creates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login
from tests.e2e.test_field_app import django, open_app, pending, wait_js

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SUBJECT = "E2E调解 楼上漏水纠纷"
NOTES = "E2E调解 双方同意楼上住户三日内请人维修，费用由楼上承担"


def open_dispute(server: Server) -> dict[str, Any]:
    """An open dispute of the gridworker's grid, recorded by the worker (the demo's own
    disputes may be anywhere; this one is the test's)."""
    return django(server, f"""
import json
from django.contrib.auth.models import User
from wangge.disputes.actions.records import do_record_dispute
from wangge.org.models import RoleAssignment
user = User.objects.get(username="gridworker")
grid = RoleAssignment.objects.get(person__user=user, role="grid_worker",
                                  ended_on__isnull=True).grid
d = do_record_dispute(user, {{
    "grid_id": grid.pk, "kind": "neighbour", "risk": "medium", "source": "visit",
    "subject": "{SUBJECT}", "account": "楼上卫生间漏水到楼下",
    "parties": [{{"role": "applicant", "name": "测试楼下住户"}},
                {{"role": "respondent", "name": "测试楼上住户"}}]}})
print(json.dumps({{"id": d.pk, "number": d.number}}))
""")


def sessions_on_server(server: Server, dispute_id: int) -> list[dict[str, Any]]:
    return django(server, f"""
import json
from wangge.disputes.models import Session
print(json.dumps([{{"place": s.place, "attendees": s.attendees, "notes": s.notes,
                    "by": s.recorded_by.username}}
                   for s in Session.objects.filter(dispute_id={dispute_id})]))
""")


def screened(server: Server, start: str) -> list[bool]:
    """The gridworker's grid's returns for the period starting `start` (nil or not)."""
    return django(server, f"""
import json
from wangge.disputes.models import Screening
from wangge.org.models import RoleAssignment
grid = RoleAssignment.objects.get(person__user__username="gridworker", role="grid_worker",
                                  ended_on__isnull=True).grid
print(json.dumps([s.nil for s in Screening.objects.filter(grid=grid, period_start="{start}")]))
""")


def to_disputes(page: Page) -> None:
    page.locator("[data-screen=home] [data-go=disputes]").click()
    expect(page.locator("[data-screen=disputes]")).to_be_visible()


def test_a_mediation_session_recorded_offline(browser: Browser, server: Server,
                                              browser_context_args: dict) -> None:  # type: ignore[type-arg]
    dispute = open_dispute(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "is_mobile": True, "has_touch": True})
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    wait_js(page, "navigator.serviceWorker.controller !== null")
    # the bundle holds the dispute (synced on opening)
    wait_js(page, "FieldQueue.getKv('offline').then(d => !!d && !!d.disputes && "
                  f"d.disputes.open.some(r => r.i === {dispute['id']}))")
    period = page.evaluate("FieldQueue.getKv('offline').then(d => d.disputes.screening)")
    already = bool(period["done"])  # the demo may have screened this period already

    to_disputes(page)
    row = page.locator(f"#disputes-open [data-dispute='{dispute['id']}']")
    expect(row).to_contain_text(dispute["number"])
    expect(row).to_contain_text(SUBJECT)
    expect(row).not_to_contain_text("测试楼下住户")  # parties masked on the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")

    # 调解记录
    before = pending(page)
    page.locator("[data-screen=disputes] [data-go=dispute-session]").click()
    form = page.locator("#dispute-session-form")
    expect(form).to_be_visible()
    form.get_by_label("纠纷").select_option(str(dispute["id"]))
    expect(form.get_by_label("调解时间")).not_to_have_value("")
    form.get_by_label("地点").fill("E2E调解 胜利社区调解室")
    form.get_by_label("参加人员").fill("双方当事人、网格员、调解员")
    form.get_by_label("调解情况").fill(NOTES)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    form.get_by_role("button", name="保存调解记录").click()
    expect(page.locator("[data-screen=disputes]")).to_be_visible()
    assert pending(page) == before + 1
    expect(row.locator(".waiting")).to_have_text("调解记录待同步")

    # 排查: the grid's return for this period (a nil return), if it has not filed one yet
    if not already:
        page.locator("[data-screen=disputes] [data-go=dispute-screening]").click()
        screening = page.locator("#dispute-screening-form")
        screening.get_by_label("本期无矛盾纠纷（零报告）").check()
        expect(page.locator("#dispute-items")).to_be_hidden()
        screening.get_by_role("button", name="报送排查").click()
        expect(page.locator("[data-screen=disputes]")).to_be_visible()
        expect(page.locator("#disputes-screening-state")).to_contain_text("等待同步")
    queued = pending(page)

    # closed and opened again without a network: the shell and the queue are still there
    page.close()
    page = open_app(context, server)
    assert pending(page) == queued
    expect(page.locator("#net-state")).to_have_text("离线")
    to_disputes(page)
    expect(page.locator(f"#disputes-open [data-dispute='{dispute['id']}'] .waiting")
           ).to_have_text("调解记录待同步")

    context.set_offline(False)
    page.locator("#sync-badge").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    states = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.map(e => [e.kind, e.state,"
                           " e.outcome && e.outcome.errors]))")
    assert [s for s in states if s[1] != "done"] == [], states

    found = sessions_on_server(server, dispute["id"])
    assert found == [{"place": "E2E调解 胜利社区调解室", "attendees": "双方当事人、网格员、调解员",
                      "notes": NOTES, "by": "gridworker"}], found
    if not already:
        assert screened(server, period["start"]) == [True]

    # the same queue again: replayed, nothing new on the server
    page.evaluate("FieldQueue.db.queue.where('state').equals('done')"
                  ".modify({state: 'pending'}).then(() => FieldQueue.sync())")
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    replayed = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.filter(e =>"
                             " e.state === 'done').map(e => e.outcome.status))")
    assert replayed and set(replayed) == {"replayed"}, replayed
    assert len(sessions_on_server(server, dispute["id"])) == 1
    assert errors == [], errors
    context.close()


def agreed_dispute(server: Server) -> dict[str, Any]:
    """A dispute of the gridworker's grid mediated to an agreement (the follow-up is due)."""
    return django(server, """
import json
from django.contrib.auth.models import User
from wangge.disputes.actions.mediation import do_accept
from wangge.disputes.actions.outcome import do_make_agreement
from wangge.disputes.actions.records import do_record_dispute
from wangge.org.models import RoleAssignment
user = User.objects.get(username="gridworker")
grid = RoleAssignment.objects.get(person__user=user, role="grid_worker",
                                  ended_on__isnull=True).grid
d = do_record_dispute(user, {
    "grid_id": grid.pk, "kind": "labour", "risk": "low", "source": "resident",
    "subject": "E2E回访 装修工钱", "amount": "3200",
    "parties": [{"role": "applicant", "name": "测试装修师傅"},
                {"role": "respondent", "name": "测试业主"}]})
do_accept(user, d.pk)
do_make_agreement(user, d.pk, terms="业主十日内付清工钱3200元")
print(json.dumps({"id": d.pk, "number": d.number}))
""")


def test_a_dispute_registered_and_a_follow_up_offline(browser: Browser, server: Server,
                                                      browser_context_args: dict) -> None:  # type: ignore[type-arg]
    agreed = agreed_dispute(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "is_mobile": True, "has_touch": True})
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_js(page, "FieldQueue.getKv('offline').then(d => !!d && !!d.disputes && "
                  f"d.disputes.open.some(r => r.i === {agreed['id']} && r.f))")
    resident = page.evaluate("FieldQueue.getKv('offline').then(d => d.residents[0])")
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    to_disputes(page)

    # 登记纠纷: a resident of the register against an outsider, with the money at stake
    before = pending(page)
    page.locator("[data-screen=disputes] [data-go=dispute-new]").click()
    form = page.locator("#dispute-new-form")
    form.get_by_label("类别").select_option("labour")
    form.get_by_label("风险等级").select_option("high")
    form.get_by_label("争议事项").fill("E2E登记 拖欠装修工钱")
    form.get_by_label("涉及金额").fill("12000")
    parties = form.locator(".dispute-party")
    expect(parties).to_have_count(2)
    parties.nth(0).get_by_label("本网格居民").select_option(str(resident["i"]))
    parties.nth(1).get_by_label("姓名或名称").fill("测试装修公司")
    parties.nth(1).get_by_label("联系电话").fill("13800001234")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    form.get_by_role("button", name="登记纠纷").click()
    expect(page.locator("[data-screen=disputes]")).to_be_visible()
    expect(page.locator("#disputes-open .pending")).to_contain_text("E2E登记 拖欠装修工钱")

    # 回访: the agreement is being honoured
    page.locator("[data-screen=disputes] [data-go=dispute-followup]").click()
    follow = page.locator("#dispute-followup-form")
    follow.get_by_label("纠纷").select_option(str(agreed["id"]))
    follow.get_by_label("协议履行情况").select_option("yes")
    follow.get_by_label("回访情况").fill("E2E回访 工钱已付清，双方满意")
    follow.get_by_role("button", name="保存回访").click()
    expect(page.locator("[data-screen=disputes]")).to_be_visible()
    assert pending(page) == before + 2

    context.set_offline(False)
    page.locator("#sync-badge").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    states = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.filter(e =>"
                           " e.kind.startsWith('dispute.')).map(e => [e.kind, e.state,"
                           " e.outcome && e.outcome.errors]))")
    assert [s for s in states if s[1] != "done"] == [], states

    found = django(server, f"""
import json
from wangge.disputes.models import Dispute, FollowUp
d = Dispute.objects.filter(subject="E2E登记 拖欠装修工钱").prefetch_related("parties")
f = FollowUp.objects.filter(dispute_id={agreed['id']})
print(json.dumps({{
    "disputes": [[x.risk, str(x.amount), x.recorded_by.username,
                  sorted([p.role, p.resident_id is not None,
                          p.phone_masked if p.resident_id is None else ""]
                         for p in x.parties.all())] for x in d],
    "follow_ups": [[x.honoured, x.note] for x in f],
    "state": Dispute.objects.get(pk={agreed['id']}).state}}))
""")
    assert len(found["disputes"]) == 1, found
    risk, amount, by, parties = found["disputes"][0]
    assert (risk, amount, by) == ("high", "12000.00", "gridworker")
    assert [p[:2] for p in parties] == [["applicant", True], ["respondent", False]]
    assert parties[1][2] and "13800001234" not in parties[1][2]  # sealed, shown masked
    assert found["follow_ups"] == [["yes", "E2E回访 工钱已付清，双方满意"]], found
    assert found["state"] == "closed"
    # the dispute registered offline is now in the bundle (a session may be recorded for it)
    wait_js(page, "FieldQueue.getKv('offline').then(d => d.disputes.open.some(r =>"
                  " r.t === 'E2E登记 拖欠装修工钱' && r.m))")
    assert errors == [], errors
    context.close()


def signatures_on_server(server: Server, dispute_id: int) -> dict[str, Any]:
    return django(server, f"""
import json
from wangge.disputes.models import Agreement, Signature
a = Agreement.objects.get(dispute_id={dispute_id})
print(json.dumps({{
    "signed_at": a.signed_at is not None,
    "parties": sorted(a.dispute.parties.values_list("pk", flat=True)),
    "signatures": sorted([s.party_id, s.method, s.signed_at is not None,
                          s.image.uploaded_by.username, s.image.size > 0]
                         for s in Signature.objects.filter(agreement=a).select_related("image"))}}))
""")


def draw(page: Page, canvas: Any) -> None:
    """A signature drawn with the pointer: a zigzag across the pad (as test_proxy_app)."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box and box["width"] > 200, box
    x, y = box["x"] + 24, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x + i * 22, y + (24 if i % 2 else -24), steps=3)
    page.mouse.up()
    expect(canvas).to_have_attribute("data-signed", "1")


def test_both_parties_sign_the_agreement_on_the_phone_offline(
        browser: Browser, server: Server, browser_context_args: dict) -> None:  # type: ignore[type-arg]
    """签署协议: the agreement's terms on the screen, one pad per party; both sign with a
    finger offline; one sync uploads the two PNGs and the server's agreement is signed
    (method phone, signed_at set)."""
    agreed = agreed_dispute(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "is_mobile": True, "has_touch": True})
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_js(page, "FieldQueue.getKv('offline').then(d => !!d && !!d.disputes && "
                  f"d.disputes.open.some(r => r.i === {agreed['id']} && r.a && r.a.w))")
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    to_disputes(page)

    before = pending(page)
    page.locator("[data-screen=disputes] [data-go=dispute-sign]").click()
    form = page.locator("#dispute-sign-form")
    expect(form).to_be_visible()
    form.get_by_label("纠纷").select_option(str(agreed["id"]))
    agreement = page.locator("#dispute-sign-agreement")
    expect(agreement).to_contain_text("调解协议书 XY")
    expect(agreement).to_contain_text("业主十日内付清工钱3200元")
    pads = page.locator("#dispute-sign-pads canvas.signature")
    expect(pads).to_have_count(2)
    # whole names: the worker mediates this grid-level dispute
    expect(page.locator("#dispute-sign-pads")).to_contain_text("测试装修师傅")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # nothing drawn: refused, nothing queued
    form.get_by_role("button", name="保存签名").click()
    expect(page.locator("#toast")).to_contain_text("请至少让一位当事人签名")
    assert pending(page) == before

    draw(page, pads.nth(0))
    draw(page, pads.nth(1))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    form.get_by_role("button", name="保存签名").click()
    expect(page.locator("[data-screen=disputes]")).to_be_visible()
    assert pending(page) == before + 2
    expect(page.locator(f"#disputes-open [data-dispute='{agreed['id']}'] .waiting")
           ).to_have_text("签名待同步")
    # both signed on this phone: nothing left to sign here
    page.locator("[data-screen=disputes] [data-go=dispute-sign]").click()
    expect(page.locator("#dispute-sign-none")).to_be_visible()
    page.locator("#back").click()

    context.set_offline(False)
    page.locator("#sync-badge").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    states = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.filter(e =>"
                           " e.kind === 'agreement.sign').map(e => [e.state,"
                           " e.outcome && e.outcome.errors]))")
    assert len(states) == 2 and all(s[0] == "done" and not s[1] for s in states), states

    found = signatures_on_server(server, agreed["id"])
    assert found["signed_at"] is True, found
    assert [s[0] for s in found["signatures"]] == found["parties"], found
    assert all(s[1:] == ["phone", True, "gridworker", True] for s in found["signatures"]), found
    # the bundle now has both signed
    wait_js(page, "FieldQueue.getKv('offline').then(d => d.disputes.open.some(r =>"
                  f" r.i === {agreed['id']} && r.a.p.every(p => p[3] === 1)))")
    assert errors == [], errors
    context.close()
