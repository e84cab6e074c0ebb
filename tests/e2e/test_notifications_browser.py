"""A late case reaches the people responsible: a real worker process sweeps the clocks and
delivers the notifications; the sub-district's staff member sees the unread count on a
phone, opens the notification and lands on the case."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import BIN, Server
from tests.e2e.test_browser import login, server_shot

pytestmark = pytest.mark.browser

#: a general case in 胜利社区第1网格, registered, its 7-working-day clock already overdue
LATE_CASE = """
import datetime as dt
from django.contrib.auth import get_user_model
from wangge.cases import actions
from wangge.cases.models import CaseClock
from wangge.territory.models import Grid
users = get_user_model().objects
grid = Grid.objects.get(name="胜利社区第1网格")
case = actions.do_report({"category": "0101", "title": "E2E 暴露垃圾超期未清运",
                          "lng": grid.label_lng, "lat": grid.label_lat},
                         users.get(username="gridworker"), channel="grid_worker")
actions.do_transition(case, "register", users.get(username="dispatcher"))
past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
CaseClock.objects.filter(case=case).update(deadline=past, warn_at=past)
print(case.register_no)
"""


def test_a_late_case_reaches_the_sub_district_on_a_phone(page: Page, server: Server) -> None:
    register_no = server.cli("manage", "shell", "-c", LATE_CASE).stdout.strip().splitlines()[-1]
    # the clocks' sweep is the one periodic job this story needs: after it the worker would
    # run the analytics rollup of the demo's 400 days (75 s idle, over 300 s in CI's two
    # lanes) before delivering the notifications, past the wait below
    worker = subprocess.Popen(
        [str(BIN / "wangge"), "worker", "--interval", "0.2", "--sweep-every", "1"],
        env={**server.env, "WANGGE_WORKER_JOBS": "wangge.cases.jobs.sweep"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        login(page, server, "subcenter")
        row = page.locator("tr.unread.kind-sla_breach", has_text=register_no)
        deadline = time.monotonic() + 90
        while True:  # the worker sweeps, then delivers; the page shows what has arrived
            page.goto(server.url + "/console/cases/notifications/")
            if row.count() or time.monotonic() > deadline:
                break
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            time.sleep(0.5)
        expect(row).to_contain_text("E2E 暴露垃圾超期未清运")
        expect(row).to_contain_text("超时")
        expect(page.locator(".notifications-link .badge")).to_be_visible()
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        page.screenshot(path=str(server_shot(server, "notifications-phone.png")),
                        full_page=True)

        row.get_by_role("button", name=register_no).click()
        expect(page.locator("h1")).to_contain_text("E2E 暴露垃圾超期未清运")
        expect(page.locator(".badge").first).to_be_visible()
        page.goto(server.url + "/console/cases/notifications/")
        expect(page.locator("tr.read.kind-sla_breach", has_text=register_no)).to_be_visible()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
