"""One truth about 超期 in a real browser, over the full demo city: the 超期 queue, the SLA
board, the statistics, the 督办通报 and 提醒 show the same number of late cases, on a phone
(390×844) without sideways scrolling and on a desktop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser


def late_numbers(page: Page, server: Server) -> dict[str, int]:
    page.goto(server.url + "/console/cases/sla/")
    board = int(page.locator(".sla-breached h2 .count").inner_text())
    page.goto(server.url + "/console/cases/stats/")
    stats = int(page.locator("#overdue").inner_text())
    page.goto(server.url + "/console/cases/notice/")
    notice = sum(int(n) for n in re.findall(r"超期 (\d+) 件", page.content()))
    page.goto(server.url + "/console/cases/notifications/")
    told = int(page.locator("#late-total").inner_text())
    api = page.request.get(server.url + "/api/v1/cases/?queue=overdue&limit=500").json()
    return {"board": board, "stats": stats, "notice": notice, "notifications": told,
            "queue": len(api)}


@pytest.mark.parametrize("size", [(390, 844), (1920, 1080)], ids=["phone", "desktop"])
def test_every_surface_shows_the_same_late_cases(page: Page, server: Server,
                                                 size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login(page, server, "dispatcher")
    numbers = late_numbers(page, server)
    assert numbers["board"] > 0 and len(set(numbers.values())) == 1, numbers
    for path, name in (("/console/cases/sla/", "sla"), ("/console/cases/notice/", "notice"),
                       ("/console/cases/stats/", "stats"),
                       ("/console/cases/notifications/", "notifications")):
        page.goto(server.url + path)
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{path} scrolls sideways by {wide}px at {size[0]}px"
        page.screenshot(path=str(server_shot(server, f"late-{name}-{size[0]}.png")),
                        full_page=False)
