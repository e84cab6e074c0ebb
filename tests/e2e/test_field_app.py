"""Issue 12's acceptance, in real Chromium on a 390×844 phone: the grid worker opens /app/,
loads today's plan, loses the signal, and works on — check-in, a patrol with GPS points and
an inspection problem, a visit, an opinion, a diary entry, a case with a photo, a phone
number corrected in the register. The app is closed and opened again, still offline: it
opens and the queue is still there. Back online it syncs: every record exists exactly once
on the server, syncing the same queue again creates nothing, and the register edit made
against a copy that changed on the server meanwhile is shown as a conflict, resolved by
re-applying it."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MARK = "E2E离线"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "olive").save(out, format="JPEG")
    return out.getvalue()


def django(server: Server, code: str) -> Any:
    """Run Python in the server's Django (its own database) and read back JSON."""
    done = server.cli("manage", "shell", "-c", code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_spot(server: Server) -> tuple[float, float]:
    return tuple(django(server, (
        "import json; from wangge.org.models import RoleAssignment as R;"
        "g = R.objects.get(person__user__username='gridworker', role='grid_worker',"
        " ended_on__isnull=True).grid; print(json.dumps([g.label_lng, g.label_lat]))")))


def wait_js(page: Page, expression: str, timeout: float = 20.0) -> None:
    """Poll an expression (page.wait_for_function evaluates strings, which the app's CSP
    forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.2)


def pending(page: Page) -> int:
    return page.evaluate("FieldQueue.counts().then(c => c.pending)")


def open_app(context: BrowserContext, server: Server) -> Page:
    page = context.new_page()
    page.goto(server.url + "/app/")
    expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=20000)
    return page


def submit(page: Page, screen: str, fields: dict[str, str], button: str) -> None:
    before = pending(page)
    page.locator(f"[data-screen=home] [data-go={screen}]").click()
    form = page.locator(f"[data-screen={screen}] form")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(index=int(value)) if value.isdigit() else field.select_option(value)
        else:
            field.fill(value)
    form.get_by_role("button", name=button).click()
    expect(page.locator("[data-screen=home]")).to_be_visible()
    assert pending(page) == before + 1


def test_a_day_offline_then_one_sync(browser: Browser, server: Server,
                                    browser_context_args: dict) -> None:  # type: ignore[type-arg]
    lng, lat = worker_spot(server)
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE,
                                     "has_touch": True, "geolocation":
                                     {"longitude": lng, "latitude": lat, "accuracy": 8},
                                     "permissions": ["geolocation"]})
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    login(page, server, "gridworker")
    page = open_app(context, server)
    # the service worker controls the page (so the shell is cached) before the signal goes
    wait_js(page, "navigator.serviceWorker.controller !== null")

    # today's plan, loaded online
    expect(page.locator("#plan-list .plan-item").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    resident = page.evaluate("FieldQueue.getKv('offline').then(d => d.residents[0])")

    context.set_offline(True)
    expect(page.locator("#net-state")).to_have_text("离线")

    # check-in with the phone's position
    submit(page, "checkin", {}, "报到（带定位）")

    # a patrol: points from watchPosition, one inspection item with a problem → a case
    page.locator("[data-screen=home] [data-go=patrol]").click()
    page.get_by_role("button", name="开始巡查").click()
    expect(page.locator("#patrol-state")).to_contain_text("轨迹点 1")  # where it started
    for step in range(1, 5):
        context.set_geolocation({"longitude": lng + step * 0.0004, "latitude": lat,
                                 "accuracy": 6})
        expect(page.locator("#patrol-state")).to_contain_text(f"轨迹点 {step + 1}")
    first_item = page.locator("#inspection-list [data-check-item]").first
    first_item.get_by_role("button", name="有问题").click()
    first_item.locator("[name=note]").fill(f"{MARK} 路灯不亮")
    expect(first_item.get_by_label("同时上报事件")).to_be_checked()
    first_item.get_by_role("button", name="保存").click()
    expect(first_item.locator(".result")).to_have_text("有问题")
    page.get_by_role("button", name="结束巡查").click()
    expect(page.get_by_role("button", name="开始巡查")).to_be_visible()
    page.get_by_role("button", name="‹ 返回").click()

    submit(page, "visit", {"needs": f"{MARK} 需要轮椅", "people_met": "2"}, "保存走访")
    submit(page, "opinion", {"content": f"{MARK} 小区路灯太暗"}, "保存社情民意")
    submit(page, "diary", {"text": f"{MARK} 今天巡查了三栋楼", "tags": "巡查 路灯"}, "保存日记")

    # a case with a photo (kept as a Blob in IndexedDB until the upload)
    page.locator("[data-screen=home] [data-go=report]").click()
    page.locator("#report-photo").set_input_files(
        files=[{"name": "hole.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    page.locator("#report-form [name=title]").fill(f"{MARK} 井盖缺失")
    page.get_by_role("button", name="上报（带定位）").click()
    expect(page.locator("[data-screen=home]")).to_be_visible()

    # a phone number corrected in the register (against the copy the phone holds)
    page.locator("[data-screen=home] [data-go=grid]").click()
    page.locator("#grid-search").fill(resident["n"])
    page.locator(f"[data-edit='{resident['i']}']").first.click()
    page.locator("#edit-form [name=phone]").fill("13911112222")
    page.get_by_role("button", name="保存修改").click()
    expect(page.locator("#edit-form")).to_be_hidden()
    queued = pending(page)
    assert queued >= 10, queued
    expect(page.locator("#queue-count")).to_have_text(str(queued))

    # closed and opened again without a network: the shell comes from the service worker
    page.close()
    page = open_app(context, server)
    assert pending(page) == queued
    expect(page.locator("#queue-count")).to_have_text(str(queued))
    expect(page.locator("#net-state")).to_have_text("离线")

    # meanwhile the station corrects the same resident on the server
    django(server, (
        "import json; from django.contrib.auth.models import User;"
        "from wangge.registry.models import Resident;"
        "from wangge.registry.actions import do_update;"
        f"r = Resident.objects.get(pk={resident['i']});"
        "do_update(r, {'phone': '13700001111'}, User.objects.get(username='station'));"
        "print(json.dumps(1))"))

    context.set_offline(False)
    page.locator("[data-screen=home] [data-go=sync]").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    states = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.map(e => [e.kind, e.state,"
                           " e.outcome && e.outcome.errors]))")
    assert [s for s in states if s[1] not in ("done", "conflict")] == [], states
    assert [s[0] for s in states if s[1] == "conflict"] == ["register.update"], states

    counts = server_counts(server)
    assert counts == {"checkins": 1, "patrols": 1, "problems": 1, "visits": 1, "opinions": 1,
                      "diary": 1, "cases": 1, "photos": 1, "inspection_cases": 1}, counts
    assert server_points(server) >= 5

    # the same queue sent again: every envelope replays, nothing new on the server
    page.evaluate("FieldQueue.db.queue.where('state').equals('done')"
                  ".modify({state: 'pending'}).then(() => FieldQueue.sync())")
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    replayed = page.evaluate("FieldQueue.db.queue.toArray().then(q => q.filter(e =>"
                             " e.state === 'done').map(e => e.outcome.status))")
    assert replayed and set(replayed) == {"replayed"}, replayed
    assert server_counts(server) == counts

    # the conflict: the server's copy is shown; the worker re-applies their number
    problem = page.locator("#sync-problems .conflict")
    expect(problem).to_have_count(1)
    expect(problem.locator(".server-copy")).to_contain_text("137")
    problem.get_by_role("button", name="用我的修改重新提交").click()
    page.get_by_role("button", name="立即同步").click()
    expect(page.locator("#sync-problems .conflict")).to_have_count(0, timeout=30000)
    expect(page.locator("#sync-pending")).to_have_text("0", timeout=30000)
    phone = django(server, (
        "import json; from wangge.registry.models import Resident;"
        f"print(json.dumps(Resident.objects.get(pk={resident['i']}).phone_masked))"))
    assert phone.startswith("139") and phone.endswith("2222"), phone
    assert errors == [], errors
    context.close()


def server_counts(server: Server) -> dict[str, int]:
    return django(server, f"""
import datetime as dt
import json
from django.utils import timezone
from wangge.cases.models import Case, CasePhoto
from wangge.fieldwork.models import CheckIn, DiaryEntry, InspectionCheck, Opinion, Patrol, Visit
w = dict(worker__user__username='gridworker')
cases = Case.objects.filter(reporter__username='gridworker', title='{MARK} 井盖缺失')
checks = InspectionCheck.objects.filter(patrol__worker__user__username='gridworker',
                                        result='problem', note__startswith='{MARK}')
print(json.dumps(dict(
    checkins=CheckIn.objects.filter(day=timezone.localdate(), **w).count(),
    patrols=Patrol.objects.filter(started_at__gte=timezone.now() - dt.timedelta(hours=3),
                                  ended_at__isnull=False, points__gt=0, **w).count(),
    problems=checks.count(),
    inspection_cases=checks.filter(case__isnull=False).count(),
    visits=Visit.objects.filter(needs__startswith='{MARK}', **w).count(),
    opinions=Opinion.objects.filter(content__startswith='{MARK}',
                                    author__user__username='gridworker').count(),
    diary=DiaryEntry.objects.filter(text__startswith='{MARK}',
                                    author__user__username='gridworker').count(),
    cases=cases.count(),
    photos=CasePhoto.objects.filter(case__in=cases).count(),
)))
""")


def server_points(server: Server) -> int:
    return django(server, """
import json
from wangge.fieldwork.models import Patrol
p = Patrol.objects.filter(worker__user__username='gridworker').order_by('-pk').first()
print(json.dumps(p.points if p else 0))
""")
