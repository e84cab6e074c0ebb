"""宣传 and the catalogues: distributions and their totals (per material, grid subtree,
period), the center's materials catalogue, the catalogue the app caches, the seeds
(idempotent, never overwriting a city's edits), and the review pages render for each
role in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from wangge.fieldwork.actions.catalogue import do_seed_fieldwork
from wangge.fieldwork.models import (
    Distribution,
    FieldRule,
    Material,
    OpinionTopic,
    VisitFrequency,
    VisitKind,
)
from wangge.fieldwork.tests.records_helpers import get, my_grid, now_iso, post, seeded
from wangge.registry.models import Household, SpecialGroup
from wangge.territory.models import Grid

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def catalogue() -> None:
    seeded()


@pytest.fixture
def worker(login_as):  # type: ignore[no-untyped-def]
    return login_as("gridworker")


def hand_out(client, **kw: object) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    return post(client, "/outreach/distributions", {
        "day": timezone.localdate().isoformat(), "material": "anti_fraud", "count": 20,
        "place": "胜利社区广场", **kw})


def test_totals_per_material_subtree_and_period(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    Distribution.objects.all().delete()
    household = Household.objects.filter(grid=my_grid()).first()
    assert hand_out(worker)[0] == 201
    assert hand_out(worker, count=5, household_id=household.pk, place="")[0] == 201
    assert hand_out(worker, material="drowning", count=7)[0] == 201
    old = (timezone.localdate() - dt.timedelta(days=40)).isoformat()
    assert hand_out(worker, material="drowning", count=100, day=old)[0] == 201

    code, t = get(login_as("dispatcher"), "/outreach/totals")
    assert code == 200 and (t["copies"], t["distributions"]) == (132, 4)
    by = {m["code"]: m for m in t["materials"]}
    assert (by["anti_fraud"]["copies"], by["anti_fraud"]["distributions"]) == (25, 2)
    assert by["drowning"]["copies"] == 107 and by["elderly_care"]["copies"] == 0
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    code, t = get(login_as("dispatcher"), f"/outreach/totals?from={since}")
    assert t["copies"] == 32 and t["from"] == since
    code, t = get(login_as("station"), f"/outreach/totals?grid={my_grid().parent.code}")
    assert t["copies"] == 132 and t["grid"] == my_grid().parent.code
    other = Grid.objects.filter(level=3).exclude(pk=my_grid().parent_id).first()
    code, t = get(login_as("dispatcher"), f"/outreach/totals?grid={other.code}")
    assert t["copies"] == 0
    assert get(login_as("station"), f"/outreach/totals?grid={other.code}")[0] == 404
    assert get(login_as("water"), "/outreach/totals")[1]["copies"] == 0
    code, rows = get(worker, "/outreach/distributions?material=drowning")
    assert code == 200 and {r["count"] for r in rows} == {7, 100}


def test_a_distribution_replayed_or_refused_writes_nothing(worker) -> None:  # type: ignore[no-untyped-def]
    code, first = hand_out(worker, client_key="dist-1")
    assert code == 201
    n = Distribution.objects.count()
    code, again = hand_out(worker, client_key="dist-1", count=999)
    assert code == 200 and again == first and Distribution.objects.count() == n
    elsewhere = Household.objects.exclude(grid=my_grid()).first()
    for change, loc in [({"material": "nope"}, ["body", "material"]),
                        ({"count": 0}, ["body", "count"]),
                        ({"household_id": elsewhere.pk}, ["body", "household_id"])]:
        code, out = hand_out(worker, **change)
        assert code == 422 and out["detail"][0]["loc"] == loc, out
    Material.objects.filter(code="anti_fraud").update(active=False)
    code, out = hand_out(worker)
    assert code == 422 and out["detail"][0]["loc"] == ["body", "material"]
    assert Distribution.objects.count() == n


def test_the_center_edits_the_materials_catalogue(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    item = {"code": "flood", "name": "防汛避险明白卡", "topic": "防汛"}
    code, _ = post(worker, "/outreach/materials", item)
    assert code == 403 and not Material.objects.filter(code="flood").exists()
    assert post(login_as("leader"), "/outreach/materials", item)[0] == 403
    code, out = post(login_as("center_admin"), "/outreach/materials", item)
    assert code == 200 and out == {**item, "active": True}
    code, out = post(login_as("dispatcher"), "/outreach/materials",
                     {**item, "name": "防汛避险明白卡（2026版）", "active": False})
    assert code == 200 and Material.objects.get(code="flood").active is False
    code, rows = get(worker, "/outreach/materials")
    assert "防汛避险明白卡（2026版）" in {r["name"] for r in rows}
    page = login_as("center_admin").post("/console/fieldwork/outreach/", {
        "code": "heat", "name": "防暑降温提示", "topic": "健康", "active": "on"})
    assert page.status_code == 302 and Material.objects.get(code="heat").active


def test_the_catalogue_the_app_caches(worker) -> None:  # type: ignore[no-untyped-def]
    code, c = get(worker, "/catalogue")
    assert code == 200
    assert {"hardship_aid", "special_group", "collect", "dispute_screening",
            "policy_outreach", "proxy_visit"} <= {k["code"] for k in c["visit_kinds"]}
    assert "困难群众帮扶" in {k["name"] for k in c["visit_kinds"]}
    assert "社会治安" in {t["name"] for t in c["opinion_topics"]}
    assert {f["special_group_kind"] for f in c["visit_frequencies"]} == set(
        SpecialGroup.Kind.values)
    assert {"resident", "wechat"} <= {s["code"] for s in c["opinion_sources"]}
    version = c["version"]
    assert get(worker, "/catalogue")[1]["version"] == version
    VisitKind.objects.filter(code="collect").update(name="入户信息采集")
    assert get(worker, "/catalogue")[1]["version"] != version


def test_the_seeds_are_idempotent_and_keep_a_citys_edits() -> None:
    assert do_seed_fieldwork() == {"visit_kinds": 0, "visit_frequencies": 0,
                                   "opinion_topics": 0, "materials": 0, "field_rules": 0}
    VisitFrequency.objects.filter(special_group_kind="elderly_alone").update(every_days=3)
    VisitFrequency.objects.filter(special_group_kind="disabled").delete()
    counts = (VisitKind.objects.count(), Material.objects.count(), OpinionTopic.objects.count())
    assert do_seed_fieldwork()["visit_frequencies"] == 1
    assert VisitFrequency.objects.get(special_group_kind="elderly_alone").every_days == 3
    assert (VisitKind.objects.count(), Material.objects.count(),
            OpinionTopic.objects.count()) == counts
    rule = FieldRule.objects.get(grid__level=0)
    assert (rule.start_time, rule.grace_minutes, rule.patrol_every_days,
            rule.register_stale_days, rule.in_grid_counts) == (dt.time(8, 30), 10, 7, 180, True)
    hook = apps.get_app_config("fieldwork").seed_defaults
    assert hook() == ""
    VisitFrequency.objects.filter(special_group_kind="low_income").delete()
    assert "visit_frequencies 1" in hook()


@pytest.mark.parametrize("username", ["gridworker", "station", "grid_chief", "subcenter",
                                      "dispatcher", "leader"])
def test_the_review_pages_render_for_each_role(login_as, username) -> None:  # type: ignore[no-untyped-def]
    worker = login_as("gridworker")
    post(worker, "/visits", {"visited_at": now_iso(), "kind": "care_visit", "people_met": 1,
                             "household_id": Household.objects.filter(grid=my_grid())
                             .first().pk})
    post(worker, "/opinions", {"collected_at": now_iso(), "topic": "transport",
                               "content": "公交站台缺少遮雨棚", "source": "patrol"})
    client = login_as(username)
    for page in ("visits", "opinions", "outreach"):
        r = client.get(f"/console/fieldwork/{page}/")
        assert r.status_code == 200, (username, page)
    text = client.get("/console/fieldwork/opinions/").content.decode()
    assert "公交站台缺少遮雨棚" in text and "<svg" in text
    assert ("转为事件" in text) is (username != "leader")


def test_the_opinion_page_steps(login_as) -> None:  # type: ignore[no-untyped-def]
    _code, o = post(login_as("gridworker"), "/opinions", {
        "collected_at": now_iso(), "topic": "transport", "content": "路灯不亮",
        "source": "resident"})
    station = login_as("station")
    r = station.post(f"/console/fieldwork/opinions/{o['id']}/forward/")
    assert r.status_code == 302
    r = station.post(f"/console/fieldwork/opinions/{o['id']}/answer/", {"answer": "已报修"})
    assert r.status_code == 302
    assert get(station, f"/opinions/{o['id']}")[1]["state"] == "answered"
    assert station.post(f"/console/fieldwork/opinions/{o['id']}/nope/").status_code == 404
