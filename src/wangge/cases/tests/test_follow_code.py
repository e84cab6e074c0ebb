"""关注码 (follow code): the public status by register number shows states and dates; the
written reply needs the case's follow code, given to the reporter. Sequential register
numbers must not open every reply; a wrong code answers exactly as no code."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wangge.cases import access
from wangge.cases.models import FOLLOW_CODE_ALPHABET, FOLLOW_CODE_LENGTH, Case, new_follow_code
from wangge.cases.tests.helpers import report

pytestmark = pytest.mark.django_db

REPLY = "主管道更换需三天，期间每日送水上门。"


@pytest.fixture
def replied(login_as, spot) -> dict[str, Any]:
    """A case the reporter made, with a written reply."""
    made = report(login_as("gridworker"), spot)
    Case.objects.filter(register_no=made["register_no"]).update(written_reply=REPLY)
    return made


def status(no: str, **params: str) -> Any:
    return Client().get(f"/api/v1/public/cases/{no}", params)


def page(no: str, **params: str) -> str:
    """The status page; a code goes in a POST of its form (never in an address), and the
    page it leads to is compared without the form's per-response CSRF token."""
    if "code" in params:
        r = Client().post("/cases/status/", {"no": no, **params}, follow=True)
    else:
        r = Client().get(f"/cases/status/{no}")
    assert r.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", r.content.decode())


def test_every_new_case_gets_a_follow_code_shown_to_the_reporter(login_as, spot) -> None:
    a, b = report(login_as("gridworker"), spot), report(login_as("gridworker"), spot)
    for made in (a, b):
        code = made["follow_code"]
        assert len(code) == FOLLOW_CODE_LENGTH and set(code) <= set(FOLLOW_CODE_ALPHABET)
        assert Case.objects.get(register_no=made["register_no"]).follow_code == code
    assert a["follow_code"] != b["follow_code"]


def test_a_replayed_report_shows_the_same_code(login_as, spot) -> None:
    client = login_as("gridworker")
    first = report(client, spot, client_key="fc-replay-1")
    again = report(client, spot, client_key="fc-replay-1")
    assert again["follow_code"] == first["follow_code"]


def test_the_case_page_shows_the_code_to_those_who_see_the_case(login_as, replied) -> None:
    no, code = replied["register_no"], replied["follow_code"]
    r = login_as("gridworker").get(f"/console/cases/{no}/")
    assert r.status_code == 200 and code in r.content.decode()
    assert login_as("water").get(f"/console/cases/{no}/").status_code == 404


def test_without_a_code_the_public_sees_states_and_dates_only(replied) -> None:
    r = status(replied["register_no"])
    assert r.status_code == 200
    body = r.json()
    assert body["written_reply"] is None and body["steps"] and body["state"]
    assert REPLY not in r.content.decode()
    assert replied["follow_code"] not in r.content.decode()
    html = page(replied["register_no"])
    assert REPLY not in html and "关注码" in html


def test_a_wrong_code_answers_exactly_as_no_code(replied) -> None:
    no, code = replied["register_no"], replied["follow_code"]
    none = status(no)
    for wrong in ("", "WRONG", code[:-1], code + "X", code[::-1] if code[::-1] != code else "Z",
                  " ", "%" * 8):
        cache.clear()  # the wrong-code limit (tested on its own) is not what this is about
        r = status(no, code=wrong)
        assert r.status_code == 200 and r.json() == none.json(), wrong
        assert page(no, code=wrong) == page(no)


def test_the_right_code_opens_the_reply_on_the_api_and_the_page(replied) -> None:
    no, code = replied["register_no"], replied["follow_code"]
    assert status(no, code=code).json()["written_reply"] == REPLY
    assert status(no, code=code.lower()).json()["written_reply"] == REPLY  # read out, typed
    assert REPLY in page(no, code=code)
    assert REPLY not in Client().get("/cases/status/", {"no": no, "code": code}).content.decode()


def test_another_cases_code_does_not_open_this_one(login_as, spot, replied) -> None:
    other = report(login_as("gridworker"), spot)
    assert status(replied["register_no"], code=other["follow_code"]).json()[
        "written_reply"] is None


def test_a_confidential_case_stays_unknown_with_or_without_a_code() -> None:
    case = Case.objects.filter(confidential=True).first()
    assert case is not None
    assert status(case.register_no).status_code == 404
    assert status(case.register_no, code=case.follow_code).status_code == 404


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=20))
def test_only_the_exact_code_opens(replied, guess: str) -> None:
    case = Case.objects.get(register_no=replied["register_no"])
    assert access.follow_code_opens(case, guess) == (guess.strip().upper() == case.follow_code)


def test_a_case_without_a_code_opens_for_no_guess(replied) -> None:
    case = Case.objects.get(register_no=replied["register_no"])
    case.follow_code = ""
    assert not access.follow_code_opens(case, "")
    assert not access.follow_code_opens(case, None)


def test_the_codes_are_random_not_derived() -> None:
    codes = {new_follow_code() for _ in range(2000)}
    assert len(codes) == 2000


def test_every_demo_case_has_its_own_code() -> None:
    """The demo's bulk load and the migration's backfill give each case its own code."""
    total = Case.objects.count()
    assert total > 100
    assert not Case.objects.filter(follow_code="").exists()
    assert Case.objects.values("follow_code").distinct().count() == total


def test_the_migration_backfills_a_distinct_code_per_case() -> None:
    migration = importlib.import_module("wangge.cases.migrations.0007_case_follow_code")
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True)[:50])
    Case.objects.filter(pk__in=ids).update(follow_code="")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    migration.backfill(django_apps, editor)
    codes = list(Case.objects.filter(pk__in=ids).values_list("follow_code", flat=True))
    assert all(codes) and len(set(codes)) == len(ids)


def test_the_public_api_answers_only_for_kinds_residents_can_choose(login_as, spot) -> None:
    """The public status API reads through access.public_cases like the page and Open311:
    a case of an internal kind (no resident-facing category) is as unknown as a wrong
    number."""
    from wangge.cases.models import PublicCategory

    internal = Case.objects.filter(confidential=False).exclude(
        category__public_categories__active=True).first()
    public = Case.objects.filter(confidential=False,
                                 category__public_categories__active=True).first()
    assert internal is not None and public is not None
    assert Client().get(f"/api/v1/public/cases/{internal.register_no}").status_code == 404
    assert Client().get(f"/api/v1/public/cases/{public.register_no}").status_code == 200
    assert PublicCategory.objects.filter(category=public.category, active=True).exists()


def test_the_public_api_takes_the_code_in_a_header_and_limits_wrong_ones(replied) -> None:
    no, code = replied["register_no"], replied["follow_code"]
    right = Client().get(f"/api/v1/public/cases/{no}", HTTP_X_FOLLOW_CODE=code).json()
    assert right["written_reply"]
    for _ in range(10):
        wrong = Client().get(f"/api/v1/public/cases/{no}", HTTP_X_FOLLOW_CODE="WRONGCOD")
        assert wrong.status_code == 200 and wrong.json()["written_reply"] is None
    limited = Client().get(f"/api/v1/public/cases/{no}", HTTP_X_FOLLOW_CODE=code)
    assert limited.status_code == 429
    assert Client().get(f"/api/v1/public/cases/{no}").status_code == 200  # steps stay open
