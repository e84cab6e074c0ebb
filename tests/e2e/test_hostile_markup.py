"""Data never becomes script: a grid named like an <img onerror> payload and a case titled
like one show as text on the console map, the case page and the queue, and every main page
runs under its own Content-Security-Policy without a violation."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

from tests.e2e.conftest import Server

pytestmark = pytest.mark.browser

PASSWORD = "wangge-demo-2026"
GRID_NAME = "x<img src=x onerror=alert(1)>区"
CASE_TITLE = "<script>alert('t')</script><img src=x onerror=alert(2)>井盖"


@dataclass
class Watch:
    """What a page did that a user (or an attacker) would notice."""

    dialogs: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(self, msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.csp.append(f"{msg.page.url if msg.page else ''}: {msg.text}")

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.csp == [], self.csp
        assert self.errors == [], self.errors


def watched(context: BrowserContext, watch: Watch) -> Page:
    page = context.new_page()
    page.on("dialog", watch.on_dialog)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    # the event fires even where Chromium would not log to the console
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));")
    return page


def goto(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def login(page: Page, server: Server, username: str) -> None:
    goto(page, server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#map, #worker-home")).to_be_visible()  # a grid worker's desk


def api(server: Server, token: str, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        server.url + "/api/v1" + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert "Content-Security-Policy" in r.headers  # API responses carry it too
        return json.loads(r.read())


def rename_grid(server: Server, token: str, code: str, name: str) -> None:
    try:
        api(server, token, "PATCH", f"/grids/{code}", {"name": name})
    except urllib.error.HTTPError as e:  # the API may refuse markup in names: force it in
        assert e.code in {400, 422}, e
        server.cli("manage", "shell", "-c",
                   "from wangge.territory.models import Grid; "
                   f"Grid.objects.filter(code={code!r}).update(name={name!r})")


def no_injected_image(page: Page) -> None:
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("script:not([src]):not([type='application/json'])")).to_have_count(0)


def test_hostile_names_stay_text_under_the_policy(browser: Browser, server: Server,
                                                  browser_context_args: dict) -> None:  # type: ignore[type-arg]
    watch = Watch()
    token = server.cli("tokens", "create", "--user", "center_admin").stdout.strip()
    token = token.splitlines()[-1]
    zones = api(server, token, "GET", "/grids/?level=1")
    zone = zones[-1]  # renamed back at the end: other tests share this server
    rename_grid(server, token, zone["code"], GRID_NAME)
    try:
        # a grid worker files a case titled with markup (the form's location button and
        # submit-once behaviour run from a static file under the policy)
        phone = browser.new_context(**{**browser_context_args,
                                       "viewport": {"width": 390, "height": 844}})
        worker = watched(phone, watch)
        login(worker, server, "gridworker")
        top = worker.evaluate("fetch('/api/v1/grids/top.geojson').then(r => r.json())")
        lng, lat = top["features"][0]["properties"]["label"]
        phone.grant_permissions(["geolocation"], origin=server.url)
        phone.set_geolocation({"latitude": lat + 0.0002, "longitude": lng + 0.0002})
        goto(worker, server.url + "/console/cases/new/")
        worker.get_by_label("事件分类").select_option(index=1)
        worker.get_by_label("标题").fill(CASE_TITLE)
        worker.get_by_role("button", name="使用当前位置").click()
        expect(worker.locator("#id_lat")).not_to_have_value("")
        worker.get_by_role("button", name="上报", exact=True).click()
        expect(worker.locator("h1")).to_have_text("上报成功")
        worker.get_by_role("link", name="查看事件").click()
        expect(worker.locator("h1")).to_contain_text(CASE_TITLE)
        register_no = worker.locator(".facts dd").first.inner_text()
        no_injected_image(worker)
        goto(worker, server.url + "/console/registry/buildings/new/")
        worker.get_by_role("button", name="使用当前位置").click()
        expect(worker.locator("#id_lat")).not_to_have_value("")
        phone.close()

        desk = browser.new_context(**{**browser_context_args,
                                      "viewport": {"width": 1280, "height": 900}})
        page = watched(desk, watch)
        login(page, server, "dispatcher")
        goto(page, server.url + "/")
        expect(page.locator("#map")).to_have_attribute("data-level", "1")
        expect(page.locator("#map path.leaflet-interactive")).to_have_count(len(zones))
        # the name is a permanent label on the map (a phone has no hover), written as text
        label = page.locator(f'#map .grid-label[data-code="{zone["code"]}"] .grid-label-name')
        expect(label).to_have_text(GRID_NAME)
        expect(page.locator(".leaflet-tooltip img")).to_have_count(0)
        # its panel and, one level down, the breadcrumb also show the name as text
        page.evaluate(f"htmx.ajax('GET', '/console/grids/{zone['code']}/', '#panel')")
        expect(page.locator("#panel h2")).to_have_text(GRID_NAME)
        page.locator("#panel button.drill").click()
        expect(page.locator("#map")).to_have_attribute("data-level", "2")
        expect(page.locator("#crumbs")).to_contain_text(GRID_NAME)
        no_injected_image(page)

        goto(page, server.url + f"/console/cases/{register_no}/")
        expect(page.locator("h1")).to_contain_text(CASE_TITLE)
        expect(page.locator("#case-map path.leaflet-interactive").first).to_be_attached()
        no_injected_image(page)
        goto(page, server.url + "/console/cases/?queue=mine")
        row = page.locator("tr", has_text=register_no)
        expect(row).to_contain_text(CASE_TITLE)
        no_injected_image(page)
        page.get_by_label("状态").select_option(index=1)  # the filter form, under the CSP
        page.get_by_role("button", name="筛选").click()
        expect(page).to_have_url(re.compile(r"[?&]state=\w"))
        goto(page, server.url + "/console/cases/notice/")
        goto(page, server.url + "/console/registry/")
        desk.close()

        anonymous = browser.new_context(**browser_context_args)
        admin = watched(anonymous, watch)
        goto(admin, server.url + "/admin/login/")
        admin.locator("#id_username").fill("admin")
        admin.locator("#id_password").fill(PASSWORD)
        admin.locator("input[type=submit]").click()
        expect(admin.locator("#site-name")).to_be_visible()
        goto(admin, server.url + f"/admin/territory/grid/?q={zone['code']}")
        expect(admin.locator("#result_list")).to_contain_text(GRID_NAME)
        admin.locator("#result_list tbody a").first.click()
        expect(admin.locator("#id_name")).to_have_value(GRID_NAME)
        no_injected_image(admin)
        anonymous.close()
        watch.assert_clean()
    finally:
        rename_grid(server, token, zone["code"], zone["name"])
