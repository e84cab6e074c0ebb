"""办理进度查询 /cases/status/<no>: the steps in a resident's words and nothing about people;
the follow code (by POST or from the session of the report) opens the reply and, once the
case is closed, the rating; a wrong code is no code, and guessing is cut off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from wangge.cases.actions import Contact, Where, do_resident_report
from wangge.cases.models import Case, CaseCategory, CaseEvent, PublicCategory, Rating
from wangge.cases.tests.helpers import act

pytestmark = pytest.mark.django_db

PHONE, NAME = "13800005678", "李秀英"
FEEDBACK = "更换了主管道三米，工人王师傅处理"
REPLY = "管道需整体更换，预计三天，联系电话 13912345678"


@pytest.fixture(autouse=True)
def fresh_counters() -> Iterator[None]:
    """The wrong-code counter lives in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def drain() -> PublicCategory:
    found = PublicCategory.objects.filter(category__code="0601", active=True).first()
    return found or PublicCategory.objects.create(
        code="test-drain", name="下水道堵了", group="市政设施",
        category=CaseCategory.objects.get(code="0601"))


@pytest.fixture
def handled(login_as, spot, drain) -> Case:
    """A resident's report with a contact, moved by staff to handled (with a note)."""
    lng, lat = spot
    case = do_resident_report(public_category=drain.code, description="楼下井口冒水",
                              where=Where(lng=lng, lat=lat), source="qr",
                              contact=Contact(name=NAME, phone=PHONE)).case
    for who, action, body in [("dispatcher", "register", {}), ("dispatcher", "dispatch", {}),
                              ("department", "accept", {}), ("department", "start", {}),
                              ("department", "handle", {"feedback": FEEDBACK})]:
        assert act(login_as(who), case.register_no, action, **body).status_code == 200
    case.refresh_from_db()
    return case


def close(case: Case, reply: str = "") -> None:
    Case.objects.filter(pk=case.pk).update(state="closed", closed_at=timezone.now(),
                                           written_reply=reply)


def text(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "",
                  response.content.decode())


def opened_client(case: Case) -> Client:
    """A browser that gave the right code (the form) and was sent on by number alone."""
    client = Client()
    r = client.post("/cases/status/", {"no": case.register_no, "code": case.follow_code})
    assert r.status_code == 303 and r["Location"] == f"/cases/status/{case.register_no}"
    assert case.follow_code not in r["Location"]
    return client


def test_the_steps_in_plain_words_and_nothing_about_people(handled) -> None:
    html = text(Client().get(f"/cases/status/{handled.register_no}"))
    for label in ("已上报", "已登记", "已派遣", "已签收", "处置中", "已处置"):
        assert label in html
    assert "网格员会到现场看一看" in html  # the current step explained
    actors = {e.actor.person.name for e in CaseEvent.objects.filter(case=handled)
              .select_related("actor__person") if e.actor and hasattr(e.actor, "person")}
    assert actors  # real staff acted on it ...
    secrets = [*actors, PHONE, NAME, FEEDBACK, "楼下井口冒水",
               handled.follow_code]
    for value in secrets:  # ... and none of them, nor the resident, nor a note shows
        assert value not in html, value
    assert 'href="/report/"' in html and 'href="/opinions/"' in html


def test_a_confidential_or_internal_case_answers_as_an_unknown_number(handled) -> None:
    unknown = text(Client().get("/cases/status/LL-2099-999999"))
    assert "没有找到" in unknown
    secret = Case.objects.filter(confidential=True).first()
    internal = Case.objects.exclude(category__public_categories__active=True).filter(
        confidential=False).first()
    for case in (secret, internal):
        assert case is not None
        html = text(Client().get(f"/cases/status/{case.register_no}"))
        assert "没有找到" in html and case.title not in html
        client = Client()
        r = client.post("/cases/status/", {"no": case.register_no, "code": case.follow_code})
        assert r.status_code == 200 and "没有找到" in text(r)  # a right code opens nothing


def test_the_code_by_post_opens_the_reply_and_never_stays_in_an_address(handled) -> None:
    close(handled, REPLY)
    client = opened_client(handled)
    html = text(client.get(f"/cases/status/{handled.register_no}"))
    assert "管道需整体更换" in html and "13912345678" not in html  # scrubbed: 139****5678
    assert 'id="rate-form"' in html and "非常不满意" in html
    # a code in the address opens nothing
    plain = Client().get(f"/cases/status/{handled.register_no}", {"code": handled.follow_code})
    assert "管道需整体更换" not in text(plain) and 'id="rate-form"' not in text(plain)


def test_the_code_from_the_report_pages_session_opens_it(handled) -> None:
    close(handled, REPLY)
    client = Client()
    session = client.session
    session["resident_cases"] = {handled.register_no: handled.follow_code}
    session.save()
    html = text(client.get(f"/cases/status/{handled.register_no}"))
    assert "管道需整体更换" in html and 'id="rate-form"' in html


def test_a_wrong_code_answers_exactly_as_no_code(handled) -> None:
    close(handled, REPLY)
    none = text(Client().get(f"/cases/status/{handled.register_no}"))
    for wrong in ("WRONG1", handled.follow_code[:-1], handled.follow_code + "X", "%%%%"):
        r = Client().post("/cases/status/", {"no": handled.register_no, "code": wrong})
        assert r.status_code == 200 and text(r) == none, wrong
    assert "管道需整体更换" not in none and 'id="rate-form"' not in none


def test_the_rating_form_needs_the_code_and_a_closed_case(handled) -> None:
    client = opened_client(handled)  # handled, not closed yet
    assert 'id="rate-form"' not in text(client.get(f"/cases/status/{handled.register_no}"))
    r = client.post(f"/cases/status/{handled.register_no}/rate", {"level": "5"})
    assert r.status_code == 409 and "不能评价" in text(r)
    close(handled)
    stranger = Client()
    r = stranger.post(f"/cases/status/{handled.register_no}/rate", {"level": "1"})
    assert r.status_code == 403 and not Rating.objects.filter(case=handled).exists()
    r = client.post(f"/cases/status/{handled.register_no}/rate", {"level": "7"})
    assert r.status_code == 422 and "满意度" in text(r)
    assert not Rating.objects.filter(case=handled).exists()


def test_unsatisfied_reopens_and_the_page_says_so(handled) -> None:
    close(handled)
    client = opened_client(handled)
    r = client.post(f"/cases/status/{handled.register_no}/rate",
                    {"level": "2", "comment": "还是堵"}, follow=True)
    html = text(r)
    assert r.status_code == 200 and "已重新交办处理" in html
    assert "重新办理（您不满意）" in html and 'id="rate-form"' not in html
    assert re.search(r'id="status-state">处置中<', html)
    handled.refresh_from_db()
    assert handled.state == "in_progress" and handled.reopen_count == 1
    # the same rating again (a double tap) writes nothing more
    again = client.post(f"/cases/status/{handled.register_no}/rate",
                        {"level": "2", "comment": "还是堵"})
    assert again.status_code == 409 and Rating.objects.filter(case=handled).count() == 1


def test_ten_wrong_codes_an_hour_and_the_code_check_answers_429(handled) -> None:
    client = Client()
    for n in range(10):
        r = client.post("/cases/status/", {"no": handled.register_no, "code": f"BAD{n:03}"})
        assert r.status_code == 200
    r = client.post("/cases/status/", {"no": handled.register_no, "code": handled.follow_code})
    assert r.status_code == 429 and "次数太多" in text(r)
    # reading the steps needs no code and still works
    assert Client().get(f"/cases/status/{handled.register_no}").status_code == 200
