"""A replayed client key never opens more than the first answer did: a reporter who may not
read the case now gets back the report as they made it, not what happened to it since."""

from __future__ import annotations

import pytest

from wangge.cases.models import Case
from wangge.cases.tests.helpers import act, report

pytestmark = pytest.mark.django_db


def test_a_replay_of_a_confidential_report_tells_nothing_new(login_as, spot) -> None:
    worker, police = login_as("gridworker"), login_as("dispatcher")
    first = report(worker, spot, category="1201", title="可疑人员聚集", client_key="conf-1")
    no = first["register_no"]
    assert worker.get(f"/api/v1/cases/{no}").status_code == 404  # cannot read it back
    assert act(police, no, "register").status_code == 200
    act(police, no, "suspend", reason="警方内部核查中，暂缓处理")

    again = report(worker, spot, category="1201", title="可疑人员聚集", client_key="conf-1")
    assert Case.objects.filter(register_no=no).count() == 1
    assert again["register_no"] == no and again["follow_code"] == first["follow_code"]
    assert again["state"] == "reported" and again["allowed_actions"] == []
    assert [e["action"] for e in again["timeline"]] == ["report"]
    assert "暂缓" not in str(again) and "dispatcher" not in str(again)
    for key in ("title", "description", "category", "grid", "lng", "lat", "confidential"):
        assert again[key] == first[key], key


def test_a_replay_the_reporter_may_still_read_is_the_case_now(login_as, spot) -> None:
    worker = login_as("gridworker")
    first = report(worker, spot, client_key="open-1")
    again = report(worker, spot, client_key="open-1")
    assert again["register_no"] == first["register_no"] and again["timeline"]


def test_a_registry_replay_outside_the_callers_scope_is_404(login_as) -> None:
    import json

    from wangge.registry.models import Building
    from wangge.territory.models import Grid

    worker = login_as("gridworker")
    grid = Grid.objects.get(name="胜利社区第1网格")
    body = {"code": "TEST-REPLAY-1", "name": "测试楼", "address": "胜利路1号",
            "lng": grid.label_lng, "lat": grid.label_lat, "floors": 3, "use": "residential",
            "client_key": "bld-1"}
    r = worker.post("/api/v1/registry/buildings", json.dumps(body),
                    content_type="application/json")
    assert r.status_code == 201, r.content
    other = Grid.objects.filter(level=4).exclude(pk=grid.pk).exclude(
        path__startswith=grid.path[:-1]).first()
    Building.objects.filter(code="TEST-REPLAY-1").update(grid=other)  # moved by the center
    r = worker.post("/api/v1/registry/buildings", json.dumps(body),
                    content_type="application/json")
    assert r.status_code == 404 and "测试楼" not in r.content.decode()
    assert Building.objects.filter(code="TEST-REPLAY-1").count() == 1
