"""民情日记: written by the worker with links they may see; read by the author, the
workstation staff and the grid chief of that community, and nobody else (not another
worker, another community's station, the sub-center, the center or a department) through
the API list, the API detail and the console page; edited by the author for 3 days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from wangge.cases.models import Case
from wangge.fieldwork.models import DiaryEntry
from wangge.fieldwork.tests.records_helpers import (
    API,
    get,
    login_with_role,
    my_grid,
    now_iso,
    post,
    seeded,
    sibling_community,
)
from wangge.org.models import Role
from wangge.registry.models import Household

pytestmark = pytest.mark.django_db
TEXT = "上午走访3户低保户，王大爷反映屋顶漏雨"


@pytest.fixture(autouse=True)
def catalogue() -> None:
    seeded()


@pytest.fixture
def worker(login_as):  # type: ignore[no-untyped-def]
    return login_as("gridworker")


def write(client: Client, **kw: object) -> tuple[int, dict]:
    return post(client, "/diary", {"day": timezone.localdate().isoformat(), "text": TEXT,
                                   "tags": ["低保", "房屋"], **kw})


def test_an_entry_with_its_links(worker) -> None:  # type: ignore[no-untyped-def]
    household = Household.objects.filter(grid=my_grid()).first()
    case = Case.objects.filter(grid=my_grid(), confidential=False).first()
    code, o = post(worker, "/opinions", {"collected_at": now_iso(), "topic": "livelihood",
                                         "content": "低保复核材料多", "source": "visit",
                                         "client_key": "op-for-diary"})
    assert code == 201
    code, e = write(worker, client_key="d-1", household_ids=[household.pk],
                    case_ids=[case.register_no], opinion_keys=["op-for-diary"])
    assert code == 201, e
    assert e["household_ids"] == [household.pk] and e["cases"] == [case.register_no]
    assert e["opinion_ids"] == [o["id"]] and e["tags"] == ["低保", "房屋"]
    assert e["grid"] == my_grid().code and e["author"]
    code, again = write(worker, client_key="d-1")
    assert code == 200 and again["id"] == e["id"]
    assert DiaryEntry.objects.filter(text=TEXT).count() == 1


@pytest.mark.parametrize(("links", "loc"), [
    ({"household_ids": "elsewhere"}, ["body", "household_ids", 0]),
    ({"case_ids": ["NO-SUCH-CASE"]}, ["body", "case_ids", 0]),
    ({"opinion_keys": ["never-sent"]}, ["body", "opinion_keys", 0]),
    ({"opinion_ids": [10**12]}, ["body", "opinion_ids", 0]),
    ({"text": ""}, ["body", "text"]),
    ({"day": "2999-01-01"}, ["body", "day"]),
])
def test_a_link_the_author_may_not_see_is_refused(worker, links, loc) -> None:  # type: ignore[no-untyped-def]
    if links.get("household_ids") == "elsewhere":
        links = {"household_ids": [Household.objects.exclude(grid=my_grid()).first().pk]}
    n = DiaryEntry.objects.count()
    code, out = write(worker, **links)
    assert code == 422, out
    assert out["detail"][0]["loc"] == loc
    assert DiaryEntry.objects.count() == n


def readers(login_as) -> list[tuple[str, Client, bool]]:  # type: ignore[no-untyped-def]
    grid = my_grid()
    other = sibling_community(grid)
    return [
        ("author", login_as("gridworker"), True),
        ("station", login_as("station"), True),
        ("grid_chief", login_as("grid_chief"), True),
        ("another worker", login_with_role("rec-d-worker2", Role.GRID_WORKER,
                                           grid.parent.children.exclude(pk=grid.pk).first()),
         False),
        ("another station", login_with_role("rec-d-station2", Role.STATION_STAFF, other),
         False),
        ("subcenter", login_as("subcenter"), False),
        ("dispatcher", login_as("dispatcher"), False),
        ("leader", login_as("leader"), False),
        ("center_admin", login_as("center_admin"), False),
        ("police department", login_as("police"), False),
        ("department", login_as("department"), False),
        ("grid_police", login_as("grid_police"), False),
        ("superuser", login_as("admin"), False),
    ]


def test_who_reads_the_diary(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    code, e = write(worker, text="只给本人和工作站看的日记")
    assert code == 201
    for who, client, sees in readers(login_as):
        code, rows = get(client, "/diary?limit=500")
        assert code == 200
        assert (e["id"] in {r["id"] for r in rows}) is sees, who
        assert get(client, f"/diary/{e['id']}")[0] == (200 if sees else 404), who
        page = client.get("/console/fieldwork/diary/")
        assert page.status_code in (200, 403), who
        assert ("只给本人和工作站看的日记" in page.content.decode()) is sees, who


def test_only_the_author_edits_and_only_for_three_days(worker, login_as) -> None:  # type: ignore[no-untyped-def]
    _code, e = write(worker)
    r = worker.patch(f"{API}/diary/{e['id']}", {"text": "改过的日记", "tags": ["改"]},
                     content_type="application/json")
    assert r.status_code == 200 and r.json()["text"] == "改过的日记"
    r = login_as("station").patch(f"{API}/diary/{e['id']}", {"text": "站里改"},
                                  content_type="application/json")
    assert r.status_code == 403
    DiaryEntry.objects.filter(pk=e["id"]).update(
        day=timezone.localdate() - dt.timedelta(days=4))
    r = worker.patch(f"{API}/diary/{e['id']}", {"text": "太晚了"},
                     content_type="application/json")
    assert r.status_code == 409
    assert DiaryEntry.objects.get(pk=e["id"]).text == "改过的日记"


def test_the_page_is_refused_to_those_outside_any_chain(login_as) -> None:  # type: ignore[no-untyped-def]
    assert login_as("dispatcher").get("/console/fieldwork/diary/").status_code == 403
    assert login_as("station").get("/console/fieldwork/diary/").status_code == 200
    assert login_as("gridworker").get("/console/fieldwork/diary/").status_code == 200
    assert get_user_model().objects.filter(username="admin").exists()
