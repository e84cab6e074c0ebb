"""Every refusal in the spec's shape with its status and the field named: 400 bad input,
403 bad key, 404 unknown things, 405 wrong method, 429 limits (test_requests_post); junk
never gives a 500 and never writes half a case."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from wangge.cases.models import Case
from wangge.integration.actions import do_revoke_token
from wangge.integration.models import ApiToken
from wangge.integration.tokens import digest

pytestmark = pytest.mark.django_db

URL = "/open311/v2/requests.json"


def _form(api_key: str, spot: tuple[float, float], **extra: str) -> dict[str, str]:
    lng, lat = spot
    return {"api_key": api_key, "service_code": "t311-drain", "lat": str(lat),
            "long": str(lng), "description": "堵了", "attribute[severity]": "minor", **extra}


def refused(response, status: int, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    [err] = response.json()
    assert err["code"] == status and err["description"].startswith(field), err


@pytest.mark.parametrize(("query", "field"), [
    ("start_date=yesterday", "start_date"),
    ("end_date=2026-13-45", "end_date"),
    ("start_date=2026-02-01&end_date=2026-01-01", "start_date"),
    ("status=pending", "status"),
    ("status=open,closed,open", "status"),
    ("start_date=99999-01-01", "start_date"),
])
def test_bad_filters_are_400_naming_the_field(client, query, field):
    refused(client.get(f"{URL}?{query}"), 400, field)


def test_unknown_service_code_filter_and_request_are_404(client, drain):
    refused(client.get(f"{URL}?service_code=nope"), 404, "service_code")
    refused(client.get("/open311/v2/requests/NO-SUCH.json"), 404, "service_request_id")


def test_a_foreign_jurisdiction_is_404(client, drain, api_key, spot):
    refused(client.get(f"{URL}?jurisdiction_id=sf.gov"), 404, "jurisdiction_id")
    refused(client.post(URL, _form(api_key, spot, jurisdiction_id="sf.gov")), 404,
            "jurisdiction_id")
    assert client.get(f"{URL}?jurisdiction_id=liling.hunan.cn").status_code == 200


def test_wrong_method_and_format(client):
    r = client.delete(URL)
    refused(r, 405, "method")
    assert r["Allow"] == "GET, POST"
    r = client.post("/open311/v2/services.json")
    refused(r, 405, "method")
    assert r["Allow"] == "GET"
    refused(client.get("/open311/v2/services.html"), 404, "format")


def test_post_without_a_good_key_is_403_and_writes_nothing(client, drain, api_key, spot):
    before = Case.objects.count()
    refused(client.post(URL, _form("", spot)), 403, "api_key")
    refused(client.post(URL, _form("wg_nope_123", spot)), 403, "api_key")
    token = ApiToken.objects.get(digest=digest(api_key))
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    refused(client.post(URL, _form(api_key, spot)), 403, "api_key")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert client.post(URL, _form(api_key, spot)).status_code == 201
    do_revoke_token(token)
    refused(client.post(URL, _form(api_key, spot)), 403, "api_key")
    assert Case.objects.count() == before + 1


def test_a_used_key_notes_when(client, drain, api_key, spot):
    token = ApiToken.objects.get(digest=digest(api_key))
    assert token.last_used_at is None
    client.post(URL, _form(api_key, spot))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_get_needs_a_key_when_the_setting_says_so(client, drain, api_key, settings):
    settings.WANGGE_OPEN311_GET_NEEDS_KEY = True
    refused(client.get("/open311/v2/services.json"), 403, "api_key")
    refused(client.get(URL), 403, "api_key")
    assert client.get(f"/open311/v2/services.json?api_key={api_key}").status_code == 200


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"service_code": ""}, 400, "service_code"),
    ({"service_code": "nope"}, 404, "service_code"),
    ({"lat": "abc"}, 400, "lat"),
    ({"long": "nan"}, 400, "long"),
    ({"lat": "inf"}, 400, "lat"),
    ({"lat": "", "long": ""}, 400, "lat/long/address_string"),
    ({"long": ""}, 400, "lat/long"),
    ({"lat": "95", "long": "113"}, 400, "lat/long/address_string"),
    ({"lat": "40.0", "long": "116.4"}, 400, "lat/long/address_string"),  # Beijing
    ({"lat": "", "long": "", "address_string": "火星路1号"}, 400, "lat/long/address_string"),
    ({"attribute[severity]": "huge"}, 400, "attribute[severity]"),
    ({"attribute[severity]": ""}, 400, "attribute[severity]"),
    ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
    ({"attribute[depth_cm]": "deep"}, 400, "attribute[depth_cm]"),
    ({"attribute[smell][]": "roses"}, 400, "attribute[smell]"),
    ({"attribute[]": "x"}, 400, "attribute[]"),
    ({"attribute[a][b]": "x"}, 400, "attribute[a][b]"),
    ({"phone": "call me"}, 400, "phone"),
    ({"email": "not-an-email"}, 400, "email"),
    ({"first_name": "名" * 60}, 400, "first_name"),
    ({"description": "长" * 5000}, 400, "description"),
    ({"media_url": "http://x/" + "a" * 600}, 400, "media_url"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"media_url": "not a url"}, 400, "media_url"),
])
def test_junk_fields_are_400_or_404_naming_the_field_and_write_nothing(
        client, drain, api_key, spot, change, status, field):
    before = Case.objects.count()
    refused(client.post(URL, {**_form(api_key, spot), **change}), status, field)
    assert Case.objects.count() == before


def test_a_junk_photo_is_400(client, drain, api_key, spot):
    from django.core.files.uploadedfile import SimpleUploadedFile

    junk = SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")
    r = client.post(URL, {**_form(api_key, spot), "media": junk})
    assert r.status_code == 400 and "media" in r.json()[0]["description"]


def test_a_long_idempotency_key_is_400(client, drain, api_key, spot):
    r = client.post(URL, _form(api_key, spot), HTTP_IDEMPOTENCY_KEY="k" * 80)
    refused(r, 400, "Idempotency-Key")


def test_json_body_and_garbage_bodies_are_4xx_not_500(client, drain, api_key):
    for body, ctype in ((b'{"service_code": "t311-drain"}', "application/json"),
                        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                        (b"--x\r\nbroken", "multipart/form-data; boundary=x")):
        r = client.generic("POST", URL, body, content_type=ctype)
        assert 400 <= r.status_code < 500, (body, r.status_code)


def test_errors_in_xml(client):
    r = client.get("/open311/v2/requests.xml?status=maybe")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "errors"
    assert root.find("error").findtext("code") == "400"
    assert root.find("error").findtext("description").startswith("status")


def test_too_many_fields_or_a_body_over_the_limit_is_refused(client, drain, api_key, spot,
                                                              settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    form = urlencode({**_form(api_key, spot), **{f"x{i}": "1" for i in range(9)}})
    refused(client.post(URL, form, content_type="application/x-www-form-urlencoded"),
            400, "request")
    # the site-wide body limit (wangge.web.limits) answers before any view
    settings.WANGGE_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert client.post(URL, {**_form(api_key, spot), "description": "长" * 2000}
                       ).status_code == 413


@pytest.mark.parametrize("field", ["description", "service_code", "phone", "first_name",
                                   "address_string", "attribute[severity]", "media_url"])
def test_a_nul_character_in_any_post_field_is_400(client, drain, api_key, spot, field):
    before = Case.objects.count()
    refused(client.post(URL, {**_form(api_key, spot), field: "a\x00b"}), 400, field)
    assert Case.objects.count() == before


@pytest.mark.parametrize("path", [
    f"{URL}?service_request_id=a%00b", f"{URL}?service_code=a%00b",
    f"{URL}?start_date=2026%00", "/open311/v2/requests/a%00b.json",
    "/open311/v2/services/a%00b.json", "/open311/v2/tokens/a%00b.json",
])
def test_a_nul_character_in_a_get_is_4xx_not_500(client, path):
    assert client.get(path).status_code in (400, 404)


FIELDS = ["service_code", "lat", "long", "address_string", "description", "media_url",
          "email", "device_id", "account_id", "first_name", "last_name", "phone",
          "attribute[severity]", "attribute[smell][]", "attribute[depth_cm]", "jurisdiction_id"]


@given(junk=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=300), max_size=6))
@fuzz_settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_junk_is_answered_without_a_500(client, drain, api_key, spot, junk):
    """Whatever a client sends, an answer in the spec's shape: never a server error."""
    r = client.post(URL, {**_form(api_key, spot), **junk})
    assert r.status_code in (200, 201, 400, 404, 429), (junk, r.content)
    assert isinstance(r.json(), list)


@given(query=st.dictionaries(
    st.sampled_from(["service_request_id", "service_code", "start_date", "end_date", "status",
                     "jurisdiction_id"]),
    st.one_of(st.text(max_size=40), st.datetimes().map(lambda d: d.isoformat()),
              st.sampled_from(["0001-01-01", "9999-12-31T23:59:59-12:00", "open,closed"])),
    max_size=4))
@fuzz_settings(max_examples=80, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_is_answered_without_a_500(client, drain, query):
    r = client.get(URL, query)
    assert r.status_code in (200, 400, 404), (query, r.content)
    assert isinstance(r.json(), list)


@pytest.mark.parametrize(("query", "field"), [
    ({"end_date": "0001-01-01"}, "end_date"),
    ({"start_date": "9999-12-31T23:59:59-12:00"}, "start_date"),
])
def test_dates_out_of_range_are_400(client, query, field):
    refused(client.get(URL, query), 400, field)
