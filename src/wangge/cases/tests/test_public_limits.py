"""Abuse protection of /report/ (cases.public_limits): one report is never in the way; a
burst from one address must pass a captcha; the hard caps per address and per phone
answer 429 in Chinese; each limit at 0 is off."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from wangge.cases.models import Case
from wangge.cases.public_limits import check_resident_limits, count_resident_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings, monkeypatch) -> Any:  # type: ignore[no-untyped-def]
    cache.clear()
    settings.CAPTCHA_TEST_MODE = True  # "PASSED" is the answer
    # django-simple-captcha copies its settings when first imported: set its copy too
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)
    settings.WANGGE_RESIDENT_CHALLENGE_AFTER = 2
    settings.WANGGE_RESIDENT_CHALLENGE_WINDOW_S = 600
    settings.WANGGE_RESIDENT_PER_ADDRESS_HOUR = 4
    settings.WANGGE_RESIDENT_PER_PHONE_DAY = 2
    # reports at one spot would meet the nearby offer: every test here reports "mine anyway"
    return settings


def send(client: Client, spot: tuple[float, float], **fields: Any) -> Any:
    page = client.get("/report/")
    data = {"client_key": page.context["form"]["client_key"].value(), "where": "point",
            "contact_mode": "contact", "public_category": "tree-fallen", "lng": spot[0],
            "lat": spot[1], "new_anyway": "on"}
    data.update(fields)
    return client.post("/report/", data)


def from_address(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_one_report_is_never_challenged(spot) -> None:
    client = from_address("10.0.0.1")
    page = client.get("/report/")
    assert "captcha" not in page.context["form"].fields
    assert send(client, spot).status_code == 302


def test_a_burst_must_pass_a_captcha(spot) -> None:
    client = from_address("10.0.0.2")
    assert send(client, spot).status_code == 302
    assert send(client, spot).status_code == 302
    page = client.get("/report/")
    html = page.content.decode()
    assert "captcha" in page.context["form"].fields and 'src="/captcha/image/' in html
    assert 'id="rr-captcha-refresh"' in html and "<script>" not in html  # no inline script
    before = Case.objects.count()
    # no answer, then a wrong one: refused at the field, nothing made
    missing = send(client, spot)
    assert missing.status_code == 422 and missing.context["form"].errors["captcha"]
    wrong = send(client, spot, captcha_0="abc", captcha_1="WRONG")
    assert wrong.status_code == 422 and "验证码" in wrong.context["form"].errors["captcha"][0]
    assert Case.objects.count() == before
    passed = send(client, spot, captcha_0="abc", captcha_1="PASSED")
    assert passed.status_code == 302 and Case.objects.count() == before + 1
    # another address is not challenged
    assert "captcha" not in from_address("10.0.0.3").get("/report/").context["form"].fields


def test_the_captcha_image_is_served_on_our_origin() -> None:
    from captcha.models import CaptchaStore

    key = CaptchaStore.generate_key()
    answer = Client().get(f"/captcha/image/{key}/")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    refresh = Client().get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert refresh.status_code == 200 and refresh.json()["image_url"].startswith("/captcha/")


def test_the_hourly_cap_per_address_is_429_in_chinese(spot, limits) -> None:
    limits.WANGGE_RESIDENT_CHALLENGE_AFTER = 0  # off: only the cap counts here
    client = from_address("10.0.0.4")
    for _ in range(4):
        assert send(client, spot).status_code == 302
    before = Case.objects.count()
    refused = send(client, spot)
    assert refused.status_code == 429
    assert "提交太频繁，请一小时后再试" in refused.content.decode()
    assert Case.objects.count() == before
    # a follow is a write too: refused alike
    assert client.post("/report/follow/", {"register_no": "LL-X"}).status_code == 429


def test_a_retry_of_a_made_report_is_never_refused(spot, limits) -> None:
    limits.WANGGE_RESIDENT_CHALLENGE_AFTER = 0
    limits.WANGGE_RESIDENT_PER_ADDRESS_HOUR = 1
    client = from_address("10.0.0.5")
    page = client.get("/report/")
    data = {"client_key": page.context["form"]["client_key"].value(), "where": "point",
            "contact_mode": "contact", "public_category": "tree-fallen", "lng": spot[0],
            "lat": spot[1], "new_anyway": "on"}
    assert client.post("/report/", data).status_code == 302
    assert client.post("/report/", data).status_code == 302  # the same case, not a 429


def test_the_daily_cap_per_phone_holds_across_addresses(spot) -> None:
    phone = "13700001111"
    assert send(from_address("10.0.1.1"), spot, contact_phone=phone).status_code == 302
    assert send(from_address("10.0.1.2"), spot, contact_phone=" 137 0000 1111").status_code == 302
    refused = send(from_address("10.0.1.3"), spot, contact_phone=phone)
    assert refused.status_code == 429 and "这个手机号码今天" in refused.content.decode()
    # the same address may still report without that phone
    assert send(from_address("10.0.1.3"), spot).status_code == 302
    # nothing in the cache holds the phone itself
    assert phone not in repr(cache._cache.keys())  # type: ignore[attr-defined]


def test_zero_turns_each_limit_off(spot, limits) -> None:
    limits.WANGGE_RESIDENT_CHALLENGE_AFTER = 0
    limits.WANGGE_RESIDENT_PER_ADDRESS_HOUR = 0
    limits.WANGGE_RESIDENT_PER_PHONE_DAY = 0
    request = RequestFactory().post("/report/", REMOTE_ADDR="10.0.2.1")
    for _ in range(50):
        count_resident_report(request, "13700002222")
    decision = check_resident_limits(request, "13700002222")
    assert not decision.challenge and decision.refused is None
