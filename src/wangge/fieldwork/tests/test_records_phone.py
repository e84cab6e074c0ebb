"""The records review pages on a 390 px phone and a 1920 px screen, in Chromium: nothing
passes the screen's right edge outside a horizontally scrolling container. The pages are
rendered by the test client (the demo city, with a visit, an opinion and a diary entry of
the day) and served to Chromium with their static files, so no server is needed."""

from __future__ import annotations

import mimetypes
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from wangge.fieldwork.tests.records_helpers import my_grid, now_iso, post, seeded
from wangge.registry.models import Household

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
CHROMIUM = "/usr/lib/chromium/chromium"
PAGES = [("gridworker", "visits"), ("gridworker", "opinions"), ("gridworker", "diary"),
         ("gridworker", "outreach"), ("station", "visits"), ("station", "opinions"),
         ("station", "diary"), ("grid_chief", "diary"), ("subcenter", "opinions"),
         ("dispatcher", "visits"), ("dispatcher", "opinions"), ("center_admin", "outreach")]
OVERFLOW = """() => {
  const w = window.screen.width, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right <= w + 1 || r.width === 0) continue;
    let p = el.parentElement, scrolls = false;
    for (; p; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (s === 'auto' || s === 'scroll' || s === 'hidden') { scrolls = true; break; }
    }
    if (!scrolls) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return {scroll: document.documentElement.scrollWidth, out: out.slice(0, 5)};
}"""


@pytest.fixture
def rendered(login_as) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    seeded()
    worker = login_as("gridworker")
    household = Household.objects.filter(grid=my_grid()).first()
    post(worker, "/visits", {"visited_at": now_iso(), "kind": "hardship_aid", "people_met": 3,
                             "household_id": household.pk, "needs": "需要" * 80,
                             "help_given": "联系民政办理临时救助" * 10})
    post(worker, "/opinions", {"collected_at": now_iso(), "topic": "transport",
                               "content": "公交站台缺少遮雨棚，" * 20, "source": "patrol",
                               "urgency": "urgent"})
    post(worker, "/diary", {"day": now_iso()[:10], "text": "走访情况" * 60,
                            "tags": ["低保", "独居老人"], "household_ids": [household.pk]})
    pages = {}
    for role, name in PAGES:
        r = login_as(role).get(f"/console/fieldwork/{name}/")
        assert r.status_code == 200, (role, name)
        pages[(role, name)] = r.content.decode()
    return pages


def _serve(route) -> None:  # type: ignore[no-untyped-def]
    rel = route.request.url.split("/static/", 1)[1].split("?")[0]
    found = finders.find(rel)
    if not found:
        route.fulfill(status=404, body="")
        return
    path = Path(found)
    route.fulfill(status=200, body=path.read_bytes(),
                  content_type=mimetypes.guess_type(path.name)[0] or "text/plain")


def _html(html: str):  # type: ignore[no-untyped-def]
    def fulfil(route) -> None:  # type: ignore[no-untyped-def]
        route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
    return fulfil


@pytest.mark.parametrize(("size", "mobile"), [((390, 844), True), ((1920, 1080), False)])
def test_no_sideways_scrolling(rendered, size, mobile) -> None:  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                      screen={"width": size[0], "height": size[1]},
                                      is_mobile=mobile, has_touch=mobile)
        page = context.new_page()
        page.route("**/static/**", _serve)
        problems = {}
        for (role, name), html in rendered.items():
            url = f"http://testserver/console/fieldwork/{name}/"
            page.route(url, _html(html))
            page.goto(url)
            found = page.evaluate(OVERFLOW)
            if found["scroll"] > size[0] or found["out"]:
                problems[(role, name)] = found
            page.unroute(url)
        browser.close()
    assert not problems
