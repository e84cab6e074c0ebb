"""POST requests.{json,xml}: a resident's report through an Open311 client becomes a case
in the loop (channel resident, source open311), the contact sealed, the answer the
register number, the token and a notice; a retry with the same Idempotency-Key answers the
same request; nothing of the person ever comes back on any Open311 answer."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from wangge.cases.models import Case, CaseEvent, ResidentReport

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"
PERSON = {"first_name": "小红", "last_name": "欧阳", "phone": "13912345678",
          "email": "ouyang.xh@example.com", "device_id": "device-8866",
          "account_id": "acct-4455"}


def _form(api_key: str, spot: tuple[float, float], **extra: str) -> dict[str, str]:
    lng, lat = spot
    return {"api_key": api_key, "jurisdiction_id": "liling.hunan.cn",
            "service_code": "t311-drain", "lat": str(lat), "long": str(lng),
            "description": "胜利路口下水道堵了，污水漫到人行道", "attribute[severity]": "overflow",
            **extra}


def test_a_post_makes_a_resident_case_and_answers_its_number_token_and_notice(
        client, drain, api_key, spot):
    r = client.post(URL, {**_form(api_key, spot), **PERSON,
                          "media_url": "https://img.example.com/a.jpg"})
    assert r.status_code == 201, r.content
    [body] = r.json()
    case = Case.objects.get(register_no=body["service_request_id"])
    report = ResidentReport.objects.get(case=case)
    assert body["token"] == report.token and body["account_id"] is None
    assert "一个工作日内" in body["service_notice"]
    assert case.channel == "resident" and case.state == "reported"
    assert report.source == "open311" and report.public_category == drain
    assert report.attributes == {"severity": "overflow"}
    assert report.media_url == "https://img.example.com/a.jpg"
    # the contact is sealed and masked; the device and account only as keyed hashes
    assert report.phone_masked == "139****5678" and report.name_masked.startswith("欧")
    assert b"13912345678" not in bytes(report.phone_enc)
    assert "device-8866" not in report.device_hash and report.device_hash
    # the case was reported by the system's service user (audit needs no special case)
    assert case.reporter.username == "system:t311-app"
    event = CaseEvent.objects.get(case=case, action="report")
    assert "13912345678" not in str(event.data) and "小红" not in str(event.data)


def test_multi_value_and_number_attributes_and_multipart_with_a_photo(client, drain, api_key,
                                                                      spot):
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(picture, "JPEG")
    picture.seek(0)
    picture.name = "drain.jpg"
    r = client.post(URL, {**_form(api_key, spot), "attribute[smell][]": ["sewage", "gas"],
                          "attribute[depth_cm]": "12.5", "media": picture})
    assert r.status_code == 201, r.content
    case = Case.objects.get(register_no=r.json()[0]["service_request_id"])
    assert case.resident_report.attributes == {"severity": "overflow",
                                               "smell": ["sewage", "gas"], "depth_cm": 12.5}
    assert case.photos.count() == 1


def test_an_address_of_a_registered_building_places_the_report(client, drain, api_key):
    from wangge.registry.models import Building

    building = Building.objects.exclude(address="").filter(lng__isnull=False).first()
    form = _form(api_key, (0, 0))
    del form["lat"], form["long"]
    r = client.post(URL, {**form, "address_string": building.address})
    assert r.status_code == 201, r.content
    case = Case.objects.get(register_no=r.json()[0]["service_request_id"])
    assert case.grid_id == building.grid_id


def test_a_retry_with_the_same_idempotency_key_answers_the_same_request(client, drain,
                                                                        api_key, spot):
    first = client.post(URL, _form(api_key, spot), HTTP_IDEMPOTENCY_KEY="retry-1")
    before = Case.objects.count()
    again = client.post(URL, _form(api_key, spot), HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    assert Case.objects.count() == before
    other = client.post(URL, _form(api_key, spot), HTTP_IDEMPOTENCY_KEY="retry-2")
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]


def test_xml_answer_parses_back_with_chinese_intact(client, drain, api_key, spot):
    r = client.post("/open311/v2/requests.xml", _form(api_key, spot))
    assert r.status_code == 201 and r["Content-Type"].startswith("text/xml")
    assert r.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(r.content)
    request = root.find("request")
    assert root.tag == "service_requests" and request is not None
    assert request.findtext("service_request_id")
    assert "工作日" in request.findtext("service_notice")


def test_no_personal_data_on_any_open311_answer(client, drain, api_key, spot):
    # what a resident types is never listed (it may name people); the description is the
    # kind and the building
    said = "请回电13912345678，或发邮件 ouyang.xh@example.com"
    r = client.post(URL, {**_form(api_key, spot), **PERSON, "description": said})
    no, token = r.json()[0]["service_request_id"], r.json()[0]["token"]
    bodies = [r.content]
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}", f"requests.{fmt}?service_request_id={no}",
                     f"requests/{no}.{fmt}", f"tokens/{token}.{fmt}"):
            answer = client.get(f"/open311/v2/{path}")
            assert answer.status_code == 200, path
            bodies.append(answer.content)
    listed = client.get(f"/open311/v2/requests/{no}.json").json()[0]
    assert listed["description"].startswith("居民反映：下水道堵了") and "回电" not in str(listed)
    for body in bodies:
        text = body.decode()
        for secret in ("13912345678", "ouyang.xh@example.com", "小红", "device-8866",
                       "acct-4455"):
            assert secret not in text


def test_rate_limit_per_phone_answers_429_in_the_spec_shape(client, drain, api_key, spot,
                                                            settings):
    settings.WANGGE_RESIDENT_PER_PHONE_DAY = 1
    first = client.post(URL, {**_form(api_key, spot), "phone": "13912345678"})
    assert first.status_code == 201
    before = Case.objects.count()
    refused = client.post(URL, {**_form(api_key, spot), "phone": "139 1234 5678"})
    assert refused.status_code == 429
    [err] = refused.json()
    assert err["code"] == 429 and "12345" in err["description"]
    assert Case.objects.count() == before
    # another phone (or none) from the same client goes on
    assert client.post(URL, _form(api_key, spot)).status_code == 201


def test_a_keyed_system_is_not_held_to_one_residents_address_cap(client, drain, api_key,
                                                                    spot, settings):
    """A hotline relays many residents from one server: the per-address cap and the burst
    captcha are for the public pages; its key is its identity (and can be revoked)."""
    settings.WANGGE_RESIDENT_PER_ADDRESS_HOUR = 2
    settings.WANGGE_RESIDENT_CHALLENGE_AFTER = 1
    codes = [client.post(URL, _form(api_key, spot)).status_code for _ in range(4)]
    assert codes == [201] * 4


def test_a_retry_gets_its_first_answer_even_past_a_limit(client, drain, api_key, spot,
                                                         settings):
    settings.WANGGE_RESIDENT_PER_PHONE_DAY = 1
    form = {**_form(api_key, spot), "phone": "13700001234"}
    first = client.post(URL, form, HTTP_IDEMPOTENCY_KEY="order-1")
    again = client.post(URL, form, HTTP_IDEMPOTENCY_KEY="order-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = client.post(URL, form, HTTP_IDEMPOTENCY_KEY="order-2")  # a new one: the cap
    assert other.status_code == 429


def test_control_characters_are_refused_so_xml_lists_stay_readable(client, drain, api_key,
                                                                    spot):
    import xml.etree.ElementTree as ET

    bad = client.post(URL, {**_form(api_key, spot), "description": "bad\x0bchar\x1b"})
    assert bad.status_code == 400 and "description" in bad.json()[0]["description"]
    ok = client.post(URL, {**_form(api_key, spot), "description": "第一行\n第二行\t好"})
    assert ok.status_code == 201
    ET.fromstring(client.get("/open311/v2/requests.xml").content)  # well-formed


def test_a_date_range_spans_at_most_90_days(client):
    r = client.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00%2B08:00"
                   "&end_date=2026-06-01T00:00:00%2B08:00")
    assert r.status_code == 400 and "90" in r.json()[0]["description"]


def test_idempotency_keys_of_two_systems_never_meet(client, drain, api_key, spot):
    from wangge.integration.actions import do_create_token
    from wangge.org.actions import do_ensure_external_department

    other = do_create_token(do_ensure_external_department("t311-other").service_user).secret
    mine = client.post(URL, _form(api_key, spot), HTTP_IDEMPOTENCY_KEY="same-key")
    theirs = client.post(URL, _form(other, spot), HTTP_IDEMPOTENCY_KEY="same-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()[0]["service_request_id"] != theirs.json()[0]["service_request_id"]
