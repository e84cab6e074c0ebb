"""A resident's 社情民意 opinion or question (咨询) from the public pages, as a resident, the
grid worker and the workstation meet it: sent from a building's door code or via the
community/grid picker, handed to the grid's worker (in their list, marked 咨询), answered
by the station with the existing step, read back with the number and follow code (POST; a
wrong code shows nothing), a double submit making one, bad input a 422 naming the field
with nothing written, the phone sealed and masked, no staff name on a public page."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from wangge.core import crypto
from wangge.core.models import OutboxMessage
from wangge.fieldwork.actions.opinions import do_answer_opinion, resident_author
from wangge.fieldwork.models import Opinion
from wangge.fieldwork.tests.records_helpers import get, my_grid, seeded
from wangge.org.models import Role, RoleAssignment
from wangge.registry.models import Building

pytestmark = pytest.mark.django_db

PHONE = "13907330001"
CONTENT = "小区健身器材老化，建议更换；联系我 13907330001"


@pytest.fixture(autouse=True)
def fresh() -> None:
    seeded()
    cache.clear()  # the per-address cap and the form-token claims live in the cache


def _building() -> Building:
    return (Building.objects.filter(grid=my_grid()).exclude(qr_token="").order_by("pk")
            .first())


def _token(html: str) -> str:
    found = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert found, "the form carries a token"
    return found.group(1)


def _send(client: Client, kind: str, place: dict[str, str], **over: str):  # type: ignore[no-untyped-def]
    form = client.get(f"/opinions/{kind}/", place)
    assert form.status_code == 200
    body = {"form_token": _token(form.content.decode()), "topic": "sanitation",
            "content": CONTENT, "phone": PHONE, **place, **over}
    return client.post(f"/opinions/{kind}/", body), body


def _receipt(client: Client, answer) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    assert answer.status_code == 302, answer.content.decode()[:2000]
    page = client.get(answer["Location"])
    html = page.content.decode()
    no = re.search(r"data-no>([^<]+)<", html).group(1)
    code = re.search(r"data-code>([^<]+)<", html).group(1)
    return no, code


def _worker_name() -> str:
    return RoleAssignment.objects.get(grid=my_grid(), role=Role.GRID_WORKER, responsible=True,
                                      ended_on__isnull=True).person.name


def test_a_question_from_a_door_code_reaches_the_worker_and_its_answer_the_resident(
        login_as) -> None:  # type: ignore[no-untyped-def]
    building = _building()
    resident = Client()
    start = resident.get("/opinions/", {"t": building.qr_token})
    assert start.status_code == 200
    assert my_grid().name in start.content.decode() and building.name in start.content.decode()
    assert _worker_name() not in start.content.decode()

    answer, _body = _send(resident, "question", {"t": building.qr_token})
    no, code = _receipt(resident, answer)
    assert re.fullmatch(r"MY-\d{4}-\d{6,}", no) and len(code) == 8
    o = Opinion.objects.get(public_no=no)
    assert (o.kind, o.source, o.grid, o.state) == ("question", "resident", my_grid(),
                                                   "recorded")
    assert o.author.name == _worker_name()

    # the phone: sealed and masked, never in clear in the row or the outbox
    assert o.phone_masked == "139****0001" and crypto.open_sealed(o.phone_enc) == PHONE
    payloads = [m.payload for m in OutboxMessage.objects.filter(topic="fieldwork.opinion")]
    mine = [p for p in payloads if p.get("public_no") == no]
    assert mine and PHONE not in str(mine) and mine[0]["kind"] == "question"

    # the grid worker sees it in their list, marked as a question
    code_, rows = get(login_as("gridworker"), "/opinions")
    assert code_ == 200
    row = next(r for r in rows if r["public_no"] == no)
    assert row["kind"] == "question"
    console = login_as("station").get("/console/fieldwork/opinions/")
    assert console.status_code == 200
    assert f'id="opinion-{o.pk}"' in console.content.decode()
    assert "咨询" in console.content.decode()

    # before an answer: the state in plain words, no answer
    page = Client().post("/opinions/status/", {"no": no, "code": code})
    assert page.status_code == 200 and "已经收到" in page.content.decode()

    station = get_user_model().objects.get(username="station")
    do_answer_opinion(station, o.pk, "健身器材已列入本季度更新计划，工作人员王某 13800001111")
    page = Client().post("/opinions/status/", {"no": no, "code": code.lower()})
    html = page.content.decode()
    assert page.status_code == 200 and "列入本季度更新计划" in html
    assert "13800001111" not in html and "138****1111" in html  # scrubbed
    assert _worker_name() not in html and station.person.name not in html
    assert PHONE not in html

    # a wrong code (or number) shows nothing, and says the same for both
    for wrong in ({"no": no, "code": "AAAAAAAA"}, {"no": "MY-2026-999999", "code": code}):
        page = Client().post("/opinions/status/", wrong)
        assert page.status_code == 404
        assert "列入本季度更新计划" not in page.content.decode()
    # the code never goes into an address: GET with it shows nothing either
    page = Client().get("/opinions/status/", {"no": no, "code": code})
    assert "列入本季度更新计划" not in page.content.decode()
    # the browser that sent it reads it by its number alone
    assert "列入本季度更新计划" in resident.get("/opinions/status/", {"no": no}).content.decode()


def test_an_opinion_via_the_picker(login_as) -> None:  # type: ignore[no-untyped-def]
    resident = Client()
    community = my_grid().parent
    page = resident.get("/opinions/")
    assert page.status_code == 200 and community.name in page.content.decode()
    page = resident.get("/opinions/", {"community": community.code})
    assert my_grid().code in page.content.decode()
    page = resident.get("/opinions/", {"grid": my_grid().code})
    assert "/opinions/opinion/?grid=" in page.content.decode()
    answer, _ = _send(resident, "opinion", {"grid": my_grid().code}, phone="")
    no, _code = _receipt(resident, answer)
    o = Opinion.objects.get(public_no=no)
    assert (o.kind, o.grid, o.phone_masked, o.phone_enc) == ("opinion", my_grid(), "", None)


def test_a_double_submit_makes_one() -> None:
    resident = Client()
    before = Opinion.objects.count()
    first, body = _send(resident, "opinion", {"grid": my_grid().code})
    again = resident.post("/opinions/opinion/", body)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    # another browser resending the same token while the claim holds gets the same record
    other = Client().post("/opinions/opinion/", body)
    assert other.status_code == 302 and other["Location"] == first["Location"]
    assert Opinion.objects.count() == before + 1


@pytest.mark.parametrize(("over", "field", "words"), [
    ({"content": "  "}, "content", "内容：请填写"),
    ({"content": "长" * 2001}, "content", "内容：最多"),
    ({"topic": "no-such"}, "topic", "类别："),
    ({"phone": "12345"}, "phone", "联系电话："),
])
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
        over: dict[str, str], field: str, words: str) -> None:
    before = (Opinion.objects.count(), OutboxMessage.objects.count())
    answer, _ = _send(Client(), "question", {"grid": my_grid().code}, **over)
    assert answer.status_code == 422
    assert words in answer.content.decode()
    assert (Opinion.objects.count(), OutboxMessage.objects.count()) == before


def test_no_place_is_a_422_naming_the_grid() -> None:
    client = Client()
    form = client.get("/opinions/question/", {"grid": my_grid().code})
    answer = client.post("/opinions/question/", {
        "form_token": _token(form.content.decode()), "topic": "sanitation",
        "content": CONTENT, "grid": "no-such-grid"})
    assert answer.status_code == 422 and "网格：" in answer.content.decode()
    assert not Opinion.objects.filter(content=CONTENT).exists()


@override_settings(WANGGE_RESIDENT_PER_ADDRESS_HOUR=2, WANGGE_RESIDENT_CHALLENGE_AFTER=0)
def test_the_hourly_cap_per_address_counts_with_reports() -> None:
    client = Client()
    for _ in range(2):
        answer, _ = _send(client, "opinion", {"grid": my_grid().code})
        assert answer.status_code == 302
    before = Opinion.objects.count()
    answer, _ = _send(client, "opinion", {"grid": my_grid().code})
    assert answer.status_code == 429 and "提交太频繁" in answer.content.decode()
    assert Opinion.objects.count() == before


@override_settings(WANGGE_RESIDENT_CHALLENGE_AFTER=1, CAPTCHA_TEST_MODE=True)
def test_a_burst_is_asked_for_a_captcha(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # django-simple-captcha copies its settings when first imported: "PASSED" passes
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)
    client = Client()
    answer, _ = _send(client, "question", {"grid": my_grid().code})
    assert answer.status_code == 302
    form = client.get("/opinions/question/", {"grid": my_grid().code}).content.decode()
    assert "请输入图中的字符" in form
    before = Opinion.objects.count()
    answer, body = _send(client, "question", {"grid": my_grid().code})
    assert answer.status_code == 422 and "验证码：" in answer.content.decode()
    assert Opinion.objects.count() == before
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', answer.content.decode()).group(1)
    again = client.post("/opinions/question/", {**body, "captcha_0": key, "captcha_1": "PASSED"})
    assert again.status_code == 302 and Opinion.objects.count() == before + 1


def test_a_grid_without_a_worker_goes_to_the_workstation() -> None:
    row = RoleAssignment.objects.get(grid=my_grid(), role=Role.GRID_WORKER, responsible=True,
                                     ended_on__isnull=True)
    RoleAssignment.objects.filter(grid=my_grid(), role=Role.GRID_WORKER).update(
        ended_on=row.started_on)
    author = resident_author(my_grid())
    assert author.roles.filter(role=Role.STATION_STAFF, grid=my_grid().parent).exists()


def test_unknown_kind_and_someone_elses_receipt_are_404() -> None:
    assert Client().get("/opinions/complaint/", {"grid": my_grid().code}).status_code == 404
    resident = Client()
    answer, _ = _send(resident, "opinion", {"grid": my_grid().code})
    assert answer.status_code == 302
    assert Client().get(answer["Location"]).status_code == 404
