"""Every console and public page on a 390×844 phone, as the roles that use it: nothing scrolls
sideways. Then the same pages on a 1920×1080 screen: each answers 200 without a script error.

On a phone (`is_mobile=True`) a page wider than the screen widens the layout viewport, so
`scrollWidth <= innerWidth` would pass on a broken page: the page's own scroll width is
compared with the screen's 390 px, and every element whose right edge passes 390 px outside
a horizontally scrolling container is named in the failure.

The page list is checked against the URL confs: a new page that is not visited here fails
`test_every_page_is_visited`."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_browser import PASSWORD, server_shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
#: the monthly evaluation report's month in the sweep: last month
LAST_MONTH = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
DESKTOP = {"width": 1920, "height": 1080}

# Real ids from the demo, read through the CLI on the server's own database.
IDS_SCRIPT = r"""
import json, datetime
from django.contrib.auth import get_user_model
from wangge.cases.access import visible_cases
from wangge.cases.models import Assignment, Case
User = get_user_model()
from wangge.registry.models import Building, Household, Resident
from wangge.territory.models import Grid
grid = Grid.objects.get(name="胜利社区第1网格")
resident = Resident.objects.filter(grid=grid).order_by("pk").first()
building = Building.objects.filter(grid=grid).exclude(qr_token="").order_by("pk").first()
household = Household.objects.filter(grid=grid).order_by("pk").first()
assigned = Assignment.objects.filter(case__grid=grid).order_by("-pk").first().case
open_case = Case.objects.filter(grid=grid).exclude(state="closed").order_by("-pk").first()
worker = User.objects.get(username="gridworker")
worker_case = visible_cases(worker).exclude(state="closed").order_by("-pk").first()
registered = Case.objects.filter(state="registered", confidential=False).order_by("pk").first()
dept_case = Case.objects.filter(department__name="城市管理和综合执法局").exclude(
    state="closed").order_by("-pk").first()
from wangge.fieldwork.actions.plan import build_day_plan
from wangge.fieldwork.models import Task
from wangge.org.models import Person
person = Person.objects.get(user=worker)
plan = build_day_plan(person, datetime.date.today())
task = Task.objects.filter(worker=person, confidential=False).order_by("pk").first()
# the service hall: items from the demo catalogue; a draft and a submitted application and
# a booking made here, opened on the public status page by number and follow code
from django.utils import timezone
from wangge.services.actions.applications import do_open_application
from wangge.services.actions.proxy import do_book_proxy
from wangge.services.models import Application, ServiceItem
published = ServiceItem.objects.filter(active=True, current__isnull=False).order_by("code")
online_item = published.filter(online_prereview=True, proxy_eligible=True).first()
draft = do_open_application(None, item_code=online_item.code, applicant={"name": "宽度检查"},
                            grid_id=grid.pk)
sent = do_open_application(None, item_code=online_item.code, applicant={"name": "宽度检查"},
                           grid_id=grid.pk)
Application.objects.filter(pk=sent.pk).update(state="submitted", submitted_at=timezone.now())
booked = do_book_proxy(None, item_code=online_item.code, grid_id=grid.pk, at=None,
                       applicant={"name": "宽度检查", "phone": "13900000000"}, channel="guide")
# an Open311 key, so the keys page has a row (with a long label) to fit on a phone
from wangge.integration.actions import do_create_token
from wangge.org.actions import do_ensure_external_department
do_create_token(do_ensure_external_department("width-check").service_user,
                label="宽度检查：一条很长的说明，在手机上应当换行而不是把页面撑宽")
# a refused call from 12345 with a long reason, so the system's page has one to fit
from wangge.integration.actions.external import do_record_inbound
from wangge.integration.models import Adapter
hotline = Adapter.objects.filter(system__code="hotline_12345").first()
if hotline is not None:
    do_record_inbound(hotline, kind="callback", outcome="refused", http_status=400,
                      reason="order_no: 宽度检查-没有这个工单号-" + "X" * 80)
# disputes: one registered (its forms), one mediated to an agreement (its printable page),
# with long names and subjects to wrap on a phone
from wangge.disputes.actions.mediation import do_accept, do_record_session
from wangge.disputes.actions.outcome import do_make_agreement
from wangge.disputes.actions.records import do_record_dispute
mediator = User.objects.get(username="mediator")
def dispute_body(risk):
    return {"grid_id": grid.pk, "source": "resident", "kind": "labour", "risk": risk,
            "subject": "宽度检查：拖欠工资，一条很长的争议事项在手机上应当换行而不是把页面撑宽",
            "account": "X" * 120, "amount": "12000.00",
            "parties": [{"role": "applicant", "kind": "person", "name": "宽度检查",
                         "phone": "13900000000"},
                        {"role": "respondent", "kind": "organisation",
                         "name": "宽度检查劳务有限公司：一个很长的单位名称不应把页面撑宽"}]}
open_dispute = do_record_dispute(worker, dispute_body("high"))
agreed_dispute = do_record_dispute(worker, dispute_body("medium"))
do_accept(mediator, agreed_dispute.pk, mediator_id=mediator.person.pk)
do_record_session(mediator, {"dispute_id": agreed_dispute.pk,
                             "held_at": timezone.now().isoformat(), "place": "社区调解室",
                             "attendees": "双方当事人", "notes": "Y" * 200, "photo_hashes": []})
do_make_agreement(mediator, agreed_dispute.pk, terms="Z" * 300)
print(json.dumps({
    "open_dispute": open_dispute.pk, "agreed_dispute": agreed_dispute.pk,
    "item": online_item.code, "draft": [draft.no, draft.follow_code],
    "sent": [sent.no, sent.follow_code], "sent_id": sent.pk,
    "booked": [booked.no, booked.follow_code], "booked_id": booked.pk,
    "person": person.pk, "plan": plan.pk, "task": task.pk,
    "grid": grid.code, "spot": [grid.label_lng, grid.label_lat], "grid_qr": grid.qr_token,
    "building_qr": building.qr_token,
    "resident": resident.pk, "building": building.pk, "household": household.pk,
    "assigned_case": assigned.register_no, "open_case": open_case.register_no,
    "dept_case": dept_case.register_no, "worker_case": worker_case.register_no,
    "registered_case": registered.register_no, "year": datetime.date.today().year,
}))
"""


@dataclass(frozen=True)
class Visit:
    role: str  # a demo login, or "" for a signed-out resident
    path: str
    name: str  # the URL name it stands for ("namespace:name")


# 上报成功 shows only to the session that reported: each context reports once to reach it
REPORTED = "/console/cases/<reported>/reported/"


# the receipt of an opinion shows only to the browser that sent it: each context sends one
OPINION_SENT = "/opinions/done/<sent>/"


def _record(ids: dict, key: str) -> tuple[str, str]:
    """(number, follow code) of a service-hall record the ids script made."""
    found = ids[key]
    return (found[0], found[1]) if isinstance(found, list) else ("", "")


def _status(ids: dict, key: str) -> str:
    no, code = _record(ids, key)
    return f"/services/status/?no={no}&code={code}"


def visits(ids: dict) -> list[Visit]:
    case, open_case, dept_case = ids["assigned_case"], ids["open_case"], ids["dept_case"]
    return [
        # signed out: a resident with a phone
        Visit("", "/login/", "web:login"),
        Visit("", f"/q/{ids['grid_qr']}", "web:qr"),
        Visit("", f"/q/{ids['building_qr']}", "web:qr"),
        Visit("", "/q/no-such-code", "web:qr"),
        Visit("", "/cases/status/", "cases_public:status"),
        Visit("", f"/cases/status/?no={case}", "cases_public:status"),
        Visit("", f"/cases/status/{case}", "cases_public:status_no"),
        # the service hall (signed out); the status page opens a record for this browser
        Visit("", "/services/", "services_public:hall"),
        Visit("", "/services/?q=%E8%80%81%E5%B9%B4%E8%AF%81&proxy=1", "services_public:hall"),
        Visit("", f"/services/?event=elderly&t={ids['grid_qr']}", "services_public:hall"),
        Visit("", f"/services/items/{ids['item']}/", "services_public:guide"),
        Visit("", f"/services/items/{ids['item']}/apply/", "services_public:apply"),
        Visit("", f"/services/items/{ids['item']}/proxy/", "services_public:book"),
        Visit("", f"/services/items/{ids['item']}/proxy/?t={ids['building_qr']}",
              "services_public:book"),
        Visit("", "/services/status/", "services_public:status"),
        Visit("", _status(ids, "draft"), "services_public:status"),
        Visit("", _status(ids, "sent"), "services_public:status"),
        Visit("", _status(ids, "booked"), "services_public:status"),
        Visit("", f"/services/applications/{_record(ids, 'draft')[0]}/",
              "services_public:application"),
        Visit("", f"/services/applications/{_record(ids, 'sent')[0]}/done/",
              "services_public:applied"),
        Visit("", f"/services/proxies/{_record(ids, 'booked')[0]}/", "services_public:booked"),
        # 居民反映: the form directly, from a building's and a grid's code; the done page of a
        # browser that has not reported (the filled one is in test_resident_report_browser)
        Visit("", "/report/", "report:form"),
        Visit("", f"/report/?t={ids['building_qr']}", "report:form"),
        Visit("", f"/report/?t={ids['grid_qr']}", "report:form"),
        Visit("", "/report/done/", "report:done"),
        # a resident's 社情民意 / 咨询: the picker, from a building's code, a form, the receipt
        Visit("", "/opinions/", "opinions_public:start"),
        Visit("", f"/opinions/?t={ids['building_qr']}", "opinions_public:start"),
        Visit("", f"/opinions/question/?t={ids['grid_qr']}", "opinions_public:send"),
        Visit("", OPINION_SENT, "opinions_public:done"),
        Visit("", "/opinions/status/", "opinions_public:status"),
        # the center's dispatcher
        Visit("dispatcher", "/", "web:home"),
        Visit("dispatcher", "/console/cases/", "cases:queue"),
        Visit("dispatcher", "/console/cases/?view=overdue", "cases:queue"),
        Visit("dispatcher", "/console/cases/new/", "cases:new"),
        Visit("dispatcher", f"/console/cases/{case}/", "cases:case"),
        Visit("dispatcher", f"/console/cases/{open_case}/", "cases:case"),
        Visit("dispatcher", f"/console/cases/{ids['registered_case']}/", "cases:case"),
        Visit("dispatcher", "/console/cases/sla/", "cases:sla"),
        Visit("center_admin", "/console/open311/keys/", "open311_console:keys"),
        Visit("dispatcher", "/console/cases/notice/", "cases:notice"),
        Visit("dispatcher", "/console/cases/stats/", "cases:stats"),
        Visit("dispatcher", "/console/cases/rules/", "cases:rules"),
        Visit("dispatcher", "/console/cases/notifications/", "cases:notifications"),
        Visit("dispatcher", "/console/cases/followups/", "cases:followups"),
        Visit("station", "/console/cases/followups/", "cases:followups"),
        Visit("dispatcher", "/console/calendar/", "workcal:calendar"),
        Visit("dispatcher", f"/console/calendar/?year={ids['year'] + 1}", "workcal:calendar"),
        Visit("dispatcher", "/console/registry/", "registry:search"),
        Visit("dispatcher", "/console/registry/?q=%E5%BC%A0", "registry:search"),
        Visit("dispatcher", "/console/registry/stats/", "registry:stats"),
        # administrators: the outbox and job console
        Visit("center_admin", "/console/outbox/", "integration:outbox"),
        Visit("admin", "/console/outbox/", "integration:outbox"),
        # the center's dispatcher: the external systems (12345, 数字城管)
        Visit("dispatcher", "/console/systems/", "systems:index"),
        Visit("dispatcher", "/console/systems/hotline_12345/", "systems:system"),
        Visit("center_admin", "/console/systems/city_management/", "systems:system"),
        # figures: evaluation metrics, rankings, hot spots, the cockpit, the monthly report
        Visit("dispatcher", "/console/analytics/", "analytics:metrics"),
        Visit("dispatcher", "/console/analytics/?by=category&period=month", "analytics:metrics"),
        Visit("station", "/console/analytics/?by=worker", "analytics:metrics"),
        Visit("department", "/console/analytics/?by=department", "analytics:metrics"),
        Visit("dispatcher", "/console/analytics/rankings/", "analytics:rankings"),
        Visit("department", "/console/analytics/rankings/?dim=department", "analytics:rankings"),
        Visit("dispatcher", "/console/analytics/hotspots/", "analytics:hotspots"),
        Visit("station", "/console/analytics/hotspots/", "analytics:hotspots"),
        Visit("dispatcher", "/console/analytics/cockpit/", "analytics:cockpit"),
        Visit("dispatcher", "/console/analytics/reports/", "analytics:reports"),
        Visit("dispatcher", f"/console/analytics/reports/{LAST_MONTH}/", "analytics:report"),
        Visit("", "/open-data/", "opendata:index"),
        # a department
        Visit("department", "/", "web:home"),
        Visit("department", "/console/cases/inbox/", "cases:inbox"),
        Visit("department", f"/console/cases/{dept_case}/", "cases:case"),
        Visit("department", "/console/cases/notifications/", "cases:notifications"),
        # a workstation
        Visit("station", "/", "web:home"),
        Visit("station", "/console/cases/", "cases:queue"),
        Visit("station", f"/console/cases/{case}/", "cases:case"),
        Visit("station", "/console/cases/sla/", "cases:sla"),
        Visit("station", "/console/registry/", "registry:search"),
        Visit("station", "/console/registry/stats/", "registry:stats"),
        Visit("station", f"/console/registry/buildings/{ids['building']}/", "registry:building"),
        Visit("station", "/console/calendar/", "workcal:calendar"),
        # the grid worker, on the street
        Visit("gridworker", "/", "web:home"),
        Visit("gridworker", "/console/cases/new/", "cases:new"),
        Visit("gridworker", REPORTED, "cases:reported"),
        Visit("gridworker", "/console/cases/", "cases:queue"),
        Visit("gridworker", f"/console/cases/{ids['worker_case']}/", "cases:case"),
        Visit("gridworker", "/console/cases/notifications/", "cases:notifications"),
        Visit("gridworker", "/console/registry/", "registry:search"),
        Visit("gridworker", f"/console/registry/residents/{ids['resident']}/",
              "registry:resident"),
        Visit("gridworker", f"/console/registry/residents/{ids['resident']}/edit/",
              "registry:edit_resident"),
        Visit("gridworker", "/console/registry/residents/new/", "registry:new_resident"),
        Visit("gridworker", "/console/registry/buildings/new/", "registry:new_building"),
        Visit("gridworker", f"/console/registry/buildings/{ids['building']}/",
              "registry:building"),
        Visit("gridworker", "/console/registry/houses/new/", "registry:new_house"),
        Visit("gridworker", f"/console/registry/households/{ids['household']}/",
              "registry:household"),
        # the grid worker's day: the field app, and the console pages of their own records
        Visit("", "/app/", "fieldapp:shell"),
        Visit("gridworker", "/app/", "fieldapp:shell"),
        Visit("gridworker", f"/console/fieldwork/plans/{ids['plan']}/", "fieldwork:plan"),
        Visit("gridworker", f"/console/fieldwork/workers/{ids['person']}/",
              "fieldwork:worker_day"),
        Visit("gridworker", "/console/fieldwork/coverage/", "fieldwork:coverage"),
        Visit("gridworker", "/console/fieldwork/visits/", "fieldwork:visits"),
        Visit("gridworker", "/console/fieldwork/opinions/", "fieldwork:opinions"),
        Visit("gridworker", "/console/fieldwork/diary/", "fieldwork:diary"),
        Visit("gridworker", "/console/fieldwork/outreach/", "fieldwork:outreach"),
        Visit("gridworker", "/console/fieldwork/tasks/", "fieldwork:tasks"),
        Visit("gridworker", f"/console/fieldwork/tasks/{ids['task']}/", "fieldwork:task"),
        # the workstation over its workers' day
        Visit("station", "/console/fieldwork/attendance/", "fieldwork:attendance"),
        Visit("station", f"/console/fieldwork/workers/{ids['person']}/month/",
              "fieldwork:worker_month"),
        Visit("station", f"/console/fieldwork/plans/worker/{ids['person']}/",
              "fieldwork:worker_plan"),
        Visit("station", "/console/fieldwork/workload/", "fieldwork:workload"),
        Visit("station", f"/console/fieldwork/coverage/?grid={ids['grid']}&days=14",
              "fieldwork:coverage"),
        Visit("station", "/console/fieldwork/meetings/", "fieldwork:meetings"),
        Visit("station", "/console/fieldwork/diary/", "fieldwork:diary"),
        Visit("station", "/console/fieldwork/opinions/", "fieldwork:opinions"),
        Visit("grid_police", "/console/fieldwork/tasks/", "fieldwork:tasks"),
        Visit("dispatcher", "/console/fieldwork/attendance/", "fieldwork:attendance"),
        Visit("dispatcher", "/console/fieldwork/workload/?by=grid", "fieldwork:workload"),
        Visit("dispatcher", "/console/fieldwork/opinions/", "fieldwork:opinions"),
        Visit("center_admin", "/console/fieldwork/outreach/", "fieldwork:outreach"),
        # the service hall's console: the reviewer inbox and an application under review
        Visit("civil_affairs", "/console/services/review/", "services:review"),
        Visit("center_admin", "/console/services/", "services:home"),
        Visit("center_admin", f"/console/services/review/{ids['sent_id']}/",
              "services:review_application"),
        Visit("center_admin", "/console/services/catalogue/", "services:catalogue"),
        Visit("center_admin", f"/console/services/catalogue/{ids['item']}/",
              "services:catalogue_item"),
        Visit("center_admin", f"/console/services/catalogue/{ids['item']}/edit/",
              "services:catalogue_edit"),
        Visit("center_admin", "/console/services/catalogue/import/",
              "services:catalogue_import"),
        Visit("station", "/console/services/proxies/", "services:proxy_board"),
        Visit("station", f"/console/services/proxies/{ids['booked_id']}/", "services:proxy"),
        Visit("station", "/console/services/stats/", "services:stats"),
        Visit("civil_affairs", "/console/services/stats/?by=department", "services:stats"),
        # disputes: the list (with a high-risk alert for the workstation), a dispute with
        # its forms, an agreement, the screening coverage map, the mediators' workload
        Visit("dispatcher", "/console/disputes/", "disputes:index"),
        Visit("station", "/console/disputes/?state=&risk=high", "disputes:index"),
        Visit("mediator", f"/console/disputes/{ids['open_dispute']}/", "disputes:dispute"),
        Visit("mediator", f"/console/disputes/{ids['agreed_dispute']}/", "disputes:dispute"),
        Visit("station", f"/console/disputes/{ids['agreed_dispute']}/", "disputes:dispute"),
        Visit("mediator", f"/console/disputes/{ids['agreed_dispute']}/agreement/",
              "disputes:agreement"),
        Visit("station", "/console/disputes/coverage/", "disputes:coverage"),
        Visit("dispatcher", "/console/disputes/coverage/", "disputes:coverage"),
        Visit("dispatcher", "/console/disputes/workload/", "disputes:workload"),
        Visit("mediator", "/console/disputes/workload/", "disputes:workload"),
    ]


# URL names that are not pages: forms post to them, files and JSON come from them.
NOT_PAGES = {
    "web:healthz", "web:logout", "cases:notifications_read", "cases:notification",
    "cases:delete_rule", "cases:act", "cases:photos", "cases:photo", "cases:assignment",
    "cases:supervise", "integration:retry", "integration:retry_dead", "workcal:set_day",
    "systems:resend", "systems:recall", "systems:set_mapping",
    # an external system's signed POSTs to us, and the signed photo links we give it
    "integration_inbound:callbacks", "integration_inbound:work_orders",
    "integration_attachments:photo",
    "workcal:set_year", "registry:unmask",
    "web:grid_panel",  # a fragment the map page loads into its side panel, not a page
    "fieldwork:plan_add", "fieldwork:plan_remove", "fieldwork:plan_move",
    "fieldwork:plan_done", "fieldwork:plan_rebuild", "fieldwork:opinion_step",
    "fieldapp:manifest", "fieldapp:sw", "fieldapp:icon",
    "services_public:search_json", "services_public:upload", "services_public:submit",
    "services_public:rate",
    "cases_public:rate", "cases:followup_record",  # the rating and the follow-up call (POST)
    "report:nearby", "report:follow",  # JSON for the report form's script; a POST
    ":captcha-image", ":captcha-image-2x", ":captcha-audio", ":captcha-refresh",  # files, JSON
    "services:review_check", "services:review_decide", "services:application_file",
    "services:catalogue_publish", "services:catalogue_discard", "services:catalogue_active",
    "services:catalogue_export",
    # Open311 GeoReport v2: JSON/XML for clients, not pages; the keys page's two POSTs
    "open311:discovery", "open311:services", "open311:service", "open311:requests",
    "open311:request", "open311:token", "open311_console:create", "open311_console:revoke",
    # figures: the cockpit's JSON, the report's PDF, the open-data file
    "analytics:cockpit_data", "analytics:report_pdf", "opendata:cases_csv",
    # disputes: the forms' POSTs (a step, the reveal of a party, an alert seen) and the
    # signature images the agreement page shows
    "disputes:step", "disputes:reveal", "disputes:alert_seen", "disputes:signature",
}

# Pages other engineers own and had not fixed when this test was written.
KNOWN_WIDE: dict[str, str] = {}

# Lists the elements that end right of the screen and are not inside a container that
# scrolls sideways (or clips) within the screen.
OVERFLOW_JS = """(limit) => {
  const within = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)
          && p.getBoundingClientRect().right <= limit + 0.5) return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= limit + 0.5) continue;
    if (getComputedStyle(el).position === 'fixed') continue;
    if (within(el)) continue;
    const id = el.id ? '#' + el.id : '';
    const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
    out.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right)}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, offenders: out.slice(0, 6)};
}"""


@pytest.fixture(scope="module")
def ids(server: Server) -> dict:
    out = server.cli("manage", "shell", "-c", IDS_SCRIPT).stdout
    return json.loads(out.strip().splitlines()[-1])


def _signed_in(browser: Browser, server: Server, role: str, **context: object) -> BrowserContext:
    ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
    if role:
        page = ctx.new_page()
        page.goto(server.url + "/login/")
        page.get_by_label("用户名").fill(role)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(server.url + "/")
        page.close()
    return ctx


@pytest.fixture(scope="module")
def contexts(browser: Browser, server: Server) -> Iterator[dict[tuple[str, str], BrowserContext]]:
    made: dict[tuple[str, str], BrowserContext] = {}

    def get(role: str, kind: str) -> BrowserContext:
        if (role, kind) not in made:
            extra = ({"viewport": PHONE, "is_mobile": True, "has_touch": True,
                      "device_scale_factor": 2} if kind == "phone" else {"viewport": DESKTOP})
            made[role, kind] = _signed_in(browser, server, role, **extra)
        return made[role, kind]

    yield get  # type: ignore[misc]
    for ctx in made.values():
        ctx.close()


_reports: dict[int, str] = {}


def _report_once(ctx: BrowserContext, server: Server, ids: dict) -> str:
    """Report a case through the form in this context (its session) and return its number."""
    if id(ctx) not in _reports:
        page = ctx.new_page()
        page.goto(server.url + "/console/cases/new/")
        page.get_by_label("事件分类").select_option("0801")
        page.get_by_label("标题").fill("E2E 手机宽度检查")
        page.evaluate("([lng, lat]) => { document.getElementById('id_lng').value = lng;"
                      " document.getElementById('id_lat').value = lat; }", ids["spot"])
        page.get_by_role("button", name="上报", exact=True).click()
        page.wait_for_url("**/reported/")
        _reports[id(ctx)] = page.url.rstrip("/").split("/")[-2]
        page.close()
    return _reports[id(ctx)]


_opinions: dict[int, str] = {}


def _opinion_once(ctx: BrowserContext, server: Server, ids: dict) -> str:
    """Send an opinion through the public form in this context and return its number."""
    if id(ctx) not in _opinions:
        page = ctx.new_page()
        page.goto(server.url + f"/opinions/opinion/?t={ids['grid_qr']}")
        page.get_by_label("类别").select_option(index=1)
        page.get_by_label("内容").fill("E2E 手机宽度检查：建议增设路灯")
        page.get_by_role("button", name="提交").click()
        page.wait_for_url("**/opinions/done/**")
        _opinions[id(ctx)] = page.url.rstrip("/").split("/")[-1]
        page.close()
    return _opinions[id(ctx)]


def _open(ctx: BrowserContext, server: Server, visit: Visit,
          ids: dict | None = None) -> tuple[Page, list[str]]:
    if visit.path == REPORTED and ids is not None:
        visit = Visit(visit.role, REPORTED.replace("<reported>", _report_once(ctx, server, ids)),
                      visit.name)
    if visit.path == OPINION_SENT and ids is not None:
        visit = Visit(visit.role, OPINION_SENT.replace("<sent>", _opinion_once(ctx, server, ids)),
                      visit.name)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(server.url + visit.path)
    assert response is not None
    expected = 404 if visit.path == "/q/no-such-code" else 200
    assert response.status == expected, (visit, response.status)
    if expected == 404:  # the browser reports the page's own status as a console error
        errors[:] = [e for e in errors if "status of 404" not in e]
    page.wait_for_load_state("networkidle")
    return page, errors


def _label(v: Visit) -> str:
    return f"{v.role or 'public'} {v.path}"


def test_every_page_is_visited() -> None:
    from django.urls import URLPattern, URLResolver, get_resolver

    def names(patterns: list, ns: str = "") -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith(("admin/", "api/", "i18n/")):
                    continue  # Django's admin, the REST API and the language switch
                yield from names(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{ns}:{p.name}"

    all_names = set(names(get_resolver().url_patterns))
    visited = {v.name for v in visits(defaultdict(int))}
    assert all_names - NOT_PAGES - visited == set()
    assert visited - all_names == set()


# the number of visits does not depend on the ids, so each one is its own test
VISITS = len(visits(defaultdict(int)))


def _known_wide(request: pytest.FixtureRequest, visit: Visit) -> None:
    for path, reason in KNOWN_WIDE.items():
        if visit.path.startswith(path):
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("n", range(VISITS))
def test_page_fits_a_phone(contexts, server: Server, ids: dict, n: int,
                           request: pytest.FixtureRequest) -> None:
    visit = visits(ids)[n]
    _known_wide(request, visit)
    page, errors = _open(contexts(visit.role, "phone"), server, visit, ids)
    found = page.evaluate(OVERFLOW_JS, PHONE["width"])
    name = f"phone-{visit.role or 'public'}-{visit.name.replace(':', '-')}-{n:02d}.png"
    # at CSS pixels: the same picture for a reader, a quarter of the pixels of the phone's
    # 2x rendering to encode (that took most of each visit's time)
    page.screenshot(path=str(server_shot(server, name)), full_page=True, scale="css")
    page.close()
    assert not errors, f"{_label(visit)}: script errors {errors}"
    assert found["scrollWidth"] <= PHONE["width"] and not found["offenders"], \
        f"{_label(visit)} is {found['scrollWidth']}px wide: {found['offenders']}"


@pytest.mark.parametrize("n", range(VISITS))
def test_page_works_on_a_desktop(contexts, server: Server, ids: dict, n: int) -> None:
    visit = visits(ids)[n]
    page, errors = _open(contexts(visit.role, "desktop"), server, visit, ids)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    assert not errors, f"{_label(visit)}: script errors {errors}"
    assert width <= DESKTOP["width"], f"{_label(visit)} is {width}px wide"


def test_header_folds_into_a_menu_on_a_phone_and_not_on_a_desktop(
        contexts, server: Server) -> None:
    page = contexts("dispatcher", "phone").new_page()
    page.goto(server.url + "/console/cases/")
    menu_button = page.get_by_role("button", name="菜单")
    expect(menu_button).to_be_visible()
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    nav = page.locator(".main-nav")
    expect(nav.get_by_role("link", name="地图", exact=True)).to_be_hidden()
    expect(nav.locator(".notifications-link")).to_be_visible()  # unread count stays in sight
    header = page.locator("header.bar").bounding_box()
    assert header is not None and header["height"] < 80  # one line, not a wall of links
    page.screenshot(path=str(server_shot(server, "phone-header-closed.png")))
    menu_button.tap()
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    for name in ("地图", "人口", "事件", "工作日历"):
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44  # a thumb hits it
    expect(nav).not_to_contain_text("发件箱")  # not a dispatcher's tool
    page.screenshot(path=str(server_shot(server, "phone-header-open.png")))
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="工作日历", exact=True)).to_be_hidden()
    menu_button.tap()
    nav.get_by_role("link", name="工作日历").tap()
    expect(page).to_have_url(server.url + "/console/calendar/")
    page.close()

    wide = contexts("dispatcher", "desktop").new_page()
    wide.goto(server.url + "/console/cases/")
    expect(wide.get_by_role("button", name="菜单")).to_be_hidden()
    expect(wide.locator(".main-nav").get_by_role("link", name="事件", exact=True)).to_be_visible()
    wide.close()


def test_cancelling_a_case_is_set_apart_and_asks_first(contexts, server: Server,
                                                       ids: dict) -> None:
    page = contexts("dispatcher", "phone").new_page()
    page.goto(server.url + f"/console/cases/{ids['registered_case']}/")
    form = page.locator("form[data-action=cancel]")
    expect(page.locator(".danger-zone form[data-action=cancel]")).to_be_visible()
    button = form.get_by_role("button", name="撤销")
    color = button.evaluate("b => getComputedStyle(b).color")
    assert color == "rgb(185, 28, 28)", color  # red, unlike the blue everyday buttons
    form.locator("textarea[name=reason]").fill("重复上报")
    asked: list[str] = []

    def say_no(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    button.click()
    page.wait_for_timeout(300)
    assert asked and ids["registered_case"] in asked[0] and "撤销" in asked[0]
    expect(page.locator("h1 .badge")).to_have_text("已登记")  # nothing was sent
    page.once("dialog", lambda d: d.accept())
    button.click()
    expect(page.locator("h1 .badge")).to_have_text("已撤销")
    page.close()


def test_a_resident_goes_from_the_qr_page_to_the_status_page(
        contexts, server: Server, ids: dict) -> None:
    page = contexts("", "phone").new_page()
    page.goto(server.url + "/q/no-such-code")
    expect(page.locator("h1")).to_have_text("这个二维码无法识别")
    page.goto(server.url + f"/q/{ids['grid_qr']}")
    page.get_by_role("link", name="办理进度查询").tap()
    page.get_by_label("登记号").fill(ids["assigned_case"])
    page.get_by_role("button", name="查询").tap()
    expect(page.locator(".status-now")).not_to_be_empty()
    page.locator(".steps-help summary").tap()
    expect(page.locator(".steps-explained")).to_contain_text("网格员会到现场看一看")
    page.screenshot(path=str(server_shot(server, "phone-status.png")), full_page=True)
    page.close()
