"""The Django admin in real Chromium: read-only lists offer no add, change or delete; the
token list revokes through the action; the duty list still saves (through the actions)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import PASSWORD, server_shot

pytestmark = pytest.mark.browser


def admin_login(page: Page, server: Server) -> None:
    page.goto(server.url + "/admin/login/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()


def test_admin_is_read_only_but_where_it_saves_through_actions(page: Page,
                                                               server: Server) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    admin_login(page, server)
    page.goto(server.url + "/admin/core/outboxmessage/")
    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)  # no 增加
    expect(page.locator("option[value=delete_selected]")).to_have_count(0)
    page.screenshot(path=str(server_shot(server, "admin-outbox-desktop.png")))
    server.cli("tokens", "create", "--user", "dispatcher")
    page.goto(server.url + "/admin/integration/apitoken/")
    expect(page.locator("option[value=revoke_tokens]")).to_have_count(1)
    expect(page.locator("option[value=delete_selected]")).to_have_count(0)
    page.goto(server.url + "/admin/cases/casecategory/")
    expect(page.locator(".object-tools a.addlink")).to_have_count(0)
    page.goto(server.url + "/admin/cases/dutyrule/")
    # the duty list still saves (through the actions)
    expect(page.locator(".object-tools a.addlink")).to_have_count(1)
    page.screenshot(path=str(server_shot(server, "admin-dutyrule-desktop.png")))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/admin/core/outboxmessage/")
    page.screenshot(path=str(server_shot(server, "admin-outbox-phone.png")))
