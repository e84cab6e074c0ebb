"""The case queue and the department inbox in real Chromium, on the full demo city (24,000
cases): on a 390×844 phone the rows are cards and nothing scrolls sideways; on a desktop they
stay a table sorted by urgency; a filter narrows the list and the count follows."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import PASSWORD, server_shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1920, "height": 1080}


def sign_in(page: Page, server: Server, username: str) -> None:
    page.goto(server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 390 px phone"


def rows_are_cards(page: Page, table: str) -> None:
    for each in page.locator(table).all():  # the inbox has two: cases and assignments
        expect(each.locator("thead")).to_be_hidden()
    first = page.locator(f"{table} tbody tr").first
    expect(first).to_be_visible()
    assert first.evaluate("tr => getComputedStyle(tr).display") == "block"
    label = first.locator("td").first.evaluate(
        "td => getComputedStyle(td, '::before').content")
    assert "登记号" in label  # each cell names its column


def count(page: Page) -> int:
    text = page.locator("#queue-count").inner_text()
    return int(re.search(r"共 (\d+) 件", text).group(1))


def test_queue_and_inbox_are_cards_on_a_phone(page: Page, server: Server) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, server, "dispatcher")
    page.goto(server.url + "/console/cases/?queue=scope")
    rows_are_cards(page, "table.queue-cards")
    no_sideways_scroll(page)
    total = count(page)
    assert total > 1000
    page.screenshot(path=str(server_shot(server, "queue-phone.png")), full_page=False)
    # a filter from the phone's form: one state, still cards, still no scroll
    page.locator("select[name=state]").select_option("dispatched")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"state=dispatched"))
    assert 0 < count(page) < total
    expect(page.locator("table.queue-cards tbody tr").first).to_contain_text("已派遣")
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "queue-phone-filtered.png")), full_page=True)

    page.context.clear_cookies()
    sign_in(page, server, "department")
    page.goto(server.url + "/console/cases/inbox/")
    rows_are_cards(page, "table.queue-cards")
    no_sideways_scroll(page)
    page.screenshot(path=str(server_shot(server, "inbox-phone.png")), full_page=True)


def test_queue_on_a_desktop_is_a_table_sorted_by_urgency(page: Page, server: Server) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, server, "dispatcher")
    started = time.monotonic()
    page.goto(server.url + "/console/cases/?queue=scope")
    elapsed = time.monotonic() - started
    expect(page.locator("table.queue-cards thead")).to_be_visible()
    first = page.locator("table.queue-cards tbody tr").first
    assert first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    # the most urgent first: a card, or else the clock longest past its deadline
    assert re.search(r"红牌|黄牌|超 \d", first.inner_text()), first.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= DESKTOP["width"]
    page.screenshot(path=str(server_shot(server, "queue-desktop.png")))
    assert elapsed < 5, f"the scope queue over 24,000 cases took {elapsed:.2f} s"
