"""Issue 13's proxy walk on the phone, in real Chromium at 390×844: a resident's request for
老年证年审 is booked for the gridworker's grid; the worker loads the day, loses the signal at
the door and collects there — two material photos, the originals taken, the 委托书 signed on
the screen (re-signed once). The app is closed and opened again offline: the queue is still
there. Back online one sync makes the application once, with its files, and the
authorization with a signature PNG. 民政 passes it and marks it ready over the API; the
worker reloads, delivers (offline again) with the recipient's signature and a photo, the
originals returned, and the resident rates it. Delivered and rated exactly once; sending the
whole queue again creates nothing."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot
from tests.e2e.test_field_app import django, open_app, pending, wait_js

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ITEM = "E2E-PROXY-0001"
ITEM_NAME = "老年人优待证（老年证）办理与年审（E2E）"
APPLICANT = "代办测试张奶奶"


def jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format="JPEG")
    return out.getvalue()


def photo(name: str, colour: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg(colour)}


def book(server: Server) -> dict[str, Any]:
    """The item (民政, proxy-eligible, two required materials and one conditional) and a
    request for a resident of the gridworker's grid, booked by phone for in an hour."""
    return django(server, f"""
import datetime as dt, json
from django.contrib.auth.models import User
from django.utils import timezone
from wangge.org.models import RoleAssignment
from wangge.registry.models import House
from wangge.services.actions.catalogue import do_import_catalogue
from wangge.services.actions.proxy import do_book_proxy
row = {{
    "code": "{ITEM}", "name": "{ITEM_NAME}", "aliases": ["老年证"], "type": "public_service",
    "department": "civil-affairs", "level": "town", "legal_basis": "", "conditions": "",
    "materials": [
        {{"key": "id_card", "name": "居民身份证", "form": "original", "count": 1,
          "required": True, "condition": "", "note": "查验后退还"}},
        {{"key": "photo", "name": "近期一寸免冠照片", "form": "electronic", "count": 2,
          "required": True, "condition": "", "note": ""}},
        {{"key": "hukou", "name": "户口簿", "form": "copy", "count": 1,
          "required": False, "condition": "身份证地址不在本市的", "note": ""}}],
    "steps": ["申请", "审核", "发证"], "legal_days": 20, "promised_days": 5, "fee": "不收费",
    "place": "", "hours": "", "phone": "", "in_person_times": 0, "online_prereview": True,
    "prereview_days": 1, "proxy_eligible": True, "events": ["elderly"], "faq": []}}
admin = User.objects.filter(is_superuser=True).order_by("id").first()
do_import_catalogue([row], admin)
grid = RoleAssignment.objects.get(person__user__username="gridworker", role="grid_worker",
                                  ended_on__isnull=True).grid
house = House.objects.filter(grid=grid).select_related("building").order_by("id").first()
p = do_book_proxy(None, item_code="{ITEM}", grid_id=grid.pk,
                  applicant={{"name": "{APPLICANT}", "phone": "13812345678"}},
                  at=timezone.now() + dt.timedelta(hours=1), channel="phone",
                  house_id=house.pk)
print(json.dumps({{"id": p.pk, "no": p.no, "building": house.building.name}}))
""")


def server_facts(server: Server, proxy_id: int) -> dict[str, Any]:
    return django(server, f"""
import json
from wangge.services.models import Application, Authorization, MaterialFile, ProxyRequest
p = ProxyRequest.objects.get(pk={proxy_id})
apps = Application.objects.filter(item__code="{ITEM}")
auth = Authorization.objects.filter(proxy=p).select_related("signature").first()
head = b""
if auth:
    with auth.signature.file.open("rb") as f:
        head = f.read(8)
events = {{}}
for action in p.events.values_list("action", flat=True):
    events[action] = events.get(action, 0) + 1
print(json.dumps(dict(
    state=p.state, rating=p.rating, recipient=p.recipient_name,
    own_application=p.application_id is not None,
    applications=apps.count(), channel=apps.first().channel if apps else None,
    files=sorted(MaterialFile.objects.filter(application__in=apps)
                 .values_list("material_key", flat=True)),
    authorizations=Authorization.objects.filter(proxy=p).count(),
    signer=auth.signer_name if auth else None,
    signature_type=auth.signature.content_type if auth else None,
    signature_png=head == b"\\x89PNG\\r\\n\\x1a\\n",
    delivery_signature=p.delivery_signature.content_type if p.delivery_signature_id else None,
    delivery_photo=bool(p.delivery_photo_id), originals=p.originals,
    originals_returned=p.originals_returned_at is not None, events=events,
)))
""")


def api(server: Server, token: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{server.url}/api/v1/services/{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def department_passes(server: Server, proxy_id: int) -> None:
    """民政's reviewer, over the API: accepts every material, passes the application and
    marks the request ready; marking it ready twice is refused (409)."""
    made = server.cli("tokens", "create", "--user", "civil_affairs")
    token = made.stdout.strip().splitlines()[-1]
    found = django(server, f"""
import json
from wangge.services.models import ProxyRequest
p = ProxyRequest.objects.select_related("application").get(pk={proxy_id})
print(json.dumps([p.application_id,
                  sorted(set(p.application.files.values_list("material_key", flat=True)))]))
""")
    application_id, keys = found
    for key in keys:
        status, answer = api(server, token, f"applications/{application_id}/checks",
                             {"material_key": key, "verdict": "accepted"})
        assert status == 200, (status, answer)
    status, answer = api(server, token, f"applications/{application_id}/decide",
                         {"decision": "pass"})
    assert status == 200 and answer["state"] == "passed", (status, answer)
    status, answer = api(server, token, f"proxies/{proxy_id}/ready", {"note": "老年证已制好"})
    assert status == 200 and answer["state"] == "ready", (status, answer)
    status, _answer = api(server, token, f"proxies/{proxy_id}/ready", {})
    assert status == 409, status


def sign(page: Page, canvas: str) -> None:
    """A signature drawn with the pointer: a zigzag across the pad."""
    pad = page.locator(f"#{canvas}")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box and box["width"] > 200, box
    x, y = box["x"] + 24, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x + i * 22, y + (24 if i % 2 else -24), steps=3)
    page.mouse.up()
    expect(pad).to_have_attribute("data-signed", "1")


def no_sideways(page: Page, server: Server, shot: str) -> None:
    """No sideways scrolling at 390 px; a full-page shot for the reviewer's eye."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(server_shot(server, shot)), full_page=True, scale="css")


def sync_now(page: Page) -> None:
    page.locator("#sync-badge").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    wait_js(page, "document.getElementById('sync-error').textContent === '—'")


def queue_states(page: Page) -> list[list[Any]]:
    return page.evaluate("FieldQueue.db.queue.toArray().then(q => q.map(e => [e.kind, e.state,"
                         " e.outcome && e.outcome.errors]))")


def test_proxy_walk_offline_on_the_phone(browser: Browser, server: Server,
                                         browser_context_args: dict) -> None:  # type: ignore[type-arg]
    booked = book(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "has_touch": True})
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_js(page, "FieldQueue.getKv('offline').then(d => !!d && (d.proxies || [])"
                  f".some(p => p.id === {booked['id']}))")

    # the 代办 screen: the request under its building, masked, with its state
    page.locator("[data-screen=home] [data-go=proxy]").click()
    row = page.locator(f"[data-proxy='{booked['id']}']")
    expect(row).to_contain_text(ITEM_NAME)
    expect(row).to_contain_text(APPLICANT)
    expect(row).to_contain_text("138****5678")
    expect(row).to_contain_text("已预约")
    expect(page.locator("#proxy-list h3.building").filter(has_text=booked["building"])
           ).to_have_count(1)
    assert "13812345678" not in page.locator("#proxy-list").inner_text()
    no_sideways(page, server, "proxy-list.png")

    # at the door, without a signal
    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")
    row.click()
    form = page.locator("#proxy-collect-form")
    expect(form).to_be_visible()
    expect(page.locator("#proxy-facts")).to_contain_text(booked["no"])
    expect(form.locator("[data-material]")).to_have_count(3)
    # the required materials first: 收件 without them names the missing one
    form.get_by_role("button", name="收件").click()
    expect(page.locator("#toast")).to_contain_text("居民身份证")
    form.locator("[data-photo-for=id_card]").set_input_files(files=[photo("id.jpg", "olive")])
    form.locator("[data-photo-for=photo]").set_input_files(files=[photo("face.jpg", "navy")])
    expect(form.locator("[data-count-for=id_card]")).to_have_text("1 张照片")
    expect(form.locator("[data-count-for=photo]")).to_have_text("1 张照片")
    page.get_by_role("button", name="＋ 添加原件").click()
    form.locator("[name=original_name]").fill("居民身份证")
    form.locator("[name=original_count]").fill("1")
    form.get_by_label("委托人（签字人）姓名").fill(APPLICANT)
    expect(page.locator("#proxy-auth-text")).to_contain_text(f"本人{APPLICANT}委托")
    expect(page.locator("#proxy-auth-text")).to_contain_text(ITEM_NAME)
    form.get_by_role("button", name="收件").click()
    expect(page.locator("#toast")).to_contain_text("请居民签名")
    sign(page, "proxy-sign-collect")
    form.get_by_role("button", name="重签").click()  # a slip: signed again
    expect(page.locator("#proxy-sign-collect")).to_have_attribute("data-signed", "0")
    sign(page, "proxy-sign-collect")
    no_sideways(page, server, "proxy-collect.png")
    form.get_by_role("button", name="收件").click()
    expect(form).to_be_hidden()
    expect(page.locator("#proxy-note")).to_be_visible()
    assert pending(page) == 2  # proxy.collect, then proxy.submit
    assert page.evaluate("FieldQueue.db.blobs.count()") == 3  # two photos, one signature

    # closed and opened again, still offline: the queue and the step are still there
    page.close()
    page = open_app(context, server)
    assert pending(page) == 2
    expect(page.locator("#queue-count")).to_have_text("2")
    page.locator("[data-screen=home] [data-go=proxy]").click()
    expect(page.locator(f"[data-proxy='{booked['id']}']")).to_contain_text("待同步")
    page.locator("#sync-badge").click()
    expect(page.locator("#sync-queue")).to_contain_text("代办收件")

    # back online: one sync
    context.set_offline(False)
    sync_now(page)
    assert [s for s in queue_states(page) if s[1] != "done"] == [], queue_states(page)
    facts = server_facts(server, booked["id"])
    assert facts["applications"] == 1 and facts["channel"] == "proxy", facts
    assert facts["files"] == ["id_card", "photo"], facts
    assert facts["state"] == "in_review", facts
    assert facts["authorizations"] == 1 and facts["signer"] == APPLICANT, facts
    assert facts["signature_type"] == "image/png" and facts["signature_png"], facts
    assert facts["originals"] == [{"name": "居民身份证", "count": 1}], facts

    # 民政 passes it and the certificate is ready; the worker's phone hears on its next sync
    department_passes(server, booked["id"])
    sync_now(page)
    wait_js(page, "FieldQueue.getKv('offline').then(d => (d.proxies || [])"
                  f".some(p => p.id === {booked['id']} && p.state === 'ready'))")
    page.locator("#back").click()
    page.locator("[data-screen=home] [data-go=proxy]").click()
    row = page.locator(f"[data-proxy='{booked['id']}']")
    expect(row).to_contain_text("待送达")

    # 送证上门, offline again: the recipient signs, a photo, the originals handed back
    context.set_offline(True)
    row.click()
    deliver = page.locator("#proxy-deliver-form")
    expect(deliver).to_be_visible()
    deliver.get_by_label("签收人姓名").fill(APPLICANT)
    sign(page, "proxy-sign-deliver")
    page.locator("#proxy-deliver-photo").set_input_files(files=[photo("door.jpg", "teal")])
    returned = deliver.get_by_label("原件已全部归还")
    expect(returned).to_be_visible()
    returned.check()
    no_sideways(page, server, "proxy-deliver.png")
    deliver.get_by_role("button", name="送达签收").click()
    rate = page.locator("#proxy-rate-form")
    expect(rate).to_be_visible()
    expect(deliver).to_be_hidden()
    rate.get_by_text("非常满意").click()
    no_sideways(page, server, "proxy-rate.png")
    rate.get_by_role("button", name="提交评价").click()
    expect(rate).to_be_hidden()
    assert pending(page) == 2  # proxy.deliver, proxy.rate

    context.set_offline(False)
    sync_now(page)
    assert [s for s in queue_states(page) if s[1] != "done"] == [], queue_states(page)
    facts = server_facts(server, booked["id"])
    assert facts["state"] == "rated" and facts["rating"] == 5, facts
    assert facts["recipient"] == APPLICANT and facts["delivery_photo"], facts
    assert facts["delivery_signature"] == "image/png" and facts["originals_returned"], facts
    assert {k: facts["events"].get(k) for k in ("collect", "submit", "deliver", "rate")} == {
        "collect": 1, "submit": 1, "deliver": 1, "rate": 1}, facts

    # the same queue sent again: every envelope replays, nothing new on the server
    page.evaluate("FieldQueue.db.queue.where('state').equals('done')"
                  ".modify({state: 'pending'}).then(() => FieldQueue.sync())")
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    replayed = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.filter(e =>"
                             " e.kind.startsWith('proxy.')).map(e => e.outcome.status))")
    assert replayed == ["replayed"] * 4, replayed
    assert server_facts(server, booked["id"]) == facts
    assert errors == [], errors
    context.close()


def test_proxy_screen_names_a_refused_step(browser: Browser, server: Server,
                                           browser_context_args: dict) -> None:  # type: ignore[type-arg]
    """A collection the server refuses (the request was cancelled meanwhile, from the console)
    is shown on the request and in the queue with the reason, not lost silently."""
    booked = book(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "has_touch": True})
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    wait_js(page, "FieldQueue.getKv('offline').then(d => !!d && (d.proxies || [])"
                  f".some(p => p.id === {booked['id']}))")
    page.locator("[data-screen=home] [data-go=proxy]").click()
    context.set_offline(True)
    page.locator(f"[data-proxy='{booked['id']}']").click()
    form = page.locator("#proxy-collect-form")
    form.locator("[data-photo-for=id_card]").set_input_files(files=[photo("id.jpg", "maroon")])
    form.locator("[data-photo-for=photo]").set_input_files(files=[photo("face.jpg", "purple")])
    form.get_by_label("委托人（签字人）姓名").fill(APPLICANT)
    sign(page, "proxy-sign-collect")
    form.get_by_role("button", name="收件").click()
    expect(form).to_be_hidden()
    django(server, f"""
import json
from django.contrib.auth.models import User
from wangge.services.actions.proxy import do_cancel
from wangge.services.models import ProxyRequest
do_cancel(User.objects.get(username="gridworker"), ProxyRequest.objects.get(pk={booked['id']}),
          "居民已自行办理")
print(json.dumps(1))
""")
    context.set_offline(False)
    page.locator("#sync-badge").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    problems = page.locator("#sync-problems li")
    expect(problems.first).to_contain_text("已取消")
    facts = server_facts(server, booked["id"])
    assert facts["state"] == "cancelled" and not facts["own_application"], facts
    context.close()
