"""The case console: queues, the case page and its actions, the department inbox, the report
form, the duty list, statistics and the public status page."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from wangge.cases.models import Case, DutyRule
from wangge.cases.tests.helpers import act, post, report
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


def page(client: Client, url: str, **params: str) -> str:
    r = client.get(url, params)
    assert r.status_code == 200, (url, r.status_code)
    return r.content.decode()


def test_each_person_sees_their_own_queue(login_as, spot) -> None:
    worker, dispatcher, dept = (login_as(u) for u in ("gridworker", "dispatcher", "department"))
    no = report(worker, spot, title="井盖缺失待派遣")["register_no"]
    assert no in page(dispatcher, "/console/cases/", queue="mine")
    assert no not in page(worker, "/console/cases/", queue="mine")
    assert no in page(worker, "/console/cases/", queue="scope")
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    assert no not in page(dispatcher, "/console/cases/", queue="mine")
    inbox = page(dept, "/console/cases/inbox/")
    assert no in inbox and f"/console/cases/{no}/act/accept/" in inbox
    assert no in page(dept, "/console/cases/", queue="mine")
    assert no in page(dispatcher, "/console/cases/", queue="scope", state="dispatched")
    assert no not in page(dispatcher, "/console/cases/", queue="scope", state="closed")


def test_the_case_page_offers_only_the_actions_allowed_here(login_as, spot) -> None:
    worker, dispatcher, dept = (login_as(u) for u in ("gridworker", "dispatcher", "department"))
    no = report(worker, spot)["register_no"]
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    html = page(dept, f"/console/cases/{no}/")
    assert 'data-action="accept"' in html and 'data-action="return"' in html
    assert 'data-action="register"' not in html and 'data-action="close"' not in html
    assert "城市管理" in html  # which rule sent it where
    assert 'id="case-map"' in html and "case-grid" in html
    assert 'data-action="' not in page(worker, f"/console/cases/{no}/")  # nothing to do yet


def test_console_actions_go_through_the_loop_and_explain_refusals(login_as, spot) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    no = report(login_as("gridworker"), spot)["register_no"]
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    r = dept.post(f"/console/cases/{no}/act/return/", {"reason": ""}, follow=True)
    assert "理由" in r.content.decode() and "required" in r.content.decode()
    assert Case.objects.get(register_no=no).state == "dispatched"
    dept.post(f"/console/cases/{no}/act/accept/")
    assert Case.objects.get(register_no=no).state == "accepted"
    r = dept.post(f"/console/cases/{no}/act/register/", follow=True)
    assert "cannot register a case that is accepted" in r.content.decode()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "orange").save(out, format="JPEG")
    return out.getvalue()


def test_the_report_form_makes_one_case_per_tap(login_as, spot) -> None:
    worker = login_as("gridworker")
    before = Case.objects.count()
    html = page(worker, "/console/cases/new/")
    assert 'capture="environment"' in html and "0601" in html
    form = {"category": "0601", "title": "胜利路口井盖缺失", "channel": "grid_worker",
            "lng": spot[0], "lat": spot[1], "client_key": "tap-1"}
    r1 = worker.post("/console/cases/new/", {**form, "photos": SimpleUploadedFile("a.jpg",
                                                                                     jpeg())})
    r2 = worker.post("/console/cases/new/", {**form, "photos": SimpleUploadedFile("a.jpg",
                                                                                     jpeg())})
    assert r1.status_code == r2.status_code == 302 and r1["Location"] == r2["Location"]
    assert Case.objects.count() == before + 1
    case = Case.objects.latest("id")
    assert case.photos.count() == 1 and case.grid.name == "胜利社区第1网格"
    bad = worker.post("/console/cases/new/", {**form, "title": "", "client_key": "tap-2"})
    assert bad.status_code == 200 and "invalid" in bad.content.decode()
    assert Case.objects.count() == before + 1


def test_the_duty_list_is_kept_in_the_console(login_as, spot) -> None:
    dispatcher, worker = login_as("dispatcher"), login_as("gridworker")
    town = Grid.objects.get(name="来龙门街道")
    r = worker.post("/console/cases/rules/", {"category": "0601", "grid": town.code,
                                              "department": "housing"}, follow=True)
    assert "only the center" in r.content.decode()
    assert not DutyRule.objects.filter(grid=town).exists()
    r = dispatcher.post("/console/cases/rules/", {"category": "0601", "grid": town.code,
                                                  "department": "housing"}, follow=True)
    assert r.status_code == 200 and DutyRule.objects.filter(grid=town).count() == 1
    no = report(worker, spot)["register_no"]
    act(dispatcher, no, "register")
    done = act(dispatcher, no, "dispatch").json()
    assert done["department"] == "housing" and "来龙门街道" in done["routed_by"]
    rule = DutyRule.objects.get(grid=town)
    dispatcher.post(f"/console/cases/rules/{rule.pk}/delete/")
    assert not DutyRule.objects.filter(grid=town).exists()
    # the routed case still says which rule sent it where
    assert "来龙门街道" in dispatcher.get(f"/api/v1/cases/{no}").json()["routed_by"]
    r = dispatcher.post("/console/cases/rules/", {"category": "0601", "grid": town.code,
                                                  "department": "housing",
                                                  "external_system": "x"}, follow=True)
    assert "either a department or an external system" in r.content.decode()


def test_duty_rules_through_the_api(login_as) -> None:
    dispatcher = login_as("dispatcher")
    village = Grid.objects.get(name="胜利社区")
    r = dispatcher.put("/api/v1/cases/duty-rules", {"category": "06", "grid": village.code,
                                                    "department": "housing"},
                       content_type="application/json")
    assert r.status_code == 200 and r.json()["grid_name"] == "胜利社区"
    r = dispatcher.put("/api/v1/cases/duty-rules", {"category": "99", "grid": village.code,
                                                    "department": "housing"},
                       content_type="application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "category"
    assert any(x["grid"] == village.code for x in dispatcher.get(
        "/api/v1/cases/duty-rules").json())


def test_statistics_count_confidential_cases_without_describing_them(login_as, spot) -> None:
    report(login_as("gridworker"), (spot[0] + 0.001, spot[1]), category="1202",
           title="传销窝点")
    html = page(login_as("station"), "/console/cases/stats/")
    assert 'id="confidential">' in html and "传销" not in html and "治安稳定" not in html
    center = login_as("dispatcher").get("/api/v1/cases/stats").json()
    assert center["confidential"] >= 1
    assert all(c["code"] != "12" for c in center["by_class"])


def test_the_overdue_queue_shows_late_assignments(login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    no = report(login_as("gridworker"), spot, category="1001", title="停水")["register_no"]
    late = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    post(dispatcher, f"/api/v1/cases/{no}/consultations", {
        "held_on": late, "participants": "水司", "decision": "抢修",
        "tasks": [{"department": "water", "task": "抢修", "deadline": late}]})
    assert no in page(dispatcher, "/console/cases/", queue="overdue")
    assert no in [c["register_no"] for c in dispatcher.get(
        "/api/v1/cases/", {"queue": "overdue"}).json()]


def test_the_public_status_page_shows_progress_not_people(login_as, spot) -> None:
    no = report(login_as("gridworker"), spot, description="联系人张三 17090000000")[
        "register_no"]
    html = page(Client(), f"/cases/status/{no}")
    assert no in html and "已上报" in html
    assert "张三" not in html and "17090000000" not in html and "胜利路井盖缺失" not in html
    assert "没有找到" in page(Client(), "/cases/status/", no="LL-2026-999999")
    assert "没有找到" not in page(Client(), "/cases/status/")


def test_a_department_sees_its_own_cases_not_the_whole_city(login_as, spot) -> None:
    dispatcher, urban, water = login_as("dispatcher"), login_as("department"), login_as("water")
    no = report(login_as("gridworker"), spot, category="1001", title="停水")["register_no"]
    act(dispatcher, no, "register")
    assert urban.get(f"/api/v1/cases/{no}").status_code == 404
    assert water.get(f"/api/v1/cases/{no}").status_code == 404  # not dispatched yet
    act(dispatcher, no, "dispatch")
    assert water.get(f"/api/v1/cases/{no}").status_code == 200
    assert urban.get(f"/api/v1/cases/{no}").status_code == 404
    assert no not in page(urban, "/console/cases/", queue="scope")
    post(dispatcher, f"/api/v1/cases/{no}/consultations", {
        "held_on": "2026-11-26", "participants": "水司、城管", "decision": "城管配合围挡",
        "tasks": [{"department": "urban-management", "task": "现场围挡",
                   "deadline": "2026-11-27"}]})
    assert urban.get(f"/api/v1/cases/{no}").status_code == 200  # it has an assignment now
    assert no in page(urban, "/console/cases/inbox/")
