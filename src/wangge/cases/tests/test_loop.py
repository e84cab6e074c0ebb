"""The closed loop through the API: the source stories end to end, every illegal transition
refused, required reasons, retries, duplicates and confidential cases."""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.cases.models import Case
from wangge.cases.tests.helpers import act, post, report
from wangge.cases.workflow import STEPS, State

pytestmark = pytest.mark.django_db


def test_missing_manhole_cover_walks_the_whole_loop(login_as, spot) -> None:
    worker, dispatcher, dept = login_as("gridworker"), login_as("dispatcher"), login_as(
        "department")
    case = report(worker, spot)
    no = case["register_no"]
    assert no.startswith("LL-") and case["state"] == "reported"
    assert case["grid_name"] == "胜利社区第1网格"
    steps = [
        (dispatcher, "register", {}, "registered"),
        (dispatcher, "dispatch", {}, "dispatched"),
        (dept, "accept", {}, "accepted"),
        (dept, "start", {}, "in_progress"),
        (dept, "handle", {"feedback": "已补装井盖"}, "handled"),
        (worker, "verify_pass", {}, "verified"),
        (dispatcher, "close", {"closeout_reason": "已修复，现场核实"}, "closed"),
        (worker, "evaluate", {"satisfaction": 5}, "evaluated"),
    ]
    for client, action, body, state in steps:
        r = act(client, no, action, **body)
        assert r.status_code == 200, (action, r.content)
        assert r.json()["state"] == state
    final = r.json()
    assert final["department"] == "urban-management" and final["routed_by_rule"]
    assert [e["action"] for e in final["timeline"]] == ["report"] + [s[1] for s in steps]
    assert final["satisfaction"] == 5 and final["closeout_reason"].startswith("已修复")


def test_a_failed_verification_is_rework(login_as, spot) -> None:
    worker, dispatcher, dept = login_as("gridworker"), login_as("dispatcher"), login_as(
        "department")
    no = report(worker, spot)["register_no"]
    for client, action, body in [(dispatcher, "register", {}), (dispatcher, "dispatch", {}),
                                 (dept, "accept", {}), (dept, "start", {}),
                                 (dept, "handle", {"feedback": "已处理"})]:
        assert act(client, no, action, **body).status_code == 200
    r = act(worker, no, "verify_fail", reason="井盖仍缺")
    assert r.json()["state"] == "in_progress" and r.json()["rework_count"] == 1


@pytest.mark.parametrize("action", sorted(STEPS))
def test_every_illegal_transition_is_refused(login_as, spot, action) -> None:
    """For each action, every state it does not start from answers 409 and changes nothing."""
    admin = login_as("admin")
    no = report(login_as("gridworker"), spot)["register_no"]
    for state in State:
        if state in STEPS[action].sources:
            continue
        Case.objects.filter(register_no=no).update(state=state)
        r = act(admin, no, action, reason="r", feedback="f", closeout_reason="c",
                satisfaction=3, planned_date="2026-12-01", department="water")
        assert r.status_code == 409, (action, state, r.content)
        assert f"cannot {action} a case that is {state}" in r.json()["detail"]
        assert Case.objects.get(register_no=no).state == state


def test_only_the_right_people_act(login_as, spot) -> None:
    worker, dispatcher = login_as("gridworker"), login_as("dispatcher")
    no = report(worker, spot)["register_no"]
    assert act(worker, no, "register").status_code == 403  # a grid worker doesn't register
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    assert act(dispatcher, no, "accept").status_code == 403  # only the department accepts


@pytest.mark.parametrize(("action", "field", "setup"), [
    ("return", "reason", ["register", "dispatch"]),
    ("reject", "reason", []),
    ("close", "closeout_reason", None),
    ("handle", "feedback", ["register", "dispatch", "accept", "start"]),
    ("suspend", "planned_date", ["register"]),
])
def test_required_reasons(login_as, spot, action, field, setup) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    no = report(login_as("gridworker"), spot)["register_no"]
    if setup is None:
        Case.objects.filter(register_no=no).update(state="verified")
        setup = []
    for step in setup:
        client = dept if step in ("accept", "start") else dispatcher
        assert act(client, no, step).status_code == 200
    client = dept if action in ("return", "handle") else dispatcher
    body = {"reason": "x"} if field == "planned_date" else {}
    r = act(client, no, action, **body)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field


def test_a_returned_case_goes_back_to_the_dispatcher(login_as, spot) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    no = report(login_as("gridworker"), spot)["register_no"]
    act(dispatcher, no, "register")
    act(dispatcher, no, "dispatch")
    r = act(dept, no, "return", reason="不属于本部门职责")
    assert r.json()["state"] == "registered" and r.json()["department"] is None
    r = act(dispatcher, no, "dispatch", department="housing")
    assert r.json()["department"] == "housing"


def test_suspend_and_resume_come_back_to_where_it_was(login_as, spot) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    no = report(login_as("gridworker"), spot)["register_no"]
    for client, step in [(dispatcher, "register"), (dispatcher, "dispatch"), (dept, "accept")]:
        act(client, no, step)
    r = act(dispatcher, no, "suspend", reason="等待配件", planned_date="2026-12-15")
    assert r.json()["state"] == "suspended"
    assert act(dispatcher, no, "resume").json()["state"] == "accepted"


def test_a_replayed_report_makes_one_case(login_as, spot) -> None:
    worker = login_as("gridworker")
    first = report(worker, spot, client_key="phone-abc-1")
    again = report(worker, spot, client_key="phone-abc-1")
    assert first["register_no"] == again["register_no"]
    assert Case.objects.filter(title="胜利路井盖缺失").count() == 1


def test_duplicates_within_50_m_and_24_h_are_flagged(login_as, spot) -> None:
    worker = login_as("gridworker")
    first = report(worker, spot)
    near = report(worker, (spot[0] + 0.0002, spot[1]))  # about 20 m east
    far = report(worker, (spot[0] + 0.002, spot[1]))  # about 200 m
    other_kind = report(worker, spot, category="0602")
    assert near["possible_duplicate_of"] == first["register_no"]
    assert far["possible_duplicate_of"] is None
    assert other_kind["possible_duplicate_of"] is None


def test_bad_reports_are_422_naming_the_field(login_as, spot) -> None:
    worker = login_as("gridworker")
    before = Case.objects.count()
    for body, field in [({"category": "06", "title": "x"}, "category"),
                        ({"category": "0601", "title": ""}, "title"),
                        ({"category": "0601", "title": "x", "lng": 116.4, "lat": 39.9}, "lat")]:
        r = post(worker, "/api/v1/cases/", body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field
    assert Case.objects.count() == before


def test_confidential_cases_stay_with_police_and_center(login_as, spot) -> None:
    no = report(login_as("gridworker"), spot, category="1201", title="可疑人员聚集")[
        "register_no"]
    for username in ("dispatcher", "grid_police", "leader"):
        assert login_as(username).get(f"/api/v1/cases/{no}").status_code == 200, username
    for username in ("gridworker", "station", "subcenter", "grid_chief", "department"):
        client = login_as(username)
        assert client.get(f"/api/v1/cases/{no}").status_code == 404, username
        assert no not in client.get("/api/v1/cases/").content.decode(), username
    assert Client().get(f"/api/v1/public/cases/{no}").status_code == 404


def test_public_status_shows_progress_without_personal_data(login_as, spot) -> None:
    case = report(login_as("gridworker"), spot, description="联系人张三 17090000000")
    r = Client().get(f"/api/v1/public/cases/{case['register_no']}")
    assert r.status_code == 200 and r.json()["state"] == "reported"
    text = r.content.decode()
    assert "张三" not in text and "17090000000" not in text and "胜利路井盖缺失" not in text


def test_escalation_goes_level_by_level(login_as, spot) -> None:
    station, subcenter, dispatcher = login_as("station"), login_as("subcenter"), login_as(
        "dispatcher")
    no = report(login_as("gridworker"), spot)["register_no"]
    assert act(station, no, "register").status_code == 200  # the workstation takes it first
    assert act(station, no, "escalate").status_code == 422  # a reason is required
    assert act(station, no, "escalate", reason="本站无法协调").status_code == 200
    assert Case.objects.get(register_no=no).handling_level == Case.Level.SUBCENTER
    assert act(station, no, "dispatch").status_code == 403  # no longer the station's
    assert act(subcenter, no, "escalate", reason="需市级统筹").status_code == 200
    r = act(dispatcher, no, "escalate", reason="?")
    assert r.status_code == 422 and "top level" in r.json()["detail"][0]["msg"]
    assert act(dispatcher, no, "dispatch").json()["state"] == "dispatched"


def test_consultation_assignments_need_feedback_before_closing(login_as, spot) -> None:
    from datetime import date

    from django.contrib.auth import get_user_model

    from wangge.cases.actions import (
        do_assignment_feedback,
        do_close_assignment,
        do_consult,
    )
    from wangge.cases.errors import CaseError
    from wangge.cases.models import Assignment

    users = get_user_model().objects
    dispatcher, dept = users.get(username="dispatcher"), users.get(username="department")
    no = report(login_as("gridworker"), spot, category="0801", title="树木倒伏堵住社区入口")[
        "register_no"]
    case = Case.objects.get(register_no=no)
    do_consult(case, dispatcher, held_on=date(2026, 11, 26), participants="城管、供电、社区",
               decision="城管清理树木，供电检查线路",
               tasks=[("urban-management", "清理倒伏树木", date(2026, 11, 27)),
                      ("power", "检查受损线路", date(2026, 11, 28))])
    tree, wires = Assignment.objects.filter(case=case).order_by("id")
    with pytest.raises(CaseError):
        do_close_assignment(tree, dispatcher)  # no feedback yet
    do_assignment_feedback(tree, dept, feedback="树木已清理")
    do_close_assignment(tree, dispatcher)
    Case.objects.filter(pk=case.pk).update(state="verified")
    r = act(login_as("dispatcher"), no, "close", closeout_reason="已处置")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "assignments"
    assert wires.closed_at is None
    actions = [e["action"] for e in login_as("dispatcher").get(
        f"/api/v1/cases/{no}").json()["timeline"]]
    assert actions == ["report", "consult", "assignment_feedback", "assignment_close"]


def test_supervision_and_the_printable_notice(login_as, spot) -> None:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from wangge.cases.actions import do_consult, do_supervise

    users = get_user_model().objects
    open_no = report(login_as("gridworker"), spot, title="停水三天")["register_no"]
    secret_no = report(login_as("gridworker"), (spot[0] + 0.01, spot[1]), category="1201",
                       title="可疑人员聚集")["register_no"]
    today = timezone.localdate()
    case = Case.objects.get(register_no=open_no)
    do_consult(case, users.get(username="dispatcher"), held_on=today - timedelta(days=5),
               participants="自来水公司", decision="抢修",
               tasks=[("water", "恢复供水", today - timedelta(days=1))])
    with pytest.raises(PermissionDenied):
        do_supervise(case, users.get(username="gridworker"), level="yellow", reason="x",
                     deadline=today)
    do_supervise(case, users.get(username="supervisor"), level="yellow", reason="超期未办",
                 deadline=today + timedelta(days=2))
    do_supervise(Case.objects.get(register_no=secret_no), users.get(username="dispatcher"),
                 level="red", reason="需尽快核查", deadline=today + timedelta(days=1))
    page = login_as("dispatcher").get("/console/cases/notice/").content.decode()
    assert "自来水公司" in page and "恢复供水" in page and open_no in page
    assert "黄牌督办" in page and "红牌督办" in page
    assert "可疑人员聚集" not in page and "（涉密事件）" in page
    # a station sees only what it may see: no confidential line at all
    station_page = login_as("station").get("/console/cases/notice/").content.decode()
    assert secret_no not in station_page and open_no in station_page


def test_consultation_feedback_and_supervision_through_the_api(login_as, spot) -> None:
    dispatcher, dept = login_as("dispatcher"), login_as("department")
    no = report(login_as("gridworker"), spot, category="1001", title="停水")["register_no"]
    r = post(dispatcher, f"/api/v1/cases/{no}/consultations", {
        "held_on": "2026-11-26", "participants": "城管、水司", "decision": "分头处置",
        "tasks": [{"department": "urban-management", "task": "现场警戒", "deadline": "2026-11-27"},
                  {"department": "water", "task": "抢修管网", "deadline": "2026-11-27"}]})
    assert r.status_code == 201 and len(r.json()) == 2
    ours = next(a for a in r.json() if a["department"] == "urban-management")
    theirs = next(a for a in r.json() if a["department"] == "water")
    url = f"/api/v1/cases/{no}/assignments"
    assert post(dispatcher, f"{url}/{ours['id']}/close").status_code == 422  # no feedback
    assert post(dept, f"{url}/{theirs['id']}/feedback", {"feedback": "x"}).status_code == 403
    assert post(dept, f"{url}/{ours['id']}/feedback", {"feedback": "已警戒"}).status_code == 200
    assert post(dispatcher, f"{url}/{ours['id']}/close").json()["closed"] is True
    r = post(login_as("supervisor"), f"/api/v1/cases/{no}/supervisions",
             {"level": "red", "reason": "群众反映强烈", "deadline": "2026-11-28"})
    assert r.status_code == 201
    assert post(login_as("gridworker"), f"/api/v1/cases/{no}/supervisions",
                {"level": "red", "reason": "x", "deadline": "2026-11-28"}).status_code == 403


def test_daily_inspection_list_per_grid_kind(login_as) -> None:
    items = login_as("gridworker").get("/api/v1/cases/inspection-items",
                                       {"grid_kind": "rural"}).json()
    assert items and all(i["grid_kind"] == "rural" for i in items)
    assert any(i["name"] == "矛盾纠纷排查" and i["category"] == "1306" for i in items)


def test_a_merged_duplicates_reporter_follows_the_master(login_as, spot) -> None:
    dispatcher = login_as("dispatcher")
    master = report(login_as("gridworker"), spot)["register_no"]
    resident_like = login_as("station")  # reports from the workstation counter
    dup = report(resident_like, (spot[0] + 0.0001, spot[1]))
    assert dup["possible_duplicate_of"] == master
    r = post(dispatcher, f"/api/v1/cases/{dup['register_no']}/merge", {"master": master})
    assert r.status_code == 200 and r.json()["timeline"][-1]["action"] == "absorb"
    merged = Case.objects.get(register_no=dup["register_no"])
    assert merged.state == "cancelled" and merged.closeout_reason == f"合并至 {master}"
    assert merged.merged_into.register_no == master
    assert Case.objects.get(register_no=master).followers.filter(username="station").exists()
    again = post(dispatcher, f"/api/v1/cases/{dup['register_no']}/merge", {"master": master})
    assert again.status_code == 409
