"""The source's stories, each walked through the whole loop over the API by the people who
live them: a tree across a community entrance, a water outage that cannot be fixed in time,
a suspicious group reported by residents. (The missing manhole cover is in test_loop.)"""

from __future__ import annotations

import pytest
from django.test import Client

from wangge.cases.tests.helpers import act, post, report

pytestmark = pytest.mark.django_db


def walk(no: str, steps: list[tuple[Client, str, dict, str]]) -> dict:  # type: ignore[type-arg]
    r = None
    for client, action, body, state in steps:
        r = act(client, no, action, **body)
        assert r.status_code == 200, (action, r.content)
        assert r.json()["state"] == state, action
    assert r is not None
    return r.json()


def test_a_tree_blown_down_across_the_community_entrance(login_as, spot) -> None:
    worker, dispatcher, urban = (login_as(u) for u in ("gridworker", "dispatcher", "department"))
    case = report(worker, (spot[0] + 0.0005, spot[1]), category="0801",
                  title="大树倒伏堵住胜利社区入口", description="大风吹倒行道树，车辆无法进出")
    no = case["register_no"]
    walk(no, [(dispatcher, "register", {}, "registered"),
              (dispatcher, "dispatch", {}, "dispatched"),
              (urban, "accept", {}, "accepted"), (urban, "start", {}, "in_progress"),
              (urban, "handle", {"feedback": "树干已锯断移走"}, "handled")])
    # on the spot the worker finds the branches still block the footpath: rework
    walk(no, [(worker, "verify_fail", {"reason": "人行道仍有树枝"}, "in_progress")])
    final = walk(no, [
        (urban, "handle", {"feedback": "树枝已清运，路面已清扫"}, "handled"),
        (worker, "verify_pass", {}, "verified"),
        (dispatcher, "close", {"closeout_reason": "已清理，通行恢复"}, "closed"),
        (worker, "evaluate", {"satisfaction": 4, "followup_note": "居民认可"}, "evaluated"),
    ])
    assert final["department"] == "urban-management" and final["rework_count"] == 1
    assert "0801" in final["routed_by"] or "08 " in final["routed_by"]
    assert "城市管理" in final["routed_by"]


def test_a_water_outage_that_cannot_be_fixed_in_time_gets_a_written_reply(
        login_as, staff_of, spot) -> None:
    station, dispatcher, water = login_as("station"), login_as("dispatcher"), staff_of("water")
    case = report(station, (spot[0] - 0.0005, spot[1]), category="1001", channel="walk_in",
                  title="胜利社区停水", description="居民来访反映整栋楼停水两天")
    no = case["register_no"]
    walk(no, [(dispatcher, "register", {}, "registered"),
              (dispatcher, "dispatch", {}, "dispatched"),
              (water, "accept", {}, "accepted"), (water, "start", {}, "in_progress")])
    # the main needs replacing: it cannot be solved in time, so a written reply is owed
    r = act(water, no, "reply_due")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "reason"
    walk(no, [(water, "reply_due", {"reason": "需更换主管道"}, "reply_due")])
    assert act(water, no, "handle", feedback="x").status_code == 409  # the reply comes first
    r = act(water, no, "reply")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "reply"
    reply = "主管道更换需三天，期间每日两次送水上门，预计28日恢复供水。"
    back = walk(no, [(water, "reply", {"reply": reply}, "in_progress")])
    assert back["written_reply"] == reply
    public = Client().get(f"/api/v1/public/cases/{no}").json()
    assert public["written_reply"] is None  # the reply needs the follow code
    public = Client().get(f"/api/v1/public/cases/{no}?code={case['follow_code']}").json()
    assert public["written_reply"] == reply
    final = walk(no, [
        (water, "handle", {"feedback": "主管道已更换，恢复供水"}, "handled"),
        (dispatcher, "verify_pass", {}, "verified"),
        (dispatcher, "close", {"closeout_reason": "已恢复供水"}, "closed"),
        (dispatcher, "evaluate", {"satisfaction": 5, "followup_note": "回访：居民满意"},
         "evaluated"),
    ])
    assert [s["state"] for s in Client().get(f"/api/v1/public/cases/{no}").json()["steps"]][
        -1] == "evaluated"
    assert final["department"] == "water"


def test_a_suspicious_group_reported_by_residents_stays_confidential(
        login_as, staff_of, spot) -> None:
    station, dispatcher, police = login_as("station"), login_as("dispatcher"), staff_of(
        "public-security")
    grid_police = login_as("grid_police")
    case = report(station, (spot[0], spot[1] + 0.0005), category="1201", channel="resident",
                  title="出租屋可疑人员聚集", description="居民反映夜间多人频繁出入")
    no = case["register_no"]
    outsiders = [login_as(u) for u in ("station", "gridworker", "department", "grid_chief",
                                       "subcenter")]

    def hidden_from_outsiders() -> None:
        for client in outsiders:
            assert client.get(f"/api/v1/cases/{no}").status_code == 404
            assert no not in client.get("/api/v1/cases/", {"queue": "scope"}).content.decode()
            assert no not in client.get("/api/v1/cases/", {"queue": "mine"}).content.decode()
            assert act(client, no, "register").status_code == 404
            assert client.get(f"/console/cases/{no}/").status_code == 404
            assert "可疑人员" not in client.get("/console/cases/?queue=scope").content.decode()
        assert Client().get(f"/api/v1/public/cases/{no}").status_code == 404
        assert Client().get(f"/cases/status/{no}").status_code == 200  # the form, not the case
        assert "可疑" not in Client().get(f"/cases/status/{no}").content.decode()

    hidden_from_outsiders()
    walk(no, [(dispatcher, "register", {}, "registered"),
              (dispatcher, "dispatch", {}, "dispatched"),
              (police, "accept", {}, "accepted"),
              (police, "start", {}, "in_progress")])
    assert grid_police.get(f"/api/v1/cases/{no}").json()["state"] == "in_progress"
    assert no in police.get("/api/v1/cases/", {"queue": "mine"}).content.decode()
    hidden_from_outsiders()
    final = walk(no, [
        (police, "handle", {"feedback": "经秘密观察核查，系传销人员，已依法处置"}, "handled"),
        (dispatcher, "verify_pass", {}, "verified"),
        (dispatcher, "close", {"closeout_reason": "已依法处置"}, "closed"),
    ])
    assert final["confidential"] and final["department"] == "public-security"
    hidden_from_outsiders()
    # statistics: a station counts it, but only as a confidential number
    stats = login_as("station").get("/api/v1/cases/stats").json()
    assert stats["confidential"] >= 1
    assert "1201" not in str(stats["by_class"]) and "12" not in [
        c["code"] for c in stats["by_class"]]


def test_an_external_system_reports_with_its_token(spot) -> None:
    from wangge.integration.actions import do_create_token
    from wangge.org.actions import do_ensure_external_department

    system = do_ensure_external_department("hotline-test", name="12345热线（测试）")
    issued = do_create_token(system.service_user, label="12345")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    r = post(client, "/api/v1/cases/", {"category": "1401", "title": "市民建议增设公交站",
                                        "lng": spot[0], "lat": spot[1] - 0.0005,
                                        "channel": "external", "client_key": "12345-000987"})
    assert r.status_code == 201 and r.json()["channel"] == "external"
    again = post(client, "/api/v1/cases/", {"category": "1401", "title": "市民建议增设公交站",
                                            "channel": "external",
                                            "client_key": "12345-000987"})
    assert again.status_code == 200 and again.json()["register_no"] == r.json()["register_no"]
