"""API tokens: created by the CLI, sent as Bearer, revocable; unauthenticated calls fail."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from wangge.integration.models import ApiToken

pytestmark = pytest.mark.django_db


def create_token(*args: str) -> str:
    out = io.StringIO()
    call_command("tokens", "create", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def test_cli_token_works_as_bearer_and_is_stored_hashed() -> None:
    token = create_token("--user", "dispatcher", "--label", "tests")
    r = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["username"] == "dispatcher" and "dispatcher" in r.json()["roles"]
    row = ApiToken.objects.get(label="tests")
    assert token not in (row.digest, row.prefix) and row.last_used_at is not None


def test_revoked_token_is_refused() -> None:
    token = create_token("--user", "gridworker")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/me").status_code == 200
    call_command("tokens", "revoke", token, stdout=io.StringIO())
    assert client.get("/api/v1/me").status_code == 401


def test_token_for_an_external_system_acts_as_its_service_user() -> None:
    token = create_token("--system", "city_management")
    r = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
    assert r.json()["username"] == "system:city_management"
    assert r.json()["scope"] == []


def test_unknown_user_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="--user"):
        create_token("--user", "nobody")


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer wg_nope_nope", "Token abc", "Basic YWRtaW46YWRtaW4="]
)
def test_every_api_endpoint_needs_authentication(header: str) -> None:
    client = Client(headers={"Authorization": header} if header else {})
    for url in ["/api/v1/me", "/api/v1/grids/", "/api/v1/grids/430281000000",
                "/api/v1/grids/top.geojson", "/api/v1/people?grid=430281000000",
                "/api/v1/grids/locate?lat=27.6&lng=113.5"]:
        assert client.get(url).status_code == 401, url


def test_openapi_lists_the_bearer_scheme(django_user_model) -> None:
    client = Client()
    client.force_login(django_user_model.objects.get(username="admin"))
    schema = client.get("/api/v1/openapi.json").json()
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert "/api/v1/grids/locate" in schema["paths"]


def test_openapi_needs_a_session_or_a_token() -> None:
    assert Client().get("/api/v1/openapi.json").status_code == 302
    assert Client().get("/api/v1/docs").status_code == 302
    token = create_token("--system", "hotline_12345")
    r = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/openapi.json")
    assert r.status_code == 200
