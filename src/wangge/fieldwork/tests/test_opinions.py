"""社情民意: collected → forwarded → answered, one step to a case, the digest by topic ×
area; each step only by whom it belongs to, a step that does not apply is a 409."""

from __future__ import annotations

import pytest

from wangge.cases.models import Case, CaseCategory
from wangge.fieldwork.models import Opinion
from wangge.fieldwork.tests.records_helpers import (
    get,
    login_with_role,
    my_grid,
    now_iso,
    post,
    seeded,
)
from wangge.org.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue() -> None:
    seeded()


@pytest.fixture
def worker(login_as):  # type: ignore[no-untyped-def]
    return login_as("gridworker")


def body(**kw: object) -> dict:
    return {"collected_at": now_iso(), "topic": "sanitation", "content": "小区垃圾站夏天异味大",
            "source": "resident", "people_concerned": 30, **kw}


def category() -> str:
    return CaseCategory.objects.filter(parent__isnull=False).order_by("code").first().code


def test_collect_forward_answer(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    code, o = post(worker, "/opinions", body(client_key="o-1", urgency="urgent"))
    assert code == 201, o
    assert (o["state"], o["grid"], o["urgency"]) == ("recorded", my_grid().code, "urgent")
    code, again = post(worker, "/opinions", body(client_key="o-1"))
    assert code == 200 and again["id"] == o["id"]
    assert Opinion.objects.filter(content="小区垃圾站夏天异味大").count() == 1

    code, out = post(worker, f"/opinions/{o['id']}/answer", {"answer": "我答复自己"})
    assert code == 403
    code, out = post(worker, f"/opinions/{o['id']}/forward", {})
    assert code == 200 and out["state"] == "forwarded" and out["forwarded_at"]
    code, out = post(worker, f"/opinions/{o['id']}/forward", {})
    assert code == 409 and out["current"]["state"] == "forwarded"

    station = login_as("station")
    code, out = post(station, f"/opinions/{o['id']}/answer", {"answer": ""})
    assert code == 422 and out["detail"][0]["loc"] == ["body", "answer"]
    code, out = post(station, f"/opinions/{o['id']}/answer", {"answer": "已联系环卫所每日清运两次"})
    assert code == 200 and out["state"] == "answered" and out["answer"].startswith("已联系")
    code, out = post(login_as("dispatcher"), f"/opinions/{o['id']}/answer", {"answer": "再答"})
    assert code == 409


def test_to_a_case_in_one_step(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    code, o = post(worker, "/opinions", body())
    assert code == 201
    cases = Case.objects.count()
    code, out = post(login_as("station"), f"/opinions/{o['id']}/case", {"category": "nope"})
    assert code == 422 and out["detail"][0]["loc"] == ["body", "category"]
    assert Case.objects.count() == cases and Opinion.objects.get(pk=o["id"]).case is None
    code, out = post(login_as("station"), f"/opinions/{o['id']}/case",
                     {"category": category()})
    assert code == 200, out
    case = Case.objects.get(register_no=out["case"])
    assert case.grid == my_grid() and case.channel == Case.Channel.STATION
    assert "垃圾站" in case.title and case.category.code == category()
    code, out = post(worker, f"/opinions/{o['id']}/case", {"category": category()})
    assert code == 409 and Case.objects.count() == cases + 1


def test_the_collector_makes_a_case_as_a_grid_worker(worker) -> None:  # type: ignore[no-untyped-def]
    code, o = post(worker, "/opinions", body())
    code, out = post(worker, f"/opinions/{o['id']}/case", {"category": category()})
    assert code == 200, out
    assert Case.objects.get(register_no=out["case"]).channel == Case.Channel.GRID_WORKER


def test_others_cannot_reach_it(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    _code, o = post(worker, "/opinions", body())
    neighbour = login_with_role("rec-op-worker2", Role.GRID_WORKER,
                                my_grid().parent.children.exclude(pk=my_grid().pk).first())
    for client in (neighbour, login_as("water")):
        assert get(client, f"/opinions/{o['id']}")[0] == 404
        assert post(client, f"/opinions/{o['id']}/forward", {})[0] == 404
        assert o["id"] not in {r["id"] for r in get(client, "/opinions?limit=500")[1]}
    assert get(login_as("subcenter"), f"/opinions/{o['id']}")[0] == 200


def test_bad_input_names_the_field(worker) -> None:  # type: ignore[no-untyped-def]
    n = Opinion.objects.count()
    for change, field in [({"topic": "x"}, "topic"), ({"content": " "}, "content"),
                          ({"source": "tv"}, "source"), ({"people_concerned": 0},
                                                         "people_concerned")]:
        code, out = post(worker, "/opinions", body(**change))
        assert code == 422 and out["detail"][0]["loc"] == ["body", field], out
    assert Opinion.objects.count() == n


def test_the_digest_counts_by_topic_and_area(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    Opinion.objects.all().delete()
    for topic in ("sanitation", "sanitation", "transport"):
        assert post(worker, "/opinions", body(topic=topic))[0] == 201
    code, d = get(login_as("dispatcher"), "/opinions/digest")
    assert code == 200 and d["total"] == 3 and d["level"] == 2
    town = my_grid().parent.parent
    [area] = d["areas"]
    assert (area["grid"], area["name"], area["total"]) == (town.code, town.name, 3)
    codes = [t["code"] for t in d["topics"]]
    assert area["counts"][codes.index("sanitation")] == 2
    assert area["counts"][codes.index("transport")] == 1
    code, d = get(login_as("dispatcher"), "/opinions/digest?level=3&from=2000-01-01&to=2000-12-31")
    assert d["total"] == 0 and d["from"] == "2000-01-01"
    code, d = get(login_as("station"), "/opinions/digest?level=3")
    assert d["areas"][0]["grid"] == my_grid().parent.code
    assert get(login_as("water"), "/opinions/digest")[1]["total"] == 0
